"""Benchmarking: each borough's figures against the area, its neighbours and the pilot.

Figures are compared on a common footing: percentages as they are, counts and
rates per 10,000 children aged 0-17 (the population the toolkit supplies), so a
large borough does not look worse for being large. Every value carries its
confidence interval (Wilson for percentages; exact Poisson below 10 events and
Byar's from 10 for rates, as OHID's Fingertips does), and a borough is called
higher or lower than a comparator only when its interval excludes it.

Comparators take an exclusion set: figures flagged as counted to a different
definition (:func:`lscb_nb.pilot.quality.definition_flags`) are left out of the London and
neighbour figures they would distort, and funnel limits allow for over-dispersion
(Spiegelhalter 2005) unless asked not to.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.core import periods, reference, stats, units

log = logging.getLogger(__name__)

_USABLE_STATES = ("reported", "low_reliability", "rounds_to_zero")
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
PER_10K = "per 10,000 children"
# What a fraction is multiplied by to show a proportion and a rate (data/vocab/units.yaml).
_PCT = units.kind_scale("proportion")
_RATE = units.kind_scale("rate")


def unit_label(unit: str, measure_type: str | None, frequency: str | None) -> str:
    """What a figure is, with its period: '%', 'per 10,000 children per quarter',
    'per 10,000 children at the quarter's end', 'per 10,000 children in the 12 months
    to the quarter's end', or '... per year' for annual items."""
    if unit == "percentage":
        return "%"
    if measure_type == "snapshot":
        return f"{PER_10K} at the {'year' if frequency == 'annual' else 'quarter'}'s end"
    if measure_type == "rolling_12_months":
        return f"{PER_10K} in the 12 months to the quarter's end"
    return f"{PER_10K} per {'year' if frequency == 'annual' else 'quarter'}"


def excluded(frame: pd.DataFrame, exclude: pd.DataFrame | None) -> pd.Series:
    """True for rows (borough, item, period) in the exclusion set: a flag table with
    ``la_code_ons`` and ``item_id`` and, for a level shift, ``from_period`` (the
    figures from then on are excluded; without it, every period is)."""
    out = pd.Series(False, index=frame.index)
    if exclude is None or exclude.empty or frame.empty:
        return out
    for flag in exclude.itertuples(index=False):
        hit = (frame["la_code_ons"] == flag.la_code_ons) & (frame["item_id"] == flag.item_id)
        start = getattr(flag, "from_period", None)
        if isinstance(start, str) and start and "period" in frame.columns:
            first = periods.parse_period(start)
            hit &= pd.Series(
                [periods.parse_period(p) >= first for p in frame["period"]], index=frame.index
            )
        out |= hit
    return out


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
        items[
            ["unit", "polarity", "decimal_places", "agency", "title", "frequency", "measure_type"]
        ],
        left_on="item_id",
        right_index=True,
    )
    is_pct = obs["unit"] == "percentage"
    obs["count"] = obs["numerator"].astype(float)
    obs["base"] = np.where(is_pct, obs["denominator"], obs["population_0_17"]).astype(float)
    obs = obs.loc[(obs["base"] > 0) & obs["count"].notna()]
    obs["kind"] = np.where(obs["unit"] == "percentage", "proportion", "rate")
    obs["value"] = units.scaled(obs["count"], obs["base"], units.unit_of_kind(obs["kind"]))
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
        out.loc[pct, "lower"], out.loc[pct, "upper"] = np.asarray(lo) * _PCT, np.asarray(hi) * _PCT
    rate = ~pct
    if rate.any():
        ci = stats.rate_ci(
            out.loc[rate, "count"].to_numpy(), out.loc[rate, "base"].to_numpy(), _RATE, confidence
        )
        out.loc[rate, "lower"] = ci["lower"].to_numpy()
        out.loc[rate, "upper"] = ci["upper"].to_numpy()
    return out


def pooled(obs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Aggregate value of a group: total events over total base (how London is computed)."""
    groups = obs.groupby(by, observed=True)
    out = groups[["count", "base"]].sum()
    out["boroughs"] = groups.size()
    unit = units.unit_of_kind(groups["kind"].first())
    out["value"] = units.scaled(out["count"], out["base"], unit)
    return out.reset_index()


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
) -> pd.DataFrame:
    """One row per item: the borough's value and CI in ``period``, its comparators
    (without the figures in ``exclude``, and how many boroughs each rests on),
    significance against the London pilot average (better/similar/worse by polarity;
    higher/similar/lower only where no direction is better), rank and quartile band
    among the pilot boroughs (none for items with no better direction), change on
    the same quarter last year and the trend over the pilot. With ``items``, DfE's
    published neighbour figure is added where fewer than ``MIN_NEIGHBOURS`` pilot
    neighbours reported."""
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
    out = out.join(trends(obs, la_code, min_points), how="left")
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
            res[["difference", "lower", "upper"]] *= _PCT
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


def trends(
    obs: pd.DataFrame, la_code: str, min_points: int = stats.TREND_MIN_POINTS
) -> pd.DataFrame:
    """The chi-square test for trend over the borough's quarters, per quarterly item,
    where it has at least ``min_points`` quarters (5 by default, Fingertips' rule; the
    test is valid from 3). A series with nothing varying is ``not computable``, never
    a significant trend."""
    rows = {}
    mine = obs.loc[(obs["la_code_ons"] == la_code) & (obs["frequency"] == "quarterly")]
    for item_id, series in mine.groupby("item_id"):
        series = series.sort_values("period", key=periods.sort_key)
        if len(series) < min_points:
            continue
        test = stats.chi_square_trend(
            series["count"].to_numpy(),
            series["base"].to_numpy(),
            kind=series["kind"].iloc[0],
            min_points=min_points,
        )
        rows[item_id] = {
            "trend": trend_words(test),
            "trend_p": test["p_value"],
            "trend_points": len(series),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def trend_words(test: dict, alpha: float = 0.05) -> str:
    """A trend test's result in words: 'increasing'/'decreasing' only when significant."""
    p = test.get("p_value", np.nan)
    if test.get("direction") == "not computable" or not np.isfinite(p):
        return "no change to test"
    if p < alpha and test["direction"] in ("increasing", "decreasing"):
        return str(test["direction"])
    return "no significant change"


def _standard_errors(kind: str, target: float, base: np.ndarray) -> np.ndarray:
    """On the scale the funnel is drawn: proportions 0-1, rates per 10,000."""
    if kind == "proportion":
        return np.asarray(stats.proportion_se(target, base), dtype=float)
    return np.asarray(stats.rate_se(target * _RATE, base), dtype=float)


def _exact_limits(kind: str, target: float, base: np.ndarray) -> pd.DataFrame:
    if kind == "proportion":
        return stats.funnel_limits_proportion(target, base)
    return stats.funnel_limits_rate(target * _RATE, base)


def _limits(kind: str, target: float, base: np.ndarray, how: stats.Dispersion) -> pd.DataFrame:
    """Control limits at ``base``: OHID's exact limits when no adjustment applies,
    else Spiegelhalter's widened normal limits (proportions 0-1, rates per 10,000)."""
    if how.applied == "none":
        return _exact_limits(kind, target, base)
    centre = target if kind == "proportion" else target * _RATE
    se = _standard_errors(kind, target, base)
    ceiling = 1.0 if kind == "proportion" else None
    return stats.dispersed_limits(centre, se, how, floor=0.0, ceiling=ceiling)


LIMIT_COLUMNS = ["lower_95", "upper_95", "lower_998", "upper_998"]


def funnel(
    obs: pd.DataFrame,
    item_id: str,
    period: str,
    adjustment: stats.Adjustment = "additive",
    exclude: pd.DataFrame | None = None,
) -> dict:
    """Points and control limits for one item and quarter across the pilot.

    The target is the pilot average without the figures in ``exclude`` (a different
    definition), which are still plotted and classified but marked ``excluded``.
    When the other boroughs vary more than chance predicts (Spiegelhalter 2005,
    QSHC: winsorised z-scores, χ² test of phi), the limits are widened by
    ``adjustment`` (``additive`` random effects, ``multiplicative`` phi, or
    ``none`` for OHID's unadjusted limits). ``funnel`` is each point's position
    against the limits drawn, ``funnel_unadjusted`` against the unadjusted ones;
    ``dispersion`` says which limits are drawn and why.
    """
    points = obs.loc[(obs["item_id"] == item_id) & (obs["period"] == period)].copy()
    if points.empty:
        return {"points": points, "limits": pd.DataFrame(), "target": np.nan}
    kind = points["kind"].iloc[0]
    points["excluded"] = excluded(points, exclude).to_numpy()
    basis = points.loc[~points["excluded"]]
    if basis.empty or basis["base"].sum() <= 0:
        basis = points
    target = basis["count"].sum() / basis["base"].sum()
    scale = _PCT if kind == "proportion" else 1.0
    compare = points["count"] / points["base"] if kind == "proportion" else points["value"]
    base = points["base"].to_numpy(float)
    centre = target if kind == "proportion" else target * _RATE
    y_basis = compare.loc[basis.index].to_numpy(float)
    se_basis = _standard_errors(kind, target, basis["base"].to_numpy(float))
    how = stats.dispersion(y_basis, centre, se_basis, adjustment)
    lo_n = max(1.0, points["base"].min() * 0.5)
    grid = stats.funnel_grid(points["base"].max() * 1.5, lo_n)
    limits = _limits(kind, target, grid, how)
    limits.insert(0, "base", grid)
    limits = limits[["base", *LIMIT_COLUMNS]]
    at_points = _limits(kind, target, base, how)
    plain = _exact_limits(kind, target, base)

    def classify(lim: pd.DataFrame) -> np.ndarray:
        return np.asarray(
            stats.classify_against_funnel(
                compare.to_numpy(), *(lim[c].to_numpy() for c in LIMIT_COLUMNS)
            ),
            dtype=object,
        )

    points["funnel"] = classify(at_points)
    points["funnel_unadjusted"] = classify(plain)
    for c in LIMIT_COLUMNS:
        limits[c] = limits[c] * scale
    return {
        "points": points,
        "limits": limits,
        "target": target * (_PCT if kind == "proportion" else _RATE),
        "kind": kind,
        "dispersion": how,
    }


def funnel_positions(
    obs: pd.DataFrame,
    adjustment: stats.Adjustment = "additive",
    exclude: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every borough's position against its item-quarter funnel: ``funnel`` against
    the limits drawn (see :func:`funnel`), ``funnel_unadjusted`` against OHID's
    unadjusted limits, ``excluded`` for a figure left out of the target, and the
    funnel's ``phi`` and ``limits`` (the adjustment applied)."""
    cols = ["la_code_ons", "period", "item_id", "value", "funnel", "funnel_unadjusted"]
    cols += ["excluded", "phi", "limits"]
    frames = []
    for (item_id, period), _ in obs.groupby(["item_id", "period"]):
        f = funnel(obs, item_id, period, adjustment, exclude)
        if len(f["points"]) >= 3:
            pts = f["points"].assign(phi=f["dispersion"].phi, limits=f["dispersion"].applied)
            frames.append(pts[cols])
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)


def outside_share(positions: pd.DataFrame, period: str, column: str = "funnel") -> tuple[int, int]:
    """How many borough × item points of ``period`` lie outside the 99.8% limits, of
    how many: about 0.2% would by chance."""
    here = positions.loc[positions["period"] == period, column].astype(str)
    return int(here.str.contains("99.8").sum()), len(here)


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
