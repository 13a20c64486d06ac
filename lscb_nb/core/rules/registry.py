"""The rule registry: every check the toolkit makes, declared once.

After the D2I statutory-return validators (*csc-validator-be-cin*): one rule is
one small unit (a code, a severity, a title, a message a borough officer
understands, the fields it touches, the stage it runs at) with its vectorised
check beside it, registered by the :func:`rule` decorator. Each data-model
version's rule set is the previous version's plus the rules it adds minus the
rules it retires (:func:`registry_for`), as D2I's per-year ``__init__`` does.

``error`` means the value cannot be used (the row is quarantined); ``query``
means "please check" (the row is kept).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

ERROR = "error"
QUERY = "query"
SEVERITIES = (ERROR, QUERY)
# The stages, in the order ingestion meets them. "file": a reader refuses a file or
# sheet; "row": one row of a return on its own; "duplicate": rows of returns against
# each other; "cross-item": items of one return against each other (the data model's
# rules); "instrument": phase 2's rating instruments; "mapping": phase 1's local datasets.
STAGES = ("file", "row", "duplicate", "cross-item", "instrument", "mapping")
# The data-model versions that change the rule set, oldest first. A version not
# listed here takes the rule set of the latest listed version not after it.
VERSIONS = ("1.0", "2.0")
FIRST_VERSION = VERSIONS[0]


@dataclass(frozen=True)
class Rule:
    """One rule. ``message`` may hold ``{value}``, ``{detail}`` and ``{version}``,
    filled per issue; ``summary`` is its line in README's rule table."""

    code: str
    severity: str
    title: str
    message: str
    fields: tuple[str, ...]
    stage: str
    summary: str
    since: str = FIRST_VERSION
    retired: str | None = None
    check: Callable | None = None

    @property
    def quarantines(self) -> bool:
        return self.severity == ERROR


_REGISTRY: dict[str, Rule] = {}


def rule(
    code: str,
    severity: str,
    title: str,
    message: str,
    *,
    fields: tuple[str, ...] = (),
    stage: str,
    summary: str,
    since: str = FIRST_VERSION,
    retired: str | None = None,
) -> Callable:
    """Register the decorated function as the check of rule ``code``.

    The check takes the frame being checked (and a context) and returns the
    failing rows: a boolean mask, or findings (see :mod:`lscb_nb.core.rules.issues`).
    """

    def register(check: Callable | None) -> Callable | None:
        declare(
            code,
            severity,
            title,
            message,
            fields=fields,
            stage=stage,
            summary=summary,
            since=since,
            retired=retired,
            check=check,
        )
        return check

    return register


def declare(
    code: str,
    severity: str,
    title: str,
    message: str,
    *,
    fields: tuple[str, ...] = (),
    stage: str,
    summary: str,
    since: str = FIRST_VERSION,
    retired: str | None = None,
    check: Callable | None = None,
) -> Rule:
    """Register a rule. Rules with no check are raised by a reader (a file it
    cannot read, a rater's details missing): the code still lives here."""
    if code in _REGISTRY:
        raise ValueError(f"rule {code} is declared twice")
    if severity not in SEVERITIES:
        raise ValueError(f"rule {code}: severity must be one of {SEVERITIES}, not {severity!r}")
    if stage not in STAGES:
        raise ValueError(f"rule {code}: stage must be one of {STAGES}, not {stage!r}")
    for v in (since, retired):
        if v is not None and v not in VERSIONS:
            raise ValueError(f"rule {code}: {v!r} is not one of the versions {VERSIONS}")
    declared = Rule(
        code, severity, title, message, tuple(fields), stage, summary, since, retired, check
    )
    _REGISTRY[code] = declared
    return declared


def all_rules() -> dict[str, Rule]:
    """Every rule ever declared, retired ones included, in code order. The rule
    modules register on import, which importing :mod:`lscb_nb.core.rules` does."""
    return dict(sorted(_REGISTRY.items(), key=lambda kv: _sort_key(kv[0])))


def _sort_key(code: str) -> tuple:
    order = {"F": 0, "R": 1, "V": 2, "X": 3, "I": 4, "M": 5}
    return (order.get(code[:1], 9), code)


def rule_set_version(version: str | None) -> str:
    """The listed version whose rule set ``version`` uses: the latest one not after
    it (``1.2-pilot`` -> 1.0). Text that names no version number uses the first."""
    m = re.match(r"^\s*(\d+)\.(\d+)", str(version or ""))
    if m is None:
        return FIRST_VERSION
    wanted = (int(m[1]), int(m[2]))
    chosen = FIRST_VERSION
    for v in VERSIONS:
        major, minor = (int(x) for x in v.split("."))
        if (major, minor) <= wanted:
            chosen = v
    return chosen


def registry_for(version: str | None = None) -> dict[str, Rule]:
    """The rules in force for a data-model version: the previous version's set, plus
    the rules it adds (``since``), minus the rules it retires (``retired``)."""
    rules = all_rules()
    target = rule_set_version(version)
    in_force: dict[str, Rule] = {}
    for v in VERSIONS[: VERSIONS.index(target) + 1]:
        in_force = {c: r for c, r in in_force.items() if r.retired != v}
        in_force.update({c: r for c, r in rules.items() if r.since == v and r.retired != v})
    return dict(sorted(in_force.items(), key=lambda kv: _sort_key(kv[0])))


def rules_for(version: str | None, stage: str) -> list[Rule]:
    """The rules of one stage in force for ``version``, in code order."""
    return [r for r in registry_for(version).values() if r.stage == stage]


def get(code: str) -> Rule:
    """A rule by code, retired or not (old issue tables still name retired codes)."""
    return _REGISTRY[code]
