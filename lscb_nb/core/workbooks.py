"""Opening workbooks that may be hostile, sheet by sheet, sizes checked before rows are read.

A zip's unpacked sizes are read from its central directory and a sheet's
``<dimension ref>`` before anything is loaded; rows are then read with a hard cap, so
a sheet whose dimension lies still stops in time.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path

from lscb_nb.core.inputfiles import DEFAULT_LIMITS, MB, InputFileError, ReadLimits, describe_error

log = logging.getLogger(__name__)

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
            f"{total / MB:,.1f} MB unpacked; the limit is {limits.max_unpacked_bytes / MB:,.0f} MB",
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
