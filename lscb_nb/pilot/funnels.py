"""Funnel plots' limits and where each borough falls on them.

OHID's exact limits when no adjustment applies; otherwise limits widened for
over-dispersion (Spiegelhalter 2005), unless asked not to.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.core import stats, units
from lscb_nb.pilot.observations import excluded

log = logging.getLogger(__name__)

# What a fraction is multiplied by to show a proportion and a rate (data/vocab/units.yaml).
_PCT = units.kind_scale("proportion")
_RATE = units.kind_scale("rate")


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
