"""Reading delimited text that may be hostile into a table of strings with each row's line number.

The byte and line counts are checked before parsing; the encoding, delimiter and
header row are found, and quotes that do not balance, columns named twice and rows
wider than their header are reported against the line they are on. One parser reads
every line: pyarrow's CSV reader (quotes honoured, a note with a quoted line break
kept exactly as written); the record-to-line bookkeeping and the recovery from an
unbalanced quote are done here around it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.arrays import ArrowStringArray
from pyarrow import compute as pc
from pyarrow import csv as pa_csv

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
_MAX_CELLS = 4096  # cells of one line read as text when the header does not say how many
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
    records, nums, problems, where = _records(body_text or "", first_no, delim, ncols)
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
    """One line's cells, as the reader reads them (quotes honoured)."""
    try:
        table = _parse(line + "\n", delim, None)  # (pyarrow counts the cells of an ended line)
    except (pa.ArrowInvalid, UnicodeError):
        return line.split(delim)
    return [str(table.column(j)[0]) if table.num_rows else "" for j in range(table.num_columns)]


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


@cache
def _as_text(ncols: int) -> pa_csv.ConvertOptions:
    """Every cell as text exactly as written (no types guessed, no nulls). With no
    ``ncols``, pyarrow names the columns it counts f0, f1, ...: every one is text."""
    names = [str(j) for j in range(ncols)] if ncols else [f"f{j}" for j in range(_MAX_CELLS)]
    return pa_csv.ConvertOptions(
        column_types={n: pa.large_string() for n in names},
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        auto_dict_encode=False,
    )


def _parse(text: str, delim: str, ncols: int | None, on_bad_row=None) -> pa.Table:
    """pyarrow's CSV reader over ``text``, every cell as text exactly as written
    (quotes honoured, a quoted line break kept, blank lines kept as rows). ``ncols``
    names the columns (None: as many as the first line has); a row of another width
    goes to ``on_bad_row``."""
    data = text.encode("utf-8")
    names = [str(j) for j in range(ncols)] if ncols else None
    read = pa_csv.ReadOptions(
        column_names=names,
        autogenerate_column_names=names is None,
        block_size=max(len(data) + 1, 1 << 20),  # one block: a long note never straddles two
        use_threads=False,  # a row of another width is then told its record number
    )
    parse = pa_csv.ParseOptions(
        delimiter=delim,
        quote_char='"',
        double_quote=True,
        newlines_in_values=True,
        ignore_empty_lines=False,
        invalid_row_handler=on_bad_row,
    )
    convert = _as_text(ncols or 0)
    table = pa_csv.read_csv(pa.py_buffer(data), read, parse, convert)
    return table


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


def _records(body: str, first_no: int, delim: str, ncols: int):
    """Records of the text after the header, read by pyarrow's CSV reader (the one
    parser of delimited text), with each record's line number.

    A record that runs over several lines is a real multi-line note, kept exactly as
    written, unless it swallowed lines that look like records, ran to the end of the
    file, or overflowed: then the quote is unbalanced, its line is read with the
    quote as plain text (and reported, F10, naming the cell the quote opens), and
    reading starts again on the next line. Rows shorter or longer than the header
    are fitted to it (F12 for filled extra cells). Returns (records, line numbers,
    problems, line -> column index of a bad quote).
    """
    problems: list[tuple[int, str, str]] = []
    where: dict[int, int] = {}
    parts: list[pd.DataFrame] = []
    nums: list[np.ndarray] = []
    lines = _Lines(body)
    start = 0  # index of the first line still to read
    while body and start < lines.count:
        text = body if start == 0 else "\n".join(lines.all[start:])
        frame, line_of, bad = _read_from(text, lines, start, first_no, delim, ncols, problems)
        parts.append(frame)
        nums.append(line_of)
        if bad is None:
            break
        line_no, line = first_no + bad, lines.all[bad]
        problems.append((line_no, "F10", f"line {line_no}: {line[:60]!r}"))
        where[line_no] = _quoted_cell(line, delim)
        parts.append(_frame(_fitted([line.split(delim)], [line_no], ncols, problems), ncols))
        nums.append(np.array([line_no]))
        start = bad + 1
    if not parts:
        return _frame([], ncols), np.array([], dtype=np.int64), problems, where
    records = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return records, np.concatenate(nums), sorted(problems), where


class _Lines:
    """The text's lines, split only if a record runs over several of them."""

    def __init__(self, text: str):
        self.text, self.count, self._all = text, text.count("\n") + 1, None

    @property
    def all(self) -> list[str]:
        if self._all is None:
            self._all = self.text.split("\n")
        return self._all


def _read_from(text: str, lines: _Lines, start: int, first_no: int, delim, ncols, problems):
    """Records of ``text`` (the lines from ``start`` on): (records, their line
    numbers, the index of the first line whose quote does not balance, or None).
    Records from that line on are not returned: the caller starts again after it."""
    odd: dict[int, str] = {}  # record number (0-based) -> the text of a row of another width

    def keep(row) -> str:
        odd[row.number - 1] = row.text
        return "skip"

    table = _parse(text, delim, ncols, keep)
    n = table.num_rows + len(odd)
    good = np.ones(n, dtype=bool)
    good[list(odd)] = False
    breaks = np.zeros(n, dtype=np.int64)  # line breaks inside each record
    if n != lines.count - start:  # some record runs over several lines
        for j in range(ncols):
            found = pc.count_substring(table.column(j), "\n")
            breaks[good] += np.asarray(found, dtype=np.int64)
    cells: dict[int, list[str]] = {}
    for k, row_text in odd.items():
        breaks[k] = row_text.count("\n")
        cells[k] = _split_line(row_text, delim)
    line_of = start + np.arange(n) + np.concatenate([[0], np.cumsum(breaks)[:-1]])
    bad = _first_unbalanced(lines, line_of, breaks, cells, delim, ncols) if n else None
    keep_n = n if bad is None else int(np.searchsorted(line_of, bad))
    records = _assemble(table, good, cells, keep_n, first_no + line_of, ncols, problems)
    return records, first_no + line_of[:keep_n], bad


def _first_unbalanced(lines: _Lines, line_of, breaks, cells, delim, ncols) -> int | None:
    """The line of the first record whose quote did not balance: a record over
    several lines that swallowed lines looking like records, overflowed the header,
    or ran to the end of the file inside quotes."""
    threshold = max(1, ncols - 2)
    last_record = len(line_of) - 1  # a quote left open on the last line swallows nothing
    for k in [*np.flatnonzero(breaks[:-1]), last_record]:
        first, last = int(line_of[k]), int(line_of[k] + breaks[k])
        width = len(cells[k]) if k in cells else ncols
        swallowed = last > first and (
            width > ncols
            or any(lines.all[i].count(delim) >= threshold for i in range(first + 1, last + 1))
        )
        at_eof = (
            last == lines.count - 1
            and (last > first or '"' in _last_line(lines))
            and _ends_in_quotes("\n".join(lines.all[first : last + 1]), delim)
        )
        if swallowed or at_eof:
            return first
    return None


def _last_line(lines: _Lines) -> str:
    return lines.text[lines.text.rfind("\n") + 1 :]


def _assemble(table, good, cells, n, line_nos, ncols, problems) -> pd.DataFrame:
    """The first ``n`` records in order: pyarrow's rows, with the rows of another
    width (``cells``) fitted to the header and put back where they were."""
    if not cells:
        columns = {j: table.column(j).slice(0, n) for j in range(ncols)}
        return pd.DataFrame(
            {j: ArrowStringArray(c, dtype=_STR) for j, c in columns.items()},
            index=pd.RangeIndex(n),
            copy=False,
        )
    rows = [[str(v) for v in r.values()] for r in table.to_pylist()]
    it = iter(rows)
    ordered = [cells[k] if not good[k] else next(it) for k in range(len(good))][:n]
    return _frame(_fitted(ordered, list(line_nos[:n]), ncols, problems), ncols)


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
    """Records (each ``ncols`` wide) as columns of pandas' own text."""
    n = len(recs)
    if not n:
        return pd.DataFrame({j: pd.Series(dtype=_STR) for j in range(ncols)})
    grid = np.empty((n, ncols), dtype=object)
    grid[:] = recs
    return pd.DataFrame(
        {
            j: ArrowStringArray(
                pa.chunked_array([pa.array(grid[:, j], pa.large_string())]), dtype=_STR
            )
            for j in range(ncols)
        },
        index=pd.RangeIndex(n),
        copy=False,
    )
