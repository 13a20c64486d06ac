"""Reading what each borough already collects (phase 1), whatever its layout.

Every LSCB sent its current dataset as it kept it: Excel or CSV, a title block
above the header, its own column names and order, one sheet or one per agency.
This module finds the header on each sheet by its column names, maps those to
one tidy shape (authority, local item name, local definition, source agency,
frequency, reported to the board) and reports, file by file and sheet by sheet,
anything it could not read. One bad file never stops the others.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lscb_nb.core import reference
from lscb_nb.core.inputfiles import (
    DEFAULT_LIMITS,
    InputFileError,
    ReadLimits,
    describe_error,
    read_head,
)
from lscb_nb.core.rules import file_issue, get, issue_frame
from lscb_nb.core.texttables import HEADER_SCAN_LINES, read_text_table
from lscb_nb.core.workbooks import check_sheet_sizes, open_workbook, sheet_rows

log = logging.getLogger(__name__)

# What boroughs called each column; matched on lower-case words, as written or with
# punctuation and a trailing "name", "title" or "label" left off ("Item name",
# "Indicator title:", "KPI" and "Measure (description)" all find the item column).
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "local_name": (
        "indicator",
        "measure",
        "data item",
        "local name",
        "pi description",
        "item",
        "performance indicator",
        "performance measure",
        "kpi",
        "pi",
        "metric",
        "dataset item",
        "local measure",
        "local indicator",
        "name",
    ),
    "local_definition": (
        "definition",
        "description",
        "how counted",
        "notes / definition",
        "definition / notes",
        "counting rule",
        "counting rules",
        "technical definition",
        "numerator / denominator",
    ),
    "source_agency": (
        "source",
        "agency",
        "provider",
        "data owner",
        "supplied by",
        "data source",
        "source system",
        "lead agency",
        "owner",
        "responsible agency",
    ),
    "frequency": ("frequency", "how often", "reporting frequency", "periodicity", "collected"),
    "reported_to_board": (
        "reported to lscb?",
        "to board (y/n)",
        "board report",
        "reported",
        "reported to lscb",
        "reported to board",
        "to board",
    ),
}
TIDY_COLUMNS = [
    "la_code_ons",
    "la_name",
    "file",
    "sheet",
    "row",
    "local_name",
    "local_definition",
    "source_agency",
    "frequency",
    "reported_to_board",
]
FILE_COLUMNS = ["file", "la_code_ons", "la_name", "status", "sheets_read", "items", "reason"]
SCAN_ROWS = 15
_YES = {"y", "yes", "true", "1"}
_NO = {"n", "no", "false", "0"}


@dataclass
class LocalDatasets:
    """Everything read from the boroughs' files, and everything that went wrong
    (``problems``: the shared issue table, codes M01-M03, F10 and F12)."""

    items: pd.DataFrame
    problems: pd.DataFrame
    files: pd.DataFrame


def _label(cell: object) -> str:
    return re.sub(r"\s+", " ", str(cell)).strip().lower() if cell is not None else ""


def _forms(label: str) -> set[str]:
    """A header label as written, without punctuation, and without a trailing
    "name", "title" or "label" ("Indicator name:" -> "indicator")."""
    plain = re.sub(r"\s+", " ", re.sub(r"[^a-z0-9/ ]+", " ", label)).strip()
    bare = re.sub(r"\s+(name|title|label)$", "", plain).strip()
    return {label, plain, bare} - {""}


def find_header(rows: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    """The first row (within the top ``SCAN_ROWS``) that names the item column, and
    which column holds each tidy field."""
    for i, row in enumerate(rows[:SCAN_ROWS]):
        labels = [_forms(_label(c)) for c in row]
        found: dict[str, int] = {}
        for field, names in COLUMN_SYNONYMS.items():
            for j, label in enumerate(labels):
                if label & set(names) and j not in found.values():
                    found[field] = j
                    break
        if "local_name" in found and len(found) >= 2:
            return i, found
    return None


def authority_for(
    path: Path, rows: list[list[object]] | None = None, authorities: pd.DataFrame | None = None
) -> pd.Series | None:
    """The authority a file belongs to: its ONS code or name in the file name, else its
    name in a title cell. ``authorities`` is the project's table (London's 33 by
    default); a name may be any spelling :func:`reference.find_in` accepts, short
    forms included ('Durham.xlsx', 'Stockton on Tees dataset.csv')."""
    table = reference.authorities() if authorities is None else authorities
    codes = re.findall(r"(?<![A-Za-z0-9])[Ee]\d{8}(?![0-9])", path.stem)
    for code in codes:
        hit = table[table["la_code_ons"] == code.upper()]
        if len(hit) == 1:
            return hit.iloc[0]
    texts = [re.sub(r"[_]+", " ", path.stem)]
    texts += [" ".join(_label(c) for c in row) for row in (rows or [])[:SCAN_ROWS]]
    spellings = reference.spellings(table)
    for text in texts:
        key = f" {reference.name_key(text)} "
        for spelling, code in spellings:
            if f" {spelling} " in key:
                return table.loc[table["la_code_ons"] == code].iloc[0]
    return None


def _naming_example(authorities: pd.DataFrame | None) -> str:
    """' (e.g. 'County Durham.xlsx' or 'E06000047_dataset.csv')', from the project's
    own first authority, for a message asking that a file be named after one."""
    table = reference.authorities() if authorities is None else authorities
    if table.empty:
        return ""
    first = table.iloc[0]
    return f" (e.g. '{first['la_name']}.xlsx' or '{first['la_code_ons']}_dataset.csv')"


def _reported(value: object) -> object:
    text = _label(value)
    if text in _YES:
        return True
    if text in _NO:
        return False
    return pd.NA


def tidy_sheet(rows: list[list[object]]) -> tuple[pd.DataFrame, str | None]:
    """One sheet's items in the tidy shape, or the reason it could not be read."""
    found = find_header(rows)
    if found is None:
        return pd.DataFrame(), (
            f"no header row naming the items in the first {SCAN_ROWS} rows (looked for a "
            f"column called one of: {', '.join(COLUMN_SYNONYMS['local_name'])})"
        )
    header_row, columns = found
    records = []
    for offset, row in enumerate(rows[header_row + 1 :], start=header_row + 2):
        cells = {f: (row[j] if j < len(row) else None) for f, j in columns.items()}
        name = _text(cells.get("local_name"))
        if name is pd.NA:
            continue
        records.append(
            {
                "row": offset,
                "local_name": str(name).strip(),
                "local_definition": _text(cells.get("local_definition")),
                "source_agency": _text(cells.get("source_agency")),
                "frequency": _text(cells.get("frequency")),
                "reported_to_board": _reported(cells.get("reported_to_board")),
            }
        )
    return pd.DataFrame(records), None


def _text(value: object) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return pd.NA
    text = str(value).strip()
    return text or pd.NA


def _likely_delimiters(path: Path) -> tuple[str, ...]:
    """Separators most used in the file's first lines first: a borough's CSV may be
    separated by semicolons (Excel in many locales), tabs or bars, not commas."""
    head = read_head(path, 1 << 16).decode("utf-8", errors="replace")
    head = "\n".join(head.splitlines()[:HEADER_SCAN_LINES])
    return tuple(sorted((",", ";", "\t", "|"), key=lambda d: -head.count(d)))


def _sheets(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> dict[str, object]:
    """Every sheet's cell values (rows of values), or the problem that stopped one
    sheet (a string); raises ValueError saying why when the whole file fails."""
    try:
        head = read_head(path)
    except OSError as exc:
        raise ValueError(f"the file could not be opened ({describe_error(exc)})") from exc
    if not head:
        raise ValueError("the file is empty")
    if path.suffix.lower() in (".csv", ".tsv", ".txt") and not head.startswith(b"PK"):
        try:
            delims = _likely_delimiters(path)
            table = read_text_table(path, lambda cells: True, limits, delimiters=delims)
            if table is None:  # one column: no separator on any line
                table = read_text_table(path, lambda cells: True, limits, delimiters=(",",))
        except InputFileError as exc:
            raise ValueError(_problem_text(exc)) from exc
        if table is None:
            raise ValueError("the file is empty")
        # rows[i] is file line i + 1, blank lines included, so row numbers are lines
        last = int(table.lines.max()) if len(table.lines) else table.header_line
        rows: list[list[object]] = [[] for _ in range(last)]
        rows[table.header_line - 1] = [c if c != "" else None for c in table.header]
        for line, rec in zip(table.lines, table.records.to_numpy().tolist(), strict=True):
            rows[int(line) - 1] = [c if c != "" else None for c in rec]
        return {"(csv)": _Rows(rows, table.problems)}
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValueError(
            "the workbook is password-protected (or an old .xls); ask the authority for an "
            "unprotected .xlsx or a CSV"
        )
    if not head.startswith(b"PK"):
        raise ValueError("not an Excel workbook (the file is not .xlsx inside)")
    try:
        wb = open_workbook(path, limits)
    except InputFileError as exc:
        raise ValueError(f"the workbook could not be opened ({_problem_text(exc)})") from exc
    try:
        names = list(wb.sheetnames)
        try:
            sized = check_sheet_sizes(wb, names, limits)
        except InputFileError as exc:
            raise ValueError(_problem_text(exc)) from exc
        out: dict[str, object] = {}
        for name in names:
            if name in sized:
                out[name] = _problem_text(sized[name])
                continue
            try:
                out[name] = [list(r) for r in sheet_rows(wb[name], limits)]
            except InputFileError as exc:
                out[name] = _problem_text(exc)
            except Exception as exc:  # a damaged sheet: the others are still read
                out[name] = f"the sheet could not be read ({describe_error(exc)})"
        return out
    finally:
        wb.close()


class _Rows(list):
    """A CSV's rows, with the lines the text reader had to report (F10, F12)."""

    def __init__(self, rows: list, problems: list[tuple[int, str, str]]):
        super().__init__(rows)
        self.problems = problems


def _problem_text(exc: InputFileError) -> str:
    return get(exc.code).title.lower() + (f": {exc.detail}" if exc.detail else "")


def read_local_datasets(
    folder: Path | str, authorities: pd.DataFrame | None = None
) -> LocalDatasets:
    """Read every borough's file in ``folder`` into one tidy table."""
    folder = Path(folder)
    items, problems, files = [], [], []
    paths = sorted(
        p
        for p in folder.glob("*")
        if p.suffix.lower() in (".xlsx", ".xlsm", ".csv", ".xls", ".tsv", ".ods", ".xlsb")
        and not p.name.startswith(("~$", "."))
    )
    for path in paths:
        try:
            sheets = _sheets(path)
        except Exception as exc:  # one bad file never stops the others
            if not isinstance(exc, (ValueError, OSError)):
                exc = ValueError(f"the file could not be read ({describe_error(exc)})")
            la = authority_for(path, None, authorities)
            code = None if la is None else la["la_code_ons"]
            problems.append(file_issue(path.name, "M01", str(exc), la_code_ons=code))
            files.append(
                {
                    "file": path.name,
                    "la_code_ons": code,
                    "la_name": None if la is None else la["la_name"],
                    "status": "unreadable",
                    "sheets_read": 0,
                    "items": 0,
                    "reason": str(exc),
                }
            )
            continue
        first_rows = next((v for v in sheets.values() if isinstance(v, list)), [])
        la = authority_for(path, first_rows, authorities)
        if la is None:
            example = _naming_example(authorities)
            reason = (
                "the file does not say which authority it is from (name it after the "
                f"authority{example})"
            )
            problems.append(file_issue(path.name, "M02", example))
            files.append(
                {
                    "file": path.name,
                    "la_code_ons": None,
                    "la_name": None,
                    "status": "unreadable",
                    "sheets_read": 0,
                    "items": 0,
                    "reason": reason,
                }
            )
            continue
        read, count, skipped = 0, 0, []
        for sheet, rows in sheets.items():
            for line, code, detail in getattr(rows, "problems", []):
                problems.append(
                    file_issue(path.name, code, detail, row=line, la_code_ons=la["la_code_ons"])
                )
            if isinstance(rows, str):  # the sheet itself could not be read
                tidy, reason = pd.DataFrame(), rows
            elif not any(any(c not in (None, "") for c in r) for r in rows):
                continue
            else:
                try:
                    tidy, reason = tidy_sheet(rows)
                except Exception as exc:
                    tidy, reason = pd.DataFrame(), f"it could not be read ({describe_error(exc)})"
            if reason is not None:
                if isinstance(rows, list) and _is_notes(rows):
                    continue  # a notes sheet: text only, nothing to read
                skipped.append(sheet)
                problems.append(
                    file_issue(path.name, "M03", reason, sheet=sheet, la_code_ons=la["la_code_ons"])
                )
                continue
            read += 1
            count += len(tidy)
            tidy = tidy.assign(
                la_code_ons=la["la_code_ons"],
                la_name=la["la_name"],
                file=path.name,
                sheet=None if sheet == "(csv)" else sheet,
            )
            items.append(tidy)
        status = "read" if not skipped else "partly read"
        if read == 0:
            status = "unreadable"
        files.append(
            {
                "file": path.name,
                "la_code_ons": la["la_code_ons"],
                "la_name": la["la_name"],
                "status": status,
                "sheets_read": read,
                "items": count,
                "reason": (
                    f"skipped {'sheet' if len(skipped) == 1 else 'sheets'}: {', '.join(skipped)}"
                    if skipped
                    else None
                ),
            }
        )
    frame = pd.concat(items, ignore_index=True) if items else pd.DataFrame()
    return LocalDatasets(
        items=frame.reindex(columns=TIDY_COLUMNS),
        problems=issue_frame(problems),
        files=pd.DataFrame(files, columns=FILE_COLUMNS),
    )


def _is_notes(rows: list[list[object]]) -> bool:
    """A sheet of notes: a single column of text and no numbers."""
    cells = [c for r in rows for c in r if c not in (None, "")]
    return all(isinstance(c, str) for c in cells) and all(
        sum(c not in (None, "") for c in r) <= 1 for r in rows
    )
