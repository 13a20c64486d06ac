"""Read boroughs' quarterly returns, check them against the data model, and
ingest a folder of them into ``data/processed/`` without losing a row.

Two layouts are read: the Excel return template (:mod:`lscb_nb.pilot.template`) and
the long CSV described in README.md (DfE EES tidy layout). Reading is per file;
every check then runs vectorised over all rows read. Every input row ends up
either *accepted* or *quarantined*, and every problem is one row of the issue
table (:mod:`lscb_nb.core.validation`), keyed to file, sheet, row and column.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import msoffcrypto
import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from lscb_nb.core import periods, units
from lscb_nb.core.fileio import current_version, folder_sha256, publish_version, write_json_atomic
from lscb_nb.core.inputfiles import (
    DEFAULT_LIMITS,
    OLE_MAGIC,
    InputFileError,
    ReadLimits,
    check_sheet_sizes,
    decode_text,
    describe_error,
    duplicate_columns,
    list_folder,
    normalise_key,
    open_workbook,
    read_head,
    read_text_table,
    sheet_has_formulas,
    sheet_rows,
)
from lscb_nb.core.returnformat import (
    AGENCIES,
    GEOGRAPHIC_LEVEL,
    INSTRUCTIONS_SHEET,
    META_SHEET,
    REQUIRED_CSV_COLUMNS,
    RETURN_CSV_COLUMNS,
)
from lscb_nb.core.validation import (
    ERROR,
    RULES,
    concat_issues,
    empty_issues,
    file_issue,
    row_issues,
)
from lscb_nb.core.values import (
    CELL_RULES,
    INVALID,
    NOT_APPLICABLE,
    REPORTED,
    parse_values,
)

log = logging.getLogger(__name__)

RAW_FIELDS = (
    "time_period",
    "time_identifier",
    "new_la_code",
    "old_la_code",
    "la_name",
    "item_id",
    "numerator",
    "denominator",
    "value",
    "note",
)
PROVENANCE = ("source_file", "source_format", "source_sheet", "source_row")
# Optional columns a reader may add to raw rows, each checked by check_rows: a
# formula with no saved value (V08), a CSV line problem (F10, F12), and what a
# template's visible sheet says about authority and period (R03 against _meta).
READ_FLAGS = (
    "numerator_formula",
    "denominator_formula",
    "read_problem",
    "read_detail",
    "sheet_la_code",
    "sheet_period",
)
RETURN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".tsv", ".txt")
_OTHER_SPREADSHEETS = {
    ".ods": "an OpenDocument spreadsheet (.ods); save it as .xlsx",
    ".xlsb": "a binary Excel workbook (.xlsb); save it as .xlsx",
    ".numbers": "an Apple Numbers file; export it as .xlsx",
    ".fods": "an OpenDocument spreadsheet; save it as .xlsx",
}
_OLE_MAGIC = OLE_MAGIC
_VALUE_TOLERANCE = 0.05
SHEET_SCAN_ROWS = 30  # rows searched for a sheet's item table header
# Files table statuses: every entry of the returns folder has one.
READ, PARTLY_READ, UNREADABLE, NOT_A_RETURN = "read", "partly read", "unreadable", "not a return"
# Counts above this are implausible for one borough's quarter (England's largest
# authority has about 330,000 children) unless the item's valid range says otherwise.
DEFAULT_PLAUSIBLE_COUNT = 1_000_000

ReturnFileError = InputFileError  # the name callers know; carries code, detail, sheet


@dataclass
class IngestResult:
    """What came out of reading a set of returns. ``accepted`` + ``quarantined``
    hold every input row exactly once (``input_row_id``)."""

    accepted: pd.DataFrame
    quarantined: pd.DataFrame
    issues: pd.DataFrame
    files: pd.DataFrame

    @property
    def rows_read(self) -> int:
        return int(self.files["rows_read"].sum()) if not self.files.empty else 0

    def reconciles(self) -> bool:
        """Every row read is accepted or quarantined, once."""
        ids = pd.concat([self.accepted["input_row_id"], self.quarantined["input_row_id"]])
        return len(ids) == self.rows_read and ids.is_unique


# ---------------------------------------------------------------------------
# Reading files into raw rows (strings, with provenance)
# ---------------------------------------------------------------------------


def expected_sheets(items: pd.DataFrame) -> list[str]:
    """The agency sheets the template has for this data model, in order."""
    present = set(items["agency"]) if "agency" in items else set()
    return [label[:31] for agency, label in AGENCIES.items() if agency in present]


def read_raw_return(
    path: Path | str,
    display_name: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    sheets: list[str] | None = None,
) -> pd.DataFrame:
    """Read one return file into raw rows: the fields of RAW_FIELDS as text plus
    provenance. Raises :class:`ReturnFileError` when the file cannot be read;
    problems with single sheets are dropped here (see :func:`read_return_file`)."""
    return read_return_file(path, display_name, limits, sheets)[0]


def read_return_file(
    path: Path | str,
    display_name: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    sheets: list[str] | None = None,
) -> tuple[pd.DataFrame, list[InputFileError], str]:
    """Read one return: (raw rows, problems with single sheets, a note on how it
    was read). ``sheets`` are the template's expected agency sheets. The format
    comes from the content, not the name: an .xlsx renamed .csv is still read.
    Raises :class:`ReturnFileError` when nothing in the file can be read."""
    path = Path(path)
    name = display_name or path.name
    suffix = path.suffix.lower()
    if suffix in _OTHER_SPREADSHEETS:
        raise ReturnFileError("F01", _OTHER_SPREADSHEETS[suffix])
    if suffix not in RETURN_SUFFIXES:
        raise ReturnFileError("F01", f"'{path.suffix}' files are not returns; send .xlsx or .csv")
    try:
        head = read_head(path)
    except OSError as exc:
        raise ReturnFileError("F01", describe_error(exc)) from exc
    if not head:
        raise ReturnFileError("F04")
    note = ""
    if head.startswith(_OLE_MAGIC):
        _refuse_ole(path)
    if head.startswith(b"PK"):
        frame, problems = _read_workbook(path, limits, sheets)
        if suffix not in (".xlsx", ".xlsm"):
            note = f"read as an Excel workbook (the file is named {path.suffix})"
    elif suffix in (".xlsx", ".xlsm", ".xls"):
        raise ReturnFileError("F01", "not an Excel workbook (the file is not .xlsx inside)")
    else:
        frame, problems = _read_csv(path, limits), []
    frame["source_file"] = name
    return frame, problems, note


def _refuse_ole(path: Path) -> None:
    with path.open("rb") as fh:
        try:
            encrypted = msoffcrypto.OfficeFile(fh).is_encrypted()
        except Exception:
            encrypted = False
    if encrypted:
        raise ReturnFileError("F02")
    raise ReturnFileError("F01", "old-style .xls workbook; save it as .xlsx")


_KEY = {normalise_key(c): c for c in RAW_FIELDS}
_KEY.update({"notes": "note", "comment": "note", "comments": "note"})


def _read_csv(path: Path, limits: ReadLimits) -> pd.DataFrame:
    required = {normalise_key(c) for c in REQUIRED_CSV_COLUMNS}
    delims = ("\t", ",", ";", "|") if path.suffix.lower() in (".tsv", ".txt") else None
    table = read_text_table(
        path,
        lambda cells: required <= {normalise_key(c) for c in cells},
        limits,
        **({"delimiters": delims} if delims else {}),
    )
    if table is None:
        first = decode_text(path.read_bytes()[: 1 << 16]).splitlines()[:1]
        found = {normalise_key(c) for c in (first[0].split(",") if first else [])}
        missing = [c for c in REQUIRED_CSV_COLUMNS if normalise_key(c) not in found]
        raise ReturnFileError("F03", f"missing column(s) {', '.join(missing)}")
    twice = duplicate_columns(table.header, RAW_FIELDS)
    if twice:
        shown = "; ".join(
            f"{c} is the header of "
            + " and ".join(repr(h) for h in table.header if normalise_key(h) == normalise_key(c))
            for c in twice
        )
        raise ReturnFileError("F11", shown)
    if table.records.empty:
        raise ReturnFileError("F04")
    where = {}
    for j, h in enumerate(table.header):
        field = _KEY.get(normalise_key(h))
        if field is not None and field not in where:
            where[field] = j
    n = len(table.records)
    out = pd.DataFrame(
        {col: table.records[where[col]] if col in where else "" for col in RAW_FIELDS}
    )
    out["source_format"] = "csv"
    out["source_sheet"] = None
    out["source_row"] = table.lines
    if table.problems:
        line_at = pd.Series(np.arange(n), index=table.lines)
        problem = pd.Series("", index=range(n), dtype=object)
        detail = pd.Series("", index=range(n), dtype=object)
        for line, code, text in reversed(table.problems):  # the first problem on a line wins
            if line in line_at.index:
                problem[int(line_at[line])], detail[int(line_at[line])] = code, text
        out["read_problem"], out["read_detail"] = problem.to_numpy(), detail.to_numpy()
    return out


def _read_workbook(
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
            raise ReturnFileError(
                "F03",
                f"no sheet has the template's item table (sheets found: {', '.join(names)})",
            )
        return _empty_raw("xlsx"), problems
    if meta is None:
        raise ReturnFileError(
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
        field = _KEY.get(k)
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


# ---------------------------------------------------------------------------
# Checking rows against the data model (vectorised)
# ---------------------------------------------------------------------------


def check_rows(
    raw: pd.DataFrame,
    items: pd.DataFrame,
    rules: pd.DataFrame,
    authorities: pd.DataFrame,
    version: str,
    expected_periods: list[str] | None = None,
    population: pd.DataFrame | None = None,
    plausible_count: float = DEFAULT_PLAUSIBLE_COUNT,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Check raw rows; return (accepted, quarantined, issues).

    ``items`` and ``rules`` are the data model's tables, ``authorities`` the
    London authorities (``la_code_ons``, ``la_code_dfe``, ``la_name``), and
    ``population`` (optional: ``area_code``, ``mid_year``, ``population_0_17``)
    turns counts of rate items into rates per 10,000. ``plausible_count`` is the
    largest believable numerator or denominator for an item whose valid range
    sets no maximum (V14).
    """
    df = raw.reset_index(drop=True).copy()
    if "input_row_id" not in df.columns:
        df["input_row_id"] = np.arange(len(df))
    for col in RAW_FIELDS:
        df[col] = df[col].astype("string").fillna("").str.strip()
    df["item_id"] = df["item_id"].str.upper()
    for col in ("numerator", "denominator", "value"):
        df[f"{col}_raw"] = df[col]
    issues: list[pd.DataFrame] = [_read_flag_issues(df)]

    # Period
    keys = df[["time_period", "time_identifier"]].drop_duplicates()
    labels, bad = {}, {}
    for tp, ti in keys.itertuples(index=False):
        try:
            labels[(tp, ti)] = periods.from_ees(tp, ti)
        except periods.PeriodError as exc:
            bad[(tp, ti)] = str(exc)
    pair = pd.Series(
        list(zip(df["time_period"], df["time_identifier"], strict=True)), index=df.index
    )
    df["period"] = pair.map(labels).astype(object)
    period_bad = df["period"].isna()
    issues.append(
        row_issues(df, period_bad, "R04", "time_period", detail=pair.map(bad).astype("string"))
    )
    if expected_periods is not None:
        unexpected = ~period_bad & ~df["period"].isin(expected_periods)
        span = f"{expected_periods[0]} to {expected_periods[-1]}" if expected_periods else "none"
        issues.append(
            row_issues(df, unexpected, "R05", "time_period", value=df["period"], detail=span)
        )

    # Authority
    la = authorities.set_index("la_code_ons")
    df["la_code_ons"] = df["new_la_code"].str.upper()
    known_la = df["la_code_ons"].isin(la.index)
    issues.append(row_issues(df, ~known_la, "R02", "new_la_code", value=df["new_la_code"]))
    expected_dfe = df["la_code_ons"].map(la["la_code_dfe"].astype(str))
    expected_name = df["la_code_ons"].map(la["la_name"])
    dfe_clash = known_la & (df["old_la_code"] != "") & (df["old_la_code"] != expected_dfe)
    name_clash = (
        known_la
        & (df["la_name"] != "")
        & (_norm_name(df["la_name"]) != _norm_name(expected_name.fillna("")))
    )
    clash_detail = (
        "new_la_code "
        + df["la_code_ons"]
        + " is "
        + expected_name.fillna("")
        + " (DfE "
        + expected_dfe.fillna("")
        + "), but the row says "
        + df["la_name"]
        + " (DfE "
        + df["old_la_code"]
        + ")"
    )
    issues.append(row_issues(df, dfe_clash | name_clash, "R03", "old_la_code", detail=clash_detail))
    meta_clash, meta_detail = _sheet_disagrees(df)
    issues.append(row_issues(df, meta_clash, "R03", "new_la_code", detail=meta_detail))
    name_clash = name_clash | meta_clash
    df["la_code_dfe"] = df["la_code_ons"].map(la["la_code_dfe"]).astype("Int64")
    df["la_name"] = expected_name.where(known_la, df["la_name"])

    # Item
    blank_item = df["item_id"] == ""
    has_figures = (df["numerator"] != "") | (df["denominator"] != "")
    issues.append(row_issues(df, blank_item & has_figures, "R07", "item_id"))
    known_item = df["item_id"].isin(items.index)
    issues.append(
        row_issues(
            df, ~known_item & ~blank_item, "R01", "item_id", value=df["item_id"], version=version
        )
    )
    for field in ("agency", "unit"):
        df[field] = df["item_id"].map(items[field]).astype(object)

    # Values
    for col in ("numerator", "denominator", "value"):
        parsed = parse_values(df[col])
        prefix = "submitted_value" if col == "value" else col
        df[prefix] = parsed["value"]
        df[f"{prefix}_state"] = parsed["state"]
        df[f"{prefix}_reason"] = parsed["state_reason"]
        raw_text = df[f"{col}_raw"]
        plain_invalid = (parsed["state"] == INVALID) & (parsed["rule_code"] == "")
        issues.append(row_issues(df, plain_invalid, "V01", col, value=raw_text))
        for code in CELL_RULES:
            hit = parsed["rule_code"] == code
            if hit.any():
                issues.append(
                    row_issues(df, hit, code, col, value=raw_text, detail=parsed["read_as"])
                )
        issues.append(row_issues(df, parsed["value"] < 0, "V02", col, value=raw_text))
    # Events are whole numbers; a percentage's numerator may not be (FTE posts).
    fractional = (df["unit"] != "percentage") & (
        (df["numerator"] - np.floor(df["numerator"])).abs() > 1e-9
    )
    issues.append(row_issues(df, fractional, "V07", "numerator", value=df["numerator"]))

    pct = df["unit"] == "percentage"
    num_ok = df["numerator_state"] == REPORTED
    den_ok = df["denominator_state"] == REPORTED
    issues.append(
        row_issues(df, pct & num_ok & (df["denominator_state"] == "missing"), "V05", "denominator")
    )
    over = pct & num_ok & den_ok & (df["numerator"] > df["denominator"])
    issues.append(
        row_issues(df, over, "V03", "numerator", value=df["numerator"], detail=df["denominator"])
    )

    # The figure itself
    df["population_0_17"] = _population_for(df, population)
    value = pd.Series(np.nan, index=df.index)
    value = value.mask(df["unit"] == "count", df["numerator"])
    value = value.mask(
        pct & (df["denominator"] > 0),
        units.scaled(df["numerator"], df["denominator"], "percentage"),
    )
    rate = df["unit"] == "rate_per_10k"
    value = value.mask(rate, units.scaled(df["numerator"], df["population_0_17"], "rate_per_10k"))
    df["value"] = value
    df["value_state"] = df["numerator_state"].where(
        ~(pct & num_ok & ~den_ok), df["denominator_state"]
    )
    # 0 out of 0: no percentage exists; say so rather than leave a bare NaN.
    nothing = pct & num_ok & den_ok & (df["denominator"] == 0) & (df["numerator"] == 0)
    df.loc[nothing, "value_state"] = NOT_APPLICABLE
    issues.append(row_issues(df, nothing, "V15", "denominator"))
    lo = df["item_id"].map(items["valid_range"].map(lambda r: (r or {}).get("min")))
    hi = df["item_id"].map(items["valid_range"].map(lambda r: (r or {}).get("max")))
    lo = pd.to_numeric(lo, errors="coerce").astype("float64")
    hi = pd.to_numeric(hi, errors="coerce").astype("float64")
    outside = df["value"].notna() & ((df["value"] < lo) | (df["value"] > hi)) & ~over
    issues.append(
        row_issues(
            df,
            outside,
            "V04",
            "numerator",
            value=df["value"].round(2),
            detail="min "
            + lo.astype("string").fillna("none")
            + ", max "
            + hi.astype("string").fillna("none"),
        )
    )
    issues.append(_implausible_issues(df, items, hi, outside, plausible_count))
    differs = (
        (df["submitted_value_state"] == REPORTED)
        & df["value"].notna()
        & ((df["submitted_value"] - df["value"]).abs() > _VALUE_TOLERANCE)
    )
    issues.append(
        row_issues(
            df, differs, "V06", "value", value=df["submitted_value"], detail=df["value"].round(2)
        )
    )

    # Duplicates (same authority, period and item), among rows whose identity is
    # sound: a row carrying another borough's code must not knock out that
    # borough's own figure as a "duplicate".
    identity_ok = ~period_bad & known_la & ~(dfe_clash | name_clash) & known_item
    issues.append(_duplicate_issues(df.loc[identity_ok]))
    # Cross-item rules, between rows of the same return that are otherwise clean
    pre = concat_issues(issues)
    blocked = _quarantine_ids(df, pre)
    issues.append(_cross_item_issues(df.loc[~df["input_row_id"].isin(blocked)], rules))

    all_issues = concat_issues(issues)
    quarantine_ids = _quarantine_ids(df, all_issues)
    reasons = _reasons_by_row(df, all_issues)
    df["issue_codes"] = df["input_row_id"].map(reasons).astype(object).fillna("")
    is_q = df["input_row_id"].isin(quarantine_ids)
    accepted = df.loc[~is_q, ACCEPTED_COLUMNS].reset_index(drop=True)
    quarantined = df.loc[is_q, QUARANTINE_COLUMNS].reset_index(drop=True)
    return accepted, quarantined, all_issues


ACCEPTED_COLUMNS = [
    "input_row_id",
    "la_code_ons",
    "la_code_dfe",
    "la_name",
    "period",
    "time_period",
    "time_identifier",
    "item_id",
    "agency",
    "unit",
    "numerator",
    "numerator_state",
    "numerator_reason",
    "denominator",
    "denominator_state",
    "denominator_reason",
    "population_0_17",
    "value",
    "value_state",
    "submitted_value",
    "note",
    "issue_codes",
    *PROVENANCE,
]
QUARANTINE_COLUMNS = [
    "input_row_id",
    "la_code_ons",
    "period",
    "item_id",
    "time_period",
    "time_identifier",
    "new_la_code",
    "old_la_code",
    "numerator_raw",
    "denominator_raw",
    "value_raw",
    "note",
    "issue_codes",
    *PROVENANCE,
]


def _norm_name(s: pd.Series) -> pd.Series:
    return (
        s.astype("string")
        .str.lower()
        .str.replace("&", "and", regex=False)
        .str.replace(r"[^a-z]", "", regex=True)
    )


def _population_for(df: pd.DataFrame, population: pd.DataFrame | None) -> pd.Series:
    """0-17 population for each row: the ONS mid-year estimate of the year the
    financial year starts in (DfE's convention), or the latest one available."""
    if population is None or population.empty:
        return pd.Series(np.nan, index=df.index)
    pop = population.pivot_table(
        index="area_code", columns="mid_year", values="population_0_17", aggfunc="first"
    )
    start = pd.to_numeric(df["period"].str.slice(0, 4), errors="coerce")
    year = start.clip(upper=max(pop.columns)).fillna(max(pop.columns)).astype(int)
    stacked = pop.stack()
    keys = pd.MultiIndex.from_arrays([df["la_code_ons"], year])
    return pd.Series(stacked.reindex(keys).to_numpy(), index=df.index, dtype="float64")


def _flag(df: pd.DataFrame, col: str) -> pd.Series:
    """An optional text column of raw rows ('' where absent)."""
    if col not in df.columns:
        return pd.Series("", index=df.index, dtype="string")
    return df[col].astype("string").fillna("")


def _read_flag_issues(df: pd.DataFrame) -> pd.DataFrame:
    """Issues the readers found at a row: formulas with no saved value (V08) and
    CSV lines that could not be split reliably (F10, F12)."""
    if not any(c in df.columns for c in READ_FLAGS[:4]):
        return empty_issues()
    out = []
    for field in ("numerator", "denominator"):
        formula = _flag(df, f"{field}_formula")
        out.append(row_issues(df, formula != "", "V08", field, value=formula))
    problem, detail = _flag(df, "read_problem"), _flag(df, "read_detail")
    for code in ("F10", "F12"):
        out.append(row_issues(df, problem == code, code, None, detail=detail))
    return concat_issues(out)


def _sheet_disagrees(df: pd.DataFrame) -> tuple[pd.Series, pd.Series | str]:
    """Rows of a template whose visible sheet names another authority or period
    than the hidden ``_meta`` sheet the rows are filed under (R03)."""
    if "sheet_la_code" not in df.columns and "sheet_period" not in df.columns:
        return pd.Series(False, index=df.index), ""
    sheet_la = _flag(df, "sheet_la_code").str.upper()
    sheet_period = _flag(df, "sheet_period")
    period = df["period"].astype("string").fillna("")
    la_bad = (sheet_la != "") & (sheet_la != df["la_code_ons"])
    period_bad = (sheet_period != "") & (period != "") & (sheet_period != period)
    detail = (
        "the hidden _meta sheet files it under "
        + df["la_code_ons"].astype("string").fillna("")
        + " "
        + period
        + ", but sheet '"
        + _flag(df, "source_sheet")
        + "' says "
        + sheet_la.where(sheet_la != "", df["la_code_ons"])
        + " "
        + sheet_period.where(sheet_period != "", period)
    )
    return la_bad | period_bad, detail


def _implausible_issues(
    df: pd.DataFrame, items: pd.DataFrame, hi: pd.Series, outside: pd.Series, limit: float
) -> pd.DataFrame:
    """Numerators and denominators above the largest believable figure (V14): a
    count item's own valid maximum when it has one, else ``limit``."""
    if df.empty:
        return empty_issues()
    own_max = (df["unit"] == "count") & hi.notna()
    cap = pd.Series(float(limit), index=df.index).where(~own_max, hi)
    checked = ~outside.fillna(False).astype(bool)  # V04 already reports a count above its max
    out = []
    for col in ("numerator", "denominator"):
        over = (df[col] > cap) & (df[f"{col}_state"] == REPORTED)
        if col == "numerator":
            over &= checked
        if not over.any():
            continue
        hit = df.loc[over]
        out.append(
            row_issues(
                hit,
                pd.Series(True, index=hit.index),
                "V14",
                col,
                value=hit[col].map("{:,.15g}".format),
                detail="at most " + cap[over].map("{:,.15g}".format),
            )
        )
    return concat_issues(out)


def _figure_signature(df: pd.DataFrame) -> pd.Series:
    """What a row says, for comparing copies: each figure's state and, for a
    number, its value, else its text (so c and x differ, 5 and 5.0 do not)."""
    parts = []
    for col, raw in (
        ("numerator", "numerator_raw"),
        ("denominator", "denominator_raw"),
        ("submitted_value", "value_raw"),
    ):
        state = df[f"{col}_state"].astype(str)
        text = df[raw].astype("string").fillna("").str.lower()
        number = df[col].map(lambda v: "" if pd.isna(v) else f"{v:.15g}").astype("string")
        parts.append(state + ":" + number.where(state == REPORTED, text))
    return parts[0] + "|" + parts[1] + "|" + parts[2]


def _location(df: pd.DataFrame) -> pd.Series:
    sheet = _flag(df, "source_sheet")
    return (
        df["source_file"].astype("string")
        + sheet.where(sheet == "", ", sheet '" + sheet + "'")
        + " row "
        + df["source_row"].astype("string")
    )


def _duplicate_issues(df: pd.DataFrame) -> pd.DataFrame:
    """R06: the same authority, period and item more than once. Copies that say
    the same (state and text, see :func:`_figure_signature`) keep the first;
    copies that differ are all quarantined. Each message names the other copies."""
    key = ["la_code_ons", "period", "item_id"]
    if df.empty:
        return empty_issues()
    dup_any = df.duplicated(key, keep=False)
    if not dup_any.any():
        return empty_issues()
    grp = df.loc[dup_any]
    signature = _figure_signature(grp)
    conflict = (
        signature.groupby([grp[k] for k in key], dropna=False).transform("nunique") > 1
    ).to_numpy()
    exact_later = ~conflict & grp.duplicated(key, keep="first").to_numpy()
    where = _location(grp).to_numpy()
    detail = np.full(len(grp), "", dtype=object)
    for positions in grp.groupby(key, dropna=False, sort=False).indices.values():
        for pos in positions:
            if conflict[pos]:
                others = [str(where[q]) for q in positions if q != pos]
                shown = "; ".join(others[:5]) + (" and others" if len(others) > 5 else "")
                detail[pos] = f"with different figures at {shown}; none of the copies can be used"
            elif exact_later[pos]:
                detail[pos] = f"an exact copy of {where[positions[0]]}"
    detail_s = pd.Series(detail, index=grp.index)
    mask = pd.Series(conflict | exact_later, index=grp.index)
    return row_issues(grp, mask, "R06", "item_id", detail=detail_s)


_OPS = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater, "==": np.equal}


def _cross_item_issues(df: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """Check the data model's cross-item rules between rows of the same return
    (same authority and period), one vectorised join per rule."""
    if rules is None or rules.empty or df.empty:
        return empty_issues()
    key = ["la_code_ons", "period"]
    ok = df.loc[df["numerator_state"] == REPORTED].drop_duplicates([*key, "item_id"])
    out = []
    for rule in rules.itertuples(index=False):
        left = ok.loc[ok["item_id"] == rule.left, [*key, "numerator", "input_row_id"]]
        right = ok.loc[ok["item_id"] == rule.right, [*key, "numerator"]]
        pair = left.merge(right, on=key, suffixes=("_l", "_r"))
        failed = pair.loc[~_OPS[rule.operator](pair["numerator_l"], pair["numerator_r"])]
        if failed.empty:
            continue
        message = (
            f"{rule.rule_id}: {rule.message} ({rule.left} = "
            + failed["numerator_l"].map("{:g}".format)
            + f", {rule.right} = "
            + failed["numerator_r"].map("{:g}".format)
            + ")"
        )
        by_row = pd.Series(message.to_numpy(), index=failed["input_row_id"].to_numpy())
        rows = df.loc[df["input_row_id"].isin(by_row.index)]
        issue = row_issues(
            rows,
            pd.Series(True, index=rows.index),
            "X",
            "numerator",
            severity=rule.severity,
            message=rows["input_row_id"].map(by_row),
        )
        issue["rule_code"] = rule.rule_id
        out.append(issue)
    return concat_issues(out)


def _quarantine_ids(df: pd.DataFrame, issues: pd.DataFrame) -> set[int]:
    """Rows with an error-severity issue are quarantined (queries are kept)."""
    if issues.empty:
        return set()
    errors = issues.loc[issues["severity"] == ERROR]
    keyed = errors.merge(
        df[["input_row_id", "source_file", "source_sheet", "source_row"]],
        left_on=["file", "sheet", "row"],
        right_on=["source_file", "source_sheet", "source_row"],
        how="inner",
    )
    return set(keyed["input_row_id"].tolist())


def _reasons_by_row(df: pd.DataFrame, issues: pd.DataFrame) -> pd.Series:
    if issues.empty:
        return pd.Series(dtype=object)
    keyed = issues.merge(
        df[["input_row_id", "source_file", "source_sheet", "source_row"]],
        left_on=["file", "sheet", "row"],
        right_on=["source_file", "source_sheet", "source_row"],
        how="inner",
    )
    codes = (
        keyed[["input_row_id", "rule_code"]]
        .drop_duplicates()
        .sort_values(["input_row_id", "rule_code"])
    )
    return codes.groupby("input_row_id")["rule_code"].agg(";".join)


# ---------------------------------------------------------------------------
# Reading and ingesting a folder
# ---------------------------------------------------------------------------

FILE_COLUMNS = ["file", "status", "rows_read", "error"]


def read_returns(
    paths: list[Path],
    items: pd.DataFrame,
    rules: pd.DataFrame,
    authorities: pd.DataFrame,
    version: str,
    expected_periods: list[str] | None = None,
    population: pd.DataFrame | None = None,
    root: Path | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    plausible_count: float = DEFAULT_PLAUSIBLE_COUNT,
) -> IngestResult:
    """Read and check many return files (or any folder entries). Each entry gets
    one row of the files table with its status (read, partly read, unreadable,
    not a return) and reason; whatever goes wrong in one file or sheet becomes an
    issue for it, and the others carry on."""
    sheets = expected_sheets(items)
    frames, file_rows, file_problems = [], [], []
    for path in sorted(Path(p) for p in paths):
        name = _display_name(path, root)
        frame, problems, status, reason = _read_entry(path, name, limits, sheets)
        file_problems += problems
        if frame is not None and len(frame):
            frames.append(frame)
        file_rows.append(
            {
                "file": name,
                "status": status,
                "rows_read": 0 if frame is None else len(frame),
                "error": reason,
            }
        )
    raw = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=[*RAW_FIELDS, *PROVENANCE])
    )
    raw["input_row_id"] = np.arange(len(raw))
    accepted, quarantined, issues = check_rows(
        raw, items, rules, authorities, version, expected_periods, population, plausible_count
    )
    issues = concat_issues([pd.DataFrame(file_problems), issues]) if file_problems else issues
    files = pd.DataFrame(file_rows, columns=FILE_COLUMNS)
    acc = accepted.groupby("source_file").size()
    qua = quarantined.groupby("source_file").size()
    files["rows_accepted"] = files["file"].map(acc).fillna(0).astype(int)
    files["rows_quarantined"] = files["file"].map(qua).fillna(0).astype(int)
    return IngestResult(accepted, quarantined, issues, files)


def _display_name(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return path.name


def _read_entry(
    path: Path, name: str, limits: ReadLimits, sheets: list[str]
) -> tuple[pd.DataFrame | None, list[dict], str, str]:
    """One folder entry: (raw rows, issue dicts, status, reason). Never raises."""
    base = path.name
    kind = _entry_kind(path)
    if kind != "file":
        return None, *_not_a_file(name, kind)
    if base.startswith("~$"):
        return None, [], NOT_A_RETURN, f"Excel's lock file, left while {base[2:]} was open"
    if base.startswith("."):
        return None, [], NOT_A_RETURN, "a hidden system file"
    if base.lower().startswith("readme"):
        return None, [], NOT_A_RETURN, "a README"
    try:
        frame, problems, note = read_return_file(path, name, limits, sheets)
    except InputFileError as exc:
        status = NOT_A_RETURN if exc.code == "F03" or _not_spreadsheet(path) else UNREADABLE
        return None, [file_issue(name, exc.code, exc.detail, exc.sheet)], status, _reason(exc)
    except Exception as exc:  # whatever else a hostile file provokes stays with it
        problem = InputFileError("F01", f"unexpected problem reading it ({describe_error(exc)})")
        return None, [file_issue(name, "F01", problem.detail)], UNREADABLE, _reason(problem)
    issues = [file_issue(name, p.code, p.detail, p.sheet) for p in problems]
    lost = [p for p in problems if RULES[p.code].severity == ERROR]
    reasons = [note] if note else []
    reasons += [f"sheet '{p.sheet}': {_reason(p)}" for p in problems]
    if len(frame) == 0:
        return frame, issues, UNREADABLE, "; ".join(reasons)
    return frame, issues, PARTLY_READ if lost else READ, "; ".join(reasons)


def _entry_kind(path: Path) -> str:
    if path.is_symlink() and not path.exists():
        return "missing link"
    if path.is_dir():
        if path.is_symlink():
            return "link to a folder"
        try:
            next(os.scandir(path), None)
        except OSError:
            return "unreadable folder"
        return "folder"
    try:
        return "file" if stat.S_ISREG(path.stat().st_mode) else "special"
    except OSError:
        return "unreadable"


def _not_a_file(name: str, kind: str) -> tuple[list[dict], str, str]:
    if kind == "folder":
        return [], NOT_A_RETURN, "a folder; the files in it are listed on their own"
    if kind == "link to a folder":
        return [], NOT_A_RETURN, "a link to a folder; links are not followed"
    if kind == "unreadable folder":
        detail = "a folder that could not be opened, so its files could not be listed"
        return [file_issue(name, "F01", detail)], UNREADABLE, f"Unreadable file: {detail}"
    if kind == "missing link":
        detail = "a link to a file that does not exist"
        return [file_issue(name, "F01", detail)], UNREADABLE, f"Unreadable file: {detail}"
    detail = "not a regular file (a pipe, socket or device)"
    return [file_issue(name, "F01", detail)], UNREADABLE, f"Unreadable file: {detail}"


def _not_spreadsheet(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix not in RETURN_SUFFIXES and suffix not in _OTHER_SPREADSHEETS


def _reason(exc: InputFileError) -> str:
    return RULES[exc.code].title + (f": {exc.detail}" if exc.detail else "")


def find_return_files(folder: Path) -> list[Path]:
    """Every file in ``folder`` (recursively) that may be a return; other files
    (a README, a log, a lock file) are not returns and are left alone. For a full
    account of a folder, every entry with its outcome, see :func:`ingest_returns`."""
    return sorted(
        e.path
        for e in list_folder(folder)
        if e.kind in ("file", "missing link")
        and not e.path.name.startswith((".", "~$"))
        and e.path.suffix.lower()
        in (*RETURN_SUFFIXES, *_OTHER_SPREADSHEETS, ".pdf", ".docx", ".doc")
        and not e.path.name.lower().startswith("readme")
    )


def ingest_returns(
    folder: Path,
    out_dir: Path,
    items: pd.DataFrame,
    rules: pd.DataFrame,
    authorities: pd.DataFrame,
    version: str,
    expected_periods: list[str] | None = None,
    population: pd.DataFrame | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    plausible_count: float = DEFAULT_PLAUSIBLE_COUNT,
) -> IngestResult:
    """Ingest every entry under ``folder`` into ``out_dir`` atomically.

    Every entry of the folder is in the files table with its outcome. The outputs
    (accepted, quarantined, issues, files as Parquet, and a summary) are written
    into a new version folder, and ``out_dir`` (a link to the current version) is
    switched to it in one rename, so a reader sees the old set or the new one,
    never a mixture, even if the run is killed. Leftovers of killed runs are
    removed at the next run. Running twice on the same inputs gives identical files.
    """
    folder, out_dir = Path(folder), Path(out_dir)
    entries = [e.path for e in list_folder(folder)]
    result = read_returns(
        entries,
        items,
        rules,
        authorities,
        version,
        expected_periods,
        population,
        root=folder,
        limits=limits,
        plausible_count=plausible_count,
    )
    if not result.reconciles():
        raise AssertionError("ingestion lost or duplicated rows; this is a bug, please report it")
    files = result.files
    summary = {
        "datamodel_version": version,
        "input_snapshot_sha256": folder_sha256(folder),
        "files": len(files),
        "files_failed": int(files["status"].isin([UNREADABLE]).sum()),
        "files_partly_read": int((files["status"] == PARTLY_READ).sum()),
        "files_not_returns": int((files["status"] == NOT_A_RETURN).sum()),
        "rows_read": result.rows_read,
        "rows_accepted": len(result.accepted),
        "rows_quarantined": len(result.quarantined),
        "issues_error": int((result.issues["severity"] == ERROR).sum()),
        "issues_query": int((result.issues["severity"] != ERROR).sum()),
    }

    def write(folder_out: Path) -> None:
        for name, frame in (
            ("accepted", result.accepted),
            ("quarantined", result.quarantined),
            ("issues", result.issues),
            ("files", result.files),
        ):
            _to_parquet(frame, folder_out / f"{name}.parquet")
        write_json_atomic(folder_out / "summary.json", summary)

    publish_version(out_dir, write)
    return result


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].astype("string")
    out.to_parquet(path, index=False)


def load_processed(out_dir: Path) -> IngestResult:
    """Load what :func:`ingest_returns` wrote (the current version)."""
    folder = current_version(out_dir)
    frames = {
        n: pd.read_parquet(folder / f"{n}.parquet")
        for n in ("accepted", "quarantined", "issues", "files")
    }
    return IngestResult(**frames)


def read_summary(out_dir: Path) -> dict:
    return json.loads((current_version(out_dir) / "summary.json").read_text())


__all__ = [
    "DEFAULT_PLAUSIBLE_COUNT",
    "GEOGRAPHIC_LEVEL",
    "RETURN_CSV_COLUMNS",
    "IngestResult",
    "ReadLimits",
    "ReturnFileError",
    "check_rows",
    "expected_sheets",
    "find_return_files",
    "ingest_returns",
    "load_processed",
    "read_raw_return",
    "read_return_file",
    "read_returns",
]
