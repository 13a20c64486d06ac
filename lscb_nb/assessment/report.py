"""Phase 2's report: how accessible and useful each item is, and the pilot dataset.

``prepare_assessment`` runs once per batch: it reads the completed instruments,
scores the items, measures agreement and writes ``data/processed/assessment``
and the pilot data-model version. The notebook calls ``load_context`` and one
``section_*`` function per part of the story.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lscb_nb.assessment import instruments, ratings
from lscb_nb.core import display, phases
from lscb_nb.core.datamodel import (
    AGENCY_LABELS,
    DataModel,
    diff_datamodels,
    format_diff_markdown,
    save_datamodel,
)
from lscb_nb.core.display import Section, esc, listing, nothing_to_show, plural, table
from lscb_nb.core.fileio import write_json_atomic, write_parquet_atomic
from lscb_nb.core.project import AREA, Project, find_project

log = logging.getLogger(__name__)

PHASE = "assessment"
AGENCY_COLOURS = dict(
    zip(
        AGENCY_LABELS,
        [
            "#1b9e77",
            "#d95f02",
            "#7570b3",
            "#e7298a",
            "#66a61e",
            "#e6ab02",
            "#a6761d",
            "#666666",
            "#1f78b4",
        ],
        strict=False,
    )
)


def assessment_dir(project: Project) -> Path:
    return project.processed / "assessment"


def _released(project: Project) -> str:
    return project.released("pilot") or date.today().isoformat()


def base_datamodel(project: Project) -> DataModel:
    """The version phase 2 assesses: phase 1's draft, else the latest before it."""
    return phases.basis(project, PHASE).datamodel


def prepare_assessment(
    project: Project,
    useful: float = ratings.USEFUL,
    accessible: float = ratings.ACCESSIBLE,
) -> dict:
    """Read, score and save phase 2's tables and the pilot dataset, once.

    Instruments are read against the candidate (so a rating of any known item is
    read, not lost); only the items of the version phase 2 assesses are scored, and
    the ratings of other items are counted as set aside.
    """
    basis = phases.basis(project, PHASE)
    base = basis.datamodel
    items = base.items
    result = instruments.read_instruments(
        project.instruments,
        phases.load_candidate(project).items,
        authorities=project.authorities,
    )
    outside = ~result.ratings["item_id"].isin(items.index)
    set_aside = result.ratings.loc[outside]
    result.ratings = result.ratings.loc[~outside].reset_index(drop=True)
    out = assessment_dir(project)
    for name in ("ratings", "quarantined", "issues", "files"):
        write_parquet_atomic(out / f"{name}.parquet", getattr(result, name))
    scores = ratings.item_scores(result.ratings)
    write_parquet_atomic(out / "scores.parquet", scores)
    write_parquet_atomic(
        out / "scores_by_borough.parquet", ratings.item_scores(result.ratings, ["la_code_ons"])
    )
    write_parquet_atomic(out / "agreement.parquet", ratings.agreement_table(result.ratings))
    write_parquet_atomic(out / "disputed.parquet", ratings.most_disputed(result.ratings, 15))
    decisions = ratings.classify(scores, items, useful, accessible)
    write_parquet_atomic(
        out / "item_decisions.parquet",
        decisions.reset_index()[["item_id", "accessibility", "usefulness", "decision", "reason"]]
        .rename(columns={"decision": "phase2_decision"})
        .astype({"phase2_decision": str}),
    )
    pilot = ratings.pilot_datamodel(
        base,
        decisions.loc[decisions.index.intersection(base.items.index)],
        _released(project),
        phases.version_name(project, "pilot"),
    )
    path = save_datamodel(pilot, project.datamodel_dir)
    summary = {
        "writes": pilot.version,
        "basis_note": basis.note(),
        "released": pilot.meta.get("released"),
        "ratings_set_aside": len(set_aside),
        "items_set_aside": sorted(set_aside["item_id"].unique().tolist()),
        "instruments": len(result.files),
        "raters": int(result.ratings["rater_id"].nunique()),
        "ratings": len(result.ratings),
        "quarantined": len(result.quarantined),
        "issues": len(result.issues),
        "decisions": decisions["decision"].astype(str).value_counts().to_dict(),
        "pilot": str(path),
        "based_on": base.version,
        "useful": useful,
        "accessible": accessible,
    }
    write_json_atomic(out / "summary.json", summary)
    ctx = load_context(project, AREA, useful, accessible)
    display.save_shared_figures(out, SHARED_FIGURES, ctx)
    return summary


@dataclass
class Context:
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
    base: DataModel
    pilot: DataModel
    useful: float
    accessible: float
    as_prepared: bool = False
    prepared: dict | None = None

    @property
    def is_london(self) -> bool:
        return self.la_code == AREA

    @property
    def has_ratings(self) -> bool:
        return self.is_london or self.la_code in set(self.ratings["la_code_ons"])

    def name(self, code: str) -> str:
        return self.project.authority_name(code)

    @property
    def area(self) -> str:
        return self.project.area_name


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
    decisions = ratings.classify(scores, items, useful, accessible)
    pilot = ratings.pilot_datamodel(
        base,
        decisions.loc[decisions.index.intersection(base.items.index)],
        prepared.get("released") or _released(project),
        phases.version_name(project, "pilot"),
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
        base=base,
        pilot=pilot,
        useful=useful,
        accessible=accessible,
        as_prepared=(useful, accessible) == (prepared["useful"], prepared["accessible"]),
        **read,
    )


def header(ctx: Context) -> Section:
    facts = {
        "Report": "Phase 2: how accessible and useful each item is",
        "Area": ctx.la_name if ctx.is_london else f"{ctx.la_name} ({ctx.la_code})",
        "Instruments": f"{len(ctx.files)} from "
        f"{ctx.ratings['la_code_ons'].nunique()} pilot boroughs",
        "Dataset assessed": f"{ctx.base.version} ({len(ctx.base.items)} items)",
        "Thresholds": f"useful from {ctx.useful}, accessible from {ctx.accessible} (scales 1-4)",
    }
    sec = display.header("Phase 2", facts, ctx.synthetic)
    note = (ctx.prepared or {}).get("basis_note")
    set_aside = (ctx.prepared or {}).get("items_set_aside") or []
    return sec.add(
        note or None,
        f"Ratings of {plural(len(set_aside), 'item')} outside {ctx.base.version} were read but "
        f"set aside, since phase 1 did not carry them forward: {listing(set_aside)}."
        if set_aside
        else None,
    )


def _agency(code: str) -> str:
    return AGENCY_LABELS.get(code, code)


def section_no_ratings(ctx: Context) -> Section:
    if ctx.has_ratings:
        return Section()
    return nothing_to_show(
        f"No completed instruments from {ctx.la_name} are on file, so the report shows "
        f"{esc(ctx.area)}'s view only."
    )


def section_returns(ctx: Context) -> Section:
    """Who rated, and what was wrong with the instruments."""
    raters = ctx.ratings.drop_duplicates("rater_id")
    roles = raters.groupby("rater_agency").size().rename("Raters").reset_index()
    roles["rater_agency"] = roles["rater_agency"].map(_agency)
    sec = Section().add(
        f"{plural(raters['rater_id'].nunique(), 'rater')} in "
        f"{raters['la_code_ons'].nunique()} pilot boroughs returned {len(ctx.files)} instruments "
        f"with {len(ctx.ratings):,} usable scores. {len(ctx.quarantined):,} scores were held "
        "back because of a problem below; none was dropped silently.",
        table(roles.rename(columns={"rater_agency": "Rater's agency"}), caption="Raters by agency"),
    )
    issues = (
        ctx.issues if ctx.is_london else ctx.issues.loc[ctx.issues["la_code_ons"] == ctx.la_code]
    )
    if not issues.empty:
        sec.add(
            table(
                issues[["file", "row", "column", "rule_code", "severity", "message"]]
                .rename(columns={"rule_code": "Code"})
                .rename(columns=str.capitalize),
                caption="Problems found in the instruments",
            )
        )
    return sec


def alpha_text(alpha: float, lower: float, upper: float) -> str:
    """'α = 0.61 (95% CI 0.58 to 0.64)': an alpha always with its precision."""
    if not np.isfinite(alpha):
        return "α cannot be measured"
    if not (np.isfinite(lower) and np.isfinite(upper)):
        return f"α = {alpha:.2f} (no interval: too few units)"
    return f"α = {alpha:.2f} (95% CI {lower:.2f} to {upper:.2f})"


def section_agreement(ctx: Context) -> Section:
    a = ctx.agreement
    if "alpha_lower" not in a.columns:
        a = a.assign(alpha_lower=np.nan, alpha_upper=np.nan)
    top = a.loc[a["level"] == "overall"].iloc[0]
    overall = float(top["alpha"])
    shown = a.loc[a["level"].isin(["overall", "dimension", "criterion"])].copy()
    if ctx.is_london:
        shown = pd.concat([shown, a.loc[a["level"] == "borough"]])
    else:
        shown = pd.concat([shown, a.loc[(a["level"] == "borough") & (a["group"] == ctx.la_code)]])
    shown["group"] = [
        ctx.name(g) if lvl == "borough" else g
        for lvl, g in zip(shown["level"], shown["group"], strict=True)
    ]
    shown["interval"] = [
        "–" if not (np.isfinite(lo) and np.isfinite(hi)) else f"{lo:.2f} to {hi:.2f}"
        for lo, hi in zip(shown["alpha_lower"], shown["alpha_upper"], strict=True)
    ]
    return Section().add(
        "How far raters in the same borough agreed, measured by Krippendorff's alpha for ordinal "
        "scores (1 is perfect agreement, 0 no better than chance), each with a 95% interval "
        "from 1,000 bootstrap resamples of the units rated. Overall "
        f"{alpha_text(overall, top['alpha_lower'], top['alpha_upper'])}: "
        f"{esc(interpret(overall))}. Krippendorff advises relying on alpha of "
        "0.8 or more and drawing only tentative conclusions from 0.667; below that, an item's "
        "score reflects who rated it as much as the item, so the decisions below should be "
        "read alongside the disputed items.",
        table(
            shown[
                [
                    "level",
                    "group",
                    "alpha",
                    "interval",
                    "interpretation",
                    "n_raters",
                    "n_units",
                    "n_pairable_values",
                ]
            ].rename(
                columns={
                    "level": "Level",
                    "group": "Group",
                    "alpha": "Alpha",
                    "interval": "95% CI",
                    "interpretation": "Reading",
                    "n_raters": "Raters",
                    "n_units": "Units",
                    "n_pairable_values": "Pairable scores",
                }
            ),
            caption="Agreement between raters (Krippendorff's alpha)",
            decimals={"Alpha": 2},
        ),
    )


def interpret(alpha: float) -> str:
    from lscb_nb.core.agreement import interpret_alpha

    return interpret_alpha(alpha)


def section_disputed(ctx: Context) -> Section:
    d = ctx.disputed.head(10).copy()
    d["title"] = d["item_id"].map(ctx.items["title"])
    return Section().add(
        "The items raters disagreed on most: the share of pairs of raters (same borough, same "
        "criterion) whose scores were two or more points apart. Disagreement usually means the "
        "definition is read differently by different agencies.",
        table(
            d[["item_id", "title", "pairs_two_apart", "sd"]].rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "pairs_two_apart": "Pairs 2+ apart",
                    "sd": "Mean SD",
                }
            ),
            decimals={"Pairs 2+ apart": 2, "Mean SD": 2},
        ),
    )


def priority_matrix(ctx: Context) -> plt.Figure:
    d = ctx.decisions
    fig, ax = plt.subplots(figsize=(10, 7.5))
    markers = "osD^vPXh*p"  # a shape as well as a colour for each agency
    for number, (agency, part) in enumerate(d.groupby("agency")):
        ax.scatter(
            part["accessibility"],
            part["usefulness"],
            s=36,
            marker=markers[number % len(markers)],
            color=AGENCY_COLOURS.get(agency, "#333"),
            label=_agency(agency),
            edgecolors="white",
            linewidths=0.5,
        )
    for item_id, row in d.iterrows():
        ax.annotate(
            item_id,
            (row["accessibility"], row["usefulness"]),
            fontsize=6,
            xytext=(3, 2),
            textcoords="offset points",
            color="#333",
        )
    ax.axvline(ctx.accessible, color="#888", ls="--", lw=1)
    ax.axhline(ctx.useful, color="#888", ls="--", lw=1)
    lo_x, hi_x = 1, 4
    for x, y, text in (
        (hi_x - 0.05, 3.95, "core"),
        (lo_x + 0.05, 3.95, "develop"),
        (hi_x - 0.05, lo_x + 0.05, "local option"),
        (lo_x + 0.05, lo_x + 0.05, "drop"),
    ):
        ax.text(
            x,
            y,
            text,
            ha="right" if x > 2 else "left",
            va="top" if y > 2 else "bottom",
            fontsize=11,
            color="#555",
            weight="bold",
        )
    ax.set_xlim(lo_x, hi_x)
    ax.set_ylim(lo_x, hi_x)
    ax.set_xlabel("Accessibility (mean of raters, 1-4)")
    ax.set_ylabel("Usefulness (mean of raters, 1-4)")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), title="Supplying agency")
    ax.set_title("Priority matrix: every item's usefulness against its accessibility")
    fig.tight_layout()
    counts = d["decision"].astype(str).value_counts()
    return display.describe(
        fig,
        f"Scatter plot of {len(d)} items, usefulness against accessibility (mean of raters, "
        f"1 to 4), with lines at usefulness {ctx.useful} and accessibility {ctx.accessible}: "
        + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("core", "develop", "local option", "drop"))
        + ".",
    )


def section_priority_matrix(ctx: Context) -> Section:
    counts = ctx.decisions["decision"].astype(str).value_counts()
    return Section().add(
        "Each dot is an item, coloured by the agency that would supply it. Items above the "
        f"horizontal line (usefulness {ctx.useful} or more) tell the board something it can act "
        f"on; items right of the vertical line (accessibility {ctx.accessible} or more) boroughs "
        f"can get. {counts.get('core', 0)} items are core, {counts.get('develop', 0)} useful but "
        f"hard to get (develop), {counts.get('local option', 0)} accessible but less useful "
        f"(local option) and {counts.get('drop', 0)} neither (drop).",
        _shared_figure(ctx, "priority_matrix.png"),
    )


def _accessibility_grid(ctx: Context) -> pd.DataFrame:
    r = ctx.ratings.dropna(subset=["score"]).astype({"score": float})
    access = r.loc[r["dimension"] == "accessibility"].copy()
    access["agency"] = access["item_id"].map(ctx.items["agency"]).map(_agency)
    grid = access.pivot_table(index="agency", columns="criterion", values="score", aggfunc="mean")
    return grid.loc[grid.mean(axis=1).sort_values().index]


def _agency_heatmap(ctx: Context) -> plt.Figure:
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(9, 4.6))
    sns.heatmap(
        _accessibility_grid(ctx),
        annot=True,
        fmt=".1f",
        cmap="RdYlGn",
        vmin=1,
        vmax=4,
        ax=ax,
        cbar_kws={"label": "mean score (1-4)"},
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("Accessibility by supplying agency and criterion")
    fig.tight_layout()
    grid = _accessibility_grid(ctx).stack()
    lo, hi = grid.idxmin(), grid.idxmax()
    return display.describe(
        fig,
        "Grid of mean accessibility scores (1 to 4) by supplying agency and criterion, each "
        f"cell labelled with its score. Lowest: {lo[0]}, {lo[1]} ({grid.min():.1f}); highest: "
        f"{hi[0]}, {hi[1]} ({grid.max():.1f}).",
    )


# London-wide figures are the same in all 11 reports of a batch: drawn once, in
# prepare_assessment, and reused while the thresholds are the prepared ones.
SHARED_FIGURES = {
    "priority_matrix.png": priority_matrix,
    "accessibility_by_agency.png": _agency_heatmap,
}


def _shared_figure(ctx: Context, name: str):
    return display.shared_figure(
        assessment_dir(ctx.project), name, SHARED_FIGURES[name], ctx, ctx.as_prepared
    )


def section_by_agency_system(ctx: Context) -> Section:
    r = ctx.ratings.dropna(subset=["score"]).astype({"score": float})
    grid = _accessibility_grid(ctx)
    fig = _shared_figure(ctx, "accessibility_by_agency.png")
    by_system = ratings.system_accessibility(r)[["system", "mean", "count"]]
    worst = grid.index[0]
    return Section().add(
        f"Mean accessibility scores by the agency that supplies the item. {esc(worst)} items are "
        f"the hardest to get (mean {grid.loc[worst].mean():.1f} of 4), mostly because the data "
        "is held across systems not built to report it.",
        fig,
        "The systems raters named as the source, by mean accessibility score:",
        table(
            by_system.rename(
                columns={"system": "System", "mean": "Mean accessibility", "count": "Scores"}
            ),
            caption="Source systems by mean accessibility score",
            decimals={"Mean accessibility": 2},
            meta=ratings.SYSTEMS_META,
        ),
    )


def section_decisions(ctx: Context) -> Section:
    d = ctx.decisions.reset_index()
    d["agency"] = d["agency"].map(_agency)
    d = d.sort_values(["decision", "usefulness"], ascending=[True, False])
    return Section().add(
        "Every item's place, with the scores behind it. Thresholds are parameters of this "
        "report: the steering group can see how the picture changes if it asks more of an item.",
        table(
            d[["item_id", "title", "agency", "usefulness", "accessibility", "decision", "reason"]]
            .rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "agency": "Agency",
                    "usefulness": "Usefulness",
                    "accessibility": "Accessibility",
                    "decision": "Decision",
                    "reason": "Why",
                }
            )
            .astype({"Decision": str}),
            decimals={"Usefulness": 2, "Accessibility": 2},
        ),
    )


def section_pilot_dataset(ctx: Context) -> Section:
    diff = diff_datamodels(ctx.base, ctx.pilot)
    return Section().add(
        f"The pilot dataset is written as data-model version {esc(ctx.pilot.version)} "
        f"({len(ctx.pilot.items)} items), based on {esc(ctx.base.version)}; items placed as "
        "drop are removed and the rest carry their tier.",
        format_diff_markdown(diff, f"Changes from {ctx.base.version} to {ctx.pilot.version}"),
    )


def section_borough(ctx: Context) -> Section:
    """The borough's raters against the whole area's."""
    if ctx.is_london:
        return Section().add(
            f"Each pilot borough's report compares its raters' view with {esc(ctx.area)}'s."
        )
    if not ctx.has_ratings:
        return Section()
    mine = ctx.scores_by_borough.loc[ctx.scores_by_borough["la_code_ons"] == ctx.la_code].set_index(
        "item_id"
    )
    london = ctx.scores.set_index("item_id")
    diff = pd.DataFrame(
        {
            "title": ctx.items.loc[mine.index, "title"],
            "borough_access": mine["accessibility"],
            "london_access": london.loc[mine.index, "accessibility"],
            "borough_useful": mine["usefulness"],
            "london_useful": london.loc[mine.index, "usefulness"],
        }
    )
    diff["gap"] = (diff["borough_access"] - diff["london_access"]).abs() + (
        diff["borough_useful"] - diff["london_useful"]
    ).abs()
    top = diff.sort_values("gap", ascending=False).head(12).reset_index()
    raters = ctx.ratings.loc[ctx.ratings["la_code_ons"] == ctx.la_code].drop_duplicates("rater_id")
    return Section().add(
        f"{esc(ctx.la_name)}'s {plural(len(raters), 'rater')} "
        f"({listing(raters['rater_role'].fillna('role not given'))}) against all pilot raters. "
        f"The items where its view differs most from {esc(ctx.area)}'s are where its systems "
        "or practice differ: worth a conversation before the pilot.",
        table(
            top.rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "borough_access": "Accessibility here",
                    "london_access": ctx.area,
                    "borough_useful": "Usefulness here",
                    "london_useful": f"{ctx.area} ",
                    "gap": "Difference",
                }
            ),
            decimals={
                "Accessibility here": 2,
                ctx.area: 2,
                "Usefulness here": 2,
                f"{ctx.area} ": 2,
                "Difference": 2,
            },
        ),
    )


def explorer(ctx: Context, explore: bool = False):
    """In JupyterLab (``explore=True``): filter items by agency, theme and score."""
    if not explore:
        return None
    import ipywidgets as w
    from IPython.display import display

    agencies = w.SelectMultiple(options=sorted(ctx.items["agency"].unique()), description="Agency")
    themes = w.SelectMultiple(options=sorted(ctx.items["theme"].unique()), description="Theme")
    min_useful = w.FloatSlider(value=1.0, min=1.0, max=4.0, step=0.25, description="Usefulness ≥")
    out = w.Output()

    def refresh(_change=None) -> None:
        d = ctx.decisions.join(ctx.items[["theme"]])
        if agencies.value:
            d = d.loc[d["agency"].isin(agencies.value)]
        if themes.value:
            d = d.loc[d["theme"].isin(themes.value)]
        d = d.loc[d["usefulness"] >= min_useful.value]
        out.clear_output()
        with out:
            display(
                table(
                    d.reset_index()[
                        ["item_id", "title", "usefulness", "accessibility", "decision"]
                    ].astype({"decision": str}),
                    decimals={"usefulness": 2, "accessibility": 2},
                )
            )

    for widget in (agencies, themes, min_useful):
        widget.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox([agencies, themes]), min_useful, out])


def summary(project: Project) -> dict:
    return phases.prepared_summary(project, PHASE)
