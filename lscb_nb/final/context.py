"""What every phase prepared so far, read back for the final report (read only).

A phase that has not been run is None, and the sections built on it say so.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lscb_nb.core import decisions, phases
from lscb_nb.core.datamodel import DataModel
from lscb_nb.core.display import Section, nothing_to_show
from lscb_nb.core.project import Project, find_project
from lscb_nb.pilot import context as pilot_context

log = logging.getLogger(__name__)


@dataclass
class Context:
    project: Project
    synthetic: bool
    candidate: DataModel
    versions: dict[str, DataModel]
    pilot: pilot_context.Context | None
    mapping: dict | None
    assessment: dict | None
    final: DataModel
    record: pd.DataFrame | None = None  # the decision record (core.decisions), every stage

    @property
    def area(self) -> str:
        return self.project.area_name

    def word(self, n: int | None = None, plural: bool = False, capital: bool = False) -> str:
        """What the report calls an authority ('borough' in London): see Project.word."""
        return self.project.word(n, plural, capital)


def needs_pilot(section):
    """A section built on phase 3's evidence says so plainly when the pilot has not run."""
    import functools

    @functools.wraps(section)
    def wrapper(ctx: Context) -> Section:
        if ctx.pilot is None:
            return nothing_to_show(
                "The pilot (phase 3) has not been run yet, so this section has no evidence to "
                "draw on. It fills in once the pilot returns are in data/raw/phase3_returns "
                "and `lscb-nb run` has prepared them."
            )
        return section(ctx)

    return wrapper


def _read_phase(folder: Path) -> dict | None:
    """A phase's prepared tables (every Parquet file) and its summary, if prepared."""
    if not (folder / "summary.json").exists():
        return None
    tables = {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}
    tables["summary"] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return tables


def load_context(project: Project | Path | str | None = None) -> Context:
    """What every phase prepared so far (read only); a phase not run is None."""
    project = find_project(project)
    processed = project.processed
    final = phases.latest(project).datamodel
    candidate = phases.load_candidate(project)
    versions = {v.version: v for v in phases.rests_on(project, final)}
    pilot = (
        pilot_context.load_context(project)
        if phases.is_prepared(project, phases.get("pilot"))
        else None
    )
    return Context(
        project=project,
        synthetic=project.synthetic,
        candidate=candidate,
        versions=versions,
        pilot=pilot,
        mapping=_read_phase(processed / "mapping"),
        assessment=_read_phase(processed / "assessment"),
        final=final,
        record=decisions.read_record(processed),
    )


def collected_by(ctx: Context) -> pd.Series | None:
    """How many boroughs said (phase 1) they already collect each item."""
    if ctx.mapping is None:
        return None
    for name in ("matches", "catalogue"):
        frame = ctx.mapping.get(name)
        if frame is not None and {"la_code_ons", "item_id"} <= set(frame.columns):
            used = frame.dropna(subset=["item_id"])
            return used.groupby("item_id")["la_code_ons"].nunique()
    return None
