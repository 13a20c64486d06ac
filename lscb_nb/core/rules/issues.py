"""The issue table every reader fills: one row per problem, keyed to the cell.

Returns (phase 3), instruments (phase 2) and local datasets (phase 1) all report
in this one shape: file, sheet, row, column, rule code, severity, title and
message, plus the authority, period and item where known. A rule's check says
which rows fail (:class:`Finding`); :func:`issues_for` is the one function that
turns that into issue rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lscb_nb.core.rules.registry import Rule, get

log = logging.getLogger(__name__)

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


FIRST_FIELD = "<the rule's first field>"  # Finding.column's default


@dataclass
class Finding:
    """Rows a check found failing, and what the message quotes about them.

    ``column`` (a name, one per row, or None) defaults to the rule's first field;
    ``code``, ``severity`` and
    ``message`` override the rule's own (the data model's cross-item rules carry
    theirs)."""

    mask: pd.Series
    column: str | pd.Series | None = FIRST_FIELD
    value: pd.Series | str = ""
    detail: pd.Series | str = ""
    code: str | None = None
    severity: str | None = None
    message: pd.Series | str | None = None


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in ISSUE_COLUMNS})
    frame["row"] = frame["row"].astype("Int64")
    return frame


_EMPTY = _empty()


def empty_issues() -> pd.DataFrame:
    """An issue table with no rows (a copy: callers may add to it)."""
    return _EMPTY.copy()


def file_issue(
    file: str,
    code: str,
    detail: str = "",
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
    la_code_ons: str | None = None,
    message: str | None = None,
    severity: str | None = None,
) -> dict:
    """One issue about a whole file, a sheet or one cell found by a reader."""
    rule = get(code)
    return {
        "file": file,
        "sheet": sheet,
        "row": row,
        "column": column,
        "rule_code": code,
        "severity": severity or rule.severity,
        "title": rule.title,
        "message": message
        if message is not None
        else rule.message.format(detail=detail, value="", version=""),
        "la_code_ons": la_code_ons,
        "period": None,
        "item_id": None,
    }


def issue_frame(issues: list[dict]) -> pd.DataFrame:
    """Issue dicts (from :func:`file_issue`) as an issue table."""
    if not issues:
        return empty_issues()
    out = pd.DataFrame(issues).reindex(columns=list(ISSUE_COLUMNS))
    out["row"] = out["row"].astype("Int64")
    return out


def issues_for(rule: Rule, rows: pd.DataFrame, found, version: str = "") -> pd.DataFrame:
    """The issue rows for what ``rule``'s check returned on ``rows``: a boolean
    mask, a :class:`Finding`, a list of them, or None (nothing found)."""
    if found is None:
        return empty_issues()
    if isinstance(found, pd.Series):
        found = [Finding(found)]
    elif isinstance(found, Finding):
        found = [found]
    parts = [
        row_issues(
            rows,
            f.mask,
            rule.code,
            _column(rule, f.column),
            value=f.value,
            detail=f.detail,
            version=version,
            severity=f.severity,
            message=f.message,
            rule_code=f.code,
        )
        for f in found
    ]
    return concat_issues(parts)


def _column(rule: Rule, column: str | pd.Series | None) -> str | pd.Series | None:
    if isinstance(column, str) and column == FIRST_FIELD:
        return rule.fields[0] if rule.fields else None
    return column


# The columns of a checked frame an issue row quotes.
_QUOTED = (
    "source_file",
    "source_sheet",
    "source_row",
    "la_code_ons",
    "period",
    "item_id",
    "input_row_id",
)


def row_issues(
    rows: pd.DataFrame,
    mask: pd.Series,
    code: str,
    column: str | pd.Series | None,
    value: pd.Series | str = "",
    detail: pd.Series | str = "",
    version: str = "",
    severity: str | None = None,
    message: pd.Series | str | None = None,
    rule_code: str | None = None,
) -> pd.DataFrame:
    """Issues for every row where ``mask`` is true, built vectorised.

    ``rows`` must carry the provenance columns ``source_file``, ``source_sheet``,
    ``source_row`` and, where known, ``la_code_ons``, ``period``, ``item_id``.
    """
    if not mask.index.equals(rows.index):
        mask = mask.reindex(rows.index)
    keep = mask.fillna(False).astype(bool) if mask.dtype != bool else mask
    at = np.flatnonzero(keep.to_numpy())  # positions: one take per column, no mask copies
    if not len(at):
        return empty_issues()
    hit = rows[[c for c in _QUOTED if c in rows.columns]].take(at)
    if hit.empty:
        return empty_issues()
    rule = get(code)

    def _pick(x: pd.Series | str) -> np.ndarray:
        if isinstance(x, pd.Series):  # long text is cut: a message quotes, it does not copy
            x = x.take(at) if x.index is rows.index else x.loc[hit.index]
            if x.dtype == object and pd.api.types.infer_dtype(x, skipna=False) == "string":
                return np.array([t[:500] for t in x.tolist()], dtype=object)  # text already
            text = x.astype("string").fillna("").str.slice(0, 500).astype(str)
            return text.to_numpy(dtype=object)
        return np.full(len(hit), x, dtype=object)

    if message is None:
        template = rule.message
        if "{value}" not in template and "{detail}" not in template:
            msg = [template.format(version=version)] * len(hit)
        else:
            v, d = _pick(value), _pick(detail)
            msg = [
                template.format(value=vi, detail=di, version=version)
                for vi, di in zip(v, d, strict=True)
            ]
    else:
        msg = list(_pick(message))
    none = pd.Series(None, index=hit.index, dtype=object)
    return pd.DataFrame(
        {
            "file": hit["source_file"].astype(object),
            "sheet": hit.get("source_sheet", none).astype(object),
            "row": hit["source_row"].astype("Int64"),
            "column": column.loc[hit.index].astype(object)
            if isinstance(column, pd.Series)
            else column,
            "rule_code": rule_code or code,
            "severity": severity or rule.severity,
            "title": rule.title,
            "message": msg,
            "la_code_ons": hit.get("la_code_ons", none).astype(object),
            "period": hit.get("period", none).astype(object),
            "item_id": hit.get("item_id", none).astype(object),
            # Not part of the issue table: the returns checker keys rows by it and
            # drops it before the table leaves (lscb_nb.pilot.checks).
            **({"input_row_id": hit["input_row_id"]} if "input_row_id" in hit else {}),
        }
    ).reset_index(drop=True)


def concat_issues(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if p is not None and not p.empty]
    if not parts:
        return empty_issues()
    out = pd.concat(parts, ignore_index=True)
    out["row"] = out["row"].astype("Int64")
    return out.take(_issue_order(out)).reset_index(drop=True)


def _issue_order(issues: pd.DataFrame) -> np.ndarray:
    """Positions that sort issues by file, sheet, row and rule code, missing
    values first and ties in their order. Each column is sorted as a few distinct
    values and integer codes (a national load has tens of thousands of issues)."""
    keys = [pd.factorize(issues[c], sort=True)[0] for c in ("rule_code", "row", "sheet", "file")]
    return np.lexsort(keys)
