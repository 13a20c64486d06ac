"""Phase 1's report: what every borough already collects, and the draft dataset.

``prepare_mapping`` runs once per batch: it reads the boroughs' local datasets,
matches them (reviewed crosswalk first), and writes ``data/processed/mapping``
and the draft data-model version. The notebook calls ``load_context`` and one
``section_*`` function per part of the story.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from lscb_nb.core import display, phases
from lscb_nb.core.datamodel import (
    AGENCY_LABELS,
    THEME_LABELS,
    DataModel,
    diff_datamodels,
    format_diff_markdown,
    save_datamodel,
)
from lscb_nb.core.display import Section, esc, listing, nothing_to_show, plural, table
from lscb_nb.core.fileio import write_json_atomic, write_parquet_atomic
from lscb_nb.core.project import AREA, Project, find_project
from lscb_nb.mapping import coverage, crosswalk, harmonise, localdata

log = logging.getLogger(__name__)

CONFIDENT, SUGGEST = harmonise.CONFIDENT, harmonise.SUGGEST  # cross-validated


PHASE = "mapping"


def mapping_dir(project: Project) -> Path:
    return project.processed / "mapping"


def _released(project: Project) -> str:
    return project.released("draft") or date.today().isoformat()


def _matches(project: Project, items, confident: float, suggest: float):
    local = localdata.read_local_datasets(project.catalogues, project.authorities)
    walk = crosswalk.load_crosswalk(crosswalk.default_path(project))
    matches = harmonise.match(local.items, items, walk, confident, suggest)
    return matches, local


def prepare_mapping(
    project: Project, confident: float = CONFIDENT, suggest: float = SUGGEST
) -> dict:
    """Read, match and save phase 1's tables and the draft dataset, once."""
    basis = phases.basis(project, PHASE)
    candidate = basis.datamodel
    matches, local = _matches(project, candidate.items, confident, suggest)
    out = mapping_dir(project)
    saved = matches.assign(alternatives=matches["alternatives"].map(lambda a: ",".join(a)))
    write_parquet_atomic(out / "matches.parquet", saved)
    write_parquet_atomic(out / "problems.parquet", local.problems)
    write_parquet_atomic(out / "files.parquet", local.files)
    replied = sorted(local.files["la_code_ons"].dropna().unique())
    readable = sorted(local.items["la_code_ons"].dropna().unique())
    matrix = coverage.coverage_matrix(matches, candidate.items, readable)
    k = coverage.default_min_boroughs(len(readable))
    selection = coverage.draft_selection(candidate.items, coverage.boroughs_collecting(matrix), k)
    draft = coverage.draft_datamodel(
        candidate,
        selection,
        k,
        len(readable),
        _released(project),
        phases.version_name(project, "draft"),
    )
    path = save_datamodel(draft, project.datamodel_dir)
    summary = {
        "based_on": candidate.version,
        "writes": draft.version,
        "files": len(local.files),
        "replied": len(replied),
        "readable": len(readable),
        "local_items": len(matches),
        "status": matches["status"].value_counts().to_dict(),
        "min_boroughs": k,
        "draft_items": int(selection["in_draft"].sum()),
        "draft": str(path),
        "confident": confident,
        "suggest": suggest,
    }
    write_json_atomic(out / "summary.json", summary)
    ctx = load_context(project, AREA, None, confident, suggest)
    display.save_shared_figures(out, SHARED_FIGURES, ctx)
    return summary


@dataclass
class Context:
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
    candidate: DataModel
    draft: DataModel
    confident: float
    suggest: float
    as_prepared: bool = False

    @property
    def is_london(self) -> bool:
        """The report is about the whole area, not one authority."""
        return self.la_code == AREA

    @property
    def readable(self) -> list[str]:
        return list(self.matrix.index)

    def name(self, code: str) -> str:
        return self.project.authority_name(code)

    @property
    def area(self) -> str:
        return self.project.area_name


def load_context(
    project: Project | Path | str | None = None,
    la_code: str = AREA,
    min_boroughs: int | None = None,
    confident: float = CONFIDENT,
    suggest: float = SUGGEST,
) -> Context:
    """Everything the phase 1 report shows, from the prepared tables (read only:
    ``lscb-nb run`` prepares them before any notebook runs)."""
    project = find_project(project)
    la_code = project.area_code(la_code)
    folder = mapping_dir(project)
    summary = phases.prepared_summary(project, PHASE)
    candidate = phases.basis(project, PHASE).datamodel
    if (confident, suggest) == (summary["confident"], summary["suggest"]):
        matches = pd.read_parquet(folder / "matches.parquet")
        matches["alternatives"] = matches["alternatives"].map(lambda s: s.split(",") if s else [])
    else:
        matches, _ = _matches(project, candidate.items, confident, suggest)
    files = pd.read_parquet(folder / "files.parquet")
    readable = sorted(matches["la_code_ons"].dropna().unique())
    matrix = coverage.coverage_matrix(matches, candidate.items, readable)
    k = min_boroughs or coverage.default_min_boroughs(len(readable))
    selection = coverage.draft_selection(candidate.items, coverage.boroughs_collecting(matrix), k)
    draft = coverage.draft_datamodel(
        candidate,
        selection,
        k,
        len(readable),
        summary.get("released") or _released(project),
        phases.version_name(project, "draft"),
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
        candidate=candidate,
        draft=draft,
        confident=confident,
        suggest=suggest,
        as_prepared=(confident, suggest) == (summary["confident"], summary["suggest"])
        and min_boroughs in (None, summary["min_boroughs"]),
    )


def header(ctx: Context) -> Section:
    facts = {
        "Report": "Phase 1: mapping what boroughs already collect",
        "Area": ctx.la_name if ctx.is_london else f"{ctx.la_name} ({ctx.la_code})",
        "Authorities that replied": (
            f"{ctx.files['la_code_ons'].nunique()} of {len(ctx.authorities)}"
        ),
        "Matching": f"confident at {ctx.confident:.0f}, suggested from {ctx.suggest:.0f}",
        "Dataset mapped": f"{ctx.candidate.version} ({len(ctx.candidate.items)} items)",
        "Draft rule": f"collected by at least {ctx.min_boroughs} boroughs, or essential",
    }
    return display.header("Phase 1", facts, ctx.synthetic)


def _agency(code: str) -> str:
    return AGENCY_LABELS.get(code, code)


# --------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------


def section_replies(ctx: Context) -> Section:
    """Who replied, who did not, and whose file could not be read."""
    all_codes = ctx.authorities["la_code_ons"].tolist()
    sent = set(ctx.files["la_code_ons"].dropna())
    silent = [c for c in all_codes if c not in sent]
    unreadable = ctx.files.loc[ctx.files["status"] == "unreadable"]
    sec = Section().add(
        f"{len(sent)} of the {len(all_codes)} authorities in {esc(ctx.area)} sent the dataset "
        "they keep today; "
        f"{len(ctx.readable)} could be read. "
        + (
            f"No reply came from {listing(ctx.name(c) for c in silent)}: the steering group may "
            "wish to follow these up, since the draft dataset cannot reflect what they collect."
            if silent
            else "Every board replied."
        )
    )
    if not unreadable.empty or not ctx.problems.empty:
        shown = ctx.problems.assign(
            Borough=[
                ctx.name(c) if isinstance(c, str) else "not identified"
                for c in ctx.problems["la_code_ons"]
            ]
        )
        sec.add(
            f"{plural(len(unreadable), 'file')} could not be read at all, and "
            f"{plural(int(shown['sheet'].notna().sum()), 'sheet')} could not be interpreted. "
            "Each is listed so the borough can be asked for a readable copy; every other "
            "borough's file was read as normal.",
            table(
                shown[["Borough", "file", "sheet", "reason"]].rename(columns=str.capitalize),
                caption="Files and sheets that could not be read",
            ),
        )
    if not ctx.is_london and ctx.la_code not in sent:
        sec.add(
            nothing_to_show(
                f"{ctx.la_name} did not send its current dataset, so this report can only show "
                f"the {esc(ctx.area)} picture and what the draft dataset would ask of it."
            )
        )
    elif not ctx.is_london and ctx.la_code not in ctx.readable:
        sec.add(
            nothing_to_show(
                f"{ctx.la_name}'s file could not be read (see the table above), so its own "
                "items are not in the comparison below."
            )
        )
    return sec


def section_matching(ctx: Context) -> Section:
    """How local names were matched, and how many still wait for review."""
    status = ctx.matches["status"].value_counts()
    order = ["confirmed", "repointed", "rejected", "confident", "uncertain", "unmatched"]
    counts = pd.DataFrame({"Status": order, "Local items": [int(status.get(s, 0)) for s in order]})
    meaning = {
        "confirmed": "the consultant confirmed the suggested item",
        "repointed": "the consultant chose a different item",
        "rejected": "the consultant ruled the suggestion out",
        "confident": f"automatic match, score {ctx.confident:.0f} or more",
        "uncertain": "a suggestion waiting for review: not used yet",
        "unmatched": "nothing close in the data model",
    }
    counts["Meaning"] = counts["Status"].map(meaning)
    waiting = int(status.get("uncertain", 0))
    return Section().add(
        f"Boroughs named the same measure in many ways. The toolkit normalised every one of "
        f"the {len(ctx.matches):,} local names (case, punctuation, shorthand such as CSC, CPP, "
        "LAC, ICPC, YOT and NI codes) and scored it against each data-model item. "
        f"{waiting} suggestions still wait for the consultant's review and are not counted "
        "below; reviewed decisions are kept in the crosswalk file and applied first on every "
        "run.",
        table(counts, caption="Matching of local names to data-model items"),
    )


def _heatmap(ctx: Context) -> plt.Figure:
    items = ctx.items.sort_values(["agency", "theme"]).index
    matrix = ctx.matrix[items].astype(int)
    matrix.index = [ctx.name(c) for c in matrix.index]
    fig, ax = plt.subplots(figsize=(13, 0.22 * len(matrix) + 2.4))
    ax.imshow(matrix.to_numpy(), aspect="auto", cmap="Blues", vmin=0, vmax=1.4)
    ax.set_yticks(range(len(matrix)), matrix.index, fontsize=7)
    ax.set_xticks(range(len(items)), items, fontsize=5.5, rotation=90)
    ax.grid(False)
    agencies = ctx.items.loc[items, "agency"].to_numpy()
    edges = [0, *[i for i in range(1, len(agencies)) if agencies[i] != agencies[i - 1]], len(items)]
    for start, end in pairwise(edges):
        ax.axvline(start - 0.5, color="#444", lw=0.8)
        ax.text(
            (start + end - 1) / 2,
            -1.2,
            _agency(agencies[start]),
            ha="center",
            va="bottom",
            fontsize=7,
            rotation=30,
        )
    ax.set_title("Who already collects what (dark = collected)", pad=40)
    fig.tight_layout()
    collected = int(matrix.to_numpy().sum())
    share = matrix.mean(axis=0)
    return display.describe(
        fig,
        f"Grid of {len(matrix)} boroughs (rows) by {len(items)} candidate items (columns), "
        f"grouped by supplying agency; a dark cell is an item the borough already collects. "
        f"{collected:,} of {matrix.size:,} cells ({collected / max(matrix.size, 1):.0%}) are "
        f"collected. The most widely collected item is {share.idxmax()} ({share.max():.0%} of "
        f"boroughs); {int((share == 0).sum())} items are collected by no borough.",
    )


def section_coverage_matrix(ctx: Context) -> Section:
    if ctx.matrix.empty:
        return nothing_to_show("No borough's dataset could be read.")
    return Section().add(
        "Each row is a borough that sent a readable dataset, each column a candidate item, "
        "grouped by the agency that supplies it. Dark cells are items the borough already "
        "collects. Children's social care columns are mostly dark: those figures exist "
        "everywhere. Pale blocks are where boards know little today.",
        _shared_figure(ctx, "coverage_matrix.png"),
    )


def _coverage_tables(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    by_agency = coverage.coverage_by(ctx.matrix, ctx.items, "agency")
    by_theme = coverage.coverage_by(ctx.matrix, ctx.items, "theme")
    by_agency.index = [_agency(a) for a in by_agency.index]
    by_theme.index = [THEME_LABELS.get(t, t) for t in by_theme.index]
    return by_agency, by_theme


def _coverage_chart(ctx: Context) -> plt.Figure:
    by_agency, by_theme = _coverage_tables(ctx)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for ax, frame, label in ((axes[0], by_agency, "agency"), (axes[1], by_theme, "theme")):
        ax.barh(frame.index, frame["share"], color="#2171b5")
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of boroughs collecting an item, on average")
        ax.set_title(f"By {label}")
        ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()

    def spread(frame: pd.DataFrame) -> str:
        lo, hi = frame["share"].idxmin(), frame["share"].idxmax()
        return f"from {lo} ({frame.at[lo, 'share']:.0f}%) to {hi} ({frame.at[hi, 'share']:.0f}%)"

    return display.describe(
        fig,
        "Two bar charts of the average share of boroughs collecting an item. By agency, "
        f"{spread(by_agency)}; by theme, {spread(by_theme)}.",
    )


# London-wide figures are the same in all 34 reports of a batch: drawn once, in
# prepare_mapping, and reused while the parameters are the prepared ones.
SHARED_FIGURES = {"coverage_matrix.png": _heatmap, "coverage_by_agency_theme.png": _coverage_chart}


def _shared_figure(ctx: Context, name: str):
    return display.shared_figure(
        mapping_dir(ctx.project), name, SHARED_FIGURES[name], ctx, ctx.as_prepared
    )


def section_coverage_by_agency_theme(ctx: Context) -> Section:
    by_agency, by_theme = _coverage_tables(ctx)
    fig = _shared_figure(ctx, "coverage_by_agency_theme.png")
    low_a, low_t = by_agency.index[0], by_theme.index[0]
    return Section().add(
        "The share of replying boroughs that already collect a typical item, by supplying "
        f"agency and by theme. The gaps are plain: {esc(low_a)} items are collected by "
        f"{by_agency['share'].iloc[0]:.0f}% of boroughs and {esc(low_t).lower()} items by "
        f"{by_theme['share'].iloc[0]:.0f}%, against {by_agency['share'].iloc[-1]:.0f}% for "
        f"{esc(by_agency.index[-1])}. These are where the dataset asks for something new.",
        fig,
        table(
            by_agency.reset_index()
            .rename(columns={"index": "Agency"})
            .rename(
                columns={
                    "items": "Items",
                    "share": "% of boroughs",
                    "never_collected": "Collected by none",
                }
            ),
            decimals={"% of boroughs": 0},
        ),
    )


def section_never_collected(ctx: Context) -> Section:
    none = coverage.never_collected(ctx.matrix)
    if not none:
        return Section().add("Every candidate item is already collected by at least one borough.")
    frame = ctx.items.loc[none, ["title", "agency", "essential"]].reset_index()
    frame["agency"] = frame["agency"].map(_agency)
    return Section().add(
        f"{plural(len(none), 'candidate item')} no borough collects today. Those required by "
        "statute or Working Together stay in the draft to be developed; the rest would need "
        "a case made for them.",
        table(
            frame.rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "agency": "Agency",
                    "essential": "Essential",
                }
            )
        ),
    )


def section_unmatched(ctx: Context) -> Section:
    local = coverage.unmatched_local_items(ctx.matches)
    if local.empty:
        return Section().add("Every local item matched a data-model item.")
    shown = local.loc[local["boroughs"] >= 2]
    return Section().add(
        f"{plural(len(local), 'local measure')} match nothing in the data model. Those kept "
        f"by two or more boroughs ({len(shown)}) are candidates the model lacks and are worth "
        "the steering group's consideration:",
        table(
            shown.rename(
                columns={
                    "local_name": "Local name (example)",
                    "boroughs": "Boroughs",
                    "agency_words": "Source named",
                }
            ),
            max_rows=25,
        ),
    )


def section_draft_dataset(ctx: Context) -> Section:
    sel = ctx.selection
    chosen = sel.loc[sel["in_draft"]]
    diff = diff_datamodels(ctx.candidate, ctx.draft)
    shown = chosen.reset_index()[["item_id", "title", "agency", "boroughs", "tier", "reason"]]
    shown["agency"] = shown["agency"].map(_agency)
    return Section().add(
        f"The draft dataset keeps the {int((chosen['tier'] == 'core').sum())} items collected "
        f"by at least {ctx.min_boroughs} of the {len(ctx.readable)} boroughs (a third, so "
        "there is a common base to agree on), plus "
        f"{int((chosen['tier'] == 'develop').sum())} items that fewer boroughs collect but that "
        "statute or Working Together requires, or that cover children's views and "
        "participation (a theme the steering group asked for), marked to develop. It is "
        f"written out as data-model version {esc(ctx.draft.version)} "
        f"({len(ctx.draft.items)} items) for phase 2 to assess.",
        table(
            shown.rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "agency": "Agency",
                    "boroughs": "Boroughs collecting",
                    "tier": "Tier",
                    "reason": "Why it is in",
                }
            ),
            caption=f"Draft dataset {ctx.draft.version}",
        ),
        format_diff_markdown(diff, f"Changes from {ctx.candidate.version} to {ctx.draft.version}"),
    )


def section_borough(ctx: Context) -> Section:
    """One borough against the whole area."""
    if ctx.is_london:
        return Section().add(
            f"Each borough's own report compares what it collects with {esc(ctx.area)} and "
            "lists what "
            "the draft dataset would ask it to start collecting."
        )
    draft_ids = list(ctx.draft.items.index)
    if ctx.la_code not in ctx.readable:
        return Section().add(
            f"Without a readable dataset from {esc(ctx.la_name)}, all "
            f"{len(draft_ids)} draft items are listed as ones to confirm it can supply."
        )
    prof = coverage.borough_profile(ctx.matrix, ctx.la_code, draft_ids)
    share = ctx.matrix.mean(axis=0) * 100
    mine = ctx.matches.loc[ctx.matches["la_code_ons"] == ctx.la_code]
    own = mine.loc[mine["item_id"].isna(), "local_name"]
    start = ctx.items.loc[prof["to_start"], ["title", "agency"]].reset_index()
    start["agency"] = start["agency"].map(_agency)
    start["% of boroughs collecting"] = [share[i] for i in prof["to_start"]]
    rare = ctx.items.loc[prof["rare"], ["title"]].reset_index()
    rare["% of boroughs collecting"] = [share[i] for i in prof["rare"]]
    return Section().add(
        f"{esc(ctx.la_name)} collects {len(prof['collects'])} of the candidate items (the "
        f"{esc(ctx.area)} median is {int(ctx.matrix.sum(axis=1).median())}) and already has "
        f"{len(prof['has_draft'])} of the {len(draft_ids)} draft items. It would have to start "
        f"collecting {len(prof['to_start'])}:",
        table(
            start.rename(columns={"item_id": "Item", "title": "Title", "agency": "Agency"}),
            decimals={"% of boroughs collecting": 0},
        ),
        f"It collects {plural(len(prof['rare']), 'item')} that fewer than a third of boroughs "
        "do: practice others could learn from.",
        table(
            rare.rename(columns={"item_id": "Item", "title": "Title"}),
            decimals={"% of boroughs collecting": 0},
        )
        if not rare.empty
        else None,
        f"Its own measures with no match in the data model: {listing(own)}." if len(own) else None,
    )


def accuracy_against_truth(ctx: Context) -> dict | None:
    """Matching precision and recall against the generator's truth (sample data only)."""
    path = ctx.project.truth
    if not path.exists():
        return None
    truth = pd.DataFrame(json.loads(path.read_text(encoding="utf-8"))["phase1"]["items"])
    return harmonise.accuracy(ctx.matches, truth)


def section_review(ctx: Context, review: bool = False):
    """The ipywidgets review panel in JupyterLab (``review=True``); nothing in batch runs."""
    if not review:
        return None
    return crosswalk.review_panel(
        ctx.matches,
        ctx.items,
        crosswalk.default_path(ctx.project),
    )
