"""Phase 2's prepared tables, read back for a report (read only).

``load_context`` reads what :mod:`lscb_nb.assessment.stage` wrote to
``data/processed/assessment``; with thresholds other than the prepared ones it places
the items and writes nothing: the pilot dataset it shows is worked out for this report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from lscb_nb.assessment import figures, ratings
from lscb_nb.core import decisions as record
from lscb_nb.core import display, overrules, phases
from lscb_nb.core.datamodel import DataModel
from lscb_nb.core.project import AREA, AreaReport, Project, find_project

log = logging.getLogger(__name__)


PHASE = "assessment"


def assessment_dir(project: Project) -> Path:
    """Where phase 2's prepared tables and figures live."""
    return project.processed / "assessment"


def released(project: Project) -> str:
    """The pilot dataset's release date: the project's, else today."""
    return project.released("pilot") or date.today().isoformat()


def base_datamodel(project: Project) -> DataModel:
    """The version phase 2 assesses: phase 1's draft, else the latest before it."""
    return phases.basis(project, PHASE).datamodel


@dataclass
class Context(AreaReport):
    project: Project
    la_code: str
    la_name: str
    synthetic: bool
    items: pd.DataFrame
    ratings: pd.DataFrame
    quarantined: pd.DataFrame
    issues: pd.DataFrame
    files: pd.DataFrame
    scores: pd.DataFrame
    scores_by_borough: pd.DataFrame
    agreement: pd.DataFrame
    disputed: pd.DataFrame
    decisions: pd.DataFrame
    record: pd.DataFrame  # the decision record's pilot rows (core.decisions)
    base: DataModel
    pilot: DataModel
    useful: float
    accessible: float
    as_prepared: bool = False
    prepared: dict | None = None

    @property
    def has_ratings(self) -> bool:
        return self.is_london or self.la_code in set(self.ratings["la_code_ons"])


def load_context(
    project: Project | Path | str | None = None,
    la_code: str = AREA,
    useful: float = ratings.USEFUL,
    accessible: float = ratings.ACCESSIBLE,
) -> Context:
    """Everything the phase 2 report shows, from the prepared tables (read only)."""
    project = find_project(project)
    la_code = project.area_code(la_code)
    folder = assessment_dir(project)
    prepared = phases.prepared_summary(project, PHASE)
    base = base_datamodel(project)
    items = base.items
    scores = pd.read_parquet(folder / "scores.parquet")
    agreed_path = folder / "item_agreement.parquet"
    agreed = pd.read_parquet(agreed_path) if agreed_path.exists() else None
    decisions, table = ratings.decide_pilot(
        scores,
        items,
        agreed,
        useful,
        accessible,
        project.min_alpha_lower,
        overrules.read_overrules(project.overrules),
    )
    pilot = ratings.pilot_datamodel(
        base,
        decisions.loc[decisions.index.intersection(base.items.index)],
        prepared.get("released") or released(project),
        prepared.get("writes") or phases.version_name(project, "pilot"),  # as released
        overrules.guard_note(table) + overrules.overrule_note(table),
    )
    read = {
        n: pd.read_parquet(folder / f"{n}.parquet")
        for n in (
            "ratings",
            "quarantined",
            "issues",
            "files",
            "scores_by_borough",
            "agreement",
            "disputed",
        )
    }
    return Context(
        project=project,
        la_code=la_code,
        la_name=project.authority_name(la_code),
        synthetic=project.synthetic,
        prepared=prepared,
        items=items,
        scores=scores,
        decisions=decisions,
        record=record.stage_rows(table, "pilot", base.version, pilot.version),
        base=base,
        pilot=pilot,
        useful=useful,
        accessible=accessible,
        as_prepared=(useful, accessible) == (prepared["useful"], prepared["accessible"]),
        **read,
    )


# Area-wide figures are the same in every report of a batch: drawn once, in
# prepare_assessment, and reused while the thresholds are the prepared ones.
SHARED_FIGURES = {
    "priority_matrix.png": lambda ctx: figures.plot_priority_matrix(
        ctx.decisions, ctx.useful, ctx.accessible
    ),
    "accessibility_by_agency.png": lambda ctx: figures.plot_accessibility_heatmap(
        ratings.accessibility_grid(ctx.ratings, ctx.items)
    ),
}


def shared_figure(ctx: Context, name: str):
    """An area-wide figure: the one drawn at preparation, or drawn now for other thresholds."""
    return display.shared_figure(
        assessment_dir(ctx.project), name, SHARED_FIGURES[name], ctx, ctx.as_prepared
    )


def summary(project: Project) -> dict:
    """What ``prepare_assessment`` recorded."""
    return phases.prepared_summary(project, PHASE)
