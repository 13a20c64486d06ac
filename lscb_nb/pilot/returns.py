"""Ingesting a folder of boroughs' returns into ``data/processed/`` without
losing a row.

Each entry directly in the folder is read (:mod:`lscb_nb.pilot.returnfiles`); files
in a subfolder are listed as not read. Rows a later return supersedes are set aside
(:mod:`lscb_nb.pilot.resubmission`), every other row read is checked against the
rules in force for the data-model version (:mod:`lscb_nb.pilot.checks`), and every
input row ends up *accepted*, *quarantined* or *superseded*; every problem is one
row of the issue table (:mod:`lscb_nb.core.rules.issues`), keyed to file, sheet,
row and column.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from lscb_nb.core.fileio import current_version, folder_sha256, publish_version, write_json_atomic
from lscb_nb.core.inputfiles import DEFAULT_LIMITS, ReadLimits, list_folder
from lscb_nb.core.returnformat import GEOGRAPHIC_LEVEL, RETURN_CSV_COLUMNS
from lscb_nb.core.rules import ERROR, concat_issues
from lscb_nb.core.rules.row_context import DEFAULT_PLAUSIBLE_COUNT
from lscb_nb.pilot.checks import SUPERSEDED_COLUMNS, CheckedRows, check_returns, check_rows
from lscb_nb.pilot.rawrows import PROVENANCE, RAW_FIELDS
from lscb_nb.pilot.resubmission import CHANGE_COLUMNS
from lscb_nb.pilot.returnfiles import (
    NOT_A_RETURN,
    NOT_READ,
    PARTLY_READ,
    UNREADABLE,
    ReturnFileError,
    _display_name,
    _read_entry,
    expected_sheets,
    find_return_files,
    read_raw_return,
    read_return_file,
)

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """What came out of reading a set of returns. ``accepted`` + ``quarantined`` +
    ``superseded`` hold every input row exactly once (``input_row_id``); ``changes``
    are the cells a later return changed; ``layout`` says where each template
    sheet's fields are (file, sheet, ``source_columns``), for cell addresses."""

    accepted: pd.DataFrame
    quarantined: pd.DataFrame
    issues: pd.DataFrame
    files: pd.DataFrame
    superseded: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=SUPERSEDED_COLUMNS)
    )
    changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHANGE_COLUMNS))
    layout: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LAYOUT_COLUMNS))

    @property
    def rows_read(self) -> int:
        return int(self.files["rows_read"].sum()) if not self.files.empty else 0

    def reconciles(self) -> bool:
        """Every row read is accepted, quarantined or superseded, once."""
        parts = (self.accepted, self.quarantined, self.superseded)
        ids = pd.concat([p["input_row_id"] for p in parts if len(p)] or [pd.Series(dtype=int)])
        return len(ids) == self.rows_read and ids.is_unique


# ---------------------------------------------------------------------------
# Reading and ingesting a folder
# ---------------------------------------------------------------------------

FILE_COLUMNS = ["file", "status", "rows_read", "error"]
LAYOUT_COLUMNS = ["file", "sheet", "source_columns"]
OUTPUTS = ("accepted", "quarantined", "superseded", "changes", "issues", "files", "layout")


def read_returns(
    paths: list[Path],
    items: pd.DataFrame,
    rules: pd.DataFrame,
    authorities: pd.DataFrame,
    version: str,
    expected_periods: list[str] | None = None,
    population: pd.DataFrame | None = None,
    root: Path | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    plausible_count: float = DEFAULT_PLAUSIBLE_COUNT,
    read_subfolders: bool = False,
) -> IngestResult:
    """Read and check many return files (or any folder entries). Each entry gets
    one row of the files table with its status (read, partly read, unreadable,
    not a return, not read) and reason; whatever goes wrong in one file or sheet
    becomes an issue for it, and the others carry on. With ``root``, a file in a
    subfolder of it is listed as not read, unless ``read_subfolders``."""
    sheets = expected_sheets(items)
    frames, file_rows, file_problems, layouts = [], [], [], []
    file_times: dict[str, float] = {}
    for path in sorted(Path(p) for p in paths):
        name = _display_name(path, root)
        if root is not None and not read_subfolders and path.parent != Path(root):
            frame, status = None, NOT_READ
            reason = (
                f"in the subfolder '{Path(name).parent}/': only files directly in the "
                "returns folder are read (move it up to have it read)"
            )
        else:
            frame, problems, status, reason = _read_entry(path, name, limits, sheets)
            file_problems += problems
        if frame is not None and len(frame):
            frames.append(frame)
            file_times[name] = path.stat().st_mtime
            if "source_columns" in frame.columns:
                layouts.append(
                    frame[["source_file", "source_sheet", "source_columns"]].drop_duplicates()
                )
        file_rows.append(
            {
                "file": name,
                "status": status,
                "rows_read": 0 if frame is None else len(frame),
                "error": reason,
            }
        )
    # check_rows holds the only reference to the raw rows, so it can let them go
    # once it has derived what it checks from them.
    checked = check_returns(
        _stack(frames),
        items,
        rules,
        authorities,
        version,
        expected_periods,
        population,
        plausible_count,
        file_times,
    )
    issues = checked.issues
    file_problems = _placed_problems(file_problems, checked)
    issues = concat_issues([pd.DataFrame(file_problems), issues]) if file_problems else issues
    files = pd.DataFrame(file_rows, columns=FILE_COLUMNS)
    for outcome in ("accepted", "quarantined", "superseded"):
        counts = getattr(checked, outcome).groupby("source_file").size()
        files[f"rows_{outcome}"] = files["file"].map(counts).fillna(0).astype(int)
    files["outcome"] = _outcomes(files, checked.superseded)
    layout = (
        pd.concat(layouts, ignore_index=True).set_axis(LAYOUT_COLUMNS, axis=1)
        if layouts
        else pd.DataFrame(columns=LAYOUT_COLUMNS)
    )
    return IngestResult(
        checked.accepted,
        checked.quarantined,
        issues,
        files,
        checked.superseded,
        checked.changes,
        layout,
    )


def _placed_problems(problems: list[dict], checked: CheckedRows) -> list[dict]:
    """A file's or sheet's problem names the authority and period of its rows, where
    they name one (so it is on that authority's issue list and list to send back);
    an empty agency sheet (F14) that a later return filled in is no longer asked for
    (all its rows superseded)."""
    if not problems:
        return problems
    rows = pd.concat([checked.accepted, checked.quarantined, checked.superseded])
    known = rows.dropna(subset=["la_code_ons", "period"])
    one = known.groupby("source_file")[["la_code_ons", "period"]].nunique().max(axis=1) == 1
    first = known.loc[known["source_file"].isin(one[one].index)].drop_duplicates("source_file")
    where = first.set_index("source_file")[["la_code_ons", "period"]]
    for p in problems:
        if p.get("la_code_ons") is None and p["file"] in where.index:
            p["la_code_ons"], p["period"] = where.loc[p["file"]].tolist()
    if checked.superseded.empty:
        return problems
    gone = checked.superseded.groupby(["source_file", "source_sheet"]).size()
    left = pd.concat([checked.accepted, checked.quarantined]).groupby(
        ["source_file", "source_sheet"]
    )
    kept = set(left.size().index)
    return [
        p
        for p in problems
        if p["rule_code"] != "F14"
        or (p["file"], p["sheet"]) in kept
        or (p["file"], p["sheet"]) not in gone
    ]


def _outcomes(files: pd.DataFrame, superseded: pd.DataFrame) -> pd.Series:
    """Each file's outcome: blank, or 'superseded by <file>' (all its rows), or
    'partly superseded by <file> (n of m rows)'."""
    by = superseded.groupby("source_file")["superseded_by"].agg(
        lambda s: ", ".join(sorted(set(", ".join(s).split(", "))))
    )
    out = []
    for f, n, m in zip(files["file"], files["rows_superseded"], files["rows_read"], strict=True):
        if not n:
            out.append("")
        elif n == m:
            out.append(f"superseded by {by[f]}")
        else:
            out.append(f"partly superseded by {by[f]} ({n} of {m} rows)")
    return pd.Series(out, index=files.index, dtype=object)


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The raw rows of every file as one frame, numbered; the list is emptied so
    each file's rows are held once."""
    raw = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=[*RAW_FIELDS, *PROVENANCE])
    )
    frames.clear()
    # One Arrow chunk per text column, not one per file (see _one_chunk).
    raw = pd.DataFrame({col: _one_chunk(raw[col]) for col in raw.columns}, copy=False)
    raw["input_row_id"] = np.arange(len(raw))
    return raw


def _one_chunk(col: pd.Series) -> pd.Series:
    """A text column stacked from many files holds one Arrow chunk per file; every
    row selection of it (each rule's issue rows) would then walk all the chunks, so
    they are joined once here."""
    if not isinstance(col.array, pd.arrays.ArrowExtensionArray):
        return col
    chunked = pa.array(col.array)  # what the column holds (chunked, or one array), not a copy
    if not isinstance(chunked, pa.ChunkedArray) or chunked.num_chunks <= 1:
        return col
    joined = pa.chunked_array([chunked.combine_chunks()])
    return pd.Series(type(col.array)(joined, dtype=col.dtype), index=col.index, copy=False)


def ingest_returns(
    folder: Path,
    out_dir: Path,
    items: pd.DataFrame,
    rules: pd.DataFrame,
    authorities: pd.DataFrame,
    version: str,
    expected_periods: list[str] | None = None,
    population: pd.DataFrame | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    plausible_count: float = DEFAULT_PLAUSIBLE_COUNT,
    read_subfolders: bool = False,
) -> IngestResult:
    """Ingest every entry under ``folder`` into ``out_dir`` atomically.

    Every entry of the folder is in the files table with its outcome. The outputs
    (accepted, quarantined, issues, files as Parquet, and a summary) are written
    into a new version folder, and ``out_dir`` (a link to the current version) is
    switched to it in one rename, so a reader sees the old set or the new one,
    never a mixture, even if the run is killed. Leftovers of killed runs are
    removed at the next run. Running twice on the same inputs gives identical files.
    """
    folder, out_dir = Path(folder), Path(out_dir)
    entries = [e.path for e in list_folder(folder)]
    result = read_returns(
        entries,
        items,
        rules,
        authorities,
        version,
        expected_periods,
        population,
        root=folder,
        limits=limits,
        plausible_count=plausible_count,
        read_subfolders=read_subfolders,
    )
    if not result.reconciles():
        raise AssertionError("ingestion lost or duplicated rows; this is a bug, please report it")
    files = result.files
    summary = {
        "datamodel_version": version,
        "input_snapshot_sha256": folder_sha256(folder),
        "files": len(files),
        "files_failed": int(files["status"].isin([UNREADABLE]).sum()),
        "files_partly_read": int((files["status"] == PARTLY_READ).sum()),
        "files_not_returns": int((files["status"] == NOT_A_RETURN).sum()),
        "rows_read": result.rows_read,
        "rows_accepted": len(result.accepted),
        "rows_quarantined": len(result.quarantined),
        "rows_superseded": len(result.superseded),
        "cells_changed": len(result.changes),
        "files_not_read": int((files["status"] == NOT_READ).sum()),
        "issues_error": int((result.issues["severity"] == ERROR).sum()),
        "issues_query": int((result.issues["severity"] != ERROR).sum()),
    }

    def write(folder_out: Path) -> None:
        for name in OUTPUTS:
            _to_parquet(getattr(result, name), folder_out / f"{name}.parquet")
        write_json_atomic(folder_out / "summary.json", summary)

    publish_version(out_dir, write)
    return result


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].astype("string")
    out.to_parquet(path, index=False)


def load_processed(out_dir: Path) -> IngestResult:
    """Load what :func:`ingest_returns` wrote (the current version)."""
    folder = current_version(out_dir)
    frames = {  # an output written before resubmissions were read is left at its default
        n: pd.read_parquet(folder / f"{n}.parquet")
        for n in OUTPUTS
        if (folder / f"{n}.parquet").exists()
    }
    return IngestResult(**frames)


def read_summary(out_dir: Path) -> dict:
    return json.loads((current_version(out_dir) / "summary.json").read_text())


__all__ = [
    "DEFAULT_PLAUSIBLE_COUNT",
    "GEOGRAPHIC_LEVEL",
    "RETURN_CSV_COLUMNS",
    "IngestResult",
    "ReadLimits",
    "ReturnFileError",
    "check_rows",
    "expected_sheets",
    "find_return_files",
    "ingest_returns",
    "load_processed",
    "read_raw_return",
    "read_return_file",
    "read_returns",
]
