"""Rules a reader applies to a whole file or sheet (F codes): it could not be
read, is not a return, or is too large to read safely.

Most have no vectorised check: :mod:`lscb_nb.core.inputfiles` and the returns
reader raise them as :class:`~lscb_nb.core.inputfiles.InputFileError` with the
code. The two a CSV reader finds on a single line (F10, F12) are checked here
over the rows it read, from the ``read_problem`` flag it sets.
"""

from __future__ import annotations

import logging

import pandas as pd

from lscb_nb.core.rules.issues import Finding
from lscb_nb.core.rules.registry import ERROR, QUERY, declare, rule

log = logging.getLogger(__name__)

declare(
    "F01",
    ERROR,
    "Unreadable file",
    "The file could not be read: {detail}",
    stage="file",
    summary=(
        "unreadable file (not Excel/CSV, corrupt, old `.xls`, `.ods`, `.xlsb`, a dangling link)"
    ),
)
declare(
    "F02",
    ERROR,
    "Password-protected file",
    "The workbook is password-protected; please send it without a password.",
    stage="file",
    summary="password-protected workbook",
)
declare(
    "F03",
    ERROR,
    "Not a return",
    "This is not a return in the template or long CSV layout: {detail}",
    stage="file",
    summary="not a return (wrong sheets, missing columns, no hidden `_meta` sheet)",
)
declare(
    "F04",
    ERROR,
    "Empty file",
    "The file has no rows of data.",
    stage="file",
    summary="empty file",
)
declare(
    "F05",
    ERROR,
    "Sheet could not be read",
    "This sheet could not be read, so its figures are missing: {detail}",
    stage="file",
    summary="a sheet that could not be read (damaged, or an agency sheet without its item table)",
)
declare(
    "F06",
    ERROR,
    "Sheet missing",
    "The template's sheet for this agency is missing or renamed, so its items "
    "are not returned: {detail}",
    stage="file",
    summary="an agency sheet of the template missing or renamed",
)
declare(
    "F07",
    ERROR,
    "Too many rows",
    "The sheet or CSV has more rows than a return can have ({detail}); it was not read.",
    stage="file",
    summary=(
        "more rows in a sheet or CSV than the limit (found from the declared size, or "
        "while reading)"
    ),
)
declare(
    "F08",
    ERROR,
    "Too many cells",
    "The file has more cells than a return can have ({detail}); it was not read.",
    stage="file",
    summary="more cells in a file than the limit",
)
declare(
    "F09",
    ERROR,
    "File too large",
    "The file is larger than a return can be once unpacked ({detail}); it was not read.",
    stage="file",
    summary=(
        "file larger than the limit once unpacked (read from the zip's directory, before loading)"
    ),
)


def _read_problem(df: pd.DataFrame, code: str) -> Finding | None:
    if "read_problem" not in df.columns:
        return None
    problem = df["read_problem"].astype("string").fillna("")
    detail = df.get("read_detail", pd.Series("", index=df.index)).astype("string").fillna("")
    column = df["read_column"] if "read_column" in df.columns else None
    return Finding(problem == code, column, detail=detail)


@rule(
    "F10",
    ERROR,
    "Unbalanced quote",
    'A quote (") on this line is never closed, so the line could not be split into '
    "cells reliably: {detail}",
    stage="file",
    summary=(
        "CSV line with an unbalanced quote (that line is quarantined; the lines after it are read)"
    ),
)
def unbalanced_quote(df: pd.DataFrame, ctx: object = None) -> Finding | None:
    return _read_problem(df, "F10")


declare(
    "F11",
    ERROR,
    "Column given twice",
    "Two columns have the same name, so it is not clear which holds the figures: {detail}",
    stage="file",
    summary="a column given twice (e.g. `numerator` and `Numerator`)",
)


@rule(
    "F12",
    ERROR,
    "Row does not fit the header",
    "This row has more cells than the header has columns ({detail}).",
    stage="file",
    summary="CSV row with more cells than the header",
)
def row_too_long(df: pd.DataFrame, ctx: object = None) -> Finding | None:
    return _read_problem(df, "F12")


declare(
    "F13",
    QUERY,
    "Extra sheet not read",
    "This sheet is not part of the template and has no item table, so it was not read: {detail}",
    stage="file",
    summary="extra sheet with no item table, not read",
)
declare(
    "F14",
    QUERY,
    "Agency sheet empty",
    "Every input cell of this agency sheet is blank: {detail}. Please send its figures, "
    "or a code (c, x, u, z, low) where a figure cannot be given.",
    stage="file",
    summary=(
        "an agency sheet of the template with every input cell blank (nothing supplied for "
        "that agency; it supersedes nothing)"
    ),
)
