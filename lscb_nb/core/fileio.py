"""Atomic writes, so a crashed or interrupted run never leaves a half-written output.

Each writer writes to a temporary file in the destination folder and then renames
it over the target (``os.replace`` is atomic on POSIX and Windows within one
filesystem). A set of files that must change together is written as a new
version folder and switched to with one rename of a link (:func:`publish_version`).
Raw inputs are only ever read.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)


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
    files = []
    for dirpath, _dirs, names in os.walk(folder, followlinks=False):
        files += [Path(dirpath) / n for n in names if fnmatch.fnmatch(n, pattern)]
    for path in sorted(files):
        if not path.is_file():  # a dangling link, a pipe: nothing to hash (never opened)
            continue
        h.update(str(path.relative_to(folder)).encode())
        try:
            h.update(file_sha256(path).encode())
        except OSError as exc:  # unreadable: the name and the reason still count
            h.update(type(exc).__name__.encode())
    return h.hexdigest()


# ---------------------------------------------------------------------------
# Versioned output folders, switched in one step
# ---------------------------------------------------------------------------
#
# ``out_dir`` (e.g. data/processed/returns) is a symbolic link to the current
# version, a folder under ``.<name>.versions/`` beside it. A run writes a new
# version, marks it complete, and renames a new link over ``out_dir``: one atomic
# step, so a reader (or a run killed at any point) leaves either the old set or
# the new one. Leftovers of killed runs are removed at the start of the next.

COMPLETE_MARKER = ".complete"
KEEP_VERSIONS = 2  # the current one and the one before (a reader may still hold it)


def versions_dir(out_dir: Path | str) -> Path:
    out_dir = Path(out_dir)
    return out_dir.parent / f".{out_dir.name}.versions"


def _complete_versions(out_dir: Path) -> list[Path]:
    vdir = versions_dir(out_dir)
    if not vdir.is_dir():
        return []
    return sorted(p for p in vdir.iterdir() if p.is_dir() and (p / COMPLETE_MARKER).exists())


def current_version(out_dir: Path | str) -> Path:
    """The folder holding the current outputs of ``out_dir``: the version its link
    points at (resolved once, so a reader reads one consistent set), or, if a run
    was killed while first moving a plain folder aside, the newest complete one."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        return out_dir.resolve()
    done = _complete_versions(out_dir)
    return done[-1] if done else out_dir


def recover_versions(out_dir: Path | str) -> None:
    """Tidy what killed runs left: incomplete versions, temporary links, the
    staging folders of older releases; put back a missing link; and move a plain
    ``out_dir`` folder (older releases) into the versions as complete."""
    out_dir = Path(out_dir)
    parent, vdir = out_dir.parent, versions_dir(out_dir)
    vdir.mkdir(parents=True, exist_ok=True)
    for p in parent.iterdir():
        if p == vdir or not p.name.startswith(f".{out_dir.name}."):
            continue
        if p.is_symlink() or p.is_file():
            p.unlink()
        elif p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
    if out_dir.is_dir() and not out_dir.is_symlink():
        legacy = vdir / f"v{time.time_ns():020d}-legacy"
        (out_dir / COMPLETE_MARKER).touch()
        out_dir.rename(legacy)  # out_dir briefly absent: current_version() covers it
    current = out_dir.resolve() if out_dir.exists() else None
    for p in vdir.iterdir():
        if p != current and not (p / COMPLETE_MARKER).exists():
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink()
    if not out_dir.exists():
        done = _complete_versions(out_dir)
        if out_dir.is_symlink():
            out_dir.unlink()
        if done:
            _point(out_dir, done[-1])


def _point(out_dir: Path, version: Path) -> None:
    """Make ``out_dir`` a link to ``version`` in one rename."""
    tmp = out_dir.parent / f".{out_dir.name}.link-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    try:
        tmp.symlink_to(os.path.relpath(version, out_dir.parent), target_is_directory=True)
    except OSError:  # no symbolic links (Windows without the privilege)
        # The newest complete version is then the current one (current_version),
        # which is still switched in one step: its marker is written last.
        log.warning("cannot link %s; readers use the newest complete version", out_dir)
        return
    tmp.replace(out_dir)


def _fsync_tree(folder: Path) -> None:
    for p in folder.iterdir():
        if p.is_file():
            with p.open("rb") as fh:
                os.fsync(fh.fileno())


def publish_version(out_dir: Path | str, write: Callable[[Path], Any]) -> Path:
    """Write a new version of ``out_dir`` with ``write(folder)`` and switch to it
    atomically; returns the version folder. Older versions beyond the last
    ``KEEP_VERSIONS`` are removed afterwards."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    recover_versions(out_dir)
    vdir = versions_dir(out_dir)
    version = vdir / f"v{time.time_ns():020d}-{os.getpid()}"
    version.mkdir()
    try:
        write(version)
        _fsync_tree(version)
        marker = version / COMPLETE_MARKER
        marker.write_text("")
        with marker.open("rb") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        shutil.rmtree(version, ignore_errors=True)
        raise
    _point(out_dir, version)
    for old in _complete_versions(out_dir)[:-KEEP_VERSIONS]:
        if old != version:
            shutil.rmtree(old, ignore_errors=True)
    return version
