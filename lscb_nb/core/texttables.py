"""Reading delimited text that may be hostile into a table of strings with each row's line number.

The byte and line counts are checked before parsing; the encoding, delimiter and
header row are found, and quotes that do not balance, columns named twice and rows
wider than their header are reported against the line they are on. One parser reads
every line: the standard library's ``csv`` module (a note with a quoted line break
is kept exactly as written).
"""

from __future__ import annotations

import csv
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.arrays import ArrowStringArray

from lscb_nb.core.inputfiles import DEFAULT_LIMITS, MB, InputFileError, ReadLimits

log = logging.getLogger(__name__)


@dataclass
class TextTable:
    """A delimited file's records under its header, with each record's line."""

    header: list[str]
    records: pd.DataFrame  # columns 0..len(header)-1, all str
    lines: np.ndarray  # the file line each record starts on
    header_line: int
    delimiter: str
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # line, code, detail
    problem_cells: dict[int, str] = field(default_factory=dict)  # line -> header of its cell


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
            "F09", f"{size / MB:,.0f} MB; the limit is {limits.max_unpacked_bytes / MB:,.0f} MB"
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise InputFileError("F04")
    text = decode_text(raw)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
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
    n_body = 0 if body_text is None else n_lines - h - 1  # the lines after the header
    if ncols * n_body > limits.max_cells_per_file:
        raise InputFileError(
            "F08", f"{ncols * n_body:,} cells; the limit is {limits.max_cells_per_file:,}"
        )
    first_no = h + 2  # file line number of the first line after the header
    body = [] if body_text is None else body_text.split("\n")
    quoted = body_text is not None and '"' in body_text
    records, nums, problems, where = _records(body, first_no, delim, ncols, quoted)
    nums = np.asarray(nums)
    if ncols and len(records):
        # Blank lines (or lines of bare separators) are no records: drop them,
        # keeping every other record's own line number.
        maybe = (records[0] == "").to_numpy()
        if maybe.any():
            blank = maybe.copy()
            blank[maybe] = (records.loc[maybe] == "").all(axis=1).to_numpy()
            records, nums = records.loc[~blank].reset_index(drop=True), nums[~blank]
    cells = {line: header[j] for line, j in where.items() if j < ncols}
    return TextTable(header, records, nums, h + 1, delim, problems, cells)


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


# pandas' own string dtype (``str``), so either reader gives the same frame.
_STR = pd.StringDtype("pyarrow", na_value=np.nan)


def repeated_text(value: str, n: int) -> pd.api.extensions.ExtensionArray:
    """``value`` ``n`` times as pandas' own text (``str``), made by Arrow in one
    step: a reader stamps every row of a file with its name and format."""
    repeated = pa.repeat(pa.scalar(value, pa.large_string()), n)
    return ArrowStringArray(pa.chunked_array([repeated]), dtype=_STR)


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


def _records(body: list[str], first_no: int, delim: str, ncols: int, quoted: bool = True):
    """Records of the lines after the header, by the standard library's ``csv``
    reader (the one parser of delimited text), with each record's line number.

    Without a quote anywhere each line is one record, read in one pass. Otherwise
    lines are tracked record by record: a record that runs over several lines is a
    real multi-line note, kept exactly as written, unless it swallowed lines that
    look like records, ran to the end of the file, or overflowed: then the quote is
    unbalanced, its line is read with the quote as plain text (and reported, F10,
    naming the cell the quote opens), and reading starts again on the next line.
    Returns (records, line numbers, problems, line -> column index of a bad quote).
    """
    problems: list[tuple[int, str, str]] = []
    where: dict[int, int] = {}
    recs = None
    if not quoted:
        try:
            recs = list(csv.reader(body, delimiter=delim))
            nums = list(range(first_no, first_no + len(recs)))
        except csv.Error:  # a cell beyond the csv module's size limit: line by line
            recs = None
    if recs is None:
        recs, nums = _tracked(body, first_no, delim, ncols, problems, where)
    width = {len(r) for r in recs}
    if width - {ncols}:
        recs = _fitted(recs, nums, ncols, problems)
    return _frame(recs, ncols), nums, problems, where


def _tracked(body, first_no, delim, ncols, problems, where):
    recs: list[list[str]] = []
    nums: list[int] = []
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
                where[line_no] = _quoted_cell(body[start], delim)
                recs.append(body[start].split(delim))
                nums.append(line_no)
                pos = start + 1
                break
            recs.append(fields)
            nums.append(first_no + start)
    return recs, nums


def _quoted_cell(line: str, delim: str) -> int:
    """The index of the cell an unbalanced quote opens (the first quote that starts
    a cell, as RFC 4180 reads it; else the first quote)."""
    cells = line.split(delim)
    for j, cell in enumerate(cells):
        if cell.lstrip().startswith('"'):
            return j
    return line[: max(line.find('"'), 0)].count(delim)


def _fitted(recs, nums, ncols, problems) -> list[list[str]]:
    """Records cut or padded to the header's width; a record with filled cells
    beyond the header is reported (F12)."""
    out = []
    for line_no, rec in zip(nums, recs, strict=True):
        if len(rec) > ncols:
            if any(c.strip() for c in rec[ncols:]):
                problems.append(
                    (line_no, "F12", f"{len(rec)} cells; the header has {ncols} columns")
                )
            rec = rec[:ncols]
        out.append(rec + [""] * (ncols - len(rec)))
    return out


def _frame(recs: list[list[str]], ncols: int) -> pd.DataFrame:
    """Records (each ``ncols`` wide) as columns of pandas' own text: every cell goes
    into Arrow in one pass, and each column is taken from it by position."""
    n = len(recs)
    if not n:
        return pd.DataFrame({j: pd.Series(dtype=_STR) for j in range(ncols)})
    flat = pa.array(list(itertools.chain.from_iterable(recs)), pa.large_string())
    first = np.arange(n, dtype=np.int64) * ncols
    return pd.DataFrame(
        {
            j: ArrowStringArray(pa.chunked_array([flat.take(pa.array(first + j))]), dtype=_STR)
            for j in range(ncols)
        },
        index=pd.RangeIndex(n),
        copy=False,
    )
