"""Reading input files that may be hostile: limits, CSV with line numbers,
workbooks sheet by sheet, and every entry of a folder accounted for.

Shared by the three readers (phase 1 catalogues, phase 2 instruments, phase 3
returns) so they guard against the same things in the same way. Sizes are
checked *before* anything is loaded: a zip's unpacked sizes from its central
directory, a sheet's ``<dimension ref>``, a CSV's byte and line counts; rows are
then read with a hard cap, so a sheet whose dimension lies still stops in time.

Problems are raised as :class:`InputFileError` carrying a rule code of
:mod:`lscb_nb.core.validation` (F01 unreadable, F03 not a return, F04 empty, F05
sheet unreadable, F07 too many rows, F08 too many cells, F09 too large, F10
unbalanced quote, F11 column given twice, F12 row wider than its header).
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import logging
import os
import re
import stat
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MB = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """How big an input may be. A return has about a hundred rows per sheet; the
    defaults leave wide room and still stop a hostile file in seconds."""

    max_rows_per_sheet: int = 100_000
    max_cells_per_file: int = 2_000_000
    max_unpacked_bytes: int = 100 * _MB
    max_columns: int = 200  # columns read per sheet; return tables use about ten


DEFAULT_LIMITS = ReadLimits()


class InputFileError(Exception):
    """A whole file (or, with ``sheet``, one sheet) could not be read."""

    def __init__(self, code: str, detail: str = "", sheet: str | None = None):
        super().__init__(detail)
        self.code, self.detail, self.sheet = code, detail, sheet


def describe_error(exc: BaseException) -> str:
    """A short, safe description of an unexpected exception for an issue row."""
    text = re.sub(r"\s+", " ", str(exc)).strip()[:160]
    return f"{type(exc).__name__}{': ' + text if text else ''}"


def normalise_key(label: object) -> str:
    """A header label compared loosely: case, spaces, underscores and punctuation
    ignored, so ``Item ID``, ``item_id`` and ``ITEM-ID`` are one column."""
    return re.sub(r"[^a-z0-9]", "", str(label or "").lower())


# ---------------------------------------------------------------------------
# A folder, entry by entry
# ---------------------------------------------------------------------------


@dataclass
class Entry:
    """One entry of an input folder: ``kind`` is file, folder, link to a folder,
    missing link (a symlink whose target is gone) or special (a pipe, a device)."""

    path: Path
    name: str
    kind: str


def list_folder(folder: Path | str) -> list[Entry]:
    """Every entry under ``folder``, recursively, without following links to
    folders (no loops) and without opening anything."""
    folder = Path(folder)
    out: list[Entry] = []
    unopened: set[Path] = set()
    walk = os.walk(folder, followlinks=False, onerror=lambda e: unopened.add(Path(e.filename)))
    for dirpath, dirnames, filenames in walk:
        base = Path(dirpath)
        dirnames.sort()
        for name in sorted(dirnames):
            p = base / name
            kind = "link to a folder" if p.is_symlink() else "folder"
            out.append(Entry(p, str(p.relative_to(folder)), kind))
        for name in sorted(filenames):
            p = base / name
            out.append(Entry(p, str(p.relative_to(folder)), _file_kind(p)))
    for e in out:
        if e.path in unopened:
            e.kind = "unreadable folder"
    return sorted(out, key=lambda e: e.name)


def _file_kind(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except OSError:
        return "missing link" if path.is_symlink() else "unreadable"
    if stat.S_ISDIR(mode):
        return "link to a folder"
    return "file" if stat.S_ISREG(mode) else "special"


def read_head(path: Path, size: int = 8) -> bytes:
    with Path(path).open("rb") as fh:
        return fh.read(size)


# ---------------------------------------------------------------------------
# Workbooks
# ---------------------------------------------------------------------------

_NOT_XLSX = {
    "content.xml": "an OpenDocument spreadsheet (.ods); save it as .xlsx",
    "xl/workbook.bin": "a binary Excel workbook (.xlsb); save it as .xlsx",
    "word/document.xml": "a Word document, not a spreadsheet",
    "ppt/presentation.xml": "a PowerPoint file, not a spreadsheet",
}


def check_zip(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> None:
    """Check a workbook before opening it, from the zip's directory alone: it is
    an .xlsx, and its unpacked size is within the limit."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise InputFileError("F01", f"not an Excel workbook ({describe_error(exc)})") from exc
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        for member, what in _NOT_XLSX.items():
            if member in names:
                raise InputFileError("F01", what)
        raise InputFileError("F01", "a zip archive, not an Excel workbook")
    total = sum(max(i.file_size, 0) for i in infos)
    if total > limits.max_unpacked_bytes:
        raise InputFileError(
            "F09",
            f"{total / _MB:,.1f} MB unpacked; the limit is "
            f"{limits.max_unpacked_bytes / _MB:,.0f} MB",
        )


def open_workbook(path: Path, limits: ReadLimits = DEFAULT_LIMITS, data_only: bool = True):
    """Open an .xlsx read-only (streaming) after :func:`check_zip`."""
    from openpyxl import load_workbook

    check_zip(path, limits)
    # openpyxl refuses other file names (an .xlsx renamed .csv): give it the bytes.
    source = path if path.suffix.lower() in (".xlsx", ".xlsm", ".xltx", ".xltm") else None
    try:
        with warnings.catch_warnings(), _sheets_opened_lazily():
            warnings.simplefilter("ignore")
            return load_workbook(
                source or io.BytesIO(path.read_bytes()), read_only=True, data_only=data_only
            )
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise InputFileError("F01", f"Excel could not open it ({describe_error(exc)})") from exc


@contextlib.contextmanager
def _sheets_opened_lazily():
    """While a workbook opens, a sheet whose XML is damaged must not stop the
    others: openpyxl reads each sheet's dimension on opening, so a failure there
    is deferred; the sheet then fails (alone) when it is read."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    original = ReadOnlyWorksheet._get_size

    def tolerant(self) -> None:
        try:
            original(self)
        except Exception:
            self._min_column = self._min_row = 1
            self._max_column = self._max_row = None

    ReadOnlyWorksheet._get_size = tolerant
    try:
        yield
    finally:
        ReadOnlyWorksheet._get_size = original


def sheet_size(ws) -> tuple[int, int] | None:
    """Rows and columns a sheet declares in its ``<dimension ref>``, if any."""
    rows, cols = getattr(ws, "max_row", None), getattr(ws, "max_column", None)
    if rows is None or cols is None:
        return None
    return int(rows), int(cols)


def check_sheet_sizes(wb, names: Iterable[str], limits: ReadLimits) -> dict[str, InputFileError]:
    """Per-sheet problems found from the declared dimensions alone (F07, or F05 for
    a sheet that cannot even be opened); raises F08 if the sheets that would be
    read hold more cells than a file may."""
    problems: dict[str, InputFileError] = {}
    cells = 0
    for name in names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                size = sheet_size(wb[name])
        except Exception as exc:
            problems[name] = InputFileError("F05", describe_error(exc), name)
            continue
        if size is None:
            continue
        rows, cols = size
        if rows > limits.max_rows_per_sheet:
            problems[name] = InputFileError(
                "F07", f"{rows:,} rows; the limit is {limits.max_rows_per_sheet:,}", name
            )
            continue
        cells += rows * min(cols, limits.max_columns)
    if cells > limits.max_cells_per_file:
        raise InputFileError("F08", f"{cells:,} cells; the limit is {limits.max_cells_per_file:,}")
    return problems


def sheet_rows(
    ws,
    limits: ReadLimits = DEFAULT_LIMITS,
    max_rows: int | None = None,
    counter: list | None = None,
) -> list[tuple]:
    """A sheet's rows of values, with the row cap enforced while streaming (the
    declared dimension is not trusted, so no row beyond it is lost either).
    ``counter`` (a one-item list) accumulates cells read across a file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws.reset_dimensions()
        out: list[tuple] = []
        for r in ws.iter_rows(values_only=True, max_col=limits.max_columns):
            out.append(r)
            if len(out) > limits.max_rows_per_sheet:
                raise InputFileError(
                    "F07", f"more than {limits.max_rows_per_sheet:,} rows", ws.title
                )
            if counter is not None:
                counter[0] += len(r)
                if counter[0] > limits.max_cells_per_file:
                    raise InputFileError("F08", f"more than {limits.max_cells_per_file:,} cells")
            if max_rows is not None and len(out) >= max_rows:
                break
    return out


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def sheet_has_formulas(wb, name: str) -> bool:
    """Whether a sheet's XML holds any formula (read in blocks, no parsing)."""
    ws = wb[name]
    path = getattr(ws, "_worksheet_path", None)
    archive = getattr(wb, "_archive", None)
    if path is None or archive is None:
        return True
    tail = b""
    with archive.open(path) as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            if _FORMULA_TAG.search(tail + block):
                return True
            tail = block[-16:]
    return False


# ---------------------------------------------------------------------------
# Delimited text
# ---------------------------------------------------------------------------


@dataclass
class TextTable:
    """A delimited file's records under its header, with each record's line."""

    header: list[str]
    records: pd.DataFrame  # columns 0..len(header)-1, all str
    lines: np.ndarray  # the file line each record starts on
    header_line: int
    delimiter: str
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # line, code, detail


def decode_text(raw: bytes) -> str:
    """Text of a CSV: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputFileError("F01", "damaged UTF-16 text") from exc
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            raise InputFileError("F01", "a binary file, not text")
        return text
    raise InputFileError("F01", "the text encoding is not UTF-8 or Windows-1252")


_DELIMITERS = (",", ";", "\t", "|")
HEADER_SCAN_LINES = 20


def read_text_table(
    path: Path,
    is_header: Callable[[list[str]], bool],
    limits: ReadLimits = DEFAULT_LIMITS,
    delimiters: tuple[str, ...] = _DELIMITERS,
) -> TextTable | None:
    """Read a delimited file whose header is one of its first lines (the first
    line for which ``is_header(cells)`` holds, trying each delimiter). ``None``
    when no header is found. Row numbers are the file's line numbers; an
    unbalanced quote is reported (F10) and the lines after it are still read."""
    size = path.stat().st_size
    if size > limits.max_unpacked_bytes:
        raise InputFileError(
            "F09", f"{size / _MB:,.0f} MB; the limit is {limits.max_unpacked_bytes / _MB:,.0f} MB"
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise InputFileError("F04")
    text = decode_text(raw).replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    n_lines = text.count("\n") + 1
    if n_lines - 1 > limits.max_rows_per_sheet:
        raise InputFileError(
            "F07", f"{n_lines:,} lines; the limit is {limits.max_rows_per_sheet:,} rows"
        )
    head = text.split("\n", HEADER_SCAN_LINES)[:HEADER_SCAN_LINES]
    found = _find_header(head, is_header, delimiters)
    if found is None:
        return None
    h, delim, header = found
    ncols = len(header)
    pieces = text.split("\n", h + 1)
    body_text = pieces[h + 1] if len(pieces) > h + 1 else None
    n_body = 0 if body_text is None else body_text.count("\n") + 1
    if ncols * n_body > limits.max_cells_per_file:
        raise InputFileError(
            "F08", f"{ncols * n_body:,} cells; the limit is {limits.max_cells_per_file:,}"
        )
    first_no = h + 2  # file line number of the first line after the header
    table = None
    if body_text is not None:
        table = _fast_records(body_text, n_body, delim, ncols)
    if table is not None:
        records, nums, problems = table, np.arange(first_no, first_no + n_body), []
    else:
        body = [] if body_text is None else body_text.split("\n")
        records, nums, problems = _slow_records(body, first_no, delim, ncols)
    nums = np.asarray(nums)
    if ncols and len(records):
        # Blank lines (or lines of bare separators) are no records: drop them,
        # keeping every other record's own line number.
        maybe = (records[0] == "").to_numpy()
        if maybe.any():
            blank = maybe.copy()
            blank[maybe] = (records.loc[maybe] == "").all(axis=1).to_numpy()
            records, nums = records.loc[~blank].reset_index(drop=True), nums[~blank]
    return TextTable(header, records, nums, h + 1, delim, problems)


def _split_line(line: str, delim: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delim), [])
    except csv.Error:
        return line.split(delim)


def _find_header(lines, is_header, delimiters) -> tuple[int, str, list[str]] | None:
    for i, line in enumerate(lines[:HEADER_SCAN_LINES]):
        for delim in delimiters:
            if delim not in line and len(delimiters) > 1:
                continue
            cells = [c.strip() for c in _split_line(line, delim)]
            if is_header(cells):
                return i, delim, cells
    return None


def _fast_records(body: str, n_lines: int, delim: str, ncols: int) -> pd.DataFrame | None:
    """Records by pandas' C reader, kept only when there is exactly one record
    per line: a quoted field running over lines (a real multi-line note, or an
    unbalanced quote swallowing the lines after it) means fewer records than
    lines, and then the careful reader (:func:`_slow_records`) takes over."""
    try:
        frame = pd.read_csv(
            io.StringIO(body + "\n"),
            sep=delim,
            header=None,
            names=list(range(ncols)),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None
    if len(frame) != n_lines:
        return None
    return frame


def _ends_in_quotes(text: str, delim: str) -> bool:
    """Whether ``text`` ends inside a quoted field (RFC 4180: a quote opens a field
    only at its start; a doubled quote inside is a literal quote)."""
    in_q, at_start, k, n = False, True, 0, len(text)
    while k < n:
        ch = text[k]
        if in_q:
            if ch == '"':
                if k + 1 < n and text[k + 1] == '"':
                    k += 2
                    continue
                in_q = False
        elif ch == delim or ch == "\n":
            at_start = True
            k += 1
            continue
        elif ch == '"' and at_start:
            in_q = True
        at_start = False
        k += 1
    return in_q


def _slow_records(body: list[str], first_no: int, delim: str, ncols: int):
    """Records through the csv module, tracking lines. A record that runs over
    several lines is taken as a real multi-line note unless it swallowed lines
    that look like records, ran to the end of the file, or overflowed: then the
    quote is unbalanced, its line is read with the quote as plain text (and
    reported, F10), and reading starts again on the next line."""
    recs: list[list[str]] = []
    nums: list[int] = []
    problems: list[tuple[int, str, str]] = []
    n, pos = len(body), 0
    threshold = max(1, ncols - 2)
    while pos < n:
        reader = csv.reader(
            (line + "\n" for line in itertools.islice(body, pos, None)), delimiter=delim
        )
        while True:
            start = pos + reader.line_num
            if start >= n:
                pos = n
                break
            try:
                fields = next(reader)
            except StopIteration:
                pos = n
                break
            except csv.Error:
                fields = None
                end = start
            else:
                end = pos + reader.line_num - 1
            bad = fields is None
            if not bad and '"' in body[start]:
                multi = end > start
                swallowed = multi and (
                    len(fields) > ncols
                    or any(body[k].count(delim) >= threshold for k in range(start + 1, end + 1))
                )
                at_eof = end == n - 1 and _ends_in_quotes("\n".join(body[start : end + 1]), delim)
                bad = swallowed or at_eof
            if bad:
                line_no = first_no + start
                problems.append((line_no, "F10", f"line {line_no}: {body[start][:60]!r}"))
                recs.append(body[start].split(delim))
                nums.append(line_no)
                pos = start + 1
                break
            recs.append([f.replace("\n", " ") if "\n" in f else f for f in fields])
            nums.append(first_no + start)
    out = []
    for line_no, rec in zip(nums, recs, strict=True):
        if len(rec) > ncols:
            extra = [c for c in rec[ncols:] if c.strip()]
            if extra:
                problems.append(
                    (line_no, "F12", f"{len(rec)} cells; the header has {ncols} columns")
                )
            rec = rec[:ncols]
        out.append(rec + [""] * (ncols - len(rec)))
    frame = pd.DataFrame(out, columns=list(range(ncols)), dtype=str)
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype=str) for c in range(ncols)})
    return frame, nums, problems


def duplicate_columns(header: Iterable[object], wanted: Iterable[str]) -> list[str]:
    """Wanted columns named more than once (compared with :func:`normalise_key`)."""
    keys = [normalise_key(h) for h in header]
    return [w for w in wanted if keys.count(normalise_key(w)) > 1]
