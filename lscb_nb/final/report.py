"""The project's final report, organised as the Datasets Project's final report was.

Each section is filled from what the phases produced: the data-model versions,
phase 1's mapping of what boroughs collect, phase 2's ratings of accessibility
and usefulness, and phase 3's evaluation of the pilot returns. Where a phase has
not been run, the section says so rather than filling the gap with boilerplate.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from lscb_nb.assessment import ratings
from lscb_nb.core import display, periods, phases
from lscb_nb.core.datamodel import AGENCY_LABELS, DataModel, available_versions, load_datamodel
from lscb_nb.core.display import Section, esc, listing, nothing_to_show, plural, table
from lscb_nb.core.project import Project, find_project
from lscb_nb.pilot import completeness, refinement
from lscb_nb.pilot import report as pilot_report

log = logging.getLogger(__name__)

CHILDREN_THEME = "children_views_and_participation"


@dataclass
class Context:
    project: Project
    synthetic: bool
    candidate: DataModel
    versions: dict[str, DataModel]
    pilot: pilot_report.Context | None
    mapping: dict | None
    assessment: dict | None
    final: DataModel

    @property
    def area(self) -> str:
        return self.project.area_name


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
    folder = project.datamodel_dir
    versions = {}
    if folder.exists():
        versions = {v: load_datamodel(v, folder) for v in available_versions(folder)}
    pilot = (
        pilot_report.load_context(project)
        if phases.is_prepared(project, phases.get("pilot"))
        else None
    )
    return Context(
        project=project,
        synthetic=project.synthetic,
        candidate=phases.load_candidate(project),
        versions=versions,
        pilot=pilot,
        mapping=_read_phase(processed / "mapping"),
        assessment=_read_phase(processed / "assessment"),
        final=phases.latest(project).datamodel,
    )


def header(ctx: Context) -> Section:
    from lscb_nb.core import display

    p = ctx.pilot
    facts = {
        "Report": ctx.project.title,
        "Area": f"{ctx.area} ({plural(len(ctx.project.authorities), 'authority', 'authorities')})",
        "Pilot": (
            f"{plural(len(p.pilots), 'authority', 'authorities')}, "
            f"{periods.span_text(p.period_labels)}"
            if p is not None
            else "not run yet"
        ),
        "Dataset versions": ", ".join([ctx.candidate.version, *ctx.versions]),
        "Phases run": ", ".join(
            ph.title
            for ph in phases.all_phases()
            if ph.writes and phases.is_prepared(ctx.project, ph)
        )
        or "none yet",
    }
    if p is not None:
        facts["Data snapshot"] = str(p.ingest.get("input_snapshot_sha256", ""))[:12]
    return display.header("Final report", facts, ctx.synthetic)


def _labels(codes: pd.Series, labels: dict[str, str]) -> pd.Series:
    return codes.map(lambda c: labels.get(c, c))


def _collected_by(ctx: Context) -> pd.Series | None:
    """How many boroughs said (phase 1) they already collect each item."""
    if ctx.mapping is None:
        return None
    for name in ("matches", "catalogue"):
        frame = ctx.mapping.get(name)
        if frame is not None and {"la_code_ons", "item_id"} <= set(frame.columns):
            used = frame.dropna(subset=["item_id"])
            return used.groupby("item_id")["la_code_ons"].nunique()
    return None


# --------------------------------------------------------------------------------------
# 1. The dataset
# --------------------------------------------------------------------------------------


def section_dataset(ctx: Context) -> Section:
    """The dataset, its profile and why: each item's source and how to implement it."""
    final = ctx.final
    items = final.items
    by_agency = items.groupby("agency").size().rename("items")
    by_agency.index = _labels(by_agency.index.to_series(), AGENCY_LABELS)
    tiers = items["tier"].value_counts()
    sec = Section().add(
        f"The project began with a candidate dataset of {len(ctx.candidate.items)} items drawn "
        "from the statutory returns, the National Indicators and Working Together. It "
        f"{'ends' if ctx.pilot is not None else 'stands so far'} "
        f"with version {esc(final.version)}: {plural(len(items), 'item')}, of which "
        f"{tiers.get('core', 0)} core, {tiers.get('develop', 0)} to develop and "
        f"{tiers.get('local_option', 0)} local options."
    )
    if ctx.pilot is not None:
        recs = ctx.pilot.recommendations_in_scope["disposition"].astype(str).value_counts()
        sec.add(
            f"The pilot's evidence kept {recs.get(refinement.KEEP, 0)} items as they were, asked "
            f"for {recs.get(refinement.AMEND, 0)} definitions to be amended, moved "
            f"{recs.get(refinement.LOCAL, 0)} to local option and dropped "
            f"{recs.get(refinement.DROP, 0)}."
        )
    versions = [("candidate", ctx.candidate)] + [
        (v.meta.get("status", ""), v) for v in ctx.versions.values()
    ]
    sec.add(
        table(
            pd.DataFrame(
                {
                    "Version": [v.version for _, v in versions],
                    "Stage": [s for s, _ in versions],
                    "Items": [len(v.items) for _, v in versions],
                    "Based on": [v.meta.get("based_on") or "–" for _, v in versions],
                }
            ),
            caption="How the dataset was refined, phase by phase",
        )
    )
    fig, ax = plt.subplots(figsize=(8, 3.6))
    by_agency.sort_values().plot.barh(ax=ax, color="#2171b5")
    ax.set_xlabel("Items in the final dataset")
    ax.set_ylabel("")
    ax.set_title(f"Version {final.version}: items by supplying agency")
    fig.tight_layout()
    display.describe(
        fig,
        f"Bar chart of the items in version {final.version} by supplying agency: "
        + ", ".join(f"{a} {n}" for a, n in by_agency.sort_values(ascending=False).items())
        + ".",
    )
    sec.add(
        "Children's social care supplies most items because its statutory returns already "
        "define them; the other agencies' items are fewer and newer.",
        fig,
    )
    collected = _collected_by(ctx)
    rows = items.reset_index()[
        ["item_id", "title", "agency", "tier", "statutory_return", "frequency", "source_systems"]
    ].copy()
    rows["agency"] = _labels(rows["agency"], AGENCY_LABELS)
    rows["source_systems"] = rows["source_systems"].map(lambda s: ", ".join(s or []))
    if collected is not None:
        rows["boroughs collecting (phase 1)"] = rows["item_id"].map(collected).fillna(0)
    if ctx.pilot is not None:
        rows["pilot disposition"] = rows["item_id"].map(
            ctx.pilot.recommendations["disposition"].astype(str)
        )
    sec.add(
        "Every item, where it comes from and how often boroughs return it. The full "
        "definitions, numerators and denominators are in the data dictionary of the version "
        "(`lscb-nb datamodel dictionary`).",
        table(
            rows.rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "agency": "Agency",
                    "tier": "Tier",
                    "statutory_return": "Statutory return",
                    "frequency": "Frequency",
                    "source_systems": "Source systems",
                }
            ),
            caption=f"The dataset, version {final.version}",
        ),
    )
    return sec


# --------------------------------------------------------------------------------------
# 2. IT infrastructure
# --------------------------------------------------------------------------------------


@needs_pilot
def section_it(ctx: Context) -> Section:
    """Which systems the items come from, and how well figures came out of each."""
    items = ctx.candidate.items
    systems = items["source_systems"].explode().dropna().rename("system")
    cells = ctx.pilot.cells.merge(systems, left_on="item_id", right_index=True)
    if cells.empty:
        return nothing_to_show("No item names a source system.")
    summary = completeness.summarise(cells, "system")
    summary["items"] = systems.groupby(systems).size().reindex(summary.index)
    summary = summary.sort_values("on_time_pct")
    sec = Section().add(
        f"The dataset draws on {plural(len(summary), 'source system')}. The table ranks them "
        "by how often the pilot's figures from items held in each system arrived on time: the "
        "systems at the top are where extraction is hardest, usually because the figure has "
        "to be counted by hand or pulled from a system built for another purpose."
    )
    sec.add(
        table(
            summary.reset_index()[
                ["system", "items", "expected", "supplied_pct", "on_time_pct"]
            ].rename(
                columns={
                    "system": "System",
                    "items": "Items",
                    "expected": "Figures expected",
                    "supplied_pct": "% supplied",
                    "on_time_pct": "% on time",
                }
            ),
            decimals={"% supplied": 0, "% on time": 0},
            max_rows=15,
        )
    )
    if ctx.assessment is not None and "ratings" in ctx.assessment:
        rated = ctx.assessment["ratings"]
        if {"system", "score", "dimension"} <= set(rated.columns):
            by_sys = ratings.system_accessibility(rated).head(10)
            if not by_sys.empty:
                sec.add(
                    "Phase 2's raters named the systems they would extract from; the lowest "
                    "mean accessibility scores (the accessibility criteria only, 1 to 4, as "
                    "phase 2 reports them) were for:",
                    table(
                        by_sys[["system", "mean", "count"]].rename(
                            columns={
                                "system": "System",
                                "mean": "Mean accessibility",
                                "count": "Scores",
                            }
                        ),
                        caption="Source systems by mean accessibility score (phase 2)",
                        decimals={"Mean accessibility": 2},
                        meta=ratings.SYSTEMS_META,
                    ),
                )
    return sec


# --------------------------------------------------------------------------------------
# 3. Information sharing
# --------------------------------------------------------------------------------------


@needs_pilot
def section_sharing(ctx: Context) -> Section:
    """Which agencies supplied what, and where sharing failed."""
    cells = ctx.pilot.cells
    by_agency = completeness.summarise(cells, "agency")
    labels = {AGENCY_LABELS.get(a, a): a for a in by_agency.index}
    by_agency.index = _labels(by_agency.index.to_series(), AGENCY_LABELS)
    never = cells.loc[cells["status"] == completeness.MISSING]
    whole = never.groupby(["la_code_ons", "period", "agency"]).size()
    expected = cells.groupby(["la_code_ons", "period", "agency"]).size()
    failed = (whole / expected.reindex(whole.index)) == 1
    failures = failed[failed].reset_index()[["la_code_ons", "period", "agency"]]
    worst = by_agency["supplied_pct"].idxmin()
    headers = {
        "expected": "Expected",
        "on time": "On time",
        "late": "Late",
        "suppressed": "Suppressed",
        "quarantined": "Held back",
        "missing": "Missing",
    }
    shown = (
        by_agency.reset_index()
        .rename(columns={"index": "Agency", "agency": "Agency"})[["Agency", *headers]]
        .rename(columns=headers)
        .assign(**{"% supplied": by_agency["supplied_pct"].to_numpy()})
    )
    sec = Section().add(
        "Every agency's share of the figures expected of it across the pilot: each row adds "
        "up, as figures supplied on time or late, suppressed by the borough, held back by "
        "validation, or missing. Where a whole agency's part of a quarter's return never "
        "arrived, the partnership's information sharing failed that quarter: "
        f"{plural(len(failures), 'time')} in all. {esc(worst)} supplied the smallest share "
        f"({by_agency.loc[worst, 'supplied_pct']:.0f}%).",
        table(
            shown,
            caption="Figures expected of each agency, by what happened to them",
            decimals={"% supplied": 0},
            meta=completeness.table_meta(
                "agency",
                "Agency",
                headers,
                {"% supplied": completeness.SUPPLIED},
                labels=labels,
            ),
        ),
    )
    if not failures.empty:
        counts = failures.groupby("agency").size().sort_values(ascending=False)
        sec.add(
            "Agency returns that never arrived, by agency: "
            + "; ".join(f"{esc(AGENCY_LABELS.get(a, a))} {n}" for a, n in counts.items())
            + "."
        )
    return sec


# --------------------------------------------------------------------------------------
# 4. Good practice
# --------------------------------------------------------------------------------------


@needs_pilot
def section_good_practice(ctx: Context) -> Section:
    """The pilots whose returns were most complete, timely and clean."""
    p = ctx.pilot
    by_la = completeness.summarise(p.cells, "la_code_ons")
    issues = p.returns.issues.groupby("la_code_ons").size()
    flags = p.flags.groupby("la_code_ons").size()
    by_la["issues"] = issues.reindex(by_la.index).fillna(0).astype(int)
    by_la["definition flags"] = flags.reindex(by_la.index).fillna(0).astype(int)
    by_la = by_la.sort_values(["on_time_pct", "issues"], ascending=[False, True])
    labels = {p.name(c): c for c in by_la.index}
    by_la.index = [p.name(c) for c in by_la.index]
    best = by_la.index[0]
    clean = by_la.loc[(by_la["issues"] == 0) & (by_la["definition flags"] == 0)].index
    return Section().add(
        f"{esc(best)} returned the highest share of its figures on time "
        f"({by_la.iloc[0]['on_time_pct']:.0f}%). "
        + (
            f"{listing(clean)} sent returns with no validation issues and no definitional "
            "queries: their data officers' practice (one named contact per agency, figures "
            "checked against the definitions before sending) is the model for the rest."
            if len(clean)
            else "Every pilot borough had at least one validation issue or definitional query."
        ),
        table(
            by_la.reset_index()
            .rename(columns={"index": "Borough"})[
                ["Borough", "supplied_pct", "on_time_pct", "issues", "definition flags"]
            ]
            .rename(
                columns={
                    "supplied_pct": "% supplied",
                    "on_time_pct": "% on time",
                    "issues": "Validation issues",
                    "definition flags": "Definitional queries",
                }
            ),
            caption="Pilot boroughs' returns: supplied, on time and clean",
            decimals={"% supplied": 0, "% on time": 0},
            meta=completeness.table_meta(
                "la_code_ons",
                "Borough",
                {},
                {"% supplied": completeness.SUPPLIED, "% on time": (completeness.ON_TIME,)},
                labels=labels,
            ),
        ),
    )


# --------------------------------------------------------------------------------------
# 5. Children's involvement
# --------------------------------------------------------------------------------------


def section_children(ctx: Context) -> Section:
    """What the dataset tells the board about children's views and participation."""
    items = ctx.candidate.items
    ids = items.index[items["theme"] == CHILDREN_THEME]
    if len(ids) == 0:
        return nothing_to_show("The dataset has no items on children's views.")
    cells = (
        ctx.pilot.cells.loc[ctx.pilot.cells["item_id"].isin(ids)]
        if ctx.pilot is not None
        else pd.DataFrame()
    )
    summary = completeness.summarise(cells, "item_id") if not cells.empty else None
    collected = _collected_by(ctx)
    rows = pd.DataFrame({"Item": ids, "Title": items.loc[ids, "title"].to_numpy()})
    if collected is not None:
        rows["Boroughs collecting before the project"] = (
            rows["Item"].map(collected).fillna(0).astype(int)
        )
    if summary is not None:
        rows["% supplied in the pilot"] = rows["Item"].map(summary["supplied_pct"])
    rows["Disposition"] = rows["Item"].map(ctx.pilot.recommendations["disposition"].astype(str))
    in_final = set(ctx.final.items.index)
    kept = [i for i in ids if i in in_final]
    return Section().add(
        f"The dataset carries {plural(len(ids), 'item')} on children's views and "
        f"participation; {len(kept)} remain in version {esc(ctx.final.version)}. "
        + (
            "Before the project, on average "
            f"{rows['Boroughs collecting before the project'].mean():.0f} boroughs collected "
            "each of them: it was the thinnest part of what boards knew. "
            if collected is not None
            else ""
        )
        + "Where boroughs could supply these figures they were among the few that tell a board "
        "whether children are heard, not only whether services were delivered.",
        table(rows, decimals={"% supplied in the pilot": 0}),
    )


# --------------------------------------------------------------------------------------
# 6. Interfaces with other datasets
# --------------------------------------------------------------------------------------


def section_interfaces(ctx: Context) -> Section:
    """Statutory returns, National Indicators and published benchmarks the dataset reuses."""
    items = ctx.final.items
    by_return = items["statutory_return"].value_counts()
    with_ni = items.loc[items["national_indicators"].map(bool)]
    nis = sorted(
        {n for ns in with_ni["national_indicators"] for n in ns}, key=lambda n: int(n.split()[1])
    )
    check = ctx.pilot.published_check
    agree = check["ratio"].between(0.67, 1.5).mean() * 100 if not check.empty else float("nan")
    sec = Section().add(
        f"{by_return.drop('none', errors='ignore').sum()} of the {len(items)} items are already "
        "carried by a statutory return, so boroughs can take them from what they send "
        f"nationally: {', '.join(f'{esc(k)} {v}' for k, v in by_return.items() if k != 'none')}. "
        f"{len(with_ni)} items match National Indicators ({esc(', '.join(nis))}).",
    )
    if not check.empty:
        sec.add(
            f"Where DfE publishes the same measure (children in need census, SSDA903), "
            f"{agree:.0f}% of the pilot's annual figures were within half again of the "
            "borough's published figure; the rest are the definitional differences the pilot "
            "found, and each one is a conversation to have before the dataset is compared with "
            "national figures."
        )
    return sec


# --------------------------------------------------------------------------------------
# 7. Gaps and challenges
# --------------------------------------------------------------------------------------


@needs_pilot
def section_gaps(ctx: Context) -> Section:
    """What the dataset could not yet cover, and why."""
    p = ctx.pilot
    by_agency = completeness.summarise(p.cells, "agency")
    late = by_agency.sort_values("on_time_pct").head(3)
    sec = Section()
    collected = _collected_by(ctx)
    if collected is not None:
        none = ctx.candidate.items.index.difference(collected.index[collected > 0])
        sec.add(
            f"{plural(len(none), 'candidate item')} were collected by no borough before the "
            f"project ({listing(none)}): the dataset asks for them because statute or the "
            "board's functions need them, and they need building from scratch."
        )
    sec.add(
        "The least timely agencies in the pilot were "
        + listing(
            [
                f"{AGENCY_LABELS.get(a, a)} ({v:.0f}% on time)"
                for a, v in late["on_time_pct"].items()
            ]
        )
        + ". Health figures come from several trusts' systems with no common definition, and "
        "arrived late most often."
    )
    if not p.flags.empty:
        sec.add(
            f"{plural(len(p.flags), 'figure')} suggested a borough was counting to its own "
            "definition: "
            + listing(
                [f"{p.name(r.la_code_ons)} {r.item_id} ({r.signal})" for r in p.flags.itertuples()]
            )
            + "."
        )
    return sec


# --------------------------------------------------------------------------------------
# 8. Recommendations
# --------------------------------------------------------------------------------------


def recommendations(ctx: Context) -> list[str]:
    """The report's recommendations, each one following from a finding above."""
    p = ctx.pilot
    out = [
        f"Adopt version {ctx.final.version} ({len(ctx.final.items)} items) as the "
        f"{ctx.area} dataset, with local options left to each board."
        if p is not None
        else f"Pilot version {ctx.final.version} ({len(ctx.final.items)} items) before adopting "
        "it: phase 3 has not been run yet."
    ]
    if p is None:
        return out
    recs = p.recommendations_in_scope
    amend = recs.index[recs["disposition"].astype(str) == refinement.AMEND]
    if len(amend):
        out.append(
            f"Agree the counting rules for {listing(amend)} with the boroughs flagged, before "
            f"any figure for them is compared across {ctx.area}."
        )
    by_agency = completeness.summarise(p.cells, "agency")
    worst = by_agency["on_time_pct"].idxmin()
    out.append(
        f"Agree a data-sharing protocol and deadline with {AGENCY_LABELS.get(worst, worst)} "
        f"partners: only {by_agency.loc[worst, 'on_time_pct']:.0f}% of their figures arrived on "
        "time."
    )
    local = recs.index[recs["disposition"].astype(str) == refinement.LOCAL]
    if len(local):
        out.append(
            f"Leave {plural(len(local), 'item')} to local choice: they did not tell boroughs apart "
            "or only some boroughs can supply them."
        )
    out.append(
        "Return the dataset in the toolkit's template each quarter, validate it on arrival, and "
        "publish figures with small-number suppression and confidence intervals, as this pilot did."
    )
    return out


def section_recommendations(ctx: Context) -> Section:
    return Section().add("\n".join(f"{i}. {esc(r)}" for i, r in enumerate(recommendations(ctx), 1)))


def section_intro(ctx: Context) -> Section:
    """What the project set out to do and how far it has come, from the data."""
    ran = [ph for ph in phases.all_phases() if ph.writes and phases.is_prepared(ctx.project, ph)]
    n = len(ctx.project.authorities)
    sentence = (
        f"{esc(ctx.project.name)} set out to give the {plural(n, 'authority', 'authorities')} "
        f"of {esc(ctx.area)} one practical, multi-agency dataset for monitoring how well "
        "children are safeguarded. "
    )
    if ctx.pilot is not None:
        sentence += (
            f"The pilot ran in {plural(len(ctx.pilot.pilots), 'authority', 'authorities')} "
            f"for {periods.span_text(ctx.pilot.period_labels)}. "
        )
    sentence += (
        "This report brings together "
        + (listing(ph.title for ph in ran) if ran else "no phase yet")
        + "; every figure in it comes from their data."
    )
    return Section().add(sentence)
