"""The rules registry: every check declared once, grouped by the stage it runs at.

:mod:`registry` holds the :class:`Rule` dataclass, the :func:`rule` decorator and
:func:`registry_for` (a data-model version's rule set); :mod:`issues` the issue
table every reader fills. The rules themselves live in ``file_rules``,
``identity_rules`` and ``figure_rules`` (a row of a return, against
``row_context``), ``cross_item_rules``, ``instrument_rules`` and ``mapping_rules``.
``python -m lscb_nb.core.rules --markdown`` prints README's rule table.
"""

from __future__ import annotations

import logging

# The modules that declare rules register them on import: importing any part of
# this package (issues, registry) runs this file first, so the registry is full.
from lscb_nb.core.rules import (  # noqa: F401
    cross_item_rules,
    figure_rules,
    file_rules,
    identity_rules,
    instrument_rules,
    mapping_rules,
)
from lscb_nb.core.rules.issues import (
    ISSUE_COLUMNS,
    Finding,
    concat_issues,
    empty_issues,
    file_issue,
    issue_frame,
    issues_for,
    row_issues,
)
from lscb_nb.core.rules.registry import (
    ERROR,
    QUERY,
    Rule,
    all_rules,
    get,
    registry_for,
    rules_for,
)

log = logging.getLogger(__name__)

__all__ = [
    "ERROR",
    "ISSUE_COLUMNS",
    "QUERY",
    "Finding",
    "Rule",
    "all_rules",
    "concat_issues",
    "empty_issues",
    "file_issue",
    "get",
    "issue_frame",
    "issues_for",
    "registry_for",
    "row_issues",
    "rules_for",
]
