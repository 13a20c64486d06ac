"""Phase 1's prepared tables, read back for a report (read only).

``load_context`` reads what :mod:`lscb_nb.mapping.stage` wrote to
``data/processed/mapping``; with matching thresholds or a draft rule other than the
prepared ones it works the matches and the draft out again, here, for this report.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from lscb_nb.core import decisions, display, overrules, phases
from lscb_nb.core.datamodel import DataModel
from lscb_nb.core.project import AREA, AreaReport, Project, find_project
from lscb_nb.mapping import coverage, crosswalk, figures, localdata, matching

log = logging.getLogger(__name__)


CONFIDENT, SUGGEST = matching.CONFIDENT, matching.SUGGEST  # cross-validated


PHASE = "mapping"


def mapping_dir(project: Project) -> Path:
    """Where phase 1's prepared tables and figures live."""
    return project.processed / "mapping"


def released(project: Project) -> str:
    """The draft's release date: the project's, else today."""
    return project.released("draft") or date.today().isoformat()


def match_local_items(project: Project, items, confident: float, suggest: float):
    """Every borough's local items matched to ``items``: (matches, local datasets read)."""
    local = localdata.read_local_datasets(project.catalogues, project.authorities)
    walk = crosswalk.load_crosswalk(crosswalk.default_path(project))
    matches = matching.match(local.items, items, walk, confident, suggest)
    return matches, local


@dataclass
class Context(AreaReport):
    project: Project
    la_code: str
    la_name: str
    synthetic: bool
    items: pd.DataFrame
    authorities: pd.DataFrame
    matches: pd.DataFrame
    problems: pd.DataFrame
    files: pd.DataFrame
    matrix: pd.DataFrame
    min_boroughs: int
    selection: pd.DataFrame
    decisions: pd.DataFrame  # the decision record's draft rows (core.decisions)
    candidate: DataModel
    draft: DataModel
    confident: float
    suggest: float
    as_prepared: bool = False

    @property
    def readable(self) -> list[str]:
        return list(self.matrix.index)


def load_context(
    project: Project | Path | str | None = None,
    la_code: str = AREA,
    min_boroughs: int | None = None,
    confident: float | None = None,
    suggest: float | None = None,
) -> Context:
    """Everything the phase 1 report shows, from the prepared tables (read only:
    ``lscb-nb run`` prepares them before any notebook runs). ``confident`` and
    ``suggest`` default to the thresholds the data was prepared with; other values
    re-match every borough's names in the kernel (slow: for exploring thresholds)."""
    project = find_project(project)
    la_code = project.area_code(la_code)
    folder = mapping_dir(project)
    summary = phases.prepared_summary(project, PHASE)
    confident = summary.get("confident", CONFIDENT) if confident is None else confident
    suggest = summary.get("suggest", SUGGEST) if suggest is None else suggest
    candidate = phases.basis(project, PHASE).datamodel
    if (confident, suggest) == (summary["confident"], summary["suggest"]):
        matches = pd.read_parquet(folder / "matches.parquet")
        matches["alternatives"] = matches["alternatives"].map(lambda s: s.split(",") if s else [])
    else:
        matches, _ = match_local_items(project, candidate.items, confident, suggest)
    files = pd.read_parquet(folder / "files.parquet")
    readable = sorted(matches["la_code_ons"].dropna().unique())
    matrix = coverage.coverage_matrix(matches, candidate.items, readable)
    k = min_boroughs or coverage.default_min_boroughs(len(readable))
    selection, table = coverage.decide_draft(
        candidate.items,
        coverage.boroughs_collecting(matrix),
        k,
        overrules.read_overrules(project.overrules),
        word=project.word(),
    )
    draft = coverage.draft_datamodel(
        candidate,
        selection,
        k,
        len(readable),
        summary.get("released") or released(project),
        summary.get("writes") or phases.version_name(project, "draft"),  # as released
        table,
    )
    authorities = project.authorities
    return Context(
        project=project,
        la_code=la_code,
        la_name=project.authority_name(la_code),
        synthetic=project.synthetic,
        items=candidate.items,
        authorities=authorities,
        matches=matches,
        problems=pd.read_parquet(folder / "problems.parquet"),
        files=files,
        matrix=matrix,
        min_boroughs=k,
        selection=selection,
        decisions=decisions.stage_rows(table, "draft", candidate.version, draft.version),
        candidate=candidate,
        draft=draft,
        confident=confident,
        suggest=suggest,
        as_prepared=(confident, suggest) == (summary["confident"], summary["suggest"])
        and min_boroughs in (None, summary["min_boroughs"]),
    )


# Area-wide figures are the same in every report of a batch: drawn once, in
# prepare_mapping, and reused while the parameters are the prepared ones.
SHARED_FIGURES = {
    "coverage_matrix.png": lambda ctx: figures.plot_coverage_heatmap(
        ctx.matrix, ctx.items, ctx.name, ctx.word()
    ),
    "coverage_by_agency_theme.png": lambda ctx: figures.plot_coverage_by(
        *coverage.coverage_tables(ctx.matrix, ctx.items), ctx.word()
    ),
}


def shared_figure(ctx: Context, name: str):
    """An area-wide figure: the one drawn at preparation, or drawn now for other parameters."""
    return display.shared_figure(
        mapping_dir(ctx.project), name, SHARED_FIGURES[name], ctx, ctx.as_prepared
    )


def accuracy_against_truth(ctx: Context) -> dict | None:
    """Matching precision and recall against the generator's truth (sample data only)."""
    path = ctx.project.truth
    if not path.exists():
        return None
    truth = pd.DataFrame(json.loads(path.read_text(encoding="utf-8"))["phase1"]["items"])
    return matching.accuracy(ctx.matches, truth)
