"""Opening workbooks that may be hostile, sheet by sheet, sizes checked before rows are read.

A zip's unpacked sizes are read from its central directory and a sheet's
``<dimension ref>`` before anything is loaded; rows are then read with a hard cap, so
a sheet whose dimension lies still stops in time. Everything goes through openpyxl's
public API; where it has no hook (it reads every sheet's dimension while opening, so
one damaged sheet stops the whole workbook) the wrapping is here, at our boundary:
such a sheet is found in the zip and replaced, in a copy in memory, by an empty one,
and it then fails alone, as F05, wherever it is read.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import warnings
import weakref
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.etree import ElementTree  # expat: no external entities, entity expansion capped

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


# Sheets of an opened workbook that could not be read at all (their XML damaged where
# openpyxl reads the dimension), by workbook: the sheet's name and what went wrong.
_DAMAGED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_EMPTY_SHEET = f'<worksheet xmlns="{_MAIN_NS}"><sheetData/></worksheet>'.encode()


def open_workbook(path: Path, limits: ReadLimits = DEFAULT_LIMITS, data_only: bool = True):
    """Open an .xlsx read-only (streaming) after :func:`check_zip`. A sheet whose XML
    is too damaged for openpyxl to open the workbook with it does not stop the
    others: it opens empty and fails, alone, when it is sized or read."""
    check_zip(path, limits)
    # openpyxl refuses other file names (an .xlsx renamed .csv): give it the bytes.
    source = path if path.suffix.lower() in (".xlsx", ".xlsm", ".xltx", ".xltm") else None
    try:
        return _load(source or io.BytesIO(path.read_bytes()), data_only)
    except Exception as first:  # openpyxl raises many types for a damaged workbook
        damaged, repaired = _without_damaged_sheets(path)
        if not damaged:
            raise InputFileError(
                "F01", f"Excel could not open it ({describe_error(first)})"
            ) from first
    try:
        wb = _load(repaired, data_only)
    except Exception as exc:
        raise InputFileError("F01", f"Excel could not open it ({describe_error(exc)})") from exc
    _DAMAGED[wb] = damaged
    return wb


def _load(source, data_only: bool):
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_workbook(source, read_only=True, data_only=data_only)


def _sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's zip member, by sheet name, from the workbook's own XML."""
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {}
    for rel in rels.iter(f"{{{_PKG_REL_NS}}}Relationship"):
        target = rel.get("Target", "")
        member = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        targets[rel.get("Id")] = posixpath.normpath(member)
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    return {
        sheet.get("name", ""): targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        for sheet in book.iter(f"{{{_MAIN_NS}}}sheet")
    }


def _dimension_error(data: bytes) -> str | None:
    """What stops a sheet's XML being read as far as its dimension (as far as openpyxl
    reads it while opening the workbook), or None when nothing does."""
    try:
        for _event, element in ElementTree.iterparse(io.BytesIO(data)):
            if element.tag in (f"{{{_MAIN_NS}}}dimension", f"{{{_MAIN_NS}}}sheetData"):
                return None
            element.clear()
    except Exception as exc:  # a truncated or garbled sheet raises several types
        return describe_error(exc)
    return None


def _without_damaged_sheets(path: Path) -> tuple[dict[str, str], io.BytesIO | None]:
    """The sheets whose XML stops openpyxl opening the workbook (name: what is
    wrong), and a copy of the workbook in memory with each replaced by an empty
    sheet; ({}, None) when no sheet is to blame."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = _sheet_members(zf)
            damaged, bad_members = {}, set()
            for name, member in members.items():
                if member in zf.namelist():
                    problem = _dimension_error(zf.read(member))
                    if problem:
                        damaged[name] = problem
                        bad_members.add(member)
            if not damaged:
                return {}, None
            copy = io.BytesIO()
            with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as out:
                for info in zf.infolist():
                    body = _EMPTY_SHEET if info.filename in bad_members else zf.read(info)
                    out.writestr(info, body)
    except Exception:  # the workbook's own XML is damaged: no sheet to single out
        return {}, None
    copy.seek(0)
    return damaged, copy


def _damage(ws) -> str | None:
    """What is wrong with a sheet that opened empty because its XML is damaged."""
    return _DAMAGED.get(getattr(ws, "parent", None), {}).get(getattr(ws, "title", None))


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
                ws = wb[name]
                size = sheet_size(ws)
        except Exception as exc:
            problems[name] = InputFileError("F05", describe_error(exc), name)
            continue
        if _damage(ws):
            problems[name] = InputFileError("F05", _damage(ws), name)
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
    if _damage(ws):
        raise InputFileError("F05", _damage(ws), ws.title)
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
