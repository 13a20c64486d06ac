"""The pilot's figures against DfE's published ones, and each borough's standing in London."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.core import periods, reference, stats, units

log = logging.getLogger(__name__)


def annual_figures(obs: pd.DataFrame, items: pd.DataFrame, year: str) -> pd.DataFrame:
    """A financial year's figure per borough and item from the quarters.

    Flows add up the four quarters (all four needed); snapshots and rolling 12-month
    items take Q4; annual items are returned in Q4. Rates use Q4's population, which
    is the previous mid-year estimate as DfE uses.
    """
    mine = obs.loc[obs["period"].str.startswith(year)].drop(columns="measure_type", errors="ignore")
    mine = mine.merge(items[["measure_type"]], left_on="item_id", right_index=True)
    q4 = mine.loc[mine["period"].str.endswith("Q4")].set_index(["la_code_ons", "item_id"])
    flows = mine.loc[(mine["measure_type"] == "flow") & (mine["frequency"] == "quarterly")]
    g = flows.groupby(["la_code_ons", "item_id"])
    summed = g[["count"]].sum().join(g.size().rename("quarters"))
    summed = summed.loc[summed["quarters"] == 4]
    pct_flows = flows.loc[flows["kind"] == "proportion"].groupby(["la_code_ons", "item_id"])
    summed["base"] = pct_flows["base"].sum().reindex(summed.index)
    summed["base"] = summed["base"].fillna(q4["base"].reindex(summed.index))
    out = q4[["count", "base", "kind"]].copy()
    out.loc[summed.index.intersection(out.index), ["count", "base"]] = summed.loc[
        summed.index.intersection(out.index), ["count", "base"]
    ]
    out = out.loc[
        ~out.index.isin(flows.set_index(["la_code_ons", "item_id"]).index.difference(summed.index))
    ]
    out["value"] = units.scaled(out["count"], out["base"], units.unit_of_kind(out["kind"]))
    out["year"] = year
    return out.reset_index()


def pilot_vs_published(
    obs: pd.DataFrame, items: pd.DataFrame, published: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The pilot's annual figure beside DfE's published figure for the same authority
    and year (CIN census, SSDA903), so a definition that drifts from the national one
    shows up. Published counts are turned into rates per 10,000 with the same
    population, and percentages compared as they are."""
    pub = reference.published_for_items(items, published)
    if pub.empty:
        return pd.DataFrame()
    years = sorted({periods.financial_year(p) for p in obs["period"].unique()})
    frames = []
    for year in years:
        fig = annual_figures(obs, items, year)
        fig["dfe_year"] = int(year[:4]) + 1
        frames.append(fig)
    if not frames:
        return pd.DataFrame()
    pilot = pd.concat(frames, ignore_index=True)
    both = pilot.merge(
        pub.rename(columns={"area_code": "la_code_ons", "year": "dfe_year"}),
        on=["la_code_ons", "item_id", "dfe_year"],
    )
    if both.empty:
        return both
    is_pct = both["kind"] == "proportion"
    both["published_value"] = np.where(
        is_pct, both["published"], units.scaled(both["published"], both["base"], "rate_per_10k")
    )
    both["pilot_value"] = both["value"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = both["pilot_value"] / both["published_value"]
    both_zero = (both["pilot_value"] == 0) & (both["published_value"] == 0)
    both["ratio"] = ratio.where(~both_zero, 1.0)
    return both[
        ["la_code_ons", "item_id", "year", "dfe_year", "pilot_value", "published_value", "ratio"]
    ]


def london_standing(
    items: pd.DataFrame,
    la_code: str,
    authorities: pd.DataFrame,
    published: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Where the borough stands among all 33 London boroughs on DfE's latest published
    figures for the items that have one: rank (1 = best by polarity) and LAIT-style
    quartile band."""
    pub = reference.published_for_items(items, published)
    pub = pub.loc[pub["area_code"].isin(authorities["la_code_ons"])].copy()
    pop = reference.population(areas="all").set_index(["area_code", "mid_year"])["population_0_17"]
    per_child = items.loc[pub["item_id"], "unit"].to_numpy() != "percentage"
    base = pop.reindex(pd.MultiIndex.from_arrays([pub["area_code"], pub["year"] - 1])).to_numpy()
    per_10k = units.scaled(pub["published"], base, "rate_per_10k")
    pub["published"] = np.where(per_child, per_10k, pub["published"])
    rows = []
    for item_id, part in pub.groupby("item_id"):
        latest = part.loc[part["year"] == part["year"].max()].set_index("area_code")["published"]
        if la_code not in latest.index or len(latest) < 4:
            continue
        polarity = items.at[item_id, "polarity"]
        rows.append(
            {
                "item_id": item_id,
                "year": int(part["year"].max()),
                "published": latest[la_code],
                "london_median": latest.median(),
                "rank": stats.rank_with_polarity(latest, polarity).get(la_code),
                "of": int(latest.notna().sum()),
                "quartile_band": stats.quartile_band(latest, polarity).get(la_code),
            }
        )
    return pd.DataFrame(rows)
