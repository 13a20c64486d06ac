"""Atomic writes, so a crashed or interrupted run never leaves a half-written output.

Each writer writes to a temporary file in the destination folder and then renames
it over the target (``os.replace`` is atomic on POSIX and Windows within one
filesystem). Raw inputs are only ever read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd


@contextlib.contextmanager
def atomic_path(target: Path | str, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it into place."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix or ".tmp", dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes the file private; give it the permissions a normal write would.
        umask = os.umask(0)
        os.umask(umask)
        tmp_path.chmod(0o666 & ~umask)
        tmp_path.replace(target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_atomic(target: Path | str, writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp_path)`` and move the result to ``target`` atomically."""
    with atomic_path(target, suffix=Path(target).suffix) as tmp:
        writer(tmp)
    return Path(target)


def write_text_atomic(target: Path | str, text: str) -> Path:
    return write_atomic(target, lambda p: p.write_text(text, encoding="utf-8"))


def write_json_atomic(target: Path | str, obj: Any) -> Path:
    text = json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n"
    return write_text_atomic(target, text)


def write_parquet_atomic(target: Path | str, frame: pd.DataFrame) -> Path:
    return write_atomic(target, lambda p: frame.to_parquet(p, index=False))


def file_sha256(path: Path | str) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def folder_sha256(folder: Path | str, pattern: str = "*") -> str:
    """A hash of every file's relative name and content: the data snapshot id."""
    folder = Path(folder)
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(file_sha256(path).encode())
    return h.hexdigest()
