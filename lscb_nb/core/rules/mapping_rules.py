"""Rules for phase 1's local datasets (M codes): a borough's current dataset
that could not be read, or read only in part. Raised by
:mod:`lscb_nb.mapping.localdata`; a CSV line that could not be split reliably
keeps its file rule (F10, F12)."""

from __future__ import annotations

import logging

from lscb_nb.core.rules.registry import ERROR, QUERY, declare

log = logging.getLogger(__name__)

declare(
    "M01",
    ERROR,
    "Unreadable local dataset",
    "The file could not be read: {detail}.",
    stage="mapping",
    summary="local dataset that could not be read (damaged, password-protected, not a spreadsheet)",
)
declare(
    "M02",
    ERROR,
    "Authority not identified",
    "The file does not say which authority it is from: name it after the authority{detail}.",
    stage="mapping",
    summary="local dataset that does not say which authority sent it",
)
declare(
    "M03",
    QUERY,
    "Sheet skipped",
    "This sheet was skipped: {detail}.",
    stage="mapping",
    summary="sheet of a local dataset with no header naming its items, or damaged, not read",
)
