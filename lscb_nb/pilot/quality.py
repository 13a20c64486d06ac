"""Quality of the pilot returns: what ingestion found, and figures that look like
a different definition rather than different performance.

Two signals suggest a borough counts an item its own way: a value persistently
far outside the pilot's funnel (and, where DfE publishes the item, far from the
borough's own published figure), or a sudden level shift between quarters that
the other boroughs do not share. Both are flagged for a conversation with the
borough, never reported as performance.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.core import periods, stats
from lscb_nb.core.labels import rules_in_words

log = logging.getLogger(__name__)

WHOLE_FILE = "whole file"


def issue_summary(issues: pd.DataFrame, items: pd.DataFrame, by: str) -> pd.DataFrame:
    """Errors and queries from ingestion, counted by borough, agency or rule."""
    frame = issues.copy()
    frame["agency"] = frame["item_id"].map(items["agency"]).fillna(WHOLE_FILE)
    frame["rule"] = frame["rule_code"].astype(str) + " " + frame["title"].astype(str)
    key = {"borough": "la_code_ons", "agency": "agency", "rule": "rule"}[by]
    frame[key] = frame[key].fillna("not identified")
    out = pd.crosstab(frame[key], frame["severity"]).reindex(
        columns=["error", "query"], fill_value=0
    )
    out.columns.name = None
    out["total"] = out.sum(axis=1)
    return out.sort_values("total", ascending=False)


def cross_item_checks(
    issues: pd.DataFrame, rules: pd.DataFrame, items: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each cross-item rule with how many returns broke it (zero is good news), and
    the rule in words (``rule``: from the titles of ``items`` where given)."""
    cross = issues.loc[issues["rule_code"].astype(str).str.startswith("X")]
    broken = {
        rule_id: int(cross["message"].astype(str).str.contains(rule_id, regex=False).sum())
        for rule_id in rules["rule_id"]
    }
    out = rules[["rule_id", "left", "operator", "right", "severity"]].copy()
    out["returns_breaking_it"] = out["rule_id"].map(broken).astype(int)
    out["rule"] = rules_in_words(out, items)
    return out


def _relative(obs: pd.DataFrame) -> pd.DataFrame:
    """Each value over the pilot median for the same item and quarter."""
    out = obs.copy()
    median = out.groupby(["item_id", "period"])["value"].transform("median")
    out["relative"] = out["value"] / median.replace(0, np.nan)
    return out


def outlier_flags(
    positions: pd.DataFrame,
    published_check: pd.DataFrame | None = None,
    factor: float = 1.8,
    share: float = 0.75,
    published_tolerance: float = 1.5,
) -> pd.DataFrame:
    """Borough-items persistently far outside the funnel.

    Far outside means beyond the 99.8% limit *and* at least ``factor`` times (or at
    most 1/``factor`` of) the pilot median in the same quarter, in at least ``share``
    of the borough's quarters. Where DfE publishes the item, a borough whose pilot
    figure agrees with its own published figure (within ``published_tolerance``
    times) is genuinely different, not differently defined, and is not flagged.
    """
    rel = _relative(positions)
    far = rel["funnel"].astype(str).str.contains("99.8") & (
        (rel["relative"] >= factor) | (rel["relative"] <= 1 / factor)
    )
    rel["far"] = far
    g = rel.groupby(["la_code_ons", "item_id"])
    out = pd.DataFrame(
        {
            "quarters": g.size(),
            "far_quarters": g["far"].sum(),
            "median_ratio": g["relative"].median(),
        }
    )
    out = out.loc[out["far_quarters"] >= np.ceil(share * out["quarters"])].copy()
    out["published_ratio"] = np.nan
    if published_check is not None and not published_check.empty:
        ratio = published_check.groupby(["la_code_ons", "item_id"])["ratio"].median()
        out["published_ratio"] = ratio.reindex(out.index)
        agrees = out["published_ratio"].between(1 / published_tolerance, published_tolerance)
        out = out.loc[~agrees]
    out["signal"] = "far outside the funnel"
    out["detail"] = [
        f"{row.far_quarters:.0f} of {row.quarters:.0f} quarters far outside the pilot's "
        f"99.8% funnel, typically {row.median_ratio:.1f} times the pilot median"
        + (
            f"; the pilot figure is {row.published_ratio:.1f} times the same authority's "
            "published DfE figure"
            if np.isfinite(row.published_ratio)
            else ""
        )
        for row in out.itertuples()
    ]
    return out.reset_index()


def level_shift_flags(
    obs: pd.DataFrame, factor: float = 1.6, alpha: float = 0.001, min_side: int = 2
) -> pd.DataFrame:
    """Sudden, lasting changes in a borough's level that the others do not share.

    Works on each value relative to the pilot median for the quarter (so seasonal
    and London-wide changes cancel out), finds the split with the largest change in
    mean, and flags it when the change is at least ``factor`` times, every quarter
    after it lies beyond every quarter before it, and Fingertips' exact test of the
    pooled counts before and after gives p below ``alpha``.
    """
    rel = _relative(obs.loc[obs["frequency"] == "quarterly"])
    rows = []
    for (la, item_id), series in rel.groupby(["la_code_ons", "item_id"]):
        series = series.sort_values("period", key=periods.sort_key)
        r = series["relative"].to_numpy(float)
        if len(r) < 2 * min_side or not np.isfinite(r).all() or (r <= 0).any():
            continue
        best = None
        for k in range(min_side, len(r) - min_side + 1):
            change = r[k:].mean() / r[:k].mean()
            separated = r[k:].max() < r[:k].min() or r[k:].min() > r[:k].max()
            if separated and (best is None or abs(np.log(change)) > abs(np.log(best[1]))):
                best = (k, change)
        if best is None or not (best[1] >= factor or best[1] <= 1 / factor):
            continue
        k, change = best
        before, after = series.iloc[:k], series.iloc[k:]
        test = stats.year_on_year_change(
            after["count"].sum(),
            after["base"].sum(),
            before["count"].sum(),
            before["base"].sum(),
            kind=series["kind"].iloc[0],
        )
        p_value = float(np.asarray(test["p_value"]).ravel()[0])
        if p_value >= alpha:
            continue
        rows.append(
            {
                "la_code_ons": la,
                "item_id": item_id,
                "from_period": series["period"].iloc[k],
                "change_factor": change,
                "p_value": p_value,
                "signal": "sudden level shift",
                "detail": (
                    f"from {series['period'].iloc[k]} the figure is {change:.2f} times its "
                    "earlier level relative to the rest of the pilot, and stays there"
                ),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "la_code_ons",
            "item_id",
            "from_period",
            "change_factor",
            "p_value",
            "signal",
            "detail",
        ],
    )


def _confirmed_by_dfe(
    flags: pd.DataFrame, published_check: pd.DataFrame | None, tolerance: float
) -> pd.Series:
    """Flags where DfE's published figure agrees with the pilot's in every year:
    the change or the difference is real, DfE saw it too."""
    if published_check is None or published_check.empty or flags.empty:
        return pd.Series(False, index=flags.index)
    ok = published_check["ratio"].between(1 / tolerance, tolerance)
    agrees = ok.groupby([published_check["la_code_ons"], published_check["item_id"]]).all()
    keys = pd.MultiIndex.from_frame(flags[["la_code_ons", "item_id"]])
    return pd.Series(agrees.reindex(keys).fillna(False).to_numpy(bool), index=flags.index)


def definition_flags(
    positions: pd.DataFrame,
    obs: pd.DataFrame,
    published_check: pd.DataFrame | None = None,
    published_tolerance: float = 1.5,
) -> pd.DataFrame:
    """Both signals in one table: borough, item, signal, detail, and ``from_period``
    for a level shift (the figures from then on are the different definition; blank
    for a borough far outside in most quarters). A level shift that DfE's published
    figures for the borough show too is a real change and dropped. Comparators leave
    these figures out (:func:`lscb_nb.pilot.observations.excluded`)."""
    cols = ["la_code_ons", "item_id", "signal", "detail", "from_period"]
    shifts = level_shift_flags(obs)
    shifts = shifts.loc[~_confirmed_by_dfe(shifts, published_check, published_tolerance)]
    far = outlier_flags(positions, published_check, published_tolerance=published_tolerance)
    parts = [far.assign(from_period=None)[cols], shifts[cols]]
    return pd.concat(parts, ignore_index=True).sort_values(cols[:2]).reset_index(drop=True)
