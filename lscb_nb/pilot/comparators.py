"""Each borough's figures against the area, its neighbours and the pilot.

A borough is called higher or lower than a comparator only when its interval excludes
it. Comparators take an exclusion set: figures flagged as counted to a different
definition are left out of the area and neighbour figures they would distort.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.core import reference, stats
from lscb_nb.pilot.change import trends, year_on_year
from lscb_nb.pilot.observations import PER_10K, excluded, pooled, with_intervals

log = logging.getLogger(__name__)

# The pooled figure of every pilot authority in the project's area (its name is the
# project's; London for the sample).
AREA_AVERAGE = "Pilot average"
COMPARATORS: tuple[str, ...] = (
    AREA_AVERAGE,
    f"{reference.INNER_LONDON_NAME} pilots",
    f"{reference.OUTER_LONDON_NAME} pilots",
    "Statistical neighbours (mean)",
    "Statistical neighbours (median)",
)
# Below this many pilot neighbours, the neighbour figure is too thin to compare with:
# DfE's published figures for all ten neighbours are shown instead where DfE has them.
MIN_NEIGHBOURS = 3


def comparators(
    obs: pd.DataFrame,
    la_code: str,
    authorities: pd.DataFrame,
    neighbours: list[str],
    exclude: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """For one borough: London pilot average, inner and outer London pilots, and the
    mean and median of its statistical neighbours in the pilot, per item and period.

    As DfE's LAIT does, the neighbour figures are the simple mean and median of the
    neighbours' values; the London and sub-regional figures are pooled (total events
    over total population), as a regional figure is. Figures in ``exclude`` (a
    different definition) are left out; ``boroughs`` is how many each figure rests
    on and ``excluded`` how many were left out.
    """
    keys = ["item_id", "period"]
    out_mask = excluded(obs, exclude)
    kept = obs.loc[~out_mask]
    left_out = obs.loc[out_mask].groupby(keys).size().rename("excluded")
    subregion = authorities.set_index("la_code_ons")["subregion"]
    frames = [pooled(kept, keys).assign(comparator=COMPARATORS[0])]
    for name in (reference.INNER_LONDON_NAME, reference.OUTER_LONDON_NAME):
        members = kept.loc[kept["la_code_ons"].map(subregion) == name]
        if not members.empty:
            frames.append(pooled(members, keys).assign(comparator=f"{name} pilots"))
    near = kept.loc[kept["la_code_ons"].isin(neighbours) & (kept["la_code_ons"] != la_code)]
    if not near.empty:
        g = near.groupby(keys)["value"]
        for label, how in ((COMPARATORS[3], "mean"), (COMPARATORS[4], "median")):
            part = g.agg(how).rename("value").reset_index()
            part["boroughs"] = g.size().to_numpy()
            frames.append(part.assign(comparator=label))
    out = pd.concat(frames, ignore_index=True)
    out = out.join(left_out, on=keys)
    out["excluded"] = out["excluded"].fillna(0).astype(int)
    # Exclusions matter only to the comparators they belong to.
    is_near = out["comparator"].isin(COMPARATORS[3:])
    near_out = obs.loc[out_mask & obs["la_code_ons"].isin(neighbours)].groupby(keys).size()
    out.loc[is_near, "excluded"] = (
        near_out.reindex(pd.MultiIndex.from_frame(out.loc[is_near, keys])).fillna(0).astype(int)
    ).to_numpy()
    return out[["item_id", "period", "comparator", "value", "boroughs", "excluded"]]


def published_neighbours(
    items: pd.DataFrame, la_code: str, published: pd.DataFrame | None = None
) -> pd.DataFrame:
    """DfE's latest published figure for the borough's ten statistical neighbours (all
    England, not only the pilot), per item DfE publishes: the mean of the neighbours'
    rates per 10,000 children (or percentages), as LAIT's neighbour average is.
    Columns: item_id, dfe_year, dfe_neighbours (value), dfe_neighbours_n, dfe_unit."""
    cols = ["item_id", "dfe_year", "dfe_neighbours", "dfe_neighbours_n", "dfe_unit"]
    pub = reference.published_for_items(items, published)
    try:
        near = reference.statistical_neighbours(la_code)["la_code_ons"]
    except KeyError:
        return pd.DataFrame(columns=cols)
    pub = pub.loc[pub["area_code"].isin(set(near))].copy()
    if pub.empty:
        return pd.DataFrame(columns=cols)
    pop = reference.population(areas="all").drop_duplicates(["area_code", "mid_year"])
    pop = pop.set_index(["area_code", "mid_year"])["population_0_17"]
    units = items.loc[pub["item_id"], "unit"].to_numpy()
    base = pop.reindex(pd.MultiIndex.from_arrays([pub["area_code"], pub["year"] - 1])).to_numpy()
    pub["value"] = np.where(units == "percentage", pub["published"], pub["published"] / base * 1e4)
    pub = pub.dropna(subset=["value"])
    rows = []
    for item_id, part in pub.groupby("item_id"):
        latest = part.loc[part["year"] == part["year"].max()]
        measure_type = items.at[item_id, "measure_type"]
        unit = items.at[item_id, "unit"]
        rows.append(
            {
                "item_id": item_id,
                "dfe_year": int(latest["year"].iloc[0]),
                "dfe_neighbours": float(latest["value"].mean()),
                "dfe_neighbours_n": len(latest),
                "dfe_unit": "%"
                if unit == "percentage"
                else f"{PER_10K} at 31 March"
                if measure_type == "snapshot"
                else f"{PER_10K} per year",
            }
        )
    return pd.DataFrame(rows, columns=cols)


def borough_benchmark(
    obs: pd.DataFrame,
    la_code: str,
    period: str,
    authorities: pd.DataFrame,
    neighbours: list[str],
    confidence: float = 0.95,
    exclude: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    min_points: int = stats.TREND_MIN_POINTS,
    min_authorities: int = 1,
) -> pd.DataFrame:
    """One row per item: the borough's value and CI in ``period``, its comparators
    (without the figures in ``exclude``, and how many boroughs each rests on),
    significance against the London pilot average (better/similar/worse by polarity;
    higher/similar/lower only where no direction is better), rank and quartile band
    among the pilot boroughs (none for items with no better direction), change on
    the same quarter last year and the trend over the pilot. With ``items``, DfE's
    published neighbour figure is added where fewer than ``MIN_NEIGHBOURS`` pilot
    neighbours reported. An average over fewer than ``min_authorities`` authorities (the
    project's quorum) is not shown, so nothing is compared with it, and no rank or
    quartile is given among fewer."""
    now = with_intervals(obs.loc[obs["period"] == period], confidence)
    mine = now.loc[now["la_code_ons"] == la_code].set_index("item_id")
    if mine.empty:
        return pd.DataFrame()
    comp = comparators(obs.loc[obs["period"] == period], la_code, authorities, neighbours, exclude)
    wide = comp.pivot_table(index="item_id", columns="comparator", values="value")
    counts = comp.pivot_table(index="item_id", columns="comparator", values="boroughs")
    dropped = comp.pivot_table(index="item_id", columns="comparator", values="excluded")
    cols = ["title", "agency", "unit", "polarity", "decimal_places", "kind", "count", "base"]
    cols += [c for c in ("measure_type", "frequency") if c in mine.columns]
    out = mine[cols]
    out = out.assign(value=mine["value"], lower=mine["lower"], upper=mine["upper"])
    out = out.join(wide.reindex(columns=list(COMPARATORS)))
    london, near = COMPARATORS[0], COMPARATORS[4]
    out["london_boroughs"] = counts.reindex(out.index)[london] if london in counts else 0
    out["london_excluded"] = dropped.reindex(out.index)[london] if london in dropped else 0
    out["neighbours_n"] = counts.reindex(out.index)[near] if near in counts else 0
    out["neighbours_excluded"] = dropped.reindex(out.index)[near] if near in dropped else 0
    for c in ("london_boroughs", "london_excluded", "neighbours_n", "neighbours_excluded"):
        out[c] = out[c].fillna(0).astype(int)
    thin = out["london_boroughs"] < min_authorities
    for c in COMPARATORS[:3]:
        if c in out:
            out[c] = out[c].where(~thin)
    mine_out = excluded(mine.reset_index().assign(period=period), exclude).to_numpy()
    out["own_excluded"] = mine_out
    if items is not None:
        dfe = published_neighbours(items, la_code).set_index("item_id")
        thin = out["neighbours_n"] < MIN_NEIGHBOURS
        for c in dfe.columns:
            out[c] = dfe[c].reindex(out.index).where(thin)
    out["vs_london"] = stats.compare_to_benchmark(
        out["lower"], out["upper"], out[london]
    ).to_numpy()
    out["rag"] = stats.rag_label(out["vs_london"], out["polarity"]).to_numpy()

    ranks, bands, ranked_of = [], [], []
    for item_id, row in out.iterrows():
        values = now.loc[now["item_id"] == item_id].set_index("la_code_ons")["value"]
        ranked_of.append(int(values.notna().sum()))
        if ranked_of[-1] < min_authorities:
            ranks.append(pd.NA)
            bands.append(stats.NOT_RANKED)
            continue
        r = stats.rank_with_polarity(values, row["polarity"])
        b = stats.quartile_band(values, row["polarity"])
        ranks.append(r.get(la_code, pd.NA))
        bands.append(b.get(la_code, stats.NOT_RANKED))
    out["rank"] = pd.array(ranks, dtype="Int64")
    out["ranked_of"] = ranked_of
    out["quartile_band"] = bands

    change = year_on_year(obs, la_code, period, confidence)
    out = out.join(change, how="left")
    out = out.join(trends(obs, la_code, min_points), how="left")
    return out.reset_index()


def area_benchmarks(
    obs: pd.DataFrame, exclude: pd.DataFrame | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """Every borough's figures (``obs``' rows, in its order) against the pilot average
    of their item and quarter, with ``lower``, ``upper``, ``AREA_AVERAGE``,
    ``vs_london`` and ``rag`` worked out as :func:`borough_benchmark` does: what a
    spine chart shows, for every borough and quarter at once, where
    :func:`borough_benchmark` takes a quarter of a second for each."""
    keys = ["item_id", "period"]
    out = with_intervals(obs, confidence)
    average = pooled(obs.loc[~excluded(obs, exclude)], keys).set_index(keys)["value"]
    out[AREA_AVERAGE] = average.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy()
    out["vs_london"] = stats.compare_to_benchmark(
        out["lower"], out["upper"], out[AREA_AVERAGE]
    ).to_numpy()
    out["rag"] = stats.rag_label(out["vs_london"], out["polarity"]).to_numpy()
    return out
