"""The 'true' figures behind the synthetic pilot returns.

Magnitudes follow the real published figures for each authority wherever an item
has one (DfE Children in Need census and SSDA903 tables, bundled in
``lscb_nb/data/reference``): a borough's synthetic referrals per quarter are a quarter of
its published referrals for that year, with Poisson noise. Items with no
published figure take a typical London rate from ``profiles.yaml``, scaled by the
borough's 0-17 population and by how busy its children's social care is relative
to London (so volumes hang together the way they do in real boroughs).
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from lscb_nb.core import periods, reference, units

log = logging.getLogger(__name__)

PROFILES_FILE = Path(__file__).with_name("profiles.yaml")
_SEASON = {1: 1.0, 2: 0.92, 3: 1.04, 4: 1.04}  # referrals dip over the summer holidays


@cache
def load_profiles() -> dict[str, dict]:
    """Synthetic assumptions per item: typical annual rate per 10,000 children or
    typical percentage, and the local names boroughs give the item."""
    return yaml.safe_load(PROFILES_FILE.read_text(encoding="utf-8"))["items"]


def expected_figures(
    items: pd.DataFrame,
    authorities: pd.DataFrame,
    period_labels: list[str],
    published: pd.DataFrame,
    population: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One row per authority × period × item due that period: numerator and
    (for percentages) denominator, as a borough would report them if all went well."""
    profiles = load_profiles()
    pub = reference.published_for_items(items, published)
    pop = population.set_index(["area_code", "mid_year"])["population_0_17"]
    latest_pop_year = int(population["mid_year"].max())

    # How busy each borough's children's social care is, relative to London:
    # referrals per 10,000 in its latest published year over the London median.
    ref = published.loc[
        (published["source"] == "dfe_cin_c1")
        & (published["measure"] == "referral_count")
        & (published["value_state"] == "reported")
    ]
    ref = ref.loc[ref["year"] == ref["year"].max()].set_index("area_code")["value"]
    pop_latest = population.loc[population["mid_year"] == latest_pop_year].set_index("area_code")[
        "population_0_17"
    ]
    demand = (ref / pop_latest).reindex(authorities["la_code_ons"])
    demand = (demand / demand.median()).fillna(1.0).clip(0.5, 2.0)

    grid = pd.MultiIndex.from_product(
        [authorities["la_code_ons"], period_labels, items.index],
        names=["la_code_ons", "period", "item_id"],
    ).to_frame(index=False)
    grid = grid.merge(
        items[["unit", "measure_type", "frequency", "denominator_item"]],
        left_on="item_id",
        right_index=True,
    )
    grid = grid.loc[(grid["frequency"] != "annual") | grid["period"].str.endswith("Q4")]
    start = grid["period"].map(lambda p: periods.parse_period(p)[0])
    quarter = grid["period"].str[-1].astype(int)
    grid["dfe_year"] = start + 1
    mid_year = start.clip(upper=latest_pop_year)
    grid["population"] = pop.reindex(
        pd.MultiIndex.from_arrays([grid["la_code_ons"], mid_year])
    ).to_numpy()

    # Published figure for the same DfE year, else the nearest earlier one.
    pub_sorted = pub.sort_values("year")
    grid = grid.sort_values("dfe_year")
    grid = pd.merge_asof(
        grid,
        pub_sorted.rename(columns={"area_code": "la_code_ons", "year": "dfe_year"}),
        on="dfe_year",
        by=["la_code_ons", "item_id"],
        direction="backward",
    )
    grid = grid.sort_values(["la_code_ons", "period", "item_id"]).reset_index(drop=True)

    prof = pd.DataFrame.from_dict(profiles, orient="index")
    for col in ("annual_per_10k", "pct", "denominator_annual_per_10k"):
        if col not in prof:
            prof[col] = np.nan
    grid = grid.merge(
        prof[["annual_per_10k", "pct", "denominator_annual_per_10k"]],
        left_on="item_id",
        right_index=True,
        how="left",
    )
    la_demand = grid["la_code_ons"].map(demand).fillna(1.0).to_numpy()
    la_effect = grid["la_code_ons"].map(
        dict(zip(authorities["la_code_ons"], rng.normal(1.0, 0.12, len(authorities)), strict=True))
    )
    grid["la_effect"] = la_effect.to_numpy() * np.where(
        grid["item_id"].str.startswith("CSC"), 1.0, la_demand**0.5
    )

    is_pct = grid["unit"] == "percentage"
    pub_is_pct = is_pct & grid["published"].notna()
    season = quarter.map(_SEASON).to_numpy()
    per_period = np.where(
        grid["frequency"] == "annual",
        1.0,
        np.where(grid["measure_type"] == "flow", 0.25 * season, 1.0),
    )

    # Counts and rates: an annual (or snapshot) level, then this period's share.
    per_10k = units.scale("rate_per_10k")
    typical = grid["annual_per_10k"].fillna(40.0) * grid["population"] / per_10k * grid["la_effect"]
    level = grid["published"].where(~is_pct & grid["published"].notna(), typical)
    lam = np.clip(level.to_numpy(dtype=float) * per_period, 0, None)
    counts = rng.poisson(np.nan_to_num(lam))
    grid["numerator"] = np.where(is_pct, np.nan, counts).astype(float)

    # Percentages: a denominator (another item's count, or a typical volume) and a
    # binomial numerator around the published or typical percentage.
    p = grid["published"].where(
        pub_is_pct, grid["pct"].fillna(70.0) * grid["la_effect"].clip(0.8, 1.2)
    ) / units.scale("percentage")
    den_level = (
        grid["denominator_annual_per_10k"].fillna(60.0)
        * grid["population"]
        / per_10k
        * grid["la_effect"]
        * per_period
    )
    den = rng.poisson(np.nan_to_num(den_level.to_numpy(dtype=float)))
    grid["denominator"] = np.where(is_pct, den, np.nan).astype(float)
    key = grid.set_index(["la_code_ons", "period", "item_id"])["numerator"]
    linked = is_pct & grid["denominator_item"].notna()
    linked_den = key.reindex(
        pd.MultiIndex.from_arrays(
            [grid["la_code_ons"], grid["period"], grid["denominator_item"].fillna("")]
        )
    ).to_numpy()
    grid.loc[linked & ~np.isnan(linked_den), "denominator"] = linked_den[
        (linked & ~np.isnan(linked_den)).to_numpy()
    ]
    num = rng.binomial(
        np.nan_to_num(grid["denominator"].to_numpy()).astype(int),
        np.clip(np.nan_to_num(p.to_numpy(dtype=float), nan=0.7), 0, 1),
    )
    grid.loc[is_pct, "numerator"] = num[is_pct.to_numpy()]
    return grid[["la_code_ons", "period", "item_id", "unit", "numerator", "denominator"]]


def enforce_rules(figures: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """Make the clean figures satisfy the data model's cross-item rules, so that
    every rule violation in the sample data is one the generator planted."""
    out = figures.copy()
    key = ["la_code_ons", "period"]
    for _ in range(3):  # rules can chain (a <= b <= c); a few passes settle them
        for rule in rules.itertuples(index=False):
            left = out.loc[out["item_id"] == rule.left].set_index(key)["numerator"]
            right = out.loc[out["item_id"] == rule.right].set_index(key)["numerator"]
            both = pd.concat({"l": left, "r": right}, axis=1).dropna()
            if rule.operator in ("<=", "<"):
                fixed = np.minimum(both["l"], both["r"] - (rule.operator == "<"))
            elif rule.operator in (">=", ">"):
                fixed = np.maximum(both["l"], both["r"] + (rule.operator == ">"))
            else:
                fixed = both["r"]
            fixed = fixed.clip(lower=0)
            mask = out["item_id"] == rule.left
            idx = pd.MultiIndex.from_frame(out.loc[mask, key])
            new = fixed.reindex(idx).to_numpy()
            old = out.loc[mask, "numerator"].to_numpy()
            out.loc[mask, "numerator"] = np.where(np.isnan(new), old, new)
    # a percentage's numerator never exceeds its denominator
    pct = out["denominator"].notna()
    out.loc[pct, "numerator"] = np.minimum(out.loc[pct, "numerator"], out.loc[pct, "denominator"])
    return out
