"""Reading input files that may be hostile: the limits, the error every reader
raises, and every entry of a folder accounted for.

Shared by the three readers (phase 1 catalogues, phase 2 instruments, phase 3
returns) so they guard against the same things in the same way. Sizes are checked
*before* anything is loaded; workbooks are opened sheet by sheet in ``workbooks``,
delimited text with line numbers in ``texttables``.

Problems are raised as :class:`InputFileError` carrying a rule code of
:mod:`lscb_nb.core.rules.file_rules` (F01 unreadable, F03 not a return, F04 empty, F05
sheet unreadable, F07 too many rows, F08 too many cells, F09 too large, F10
unbalanced quote, F11 column given twice, F12 row wider than its header).
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MB = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """How big an input may be. A return has about a hundred rows per sheet; the
    defaults leave wide room and still stop a hostile file in seconds."""

    max_rows_per_sheet: int = 100_000
    max_cells_per_file: int = 2_000_000
    max_unpacked_bytes: int = 100 * MB
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


def duplicate_columns(header: Iterable[object], wanted: Iterable[str]) -> list[str]:
    """Wanted columns named more than once (compared with :func:`normalise_key`)."""
    keys = [normalise_key(h) for h in header]
    return [w for w in wanted if keys.count(normalise_key(w)) > 1]
