"""Validation rules for boroughs' returns, and the issue table they fill.

One rule is one small declarative unit (after DfE's and D2I's statutory-return
validators): a code, a message a borough officer understands, a severity, and
what happens to the row. ``error`` means the value cannot be used and the row is
quarantined; ``query`` means "please check" and the row is kept.

Every problem found anywhere in ingestion becomes one row of the issue table,
keyed to the cell: file, sheet, row, column.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import pandas as pd

log = logging.getLogger(__name__)

ERROR = "error"
QUERY = "query"


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    title: str
    message: str  # may hold {placeholders} filled per row
    quarantines: bool
    summary: str = ""  # one line for README's rule table (rules_markdown)


RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule("F01", ERROR, "Unreadable file", "The file could not be read: {detail}", True),
        Rule(
            "F02",
            ERROR,
            "Password-protected file",
            "The workbook is password-protected; please send it without a password.",
            True,
        ),
        Rule(
            "F03",
            ERROR,
            "Not a return",
            "This is not a return in the template or long CSV layout: {detail}",
            True,
        ),
        Rule("F04", ERROR, "Empty file", "The file has no rows of data.", True),
        Rule(
            "F05",
            ERROR,
            "Sheet could not be read",
            "This sheet could not be read, so its figures are missing: {detail}",
            True,
        ),
        Rule(
            "F06",
            ERROR,
            "Sheet missing",
            "The template's sheet for this agency is missing or renamed, so its items "
            "are not returned: {detail}",
            True,
        ),
        Rule(
            "F07",
            ERROR,
            "Too many rows",
            "The sheet or CSV has more rows than a return can have ({detail}); it was not read.",
            True,
        ),
        Rule(
            "F08",
            ERROR,
            "Too many cells",
            "The file has more cells than a return can have ({detail}); it was not read.",
            True,
        ),
        Rule(
            "F09",
            ERROR,
            "File too large",
            "The file is larger than a return can be once unpacked ({detail}); it was not read.",
            True,
        ),
        Rule(
            "F10",
            ERROR,
            "Unbalanced quote",
            'A quote (") on this line is never closed, so the line could not be split into '
            "cells reliably: {detail}",
            True,
        ),
        Rule(
            "F11",
            ERROR,
            "Column given twice",
            "Two columns have the same name, so it is not clear which holds the figures: {detail}",
            True,
        ),
        Rule(
            "F12",
            ERROR,
            "Row does not fit the header",
            "This row has more cells than the header has columns ({detail}).",
            True,
        ),
        Rule(
            "F13",
            QUERY,
            "Extra sheet not read",
            "This sheet is not part of the template and has no item table, so it was not "
            "read: {detail}",
            False,
        ),
        Rule(
            "R01", ERROR, "Unknown item", "Item id '{value}' is not in data model {version}.", True
        ),
        Rule(
            "R02",
            ERROR,
            "Unknown authority",
            "Authority code '{value}' is not one of London's 33 authorities.",
            True,
        ),
        Rule(
            "R03",
            ERROR,
            "Authority codes disagree",
            "The authority codes, name or period on this row do not match each other: {detail}.",
            True,
        ),
        Rule("R04", ERROR, "Unknown period", "The period is not valid: {detail}.", True),
        Rule(
            "R05",
            ERROR,
            "Period not expected",
            "Period {value} is outside the periods being collected ({detail}).",
            True,
        ),
        Rule(
            "R06",
            ERROR,
            "Duplicate row",
            "This authority, period and item appear more than once ({detail}).",
            True,
        ),
        Rule("R07", ERROR, "Missing item id", "The row has figures but no item id.", True),
        Rule(
            "V01",
            ERROR,
            "Text in a number",
            "'{value}' is not a number or a recognised code (c, x, u, z, low, *, <5, .., n/a).",
            True,
        ),
        Rule("V02", ERROR, "Negative count", "Counts cannot be negative ({value}).", True),
        Rule(
            "V03",
            ERROR,
            "Numerator above denominator",
            "The numerator ({value}) is larger than the denominator ({detail}).",
            True,
        ),
        Rule(
            "V04",
            ERROR,
            "Outside valid range",
            "The value {value} is outside the valid range for this item ({detail}).",
            True,
        ),
        Rule(
            "V05",
            ERROR,
            "Denominator missing",
            "This item is a percentage: give the denominator as well as the numerator.",
            True,
        ),
        Rule(
            "V06",
            QUERY,
            "Submitted value differs",
            "The value you gave ({value}) differs from numerator/denominator ({detail}).",
            False,
        ),
        Rule(
            "V07",
            QUERY,
            "Not a whole number",
            "Counts are whole numbers; {value} was given.",
            False,
        ),
        Rule(
            "V08",
            ERROR,
            "Formula with no saved value",
            "The cell holds a formula ({value}) but no value saved with it; open the file in "
            "Excel, let it calculate, save and send it again.",
            True,
        ),
        Rule(
            "V09",
            ERROR,
            "Decimal comma",
            "'{value}' has a comma where a decimal point may be meant; write it with a point "
            "(1.5) or without separators.",
            True,
        ),
        Rule(
            "V10",
            QUERY,
            "Thousands separator",
            "'{value}' was read as {detail}; please check the separators mean thousands.",
            False,
        ),
        Rule(
            "V11",
            ERROR,
            "Percent sign in a figure",
            "'{value}' has a percent sign; give the count (numerator and denominator), "
            "not the percentage.",
            True,
        ),
        Rule(
            "V12",
            ERROR,
            "Not a finite number",
            "'{value}' is not a finite number (infinity or not-a-number).",
            True,
        ),
        Rule(
            "V13",
            ERROR,
            "Number too long",
            "'{value}' has more digits than can be stored exactly (integers up to 2^53).",
            True,
        ),
        Rule(
            "V14",
            ERROR,
            "Implausibly large figure",
            "{value} is above the largest plausible figure for this item ({detail}).",
            True,
        ),
        Rule(
            "V15",
            QUERY,
            "Percentage of zero cases",
            "Numerator and denominator are both 0: there is no percentage, so the value is "
            "recorded as not applicable.",
            False,
        ),
        # Cross-item rules come from the data model; their severity is the model's.
        Rule("X", QUERY, "Cross-item check", "{detail}", False),
    )
}

# One line per rule for README's rule table (see rules_markdown).
SUMMARIES: dict[str, str] = {
    "F01": "unreadable file (not Excel/CSV, corrupt, old `.xls`, `.ods`, `.xlsb`, a dangling link)",
    "F02": "password-protected workbook",
    "F03": "not a return (wrong sheets, missing columns, no hidden `_meta` sheet)",
    "F04": "empty file",
    "F05": "a sheet that could not be read (damaged, or an agency sheet without its item table)",
    "F06": "an agency sheet of the template missing or renamed",
    "F07": (
        "more rows in a sheet or CSV than the limit (found from the declared size, or "
        "while reading)"
    ),
    "F08": "more cells in a file than the limit",
    "F09": (
        "file larger than the limit once unpacked (read from the zip's directory, before loading)"
    ),
    "F10": (
        "CSV line with an unbalanced quote (that line is quarantined; the lines after it are read)"
    ),
    "F11": "a column given twice (e.g. `numerator` and `Numerator`)",
    "F12": "CSV row with more cells than the header",
    "F13": "extra sheet with no item table, not read",
    "R01": "unknown item id",
    "R02": "unknown authority code",
    "R03": (
        "authority codes/name on a row disagree, or a template's hidden `_meta` sheet and "
        "a visible sheet name different authorities or periods"
    ),
    "R04": "invalid period",
    "R05": "period outside those being collected",
    "R06": (
        "duplicate authority × period × item (later exact copies, or all conflicting "
        "copies; copies compared on text and state; the message names the other file and "
        "row)"
    ),
    "R07": "figures with no item id",
    "V01": "text in a numeric cell that is not a recognised code",
    "V02": "negative count",
    "V03": "numerator above denominator",
    "V04": "outside the item's valid range",
    "V05": "percentage without a denominator",
    "V06": "submitted value differs from numerator/denominator",
    "V07": "a count that is not a whole number",
    "V08": "formula with no saved value",
    "V09": "decimal comma (`1,5`)",
    "V10": "thousands separator (`1,234` read as 1234)",
    "V11": "percent sign in a figure (`12%`)",
    "V12": "`inf` or `nan` (not a finite number)",
    "V13": "integer too long to store exactly (beyond 2^53)",
    "V14": "figure above the plausible maximum (a count item's valid maximum, else 1,000,000)",
    "V15": "percentage of 0 out of 0 (kept, value not applicable)",
    "X": "cross-item rules, e.g. plans started ≤ conferences held",
}
RULES = {code: replace(rule, summary=SUMMARIES[code]) for code, rule in RULES.items()}

ISSUE_COLUMNS: tuple[str, ...] = (
    "file",
    "sheet",
    "row",
    "column",
    "rule_code",
    "severity",
    "title",
    "message",
    "la_code_ons",
    "period",
    "item_id",
)


def empty_issues() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in ISSUE_COLUMNS})
    frame["row"] = frame["row"].astype("Int64")
    return frame


def file_issue(file: str, code: str, detail: str = "", sheet: str | None = None) -> dict:
    """One issue about a whole file (or sheet): nothing in it could be read."""
    rule = RULES[code]
    return {
        "file": file,
        "sheet": sheet,
        "row": None,
        "column": None,
        "rule_code": code,
        "severity": rule.severity,
        "title": rule.title,
        "message": rule.message.format(detail=detail, value="", version=""),
        "la_code_ons": None,
        "period": None,
        "item_id": None,
    }


def row_issues(
    rows: pd.DataFrame,
    mask: pd.Series,
    code: str,
    column: str | None,
    value: pd.Series | str = "",
    detail: pd.Series | str = "",
    version: str = "",
    severity: str | None = None,
    message: pd.Series | str | None = None,
) -> pd.DataFrame:
    """Issues for every row where ``mask`` is true, built vectorised.

    ``rows`` must carry the provenance columns ``source_file``, ``source_sheet``,
    ``source_row`` and, where known, ``la_code_ons``, ``period``, ``item_id``.
    """
    hit = rows.loc[mask.fillna(False).astype(bool)]
    if hit.empty:
        return empty_issues()
    rule = RULES[code]

    def _pick(x: pd.Series | str) -> pd.Series:
        if isinstance(x, pd.Series):  # long text is cut: a message quotes, it does not copy
            return x.loc[hit.index].astype("string").fillna("").str.slice(0, 500).astype(str)
        return pd.Series(x, index=hit.index, dtype=object)

    if message is None:
        text = _pick(rule.message)
        v, d = _pick(value), _pick(detail)
        msg = [
            t.format(value=vi, detail=di, version=version)
            for t, vi, di in zip(text, v, d, strict=True)
        ]
    else:
        msg = list(_pick(message))
    return pd.DataFrame(
        {
            "file": hit["source_file"].astype(object),
            "sheet": hit.get("source_sheet", pd.Series(None, index=hit.index)).astype(object),
            "row": hit["source_row"].astype("Int64"),
            "column": column,
            "rule_code": code,
            "severity": severity or rule.severity,
            "title": rule.title,
            "message": msg,
            "la_code_ons": hit.get("la_code_ons", pd.Series(None, index=hit.index)).astype(object),
            "period": hit.get("period", pd.Series(None, index=hit.index)).astype(object),
            "item_id": hit.get("item_id", pd.Series(None, index=hit.index)).astype(object),
        }
    ).reset_index(drop=True)


def concat_issues(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if p is not None and not p.empty]
    if not parts:
        return empty_issues()
    out = pd.concat(parts, ignore_index=True)
    out["row"] = out["row"].astype("Int64")
    return out.sort_values(
        ["file", "sheet", "row", "rule_code"], na_position="first", kind="stable"
    ).reset_index(drop=True)


def rules_markdown() -> str:
    """README's rule table, generated from the catalogue (never written beside it)."""
    lines = ["| code | severity | rule |", "|---|---|---|"]
    for r in RULES.values():
        code = "XRnn" if r.code == "X" else r.code
        severity = "per data model" if r.code == "X" else r.severity
        lines.append(f"| {code} | {severity} | {r.summary} |")
    return "\n".join(lines)


def rules_table() -> pd.DataFrame:
    """The rule catalogue, for the README and reports."""
    return pd.DataFrame(
        [(r.code, r.severity, r.title, r.quarantines) for r in RULES.values()],
        columns=["rule_code", "severity", "title", "quarantines_row"],
    )
