"""Reading boroughs' return files into raw rows: text cells with provenance.

Two layouts are read: the Excel return template (:mod:`lscb_nb.pilot.template`,
read by ``returnsheets``) and the long CSV described in README.md (DfE EES tidy
layout). The format comes from a file's content, not its name. Every entry of a returns
folder gets an outcome (read, partly read, unreadable, not a return); a file or sheet
that cannot be read becomes an issue (F codes, :mod:`lscb_nb.core.rules.file_rules`),
never an exception that stops the others. Checking the rows is
:mod:`lscb_nb.pilot.checks`.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import msoffcrypto
import numpy as np
import pandas as pd

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
from lscb_nb.core.returnformat import AGENCIES, REQUIRED_CSV_COLUMNS
from lscb_nb.core.rules import ERROR, file_issue, get
from lscb_nb.core.texttables import decode_text, read_text_table, repeated_text
from lscb_nb.pilot.rawrows import FIELD_BY_KEY, RAW_FIELDS
from lscb_nb.pilot.returnsheets import read_workbook

log = logging.getLogger(__name__)

RETURN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".tsv", ".txt")
_OTHER_SPREADSHEETS = {
    ".ods": "an OpenDocument spreadsheet (.ods); save it as .xlsx",
    ".xlsb": "a binary Excel workbook (.xlsb); save it as .xlsx",
    ".numbers": "an Apple Numbers file; export it as .xlsx",
    ".fods": "an OpenDocument spreadsheet; save it as .xlsx",
}
_OLE_MAGIC = OLE_MAGIC
# Files table statuses: every entry of the returns folder has one.
READ, PARTLY_READ, UNREADABLE, NOT_A_RETURN = "read", "partly read", "unreadable", "not a return"
NOT_READ = "not read"  # a file in a subfolder of the returns folder (see README)

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
        frame, problems = read_workbook(path, limits, sheets)
        if suffix not in (".xlsx", ".xlsm"):
            note = f"read as an Excel workbook (the file is named {path.suffix})"
    elif suffix in (".xlsx", ".xlsm", ".xls"):
        raise ReturnFileError("F01", "not an Excel workbook (the file is not .xlsx inside)")
    else:
        frame, problems = _read_csv(path, limits), []
    frame["source_file"] = repeated_text(name, len(frame))
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
        raise ReturnFileError(
            "F03", f"missing {'column' if len(missing) == 1 else 'columns'} {', '.join(missing)}"
        )
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
        field = FIELD_BY_KEY.get(normalise_key(h))
        if field is not None and field not in where:
            where[field] = j
    n = len(table.records)
    columns = {
        col: table.records[where[col]].array if col in where else repeated_text("", n)
        for col in RAW_FIELDS
    }
    columns["source_format"] = repeated_text("csv", n)
    columns["source_sheet"] = np.full(n, None, dtype=object)
    columns["source_row"] = np.asarray(table.lines)
    out = pd.DataFrame(columns, copy=False)
    if table.problems:
        line_at = pd.Series(np.arange(n), index=table.lines)
        problem = pd.Series("", index=range(n), dtype=object)
        detail = pd.Series("", index=range(n), dtype=object)
        column = pd.Series(None, index=range(n), dtype=object)
        for line, code, text in reversed(table.problems):  # the first problem on a line wins
            if line in line_at.index:
                at = int(line_at[line])
                problem[at], detail[at] = code, text
                header = table.problem_cells.get(line) if code == "F10" else None
                column[at] = FIELD_BY_KEY.get(normalise_key(header), header) if header else None
        out["read_problem"], out["read_detail"] = problem.to_numpy(), detail.to_numpy()
        out["read_column"] = column.to_numpy()
    return out


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
        return [], NOT_A_RETURN, "a folder; the files in it are listed on their own, not read"
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
