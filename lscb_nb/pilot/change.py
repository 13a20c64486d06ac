"""Change in a borough's figures: on the same quarter last year, and the trend.

Fingertips' interval and test for the year-on-year change; the trend over the quarters
in plain words that never call a constant series a trend.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.core import periods, stats, units

log = logging.getLogger(__name__)

# What a fraction is multiplied by to show a proportion and a rate (data/vocab/units.yaml).
_PCT = units.kind_scale("proportion")


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
