"""Reading the Excel return template into raw rows, every agency sheet on its own.

One damaged or oversized sheet becomes a problem naming it and the others are still
read; a formula with no saved value and what a sheet says about its authority and
period are kept as read flags for the checks.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from lscb_nb.core import periods
from lscb_nb.core.inputfiles import (
    InputFileError,
    ReadLimits,
    describe_error,
    normalise_key,
)
from lscb_nb.core.returnformat import DATE_SENT_LABEL, INSTRUCTIONS_SHEET, META_SHEET
from lscb_nb.core.rules.identity_rules import submission_dates
from lscb_nb.core.workbooks import check_sheet_sizes, open_workbook, sheet_has_formulas, sheet_rows
from lscb_nb.pilot.rawrows import FIELD_BY_KEY, PROVENANCE, RAW_FIELDS, READ_FLAGS

log = logging.getLogger(__name__)

SHEET_SCAN_ROWS = 30  # rows searched for a sheet's item table header


def read_workbook(
    path: Path, limits: ReadLimits, sheets: list[str] | None
) -> tuple[pd.DataFrame, list[InputFileError]]:
    """Every agency sheet on its own: one damaged or oversized sheet becomes a
    problem naming it and the others are still read."""
    wb = open_workbook(path, limits)
    problems: list[InputFileError] = []
    frames: list[pd.DataFrame] = []
    formula_wb = None
    try:
        names = list(wb.sheetnames)
        data_sheets = [n for n in names if n not in (INSTRUCTIONS_SHEET, META_SHEET)]
        sized = check_sheet_sizes(wb, names, limits)
        meta = None
        if META_SHEET in names:
            if META_SHEET in sized:
                problems.append(sized[META_SHEET])
            else:
                try:
                    meta = _workbook_meta(sheet_rows(wb[META_SHEET], limits, max_rows=200))
                except Exception as exc:
                    problems.append(InputFileError("F05", describe_error(exc), META_SHEET))
        date_sent = ""
        if INSTRUCTIONS_SHEET in names and INSTRUCTIONS_SHEET not in sized:
            try:
                date_sent = _date_sent(sheet_rows(wb[INSTRUCTIONS_SHEET], limits, max_rows=60))
            except Exception as exc:  # the figures can still be read; the date is lost
                log.warning("%s: the Instructions sheet could not be read (%s)", path, exc)
            if date_sent and submission_dates(pd.Series([date_sent])).isna().all():
                problems.append(InputFileError("R09", date_sent, INSTRUCTIONS_SHEET))
        counter = [0]
        no_table: list[str] = []
        for name in data_sheets:
            if name in sized:
                problems.append(sized[name])
                continue
            expected = sheets is not None and name in sheets
            has_table = False
            try:
                head = sheet_rows(wb[name], limits, max_rows=SHEET_SCAN_ROWS)
                if _header_at(head) is None:
                    no_table.append(name)
                    problems.append(
                        InputFileError(
                            "F05" if expected else "F13",
                            f"no row naming the item_id column in its first {SHEET_SCAN_ROWS} rows",
                            name,
                        )
                    )
                    continue
                has_table = True
                rows = sheet_rows(wb[name], limits, counter=counter)
                frame = _read_agency_sheet(rows, name)
                if sheet_has_formulas(wb, name):
                    if formula_wb is None:
                        formula_wb = open_workbook(path, limits, data_only=False)
                    _flag_formulas(frame, rows, sheet_rows(formula_wb[name], limits))
                filled = [*_INPUT_FIELDS, *(c for c in frame.columns if c.endswith("_formula"))]
                if len(frame) and not frame[filled].ne("").to_numpy().any():
                    problems.append(InputFileError("F14", f"nothing supplied for {name}", name))
                frames.append(frame)
            except InputFileError as exc:
                if exc.code == "F08":
                    raise
                exc.sheet = exc.sheet or name
                problems.append(exc)
            except Exception as exc:  # a damaged sheet raises many types
                code = "F05" if expected or has_table else "F13"
                problems.append(InputFileError(code, describe_error(exc), name))
        if meta is not None and sheets:
            problems += [
                InputFileError("F06", f"no sheet called '{s}'", s) for s in sheets if s not in names
            ]
    finally:
        wb.close()
        if formula_wb is not None:
            formula_wb.close()
    if not frames:
        damaged = [p for p in problems if p.code != "F13" and p.sheet not in no_table]
        if not damaged:
            raise InputFileError(
                "F03",
                f"no sheet has the template's item table (sheets found: {', '.join(names)})",
            )
        return _empty_raw("xlsx"), problems
    if meta is None:
        raise InputFileError(
            "F03",
            f"the hidden '{META_SHEET}' sheet that names the authority "
            "and period is missing; please use the issued template",
        )
    out = pd.concat(frames, ignore_index=True)
    tp, ti = _ees_or_blank(meta.get("period", ""))
    out["time_period"], out["time_identifier"] = tp, ti
    out["new_la_code"] = _cell_text(meta.get("la_code_ons"))
    out["old_la_code"] = _cell_text(meta.get("la_code_dfe"))
    out["la_name"] = _cell_text(meta.get("la_name"))
    out["value"] = out.get("value", "")
    out["submission_date"] = date_sent
    out["source_format"] = "xlsx"
    extra = [c for c in READ_FLAGS if c in out.columns]
    return out[[*RAW_FIELDS, "source_format", "source_sheet", "source_row", *extra]], problems


def _empty_raw(fmt: str) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in (*RAW_FIELDS, *PROVENANCE)})
    out["source_format"] = fmt
    return out


def _ees_or_blank(label: object) -> tuple[str, str]:
    try:
        return periods.to_ees(str(label))
    except (periods.PeriodError, ValueError, TypeError):
        return str(label), ""


def _workbook_meta(rows: list[tuple]) -> dict:
    return {str(r[0]).strip(): r[1] for r in rows if r and r[0] is not None and len(r) > 1}


_SHEET_FIELDS = ("item_id", "numerator", "denominator", "note", "value")
_INPUT_FIELDS = ("numerator", "denominator", "note", "value")  # what a borough fills in
_LA_CODE = re.compile(r"\bE\d{8}\b")
_PERIOD = re.compile(r"\b(\d{4})\s*[-/]\s*(\d{2})\s*Q\s*([1-4])\b", re.IGNORECASE)


def _header_at(rows: list[tuple]) -> int | None:
    """The row of an agency sheet's item table header: the first (within
    SHEET_SCAN_ROWS) with a cell naming item_id, in any column, case or spacing."""
    for i, r in enumerate(rows[:SHEET_SCAN_ROWS]):
        if r and any(normalise_key(c) == "itemid" for c in r if c is not None):
            return i
    return None


def _read_agency_sheet(rows: list[tuple], name: str) -> pd.DataFrame:
    """One agency sheet's item table. Columns are found by their header names
    wherever they are (an inserted column moves nothing); a header naming a
    field twice is refused (F11) rather than guessed."""
    header_at = _header_at(rows)
    if header_at is None:
        raise InputFileError("F05", "no row naming the item_id column", name)
    keys = [normalise_key(c) for c in rows[header_at]]
    col: dict[str, int] = {}
    for j, k in enumerate(keys):
        field = FIELD_BY_KEY.get(k)
        if field in _SHEET_FIELDS:
            if field in col:
                raise InputFileError(
                    "F11",
                    f"'{field}' is the header of columns {get_column_letter(col[field] + 1)} "
                    f"and {get_column_letter(j + 1)}",
                    name,
                )
            col[field] = j
    if "numerator" not in col:
        raise InputFileError("F05", "the item table has no numerator column", name)
    title = " ".join(str(c) for r in rows[:header_at] for c in (r or ()) if c is not None)
    body = rows[header_at + 1 :]
    frame = pd.DataFrame(
        {f: [r[j] if j < len(r) else None for r in body] for f, j in col.items()},
        dtype=object,
    )
    frame["source_row"] = np.arange(header_at + 2, header_at + 2 + len(body))
    wanted = [c for c in ("item_id", "numerator", "denominator", "note", "value") if c in col]
    filled = frame[wanted].map(lambda v: v is not None and str(v).strip() != "").any(axis=1)
    frame = frame.loc[filled]
    out = pd.DataFrame(
        {c: frame[c].map(_cell_text) if c in frame.columns else "" for c in _SHEET_FIELDS}
    )
    out["source_row"] = frame["source_row"].to_numpy()
    out["source_sheet"] = name
    out["source_columns"] = " ".join(f"{f}={get_column_letter(j + 1)}" for f, j in col.items())
    la = _LA_CODE.findall(title)
    period = _PERIOD.search(title)
    out["sheet_la_code"] = la[0].upper() if len(set(la)) == 1 else ""
    out["sheet_period"] = f"{period[1]}-{period[2]} Q{period[3]}" if period else ""
    return out


def _flag_formulas(frame: pd.DataFrame, rows: list[tuple], formula_rows: list[tuple]) -> None:
    """Mark numerator/denominator cells holding a formula with no saved value
    (data_only reads them as blank, which would look like a missing figure)."""
    header_at = _header_at(rows)
    if header_at is None or frame.empty:
        return
    keys = [normalise_key(c) for c in rows[header_at]]
    for field in ("numerator", "denominator"):
        flags = pd.Series("", index=frame.index, dtype=object)
        if field in keys:
            j = keys.index(field)
            for idx, sheet_row in zip(frame.index, frame["source_row"], strict=True):
                i = int(sheet_row) - 1
                cached = _at(rows, i, j)
                formula = _at(formula_rows, i, j)
                if cached is None and formula is not None:
                    text = getattr(formula, "text", formula)
                    flags[idx] = str(text)[:60] or "formula"
        frame[f"{field}_formula"] = flags


def _date_sent(rows: list[tuple]) -> str:
    """What the Instructions sheet's "Date sent" cell holds: an ISO date for a date
    cell, else its text ("" when the template has no such cell or it is blank)."""
    key = normalise_key(DATE_SENT_LABEL)
    for r in rows:
        cells = [c for c in (r or ()) if c is not None and str(c).strip() != ""]
        if cells and normalise_key(cells[0]).startswith(key):
            if len(cells) < 2:
                return ""
            v = cells[1]
            return v.date().isoformat() if hasattr(v, "date") else _cell_text(v).strip()
    return ""


def _at(rows: list[tuple], i: int, j: int) -> object:
    return rows[i][j] if i < len(rows) and j < len(rows[i]) else None


def _cell_text(v: object) -> str:
    """A cell as text, exactly: large floats keep their exponent rather than
    gaining digits they never had."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).upper()
    if isinstance(v, float):
        # Whole numbers as digits (beyond 2^53 the digits show the number is too
        # long, V13); very large or fractional ones as Python writes them.
        if v.is_integer() and abs(v) < 1e21:
            return str(int(v))
        return repr(v)
    return str(v)
