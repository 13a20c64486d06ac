"""Each borough's figures on a common footing, with their confidence intervals.

Percentages as they are, counts and rates per 10,000 children aged 0-17 (the population
the toolkit supplies), so a large borough does not look worse for being large. Every
value carries its confidence interval (Wilson for percentages; exact Poisson below 10
events and Byar's from 10 for rates, as OHID's Fingertips does). Figures flagged as
counted to a different definition (:func:`lscb_nb.pilot.quality.definition_flags`) can
be set aside (:func:`excluded`) from the comparators they would distort.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.core import periods, stats, units

log = logging.getLogger(__name__)

_USABLE_STATES = ("reported", "low_reliability", "rounds_to_zero")
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
