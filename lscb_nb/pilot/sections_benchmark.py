"""Phase 3's report on how authorities compare: against DfE's published figures, the
pilot, their neighbours and the area's other authorities.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.core import disclosure, display, reference
from lscb_nb.core.display import Section, esc, listing, nothing_to_show, number, plural, table
from lscb_nb.pilot import comparators, figures, funnels, observations, published, rug, spine, stage
from lscb_nb.pilot.context import Context, borough_benchmark, needs_returns, prepared_benchmarks

log = logging.getLogger(__name__)


@needs_returns
def section_published(ctx: Context) -> Section:
    """The pilot's figures beside DfE's published ones for the same authority and year."""
    check = ctx.published_check
    if not ctx.is_london:
        check = check.loc[check["la_code_ons"] == ctx.la_code]
    if check.empty:
        return nothing_to_show(
            f"None of this {ctx.word()}'s pilot items has a published DfE figure to compare with."
        )
    shown = check.assign(
        la_name=[ctx.name(c) for c in check["la_code_ons"]],
        Title=[ctx.items.at[i, "title"] for i in check["item_id"]],
    )
    far = shown.loc[~shown["ratio"].between(0.67, 1.5)]
    sec = Section().add(
        "Where DfE publishes a measure (children in need census, SSDA903), the pilot figure "
        "for the same authority and year should match the published one. A pilot figure "
        f"well away from DfE's means the {ctx.word()} counted it differently for the pilot."
    )
    if ctx.is_london:
        sec.add(figures.plot_pilot_vs_published(shown, far))
    sec.add(
        f"{plural(len(far), 'figure')} differ from DfE's by more than half again:"
        if not far.empty
        else "Every pilot figure is within half again of DfE's published figure.",
    )
    shown = shown.assign(Measure=[_published_unit(ctx, i) for i in shown["item_id"]])
    far = shown.loc[~shown["ratio"].between(0.67, 1.5)]
    cols = ["la_name", "item_id", "Title", "Measure", "year", "pilot_value"]
    cols += ["published_value", "ratio"]
    sec.add(
        "Both figures are for the financial year (the pilot's four quarters added up for "
        "flows, its Q4 figure for snapshots), on the same population.",
        table(
            (far if ctx.is_london else shown)[cols].rename(
                columns={
                    "la_name": ctx.word(capital=True),
                    "item_id": "Item",
                    "year": "Year",
                    "pilot_value": "Pilot (year)",
                    "published_value": "DfE published (year)",
                    "ratio": "Pilot / DfE",
                }
            ),
            caption="Pilot figures beside DfE's published figures",
            decimals={"Pilot (year)": 1, "DfE published (year)": 1, "Pilot / DfE": 2},
        ),
    )
    return _cite(sec, ctx, shown["item_id"])


def _neighbour_cell(r: pd.Series, d: int) -> str:
    """The neighbour comparator with what it rests on: the pilot neighbours' median and
    how many, or DfE's published figure for all ten where fewer than three reported."""
    n = int(r.get("neighbours_n", 0) or 0)
    if n >= comparators.MIN_NEIGHBOURS or not np.isfinite(r.get("dfe_neighbours", np.nan)):
        if n == 0:
            return "– (no pilot neighbour)"
        value = number(r["Statistical neighbours (median)"], d)
        return f"{value} ({plural(n, 'pilot neighbour')})"
    return (
        f"{number(r['dfe_neighbours'], 1)} {r['dfe_unit']} (DfE {int(r['dfe_year'])}, "
        f"{int(r['dfe_neighbours_n'])} neighbours; {plural(n, 'pilot neighbour')})"
    )


def _rank_cell(r: pd.Series, hidden: bool) -> str:
    if hidden:
        return "c"
    if r["polarity"] == "neutral":
        return "not ranked (no better direction)"
    return "–" if pd.isna(r["rank"]) else f"{int(r['rank'])} of {r['ranked_of']}"


@needs_returns
def section_benchmark(ctx: Context) -> Section:
    """The borough's figures with intervals, against the area, neighbours and the pilot."""
    if ctx.is_london:
        return Section().add(
            "Each pilot authority's own report benchmarks its figures, with confidence "
            f"intervals, against the {esc(ctx.area)} pilot average, its statistical neighbours "
            "and its own figures a year earlier, with funnel plots and a spine chart. This "
            f"{esc(ctx.area)} report looks at the pilot as a whole."
        )
    if not ctx.judged:
        return nothing_to_show(ctx.benchmark_sentence)
    bb = borough_benchmark(ctx)
    if bb.empty:
        return nothing_to_show(f"{ctx.la_name} supplied no usable figures for {ctx.period}.")
    hidden = disclosure.primary_suppress(bb["count"].fillna(0), ctx.threshold)
    rows = []
    for i, r in bb.iterrows():
        d = int(r["decimal_places"]) if r["kind"] == "proportion" else 1
        c = bool(hidden.iloc[i])
        neutral = r["polarity"] == "neutral"
        london = number(r[comparators.AREA_AVERAGE], d)
        if r.get("london_excluded", 0):
            london += f" (without {plural(int(r['london_excluded']), 'different definition')})"
        rows.append(
            {
                "Item": r["item_id"],
                "Title": r["title"],
                "Measure": observations.unit_label(
                    r["unit"], r.get("measure_type"), r.get("frequency")
                ),
                "Value": "c" if c else number(r["value"], d),
                "95% CI": "c" if c else f"{number(r['lower'], d)} to {number(r['upper'], d)}",
                f"{ctx.area} pilot": london,
                "Neighbours": _neighbour_cell(r, d),
                f"vs {ctx.area}": "c" if c else r["vs_london"],
                "Better/worse": "c" if c else ("no better direction" if neutral else r["rag"]),
                "Rank": _rank_cell(r, c),
                "Quartile": "c" if c else ("not ranked" if neutral else r["quartile_band"]),
                "Change on last year": "c"
                if c or pd.isna(r.get("change"))
                else f"{number(r['change'], d)}"
                + (" (significant)" if r["change_significant"] else ""),
                "Trend": r.get("trend") if isinstance(r.get("trend"), str) else "–",
            }
        )
    shown = pd.DataFrame(rows)
    higher = int((bb["vs_london"] == "higher").sum())
    lower = int((bb["vs_london"] == "lower").sum())
    own_flags = bb.loc[bb.get("own_excluded", pd.Series(False, index=bb.index)).astype(bool)]
    dropped = ctx.flags.loc[ctx.flags["item_id"].isin(bb["item_id"])]
    sec = Section().add(
        f"Each of {esc(ctx.la_name)}'s figures for {esc(ctx.period)}, with its 95% confidence "
        f"interval, against the {esc(ctx.area)} pilot average (the pilot authorities pooled) "
        "and the median "
        f"of its DfE statistical neighbours that took part, with how many {ctx.word(plural=True)} "
        "it rests on. "
        f"Where fewer than {comparators.MIN_NEIGHBOURS} neighbours reported, DfE's published "
        "figure for all ten neighbours is shown instead where DfE publishes the item (a "
        f"figure for the year, so read it beside the {ctx.word()}'s own published figure, not its "
        "quarter). Rates for a quarter are per quarter; they are not annualised. A figure is "
        f"called higher or lower only when its interval excludes the {esc(ctx.area)} figure: "
        f"{higher} were higher and {lower} lower. 'Better/worse' applies the item's polarity; "
        "items where neither direction is better are only higher or lower, and are not "
        f"ranked. Rank and quartile are among the pilot {ctx.word(plural=True)} (1 = best). "
        + esc(ctx.benchmark_sentence)
        + f" Averages and ranks over fewer than {ctx.quorum} authorities are not shown."
    )
    if not dropped.empty:
        sec.add(
            "Figures that look counted to a different definition are left out of the "
            f"{esc(ctx.area)} and neighbour figures: "
            + listing([f"{ctx.name(f.la_code_ons)} {f.item_id}" for f in dropped.itertuples()])
            + "."
            + (
                f" {esc(ctx.la_name)}'s own figure for "
                + listing(own_flags["item_id"])
                + " is one of them: compare it with care."
                if not own_flags.empty
                else ""
            )
        )
    sec.add(
        table(
            shown,
            caption=f"{ctx.la_name} against {ctx.area}, {ctx.period}",
            meta={
                "kind": "benchmark",
                "source": "pilot/observations",
                "la_code_ons": ctx.la_code,
                "period": ctx.period,
                "row_column": "Item",
            },
        ),
        display.state_key(shown[["Value"]]),
    )
    return sec


def _all_benchmarks(ctx: Context) -> pd.DataFrame:
    """Every pilot borough's benchmark table for the report's quarter: the stage's,
    when it prepared that quarter, else worked out here."""
    prepared = prepared_benchmarks(ctx)
    done: set[str] = set()
    tables = []
    if not prepared.empty and "vs_london" in prepared.columns and "period" in prepared:
        here = prepared.loc[prepared["period"] == ctx.period]
        tables.append(here)
        done = set(here["la_code_ons"])
    tables += [
        comparators.borough_benchmark(
            ctx.obs,
            la,
            ctx.period,
            ctx.authorities,
            stage.neighbour_codes(la),
            exclude=ctx.flags,
            min_authorities=ctx.quorum,
        ).assign(la_code_ons=la, period=ctx.period)
        for la in ctx.pilots
        if la not in done
    ]
    tables = [t for t in tables if not t.empty]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


@needs_returns
def section_rug(ctx: Context) -> Section:
    """Fingertips' rug for the area report: every pilot borough against the area on
    every item, by significance and the item's better direction."""
    if not ctx.is_london:
        return Section()
    cells = rug.rug_cells(_all_benchmarks(ctx), ctx.items, list(ctx.pilots), ctx.threshold)
    if cells.empty:
        return nothing_to_show(f"No pilot {ctx.word()} supplied figures for {ctx.period}.")
    counts = rug.summary_by_borough(cells)
    worst = counts[rug.WORSE].idxmax()
    most = (
        f"{esc(ctx.name(worst))} is worse than {esc(ctx.area)} on the most items "
        f"({counts.at[worst, rug.WORSE]} of {cells['item_id'].nunique()})."
        if counts[rug.WORSE].max() > 0
        else f"No pilot authority is significantly worse than {esc(ctx.area)} on any item."
    )
    titles = ctx.items["title"]
    return Section().add(
        f"Every pilot {ctx.word()}'s figures for {esc(ctx.period)} against the {esc(ctx.area)} "
        "pilot average, item by item, as OHID's Fingertips shows areas against England. A "
        f"{ctx.word()} is better or worse only where its 95% confidence interval excludes the "
        "average, read through the item's better direction; where neither direction is "
        "better the cell is only higher or lower, in blue. Each cell carries a symbol as "
        "well as a colour, and a figure not supplied or suppressed is shown as no data, "
        f"never as similar. {most} {esc(ctx.benchmark_sentence)}",
        figures.plot_rug(
            cells, titles, area=ctx.area, period=ctx.period, name=ctx.name, word=ctx.word()
        ),
        table(
            rug.rug_table(cells, titles, ctx.name),
            caption=f"Pilot {ctx.word(plural=True)} against {ctx.area}, {ctx.period}: "
            "the rug's cells",
            max_rows=10,
        ),
        "Key: " + "; ".join(esc(k) for k in rug.key(ctx.area)) + ".",
    )


@needs_returns
def section_spine(ctx: Context) -> Section:
    if ctx.is_london or not ctx.has_returns:
        return Section()
    bb = borough_benchmark(ctx)
    chart = (
        spine.spine_table(
            ctx.obs,
            bb,
            ctx.period,
            threshold=ctx.threshold,
            area=ctx.area,
            la_name=ctx.la_name,
            la_code=ctx.la_code,
            england=spine.england_figures(ctx.items),
        )
        if not bb.empty
        else None
    )
    if chart is None:
        return nothing_to_show(
            f"Too few {ctx.word(plural=True)} reported this quarter to draw a spine chart."
        )
    many = ctx.word(plural=True)
    return Section().add(
        "One row per item, as in Fingertips: "
        f"{esc(ctx.la_name)}'s figure, the {esc(ctx.area)} pilot average, the worst and "
        f"best pilot {many}' figures (lowest and highest where no direction is better) and "
        "England's latest published figure where DfE publishes the item (a figure for the "
        f"year: read it beside the {ctx.word()}'s own published figure, not its quarter). "
        f"In the spine the light bar spans the pilot {many}, the dark bar their middle half, "
        f"and the red line the {esc(ctx.area)} pilot average. The marker is "
        f"{esc(ctx.la_name)}: green pointing right is significantly better, red pointing "
        "left significantly worse, a yellow circle similar; blue triangles mark higher or "
        "lower on items with no better direction, and the column beside the figures says "
        "the same in words. Items where good is low are flipped so that right is always "
        f"better. The small line on the right is {esc(ctx.la_name)}'s figure over the "
        "quarters up to this one; figures resting on suppressed counts are left off.",
        chart,
        display.definitions(
            ctx.items.loc[ctx.items.index.intersection(bb["item_id"].unique())],
            "What each item compared here counts: its definition",
        ),
    )


@needs_returns
def section_borough_funnels(ctx: Context) -> Section:
    """Funnel plots for the borough's items that stand out most."""
    if ctx.is_london or not ctx.has_returns:
        return Section()
    mine = ctx.positions.loc[
        (ctx.positions["la_code_ons"] == ctx.la_code) & (ctx.positions["period"] == ctx.period)
    ]
    outside = mine.loc[mine["funnel"].astype(str).str.contains("99.8")]
    picks = list(outside["item_id"].head(3)) or list(mine["item_id"].head(1))
    sec = Section().add(
        f"{esc(ctx.la_name)} is outside the 99.8% funnel limits on "
        f"{plural(len(outside), 'item')} in {esc(ctx.period)}. "
        + _limits_sentence(ctx)
        + " Funnel plots for up to three of them follow: a point outside the dashed lines is "
        "very unlikely to be chance alone."
    )
    for item_id in picks:
        sec.add(
            figures.plot_funnel(
                ctx.obs,
                ctx.items.loc[item_id],
                ctx.period,
                threshold=ctx.threshold,
                adjustment=ctx.funnel_adjustment,
                flags=ctx.flags,
                highlight=ctx.la_code,
                name=ctx.name,
                word=ctx.word(),
            )
        )
    return sec


def _limits_sentence(ctx: Context) -> str:
    """Which limits the funnels draw, and why, for the benchmark quarter."""
    here = ctx.positions.loc[ctx.positions["period"] == ctx.period]
    if "limits" not in here.columns or here.empty:
        return ""
    per_item = here.drop_duplicates("item_id")
    widened = int((per_item["limits"] != "none").sum())
    out, total = funnels.outside_share(ctx.positions, ctx.period)
    plain, _ = funnels.outside_share(ctx.positions, ctx.period, "funnel_unadjusted")
    how = {
        "additive": "an additive random-effects model",
        "multiplicative": "the dispersion ratio φ",
    }.get(ctx.funnel_adjustment, "")
    if ctx.funnel_adjustment == "none":
        return (
            "The limits are OHID's, without adjustment for over-dispersion (as this report "
            f"was asked): {out} of {total} {ctx.word()} × item points lie outside 99.8%, where "
            "about 0.2% would by chance."
        )
    return (
        f"On {widened} of {len(per_item)} items the pilot {ctx.word(plural=True)} vary more than "
        "chance "
        "alone predicts (Spiegelhalter's test on 10% winsorised z-scores), so their limits "
        f"are widened with {how}; the other items keep OHID's limits. Figures that look "
        "counted to a different definition are left out of the pilot average. With these "
        f"limits {out} of {total} {ctx.word()} × item points lie outside 99.8% "
        f"({100 * out / max(total, 1):.1f}%, where about 0.2% would by chance); without the "
        f"adjustment it would be {plain}."
    )


@needs_returns
def section_standing(ctx: Context) -> Section:
    """Rank among the project's authorities on DfE's latest published figures."""
    if ctx.is_london:
        return Section()
    st = ctx.standing
    if st is None:
        st = published.london_standing(ctx.items, ctx.la_code, ctx.authorities)
    if st.empty:
        return Section()
    st = st.assign(
        title=[ctx.items.at[i, "title"] for i in st["item_id"]],
        measure=[_published_unit(ctx, i) for i in st["item_id"]],
        rank=[
            "not ranked (no better direction)"
            if ctx.items.at[i, "polarity"] == "neutral"
            else ("–" if pd.isna(r) else f"{int(r)} of {n}")
            for i, r, n in zip(st["item_id"], st["rank"], st["of"], strict=True)
        ],
    )
    sec = Section().add(
        f"Where {esc(ctx.la_name)} stands among {esc(ctx.area)}'s authorities on DfE's latest "
        "published "
        "figures for the items DfE publishes: annual figures, rates per 10,000 children for "
        "counts. Rank (1 = best) and quartile (A is the best quarter) only where the item "
        "has a better direction.",
        table(
            st[
                [
                    "item_id",
                    "title",
                    "measure",
                    "year",
                    "published",
                    "london_median",
                    "rank",
                    "quartile_band",
                ]
            ].rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "measure": "Measure",
                    "year": "Year to March",
                    "published": "Published",
                    "london_median": f"{ctx.area} median",
                    "rank": "Rank",
                    "quartile_band": "Quartile",
                }
            ),
            caption=f"{ctx.la_name} among {ctx.area}'s authorities, DfE published figures",
            decimals={"Published": 1, f"{ctx.area} median": 1},
            years=["Year to March"],
        ),
    )
    return _cite(sec, ctx, st["item_id"])


def _cite(sec: Section, ctx: Context, item_ids) -> Section:
    """The section with a line under it naming the published sources it draws on."""
    note = reference.citation(_published_sources(ctx, item_ids))
    return sec.add(note) if note else sec


def _published_sources(ctx: Context, item_ids) -> list[str]:
    """The DfE tables the shown items' published figures come from (their first one)."""
    out = []
    for item_id in dict.fromkeys(item_ids):
        cited = [m["source"] for m in ctx.items.at[item_id, "published_measures"] or []]
        out += [s for s in cited if s in reference.DFE_SOURCES][:1]
    return out


def _published_unit(ctx: Context, item_id: str) -> str:
    """The unit of DfE's published figure for an item: annual, so per year (flows) or
    at 31 March (snapshots)."""
    item = ctx.items.loc[item_id]
    if item["unit"] == "percentage":
        return "%"
    if item.get("measure_type") == "snapshot":
        return f"{observations.PER_10K} at 31 March"
    return f"{observations.PER_10K} per year"
