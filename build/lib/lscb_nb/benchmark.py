"""Benchmarking: each borough's figures against London, its neighbours and the pilot.

Figures are compared on a common footing: percentages as they are, counts and
rates per 10,000 children aged 0-17 (the population the toolkit supplies), so a
large borough does not look worse for being large. Every value carries its
confidence interval (Wilson for percentages; exact Poisson below 10 events and
Byar's from 10 for rates, as OHID's Fingertips does), and a borough is called
higher or lower than a comparator only when its interval excludes it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lscb_nb import periods, reference, stats

_USABLE_STATES = ("reported", "low_reliability", "rounds_to_zero")
COMPARATORS: tuple[str, ...] = (
    "London pilot average",
    "Inner London pilots",
    "Outer London pilots",
    "Statistical neighbours (mean)",
    "Statistical neighbours (median)",
)


def observations(accepted: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """One usable figure per borough, period and item, on the comparison scale.

    ``count`` is the events (numerator); ``base`` is the denominator for a
    percentage and the 0-17 population otherwise; ``value`` is the percentage or the
    rate per 10,000. Suppressed, missing and quarantined figures are left out here:
    completeness accounts for them.
    """
    keys = ["la_code_ons", "period", "item_id"]
    usable = accepted.loc[accepted["value_state"].isin(_USABLE_STATES)].drop_duplicates(keys)
    obs = usable[[*keys, "la_name", "numerator", "denominator", "population_0_17", "value"]].merge(
        items[["unit", "polarity", "decimal_places", "agency", "title", "frequency"]],
        left_on="item_id",
        right_index=True,
    )
    is_pct = obs["unit"] == "percentage"
    obs["count"] = obs["numerator"].astype(float)
    obs["base"] = np.where(is_pct, obs["denominator"], obs["population_0_17"]).astype(float)
    obs = obs.loc[(obs["base"] > 0) & obs["count"].notna()]
    scale = np.where(obs["unit"] == "percentage", 100.0, 10_000.0)
    obs["value"] = obs["count"] / obs["base"] * scale
    obs["kind"] = np.where(obs["unit"] == "percentage", "proportion", "rate")
    return obs.reset_index(drop=True)


def with_intervals(obs: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Add ``lower`` and ``upper``: Wilson for percentages, Fingertips' rate CI otherwise."""
    out = obs.copy()
    out["lower"] = np.nan
    out["upper"] = np.nan
    pct = out["kind"] == "proportion"
    if pct.any():
        lo, hi = stats.wilson_ci(
            out.loc[pct, "count"].to_numpy(), out.loc[pct, "base"].to_numpy(), confidence
        )
        out.loc[pct, "lower"], out.loc[pct, "upper"] = np.asarray(lo) * 100, np.asarray(hi) * 100
    rate = ~pct
    if rate.any():
        ci = stats.rate_ci(
            out.loc[rate, "count"].to_numpy(), out.loc[rate, "base"].to_numpy(), 10_000, confidence
        )
        out.loc[rate, "lower"] = ci["lower"].to_numpy()
        out.loc[rate, "upper"] = ci["upper"].to_numpy()
    return out


def pooled(obs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Aggregate value of a group: total events over total base (how London is computed)."""
    groups = obs.groupby(by, observed=True)
    out = groups[["count", "base"]].sum()
    out["boroughs"] = groups.size()
    scale = np.where(groups["kind"].first() == "proportion", 100.0, 10_000.0)
    out["value"] = out["count"] / out["base"] * scale
    return out.reset_index()


def comparators(
    obs: pd.DataFrame, la_code: str, authorities: pd.DataFrame, neighbours: list[str]
) -> pd.DataFrame:
    """For one borough: London pilot average, inner and outer London pilots, and the
    mean and median of its statistical neighbours in the pilot, per item and period.

    As DfE's LAIT does, the neighbour figures are the simple mean and median of the
    neighbours' values; the London and sub-regional figures are pooled (total events
    over total population), as a regional figure is.
    """
    keys = ["item_id", "period"]
    subregion = authorities.set_index("la_code_ons")["subregion"]
    frames = [pooled(obs, keys).assign(comparator=COMPARATORS[0])]
    for name in ("Inner London", "Outer London"):
        members = obs.loc[obs["la_code_ons"].map(subregion) == name]
        if not members.empty:
            frames.append(pooled(members, keys).assign(comparator=f"{name} pilots"))
    near = obs.loc[obs["la_code_ons"].isin(neighbours) & (obs["la_code_ons"] != la_code)]
    if not near.empty:
        g = near.groupby(keys)["value"]
        for label, how in ((COMPARATORS[3], "mean"), (COMPARATORS[4], "median")):
            part = g.agg(how).rename("value").reset_index()
            part["boroughs"] = g.size().to_numpy()
            frames.append(part.assign(comparator=label))
    return pd.concat(frames, ignore_index=True)[
        ["item_id", "period", "comparator", "value", "boroughs"]
    ]


def borough_benchmark(
    obs: pd.DataFrame,
    la_code: str,
    period: str,
    authorities: pd.DataFrame,
    neighbours: list[str],
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per item: the borough's value and CI in ``period``, its comparators,
    significance against the London pilot average (better/similar/worse by polarity),
    rank and quartile band among the pilot boroughs, change on the same quarter last
    year and the trend over the pilot."""
    now = with_intervals(obs.loc[obs["period"] == period], confidence)
    mine = now.loc[now["la_code_ons"] == la_code].set_index("item_id")
    if mine.empty:
        return pd.DataFrame()
    comp = comparators(obs.loc[obs["period"] == period], la_code, authorities, neighbours)
    wide = comp.pivot_table(index="item_id", columns="comparator", values="value")
    out = mine[["title", "agency", "unit", "polarity", "decimal_places", "kind", "count", "base"]]
    out = out.assign(value=mine["value"], lower=mine["lower"], upper=mine["upper"])
    out = out.join(wide.reindex(columns=list(COMPARATORS)))
    london = out[COMPARATORS[0]]
    out["vs_london"] = stats.compare_to_benchmark(out["lower"], out["upper"], london).to_numpy()
    out["rag"] = stats.rag_label(out["vs_london"], out["polarity"]).to_numpy()

    ranks, bands, ranked_of = [], [], []
    for item_id, row in out.iterrows():
        values = now.loc[now["item_id"] == item_id].set_index("la_code_ons")["value"]
        r = stats.rank_with_polarity(values, row["polarity"])
        b = stats.quartile_band(values, row["polarity"])
        ranks.append(r.get(la_code, pd.NA))
        bands.append(b.get(la_code, stats.NOT_RANKED))
        ranked_of.append(int(values.notna().sum()))
    out["rank"] = pd.array(ranks, dtype="Int64")
    out["ranked_of"] = ranked_of
    out["quartile_band"] = bands

    change = year_on_year(obs, la_code, period, confidence)
    out = out.join(change, how="left")
    out = out.join(trends(obs, la_code), how="left")
    return out.reset_index()


def year_on_year(
    obs: pd.DataFrame, la_code: str, period: str, confidence: float = 0.95
) -> pd.DataFrame:
    """Change from the same quarter last year, with Fingertips' interval and test."""
    before = periods.shift_period(period, -4)
    mine = obs.loc[obs["la_code_ons"] == la_code]
    a = mine.loc[mine["period"] == period].set_index("item_id")
    b = mine.loc[mine["period"] == before].set_index("item_id")
    both = a.index.intersection(b.index)
    frames = []
    for kind in ("proportion", "rate"):
        ids = [i for i in both if a.at[i, "kind"] == kind]
        if not ids:
            continue
        res = stats.year_on_year_change(
            a.loc[ids, "count"],
            a.loc[ids, "base"],
            b.loc[ids, "count"],
            b.loc[ids, "base"],
            kind=kind,
            confidence=confidence,
        )
        if kind == "proportion":
            res[["difference", "lower", "upper"]] *= 100
        frames.append(res)
    if not frames:
        return pd.DataFrame(
            columns=["change", "change_lower", "change_upper", "change_significant"]
        )
    res = pd.concat(frames)
    return pd.DataFrame(
        {
            "last_year": b.loc[res.index, "value"],
            "change": res["difference"],
            "change_lower": res["lower"],
            "change_upper": res["upper"],
            "change_significant": res["significant"].astype(bool),
        }
    )


def trends(obs: pd.DataFrame, la_code: str, min_points: int = 5) -> pd.DataFrame:
    """The chi-square test for trend over the borough's quarters, per quarterly item."""
    rows = {}
    mine = obs.loc[(obs["la_code_ons"] == la_code) & (obs["frequency"] == "quarterly")]
    for item_id, series in mine.groupby("item_id"):
        series = series.sort_values("period", key=periods.sort_key)
        if len(series) < min_points:
            continue
        test = stats.chi_square_trend(
            series["count"].to_numpy(), series["base"].to_numpy(), kind=series["kind"].iloc[0]
        )
        significant = test["p_value"] < 0.05
        rows[item_id] = {
            "trend": test["direction"] if significant else "no significant change",
            "trend_p": test["p_value"],
            "trend_points": len(series),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def funnel(obs: pd.DataFrame, item_id: str, period: str) -> dict:
    """Points and OHID control limits for one item and quarter across the pilot."""
    points = obs.loc[(obs["item_id"] == item_id) & (obs["period"] == period)].copy()
    if points.empty:
        return {"points": points, "limits": pd.DataFrame(), "target": np.nan}
    kind = points["kind"].iloc[0]
    target = points["count"].sum() / points["base"].sum()
    lo_n = max(1.0, points["base"].min() * 0.5)
    grid = stats.funnel_grid(points["base"].max() * 1.5, lo_n)
    if kind == "proportion":
        limits = stats.funnel_limits_proportion(target, grid)
        at_points = stats.funnel_limits_proportion(target, points["base"].to_numpy())
        scale, target_value = 100.0, target * 100
        compare = points["count"] / points["base"]
    else:
        limits = stats.funnel_limits_rate(target * 10_000, grid)
        at_points = stats.funnel_limits_rate(target * 10_000, points["base"].to_numpy())
        scale, target_value = 1.0, target * 10_000
        compare = points["value"]
    limits = limits.rename(columns={"denominator": "base", "population": "base"})
    lim_cols = ["lower_95", "upper_95", "lower_998", "upper_998"]
    points["funnel"] = np.asarray(
        stats.classify_against_funnel(
            compare.to_numpy(), *(at_points[c].to_numpy() for c in lim_cols)
        ),
        dtype=object,
    )
    for c in lim_cols:
        limits[c] = limits[c] * scale
    return {"points": points, "limits": limits, "target": target_value, "kind": kind}


def funnel_positions(obs: pd.DataFrame) -> pd.DataFrame:
    """Every borough's position against its item-quarter funnel (for the quality checks)."""
    frames = []
    for (item_id, period), _ in obs.groupby(["item_id", "period"]):
        f = funnel(obs, item_id, period)
        if len(f["points"]) >= 3:
            frames.append(f["points"][["la_code_ons", "period", "item_id", "value", "funnel"]])
    if not frames:
        return pd.DataFrame(columns=["la_code_ons", "period", "item_id", "value", "funnel"])
    return pd.concat(frames, ignore_index=True)


def annual_figures(obs: pd.DataFrame, items: pd.DataFrame, year: str) -> pd.DataFrame:
    """A financial year's figure per borough and item from the quarters.

    Flows add up the four quarters (all four needed); snapshots and rolling 12-month
    items take Q4; annual items are returned in Q4. Rates use Q4's population, which
    is the previous mid-year estimate as DfE uses.
    """
    mine = obs.loc[obs["period"].str.startswith(year)].merge(
        items[["measure_type"]], left_on="item_id", right_index=True
    )
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
    scale = np.where(out["kind"] == "proportion", 100.0, 10_000.0)
    out["value"] = out["count"] / out["base"] * scale
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
        is_pct, both["published"], both["published"] / both["base"] * 10_000
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
    pub["published"] = np.where(per_child, pub["published"] / base * 10_000, pub["published"])
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
