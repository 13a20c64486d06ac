"""Reading boroughs' return files into raw rows: text cells with provenance.

Two layouts are read: the Excel return template (:mod:`lscb_nb.pilot.template`) and
the long CSV described in README.md (DfE EES tidy layout). The format comes from
a file's content, not its name. Every entry of a returns folder gets an outcome
(read, partly read, unreadable, not a return); a file or sheet that cannot be
read becomes an issue (F codes, :mod:`lscb_nb.core.rules.file_rules`), never an
exception that stops the others. Checking the rows is :mod:`lscb_nb.pilot.checks`.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path

import msoffcrypto
import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from lscb_nb.core import periods
from lscb_nb.core.inputfiles import (
    DEFAULT_LIMITS,
    OLE_MAGIC,
    InputFileError,
    ReadLimits,
    describe_error,
    duplicate_columns,
    list_folder,
    normalise_key,
    read_head,
)
from lscb_nb.core.returnformat import AGENCIES, INSTRUCTIONS_SHEET, META_SHEET, REQUIRED_CSV_COLUMNS
from lscb_nb.core.rules import ERROR, file_issue, get
from lscb_nb.core.texttables import decode_text, read_text_table
from lscb_nb.core.workbooks import check_sheet_sizes, open_workbook, sheet_has_formulas, sheet_rows

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
SHEET_SCAN_ROWS = 30  # rows searched for a sheet's item table header
# Files table statuses: every entry of the returns folder has one.
READ, PARTLY_READ, UNREADABLE, NOT_A_RETURN = "read", "partly read", "unreadable", "not a return"

ReturnFileError = InputFileError  # the name callers know; carries code, detail, sheet

# ---------------------------------------------------------------------------
# Reading one file into raw rows (strings, with provenance)
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
    lost = [p for p in problems if get(p.code).severity == ERROR]
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
    return get(exc.code).title + (f": {exc.detail}" if exc.detail else "")


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
