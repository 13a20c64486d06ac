"""The final report's findings by theme: IT, information sharing, good practice,
children's involvement and interfaces with other datasets (sections 2 to 6).

Each is filled from what the phases produced; one built on the pilot says so plainly
when the pilot has not been run.
"""

from __future__ import annotations

import logging

import pandas as pd

from lscb_nb.assessment import ratings
from lscb_nb.core import labels, regional
from lscb_nb.core.datamodel import AGENCY_LABELS
from lscb_nb.core.display import Section, esc, listing, nothing_to_show, plural, table
from lscb_nb.final.context import Context, collected_by, needs_pilot
from lscb_nb.pilot import completeness

log = logging.getLogger(__name__)

CHILDREN_THEME = "children_views_and_participation"


def _labels(codes: pd.Series, labels: dict[str, str]) -> pd.Series:
    return codes.map(lambda c: labels.get(c, c))


# --------------------------------------------------------------------------------------
# 2. IT infrastructure
# --------------------------------------------------------------------------------------


@needs_pilot
def section_it(ctx: Context) -> Section:
    """Which systems the items come from, and how well figures came out of each."""
    items = ctx.candidate.items
    regions = ctx.project.regions
    systems = (
        items["source_systems"]
        .map(lambda s: regional.source_systems(s, regions))
        .explode()
        .dropna()
        .rename("system")
    )
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
            caption="Source systems by how often their figures arrived on time",
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
    never = cells.loc[cells["status"].isin([completeness.NOT_SUPPLIED, completeness.NOT_RECEIVED])]
    whole = never.groupby(["la_code_ons", "period", "agency"]).size()
    due = cells.loc[cells["status"].isin(completeness.EXPECTED)]
    expected = due.groupby(["la_code_ons", "period", "agency"]).size()
    failed = (whole / expected.reindex(whole.index)) == 1
    failures = failed[failed].reset_index()[["la_code_ons", "period", "agency"]]
    worst = by_agency["supplied_pct"].idxmin()
    shown = completeness.status_counts_table(by_agency, "Agency")
    headers = completeness.status_headers(shown)
    sec = Section().add(
        "Every agency's share of the figures expected of it across the pilot: each row adds "
        f"up, as figures supplied on time or late, suppressed by the {ctx.word()}, not "
        "available, not collected, quarantined by validation, not supplied (left blank) or "
        "not received (the return is overdue); figures not yet due are counted apart. Where "
        "a whole agency's part of a quarter's return never "
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
            else f"Every pilot {ctx.word()} had at least one validation issue or definitional "
            "query."
        ),
        table(
            by_la.reset_index()
            .rename(columns={"index": ctx.word(capital=True)})[
                [
                    ctx.word(capital=True),
                    "supplied_pct",
                    "on_time_pct",
                    "issues",
                    "definition flags",
                ]
            ]
            .rename(
                columns={
                    "supplied_pct": "% supplied",
                    "on_time_pct": "% on time",
                    "issues": "Validation issues",
                    "definition flags": "Definitional queries",
                }
            ),
            caption=f"Pilot {ctx.word(plural=True)}' returns: supplied, on time and clean",
            decimals={"% supplied": 0, "% on time": 0},
            meta=completeness.table_meta(
                "la_code_ons",
                ctx.word(capital=True),
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
    collected = collected_by(ctx)
    rows = pd.DataFrame({"Item": ids, "Title": items.loc[ids, "title"].to_numpy()})
    collecting = f"{ctx.word(plural=True, capital=True)} collecting before the project"
    if collected is not None:
        rows[collecting] = rows["Item"].map(collected).fillna(0).astype(int)
    if summary is not None:
        rows["% supplied in the pilot"] = rows["Item"].map(summary["supplied_pct"])
    if ctx.pilot is not None:
        rows["Disposition"] = rows["Item"].map(ctx.pilot.recommendations["disposition"].astype(str))
    in_final = set(ctx.final.items.index)
    kept = [i for i in ids if i in in_final]
    return Section().add(
        f"The dataset carries {plural(len(ids), 'item')} on children's views and "
        f"participation; {len(kept)} remain in version {esc(ctx.final.version)}. "
        + (
            "Before the project, on average "
            f"{rows[collecting].mean():.0f} {ctx.word(plural=True)} "
            "collected "
            "each of them: it was the thinnest part of what boards knew. "
            if collected is not None
            else ""
        )
        + f"Where {ctx.word(plural=True)} could supply these figures they were among the few "
        "that tell a board "
        "whether children are heard, not only whether services were delivered.",
        table(
            rows, decimals={"% supplied in the pilot": 0}, caption="Items on children's involvement"
        ),
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
    check = ctx.pilot.published_check if ctx.pilot is not None else pd.DataFrame()
    agree = check["ratio"].between(0.67, 1.5).mean() * 100 if not check.empty else float("nan")
    sec = Section().add(
        f"{by_return.drop('none', errors='ignore').sum()} of the {len(items)} items are already "
        f"carried by a statutory return, so {ctx.word(plural=True)} can take them from what they "
        "send "
        "nationally: "
        + "; ".join(
            f"{esc(labels.value_label('statutory_return', k))} {v}"
            for k, v in by_return.items()
            if k != "none"
        )
        + ". "
        f"{len(with_ni)} items match National Indicators ({esc(', '.join(nis))}).",
    )
    if not check.empty:
        sec.add(
            f"Where DfE publishes the same measure (children in need census, SSDA903), "
            f"{agree:.0f}% of the pilot's annual figures were within half again of the "
            f"{ctx.word()}'s published figure; the rest are the definitional differences the pilot "
            "found, and each one is a conversation to have before the dataset is compared with "
            "national figures."
        )
    return sec


# --------------------------------------------------------------------------------------
