"""Benchmarking statistics: confidence intervals, funnel limits, trend tests, rounding.

The methods are the ones English public-health and children's-services benchmarking
publish with, so a borough's figures here match what it sees in OHID's Fingertips
and DfE's LAIT:

- proportions: Wilson score intervals (Newcombe 1998, Stat Med 17:857-872);
- counts and rates: exact Poisson limits below 10 events and Byar's approximation
  from 10 (OHID Fingertips technical guidance, "Rates"; PHEindicatormethods
  ``phe_rate``);
- funnel plots: control limits around a target (Spiegelhalter 2005, Stat Med
  24:1185-1202) computed as OHID computes them (PHEindicatormethods
  ``calculate_funnel_limits``), or with Spiegelhalter's exact interpolated limits;
- over-dispersion: winsorised z-scores, the dispersion ratio phi and its test, and
  multiplicative (phi) or additive random-effects (tau^2, DerSimonian-Laird) limits
  (Spiegelhalter 2005, Qual Saf Health Care 14:347-351);
- trend: the chi-square test for linear trend (Armitage 1955; Altman 1991, ch. 10),
  valid from 3 points; Fingertips reports it over the five most recent points, a
  reporting choice callers pass as ``min_points``;
- change between two periods: Newcombe's hybrid score interval for a difference in
  proportions and an exact conditional test for two rates;
- rounding: half up, as DfE publishes, which Python's ``round`` does not do.

Every numeric function is vectorised. A scalar in gives a float out, an array gives
an array, a Series gives a Series with the same index (functions that return several
columns give a DataFrame indexed like the input). Functions that label (``higher``,
``within``, ``A`` ...) return a ``str`` for a scalar and a Series otherwise.
Proportions are on the 0-1 scale: multiply by 100 for percentages.
"""

from __future__ import annotations

import decimal
import logging
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special
from scipy.stats import binom, chi2, norm, poisson
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from statsmodels.stats.rates import test_poisson_2indep

log = logging.getLogger(__name__)

ArrayLike = float | int | np.ndarray | pd.Series | Sequence[float]
Polarity = Literal["high", "low", "neutral"]
FunnelMethod = Literal["ohid", "spiegelhalter"]
Adjustment = Literal["none", "multiplicative", "additive"]

# Labels, one word for one thing across the toolkit.
HIGHER, SIMILAR, LOWER = "higher", "similar", "lower"
BETTER, WORSE = "better", "worse"
NOT_COMPARED = "not compared"
NOT_RANKED = "not ranked"
ABOVE_998, ABOVE_95, WITHIN, BELOW_95, BELOW_998 = (
    "above 99.8%",
    "above 95%",
    "within",
    "below 95%",
    "below 99.8%",
)
FUNNEL_LABELS: tuple[str, ...] = (ABOVE_998, ABOVE_95, WITHIN, BELOW_95, BELOW_998)
QUARTILE_BANDS: tuple[str, ...] = ("A", "B", "C", "D")
POLARITIES: tuple[str, ...] = ("high", "low", "neutral")

# Fingertips uses the exact method below this many events and Byar's from it.
BYARS_MIN_COUNT = 10
# Fingertips reports a recent trend only over at least this many points: a rule of the
# report, applied by the report (callers check it before asking for a test), never a
# condition of the test itself.
TREND_MIN_POINTS = 5
# Fewer groups than this and a test for linear trend has nothing to test: the chi-square
# test for trend in proportions is defined from two groups.
TREND_MIN_VALID = 2
# Spiegelhalter (2005, QSHC) winsorises 10% of z-scores at each end before estimating phi.
WINSORISE = 0.1
ADJUSTMENTS: tuple[str, ...] = ("none", "multiplicative", "additive")


# --------------------------------------------------------------------------------------
# Vectorising helpers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Like:
    """What the caller passed in, so results go back in the same kind."""

    shape: tuple[int, ...]
    index: pd.Index | None
    name: Hashable | None

    @property
    def scalar(self) -> bool:
        return self.shape == () and self.index is None

    def frame_index(self) -> pd.Index:
        if self.index is not None:
            return self.index
        return pd.RangeIndex(int(np.prod(self.shape)) if self.shape else 1)


def _inputs(*values: ArrayLike) -> tuple[list[np.ndarray], _Like]:
    """Broadcast the arguments to flat float arrays and remember the caller's kind."""
    index: pd.Index | None = None
    name: Hashable | None = None
    arrays = []
    for value in values:
        if isinstance(value, pd.Series):
            if index is None:
                index, name = value.index, value.name
            elif not value.index.equals(index):
                raise ValueError("Series arguments must share the same index: align them first.")
            arrays.append(value.to_numpy(dtype=float, na_value=np.nan))
        else:
            arrays.append(np.asarray(value, dtype=float))
    broadcast = np.broadcast_arrays(*arrays)
    shape = broadcast[0].shape
    if index is not None and len(shape) != 1:
        raise ValueError("Series arguments can only be combined with scalars or 1-D arrays.")
    flat = [np.array(a, dtype=float).reshape(-1) for a in broadcast]
    return flat, _Like(shape=shape, index=index, name=name)


def _output(values: np.ndarray, like: _Like) -> ArrayLike:
    """Return a flat result as a float, an array of the input's shape, or a Series."""
    if like.scalar:
        return float(values[0])
    if like.index is not None:
        return pd.Series(values, index=like.index, name=like.name)
    return values.reshape(like.shape)


def _frame(columns: dict[str, np.ndarray], like: _Like) -> pd.DataFrame:
    if len(like.shape) > 1:
        raise ValueError("Results with several columns need scalar or 1-D inputs.")
    return pd.DataFrame(columns, index=like.frame_index())


def _labels(values: np.ndarray, like: _Like, name: str) -> str | pd.Series:
    if like.scalar:
        return str(values[0])
    if len(like.shape) > 1:
        raise ValueError("Labels need scalar or 1-D inputs.")
    return pd.Series(list(values), index=like.frame_index(), name=name, dtype=object)


def _label_inputs(*values: object) -> tuple[list[np.ndarray], _Like]:
    """Like `_inputs` for text arguments (comparison labels, polarities)."""
    index: pd.Index | None = None
    arrays = []
    for value in values:
        if isinstance(value, pd.Series):
            if index is None:
                index = value.index
            elif not value.index.equals(index):
                raise ValueError("Series arguments must share the same index: align them first.")
            arrays.append(value.to_numpy(dtype=object))
        elif isinstance(value, str) or value is None:
            arrays.append(np.array(value, dtype=object))
        else:
            arrays.append(np.asarray(value, dtype=object))
    broadcast = np.broadcast_arrays(*arrays)
    flat = [np.array(a, dtype=object).reshape(-1) for a in broadcast]
    return flat, _Like(shape=broadcast[0].shape, index=index, name=None)


def _alpha(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(
            f"confidence must be between 0 and 1 (e.g. 0.95, not 95); got {confidence!r}."
        )
    return 1.0 - confidence


def _z(confidence: float) -> float:
    return float(norm.ppf(1 - _alpha(confidence) / 2))


def _check_counts(count: np.ndarray, what: str = "counts") -> None:
    if np.any(count[np.isfinite(count)] < 0):
        raise ValueError(f"{what} must be zero or more.")


def _check_proportion_inputs(numerator: np.ndarray, denominator: np.ndarray) -> None:
    _check_counts(numerator, "numerators")
    _check_counts(denominator, "denominators")
    both = np.isfinite(numerator) & np.isfinite(denominator)
    if np.any(numerator[both] > denominator[both]):
        raise ValueError("numerators must not exceed their denominators for a proportion.")


def _check_polarity(polarity: object) -> str:
    text = str(polarity).strip().lower()
    if text not in POLARITIES:
        raise ValueError(f"polarity must be one of {POLARITIES}; got {polarity!r}.")
    return text


def _confidence_suffix(confidence: float) -> str:
    """0.95 -> '95', 0.998 -> '998': the column suffix funnel tables use."""
    return f"{confidence * 100:g}".replace(".", "")


# --------------------------------------------------------------------------------------
# Confidence intervals
# --------------------------------------------------------------------------------------


def wilson_ci(
    numerator: ArrayLike, denominator: ArrayLike, confidence: float = 0.95
) -> tuple[ArrayLike, ArrayLike]:
    """Wilson score interval for a proportion, as (lower, upper) on the 0-1 scale.

    Wilson keeps its coverage for small boroughs and for 0 or n events, where the
    simple ``p ± z·se`` collapses; OHID uses it for every proportion in Fingertips.
    Callers multiply by 100 for percentages. A zero denominator gives NaN.
    Source: Wilson (1927), JASA 22:209-212; Newcombe (1998), Stat Med 17:857-872,
    method 3; computed by statsmodels ``proportion_confint(method="wilson")``.
    """
    (x, n), like = _inputs(numerator, denominator)
    alpha = _alpha(confidence)
    _check_proportion_inputs(x, n)
    lower = np.full(x.shape, np.nan)
    upper = np.full(x.shape, np.nan)
    ok = np.isfinite(x) & np.isfinite(n) & (n > 0)
    if ok.any():
        lo, hi = proportion_confint(x[ok], n[ok], alpha=alpha, method="wilson")
        lower[ok] = np.clip(lo, 0.0, 1.0)
        upper[ok] = np.clip(hi, 0.0, 1.0)
    # Exact ends for none and all, free of rounding noise.
    lower[ok & (x == 0)] = 0.0
    upper[ok & (x == n)] = 1.0
    return _output(lower, like), _output(upper, like)


def byars_ci(count: ArrayLike, confidence: float = 0.95) -> tuple[ArrayLike, ArrayLike]:
    """Byar's approximation to the Poisson confidence interval for a count.

    Within 0.2% of the exact limits from 10 events at 95% (PHE Public Health Data
    Science, "Technical Guide: Confidence Intervals", 2018), which is why Fingertips
    uses it from 10 events and the exact method below. A lower limit the formula
    would make negative (very small counts at high confidence) is reported as 0; a
    count of 0 has lower limit 0.
    Source: Breslow & Day (1987), Statistical Methods in Cancer Research vol. II
    (IARC); the formula as in PHEindicatormethods ``byars_lower``/``byars_upper``:
    lower = O(1 - 1/(9O) - z/(3√O))³, upper = (O+1)(1 - 1/(9(O+1)) + z/(3√(O+1)))³.
    """
    (o,), like = _inputs(count)
    z = _z(confidence)
    _check_counts(o)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
        upper = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * np.sqrt(o + 1))) ** 3
    lower = np.where(o == 0, 0.0, np.maximum(lower, 0.0))
    return _output(lower, like), _output(upper, like)


def exact_poisson_ci(count: ArrayLike, confidence: float = 0.95) -> tuple[ArrayLike, ArrayLike]:
    """Exact (Garwood) Poisson confidence interval for a count, via chi-square.

    The interval OHID uses below 10 events, where Byar's approximation drifts.
    lower = χ²(α/2, 2O)/2 (0 when O = 0), upper = χ²(1-α/2, 2O+2)/2.
    Source: Garwood (1936), Biometrika 28:437-442; Armitage, Berry & Matthews (2002),
    Statistical Methods in Medical Research, 4th ed.; ``scipy.stats.chi2.ppf``.
    """
    (o,), like = _inputs(count)
    alpha = _alpha(confidence)
    _check_counts(o)
    with np.errstate(invalid="ignore"):
        lower = np.where(o > 0, chi2.ppf(alpha / 2, 2 * o) / 2, 0.0)
        upper = chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
    lower = np.where(np.isnan(o), np.nan, lower)
    return _output(lower, like), _output(upper, like)


def _poisson_limits(o: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fingertips' rule on flat arrays: exact below 10 events, Byar's from 10."""
    exact_lower, exact_upper = exact_poisson_ci(o, confidence)
    byars_lower, byars_upper = byars_ci(o, confidence)
    use_exact = o < BYARS_MIN_COUNT
    lower = np.where(use_exact, exact_lower, byars_lower)
    upper = np.where(use_exact, exact_upper, byars_upper)
    method = np.where(np.isnan(o), None, np.where(use_exact, "exact", "byars"))
    return lower, upper, method


def rate_ci(
    count: ArrayLike,
    population: ArrayLike,
    per: float = 10_000,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """A rate per ``per`` people with its confidence interval, as Fingertips computes it.

    Exact Poisson limits below 10 events and Byar's from 10 (OHID Fingertips technical
    guidance, "Rates"; PHEindicatormethods ``phe_rate``). Returns columns ``rate``,
    ``lower``, ``upper`` (all per ``per``) and ``method`` (``exact`` or ``byars``).
    A zero population gives NaN.
    """
    (o, n), like = _inputs(count, population)
    _alpha(confidence)
    _check_counts(o)
    _check_counts(n, "populations")
    lower, upper, method = _poisson_limits(o, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n > 0, per / n, np.nan)
    return _frame(
        {"rate": o * scale, "lower": lower * scale, "upper": upper * scale, "method": method},
        like,
    )


# --------------------------------------------------------------------------------------
# Funnel plots
# --------------------------------------------------------------------------------------


def funnel_grid(
    max_denominator: float, min_denominator: float = 1, points: int = 100
) -> np.ndarray:
    """Whole-number denominators spaced evenly on a log scale, for drawing funnel lines.

    Like PHEindicatormethods' 100-point axis, points are dense where the funnel bends
    (small denominators) and sparse where it is flat. Duplicates after rounding are
    dropped, so a narrow range can give fewer than ``points`` values.
    """
    if not 1 <= min_denominator <= max_denominator:
        raise ValueError("need 1 <= min_denominator <= max_denominator.")
    grid = np.geomspace(min_denominator, max_denominator, num=points)
    return np.unique(np.round(grid)).astype(float)


def _spiegelhalter_limit(
    dist, probability: float, denominator: np.ndarray | float, **params
) -> np.ndarray:
    """Spiegelhalter's interpolated p-quantile of a discrete count, divided by n.

    r_p is the smallest r with P(Y <= r) >= p; α = (P(Y <= r_p) - p) / P(Y = r_p);
    the limit is (r_p - α)/n (Spiegelhalter 2005, appendix). Interpolating makes
    the limits a smooth line instead of a staircase.
    """
    r_p = dist.ppf(probability, **params)
    alpha = (dist.cdf(r_p, **params) - probability) / dist.pmf(r_p, **params)
    return (r_p - alpha) / denominator


def funnel_limits_proportion(
    target_p: float,
    denominators: ArrayLike,
    confidences: Sequence[float] = (0.95, 0.998),
    method: FunnelMethod = "ohid",
) -> pd.DataFrame:
    """Funnel-plot control limits for a proportion around ``target_p`` (0-1 scale).

    ``method="ohid"`` (default) is what OHID publishes with (PHEindicatormethods
    ``calculate_funnel_limits``, method "Wilson"): p ± z√(p(1-p)/n), clipped to
    [0, 1]. These are exactly the observed proportions whose Wilson score interval
    just reaches the target, so a borough is outside the funnel exactly when its
    Wilson interval (`wilson_ci`) excludes the target.
    ``method="spiegelhalter"`` gives exact binomial limits with Spiegelhalter's
    interpolation (Spiegelhalter 2005, Stat Med 24:1185-1202, appendix);
    denominators must then be whole numbers.

    Pass the boroughs' denominators to classify them, or `funnel_grid` to draw the
    lines. Returns columns ``denominator``, then ``lower_95``, ``upper_95``,
    ``lower_998``, ``upper_998`` (one pair per confidence).
    """
    (n,), like = _inputs(denominators)
    if not 0 <= target_p <= 1:
        raise ValueError("target_p is a proportion between 0 and 1 (divide a % by 100).")
    if np.any(n[np.isfinite(n)] <= 0):
        raise ValueError("denominators must be greater than zero.")
    if method == "spiegelhalter" and np.any(np.isfinite(n) & (n != np.round(n))):
        raise ValueError("the exact binomial method needs whole-number denominators.")
    columns: dict[str, np.ndarray] = {"denominator": n}
    for confidence in confidences:
        alpha, suffix = _alpha(confidence), _confidence_suffix(confidence)
        with np.errstate(divide="ignore", invalid="ignore"):
            if method == "ohid":
                half_width = _z(confidence) * np.sqrt(target_p * (1 - target_p) / n)
                lower, upper = target_p - half_width, target_p + half_width
            elif method == "spiegelhalter":
                params = {"n": n, "p": target_p}
                lower = _spiegelhalter_limit(binom, alpha / 2, n, **params)
                upper = _spiegelhalter_limit(binom, 1 - alpha / 2, n, **params)
            else:
                raise ValueError(f"method must be 'ohid' or 'spiegelhalter'; got {method!r}.")
        columns[f"lower_{suffix}"] = np.clip(lower, 0.0, 1.0)
        columns[f"upper_{suffix}"] = np.clip(upper, 0.0, 1.0)
    return _frame(columns, like)


def funnel_limits_rate(
    target_rate_per: float,
    populations: ArrayLike,
    per: float = 10_000,
    confidences: Sequence[float] = (0.95, 0.998),
    method: FunnelMethod = "ohid",
) -> pd.DataFrame:
    """Funnel-plot control limits for a rate per ``per`` around ``target_rate_per``.

    ``method="ohid"`` (default) follows PHEindicatormethods ``calculate_funnel_limits``
    (statistic "rate", method "Poisson"): the upper limit at population n is the rate
    whose exact Poisson lower confidence limit equals the expected count
    λ = target × n, i.e. the O with χ²(α/2, 2O)/2 = λ; the lower limit is the O with
    χ²(1-α/2, 2O+2)/2 = λ. Solved in closed form with ``scipy.special.chdtriv``, so
    the line is smooth in n. ``method="spiegelhalter"`` gives exact Poisson limits with
    Spiegelhalter's interpolation (Spiegelhalter 2005, appendix).

    Returns columns ``population``, then ``lower_95``, ``upper_95``, ``lower_998``,
    ``upper_998`` (per ``per``); lower limits stop at 0.
    """
    (n,), like = _inputs(populations)
    if target_rate_per < 0:
        raise ValueError("target_rate_per must be zero or more.")
    if np.any(n[np.isfinite(n)] <= 0):
        raise ValueError("populations must be greater than zero.")
    expected = target_rate_per / per * n
    columns: dict[str, np.ndarray] = {"population": n}
    for confidence in confidences:
        alpha, suffix = _alpha(confidence), _confidence_suffix(confidence)
        with np.errstate(divide="ignore", invalid="ignore"):
            if method == "ohid":
                upper_count = special.chdtriv(alpha / 2, 2 * expected) / 2
                lower_count = special.chdtriv(1 - alpha / 2, 2 * expected) / 2 - 1
            elif method == "spiegelhalter":
                upper_count = _spiegelhalter_limit(poisson, 1 - alpha / 2, 1.0, mu=expected)
                lower_count = _spiegelhalter_limit(poisson, alpha / 2, 1.0, mu=expected)
            else:
                raise ValueError(f"method must be 'ohid' or 'spiegelhalter'; got {method!r}.")
        none_expected = expected == 0
        upper_count = np.where(none_expected, 0.0, upper_count)
        lower_count = np.where(none_expected, 0.0, np.maximum(lower_count, 0.0))
        columns[f"lower_{suffix}"] = lower_count / n * per
        columns[f"upper_{suffix}"] = upper_count / n * per
    return _frame(columns, like)


def classify_against_funnel(
    value: ArrayLike,
    lower_95: ArrayLike,
    upper_95: ArrayLike,
    lower_998: ArrayLike,
    upper_998: ArrayLike,
) -> str | pd.Series:
    """Where each value sits against its funnel limits.

    Labels: ``above 99.8%``, ``above 95%``, ``within``, ``below 95%``, ``below 99.8%``
    (strictly beyond a limit, as PHEindicatormethods ``assign_funnel_significance``
    decides), and ``not compared`` where the value or a limit is missing. Pass limits
    on the same scale as the values (proportions with proportions).
    """
    (v, lo95, hi95, lo998, hi998), like = _inputs(value, lower_95, upper_95, lower_998, upper_998)
    missing = ~np.isfinite(np.stack([v, lo95, hi95, lo998, hi998])).all(axis=0)
    labels = np.select(
        [missing, v > hi998, v > hi95, v < lo998, v < lo95],
        [NOT_COMPARED, ABOVE_998, ABOVE_95, BELOW_998, BELOW_95],
        default=WITHIN,
    )
    return _labels(labels, like, "funnel")


# --------------------------------------------------------------------------------------
# Over-dispersion (Spiegelhalter 2005, Qual Saf Health Care 14:347-351)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dispersion:
    """How far a set of areas varies beyond chance, and the adjustment applied.

    ``phi`` is the (winsorised) dispersion ratio, the mean squared z-score, which is 1
    when areas differ only by chance; ``statistic`` = n·phi, referred to χ² on n-1 df
    for ``p_value``; ``tau2`` the between-area variance of the additive random-effects
    model (DerSimonian-Laird moment estimate from the winsorised phi), on the scale
    of the indicator; ``applied`` the adjustment the limits use: ``none`` when not
    asked for or when the areas are not significantly over-dispersed.
    """

    n: int
    phi: float
    statistic: float
    p_value: float
    tau2: float
    overdispersed: bool
    requested: str
    applied: str
    winsorise: float

    def describe(self) -> str:
        """One sentence for a report: which limits are drawn and why."""
        test = (
            f"the dispersion ratio φ = {self.phi:.2f} over {self.n} areas "
            f"(10% winsorised z-scores; χ² test p {_p_text(self.p_value)})"
            if np.isfinite(self.phi)
            else f"too few areas ({self.n}) to estimate over-dispersion"
        )
        if self.requested == "none":
            return f"Limits drawn without adjustment for over-dispersion (as asked); {test}."
        if self.applied == "none":
            return (
                f"Limits drawn without adjustment: {test}, so the areas vary no more "
                "than chance predicts."
            )
        if self.applied == "multiplicative":
            return (
                f"Limits widened by √φ for over-dispersion: {test}, so the areas vary "
                "more than chance alone predicts."
            )
        return (
            f"Limits widened for over-dispersion with an additive random-effects model "
            f"(between-area SD τ = {math.sqrt(self.tau2):.3g}): {test}, so the areas vary "
            "more than chance alone predicts."
        )

    def short(self) -> str:
        """A few words for a chart: the limits drawn."""
        if self.applied == "none":
            why = "as asked" if self.requested == "none" else "no over-dispersion"
            if self.requested != "none" and np.isfinite(self.phi):
                why += f", φ = {self.phi:.2f}"
            return f"Limits not adjusted ({why})"
        how = "random effects" if self.applied == "additive" else "√φ"
        return f"Limits widened for over-dispersion ({how}; φ = {self.phi:.1f}, {self.n} areas)"


def _p_text(p: float) -> str:
    if not np.isfinite(p):
        return "not computable"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def winsorise(values: ArrayLike, limit: float = WINSORISE) -> np.ndarray:
    """Winsorise at ``limit`` in each tail: the lowest and highest ``limit`` share of
    values are set to the nearest value kept, so a few extreme areas (often a
    different definition) cannot inflate the estimate of over-dispersion.
    Spiegelhalter (2005, QSHC, appendix): "set the lowest 100q% of z-scores to Zq,
    and the highest 100q% to Z(1-q)"; computed by ``scipy.stats.mstats.winsorize``
    (floor(limit·n) values per tail). Missing values are dropped."""
    from scipy.stats import mstats

    (v,), _ = _inputs(values)
    v = v[np.isfinite(v)]
    if not 0 <= limit < 0.5:
        raise ValueError(f"limit is a share of each tail, from 0 to below 0.5; got {limit!r}.")
    if v.size == 0 or limit == 0:
        return v
    return np.asarray(mstats.winsorize(v, limits=(limit, limit)).filled(np.nan), dtype=float)


def dispersion(
    values: ArrayLike,
    target: float,
    standard_errors: ArrayLike,
    adjustment: Adjustment = "additive",
    winsorise_by: float = WINSORISE,
    alpha: float = 0.05,
) -> Dispersion:
    """Estimate over-dispersion of ``values`` around ``target`` (Spiegelhalter 2005, QSHC).

    z = (y - target)/s for each area; phi = mean of the winsorised z²; under no
    over-dispersion n·phi ~ χ²(n-1), so the areas are over-dispersed when that test
    gives p below ``alpha``. The additive model's between-area variance is
    τ² = max(0, (n·phi - (n-1)) / (Σw - Σw²/Σw)) with w = 1/s², the
    DerSimonian-Laird moment estimator with phi in place of Cochran's Q/n.
    With no winsorising and the fixed-effect mean as ``target``, n·phi is Cochran's
    Q and τ² the DerSimonian-Laird estimate of a meta-analysis.
    Needs at least 3 areas with a value and a positive standard error; fewer give
    NaN and no adjustment.
    """
    if adjustment not in ADJUSTMENTS:
        raise ValueError(f"adjustment must be one of {ADJUSTMENTS}; got {adjustment!r}.")
    (y, s), _ = _inputs(values, standard_errors)
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    y, s = y[ok], s[ok]
    n = int(y.size)
    if n < 3 or not np.isfinite(target):
        return Dispersion(
            n, math.nan, math.nan, math.nan, 0.0, False, adjustment, "none", winsorise_by
        )
    z = winsorise((y - target) / s, winsorise_by)
    phi = float(np.mean(z**2))
    statistic = n * phi
    p_value = float(chi2.sf(statistic, n - 1))
    w = 1 / s**2
    denominator = w.sum() - (w**2).sum() / w.sum()
    tau2 = float(max(0.0, (statistic - (n - 1)) / denominator)) if denominator > 0 else 0.0
    overdispersed = bool(p_value < alpha and phi > 1)
    applied = adjustment if overdispersed else "none"
    return Dispersion(
        n, phi, statistic, p_value, tau2, overdispersed, adjustment, applied, winsorise_by
    )


def adjusted_z(
    values: ArrayLike, target: float, standard_errors: ArrayLike, how: Dispersion
) -> ArrayLike:
    """z-scores under the adjustment ``how`` applies: z/√phi (multiplicative),
    (y - target)/√(s² + τ²) (additive), or the plain z."""
    (y, s), like = _inputs(values, standard_errors)
    with np.errstate(divide="ignore", invalid="ignore"):
        if how.applied == "multiplicative":
            z = (y - target) / (s * math.sqrt(how.phi))
        elif how.applied == "additive":
            z = (y - target) / np.sqrt(s**2 + how.tau2)
        else:
            z = (y - target) / s
    return _output(z, like)


def dispersed_limits(
    target: float,
    standard_errors: ArrayLike,
    how: Dispersion,
    confidences: Sequence[float] = (0.95, 0.998),
    floor: float | None = 0.0,
    ceiling: float | None = None,
) -> pd.DataFrame:
    """Funnel limits widened for over-dispersion: target ± z·√phi·s (multiplicative)
    or target ± z·√(s² + τ²) (additive), for standard errors ``s`` (one per area, or
    along a drawing grid). Clipped to [``floor``, ``ceiling``] (0 and 1 for a
    proportion). Returns ``lower_95``, ``upper_95``, ``lower_998``, ``upper_998``."""
    (s,), like = _inputs(standard_errors)
    if how.applied == "multiplicative":
        spread = s * math.sqrt(how.phi)
    elif how.applied == "additive":
        spread = np.sqrt(s**2 + how.tau2)
    else:
        spread = s
    columns: dict[str, np.ndarray] = {}
    for confidence in confidences:
        suffix, z = _confidence_suffix(confidence), _z(confidence)
        columns[f"lower_{suffix}"] = np.clip(target - z * spread, floor, ceiling)
        columns[f"upper_{suffix}"] = np.clip(target + z * spread, floor, ceiling)
    return _frame(columns, like)


def proportion_se(target_p: float, denominators: ArrayLike) -> ArrayLike:
    """Standard error of a proportion at the target, √(p(1-p)/n): the scale on which
    Spiegelhalter's z-scores and OHID's limits for proportions are drawn."""
    (n,), like = _inputs(denominators)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _output(np.sqrt(target_p * (1 - target_p) / n), like)


def rate_se(target_rate_per: float, populations: ArrayLike, per: float = 10_000) -> ArrayLike:
    """Standard error of a rate per ``per`` at the target rate (Poisson), √(r·per/n)."""
    (n,), like = _inputs(populations)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _output(np.sqrt(target_rate_per * per / n), like)


# --------------------------------------------------------------------------------------
# Trend and change
# --------------------------------------------------------------------------------------


def chi_square_trend(
    numerators: ArrayLike,
    denominators: ArrayLike,
    scores: ArrayLike | None = None,
    kind: Literal["proportion", "rate"] = "proportion",
    min_points: int = TREND_MIN_VALID,
) -> dict[str, float | str]:
    """Chi-square test for linear trend over periods, as Fingertips' recent trends.

    ``kind="proportion"``: the Cochran-Armitage test (Armitage 1955, Biometrics
    11:375-386; worked in Altman 1991, Practical Statistics for Medical Research,
    ch. 10), χ² = [Σ s(O - n·p̄)]² / (p̄(1-p̄)[Σ n·s² - (Σ n·s)²/N]) on 1 df; the
    same statistic as R's ``prop.trend.test``.
    ``kind="rate"`` (counts over populations): the Poisson score test for a log-linear
    trend, with E = O_total·n/N, χ² = [Σ s(O - E)]² / [Σ s²E - (Σ sE)²/O_total]
    (Breslow & Day 1987, vol. II, ch. 3, the test for trend in SMRs).

    ``scores`` default to 1, 2, ... (equally spaced periods). Periods with a missing
    numerator or denominator are left out but keep their scores. Fewer than
    ``min_points`` periods with data raise ValueError: the test is defined from 2
    (``TREND_MIN_VALID``, the default and the smallest accepted). Fingertips' rule of
    five points before a trend is called (``TREND_MIN_POINTS``) belongs to the report,
    which checks it before asking. Returns ``chi2``, ``p_value``
    and ``direction`` (``increasing``/``decreasing``/``flat`` by the sign of the trend,
    significant or not: read it with ``p_value``), or ``not computable`` with NaNs
    when there is no variation to test (no events, or every period the same score).
    """
    (o, n), _ = _inputs(numerators, denominators)
    s = np.arange(1, o.size + 1, dtype=float) if scores is None else _inputs(scores)[0][0]
    if s.size != o.size:
        raise ValueError("scores must have one value per period.")
    keep = np.isfinite(o) & np.isfinite(n) & np.isfinite(s)
    o, n, s = o[keep], n[keep], s[keep]
    if int(min_points) < TREND_MIN_VALID:
        raise ValueError(
            f"min_points must be at least {TREND_MIN_VALID}: a test for linear trend over "
            f"fewer points has nothing to test; got {min_points}."
        )
    if o.size < min_points:
        raise ValueError(
            f"a trend needs at least {min_points} periods with data "
            f"(min_points={min_points}); got {o.size}."
        )
    if kind == "proportion":
        _check_proportion_inputs(o, n)
    elif kind == "rate":
        _check_counts(o)
        _check_counts(n, "populations")
    else:
        raise ValueError(f"kind must be 'proportion' or 'rate'; got {kind!r}.")
    total_o, total_n = o.sum(), n.sum()
    if kind == "proportion":
        p_bar = total_o / total_n
        expected = n * p_bar
        variance = p_bar * (1 - p_bar) * (np.sum(n * s**2) - np.sum(n * s) ** 2 / total_n)
    else:
        expected = total_o * n / total_n
        variance = (
            np.sum(s**2 * expected) - np.sum(s * expected) ** 2 / total_o if total_o > 0 else 0.0
        )
    score = float(np.sum(s * (o - expected)))
    if not variance > 1e-12 * max(1.0, abs(score)):
        return {"chi2": math.nan, "p_value": math.nan, "direction": "not computable"}
    statistic = score**2 / variance
    direction = "increasing" if score > 0 else "decreasing" if score < 0 else "flat"
    return {
        "chi2": float(statistic),
        "p_value": float(chi2.sf(statistic, 1)),
        "direction": direction,
    }


def chi_square_homogeneity(
    numerators: ArrayLike, denominators: ArrayLike
) -> dict[str, float | int]:
    """Pearson's chi-square test that k proportions are equal (no continuity
    correction), on the k × 2 table of events and non-events: the test R's
    ``prop.test`` runs on k groups. Groups with a missing figure are left out; fewer
    than two groups, or no variation (no events, or all events), are not computable
    (NaNs). Returns ``chi2``, ``df`` (k - 1) and ``p_value``. Use it where the question
    is whether groups differ at all; :func:`chi_square_trend` where they are ordered.
    """
    (o, n), _ = _inputs(numerators, denominators)
    keep = np.isfinite(o) & np.isfinite(n)
    o, n = o[keep], n[keep]
    _check_proportion_inputs(o, n)
    k = int(o.size)
    total_o, total_n = o.sum(), n.sum()
    if k < 2 or total_n <= 0 or total_o in (0, total_n):
        return {"chi2": math.nan, "df": max(k - 1, 0), "p_value": math.nan}
    table = np.column_stack([o, n - o])
    expected = np.outer(n, [total_o, total_n - total_o]) / total_n
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return {"chi2": statistic, "df": k - 1, "p_value": float(chi2.sf(statistic, k - 1))}


def mann_kendall(values: ArrayLike) -> dict[str, float | int | str]:
    """The Mann-Kendall test for a monotonic trend in a short series (Mann 1945;
    Kendall 1975), as Gilbert (1987, Statistical Methods for Environmental Pollution
    Monitoring, §16.4) sets it out: S = Σ sign(x_j - x_i) over every later pair, its
    variance corrected for ties, VAR(S) = [n(n-1)(2n+5) - Σ t(t-1)(2t+5)] / 18, and
    Z = (S - 1)/√VAR(S) for S > 0, (S + 1)/√VAR(S) for S < 0 (a continuity
    correction), with a two-sided p-value from the normal distribution. Missing values
    are left out. It needs no distribution and no equal spacing of the changes, so it
    suits the few quarters a pilot has; from 3 values. Returns ``s``, ``var_s``, ``z``,
    ``p_value``, ``tau`` (S over the number of pairs) and ``direction``.
    """
    (x,), _ = _inputs(values)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n < 3:
        return {
            "s": 0,
            "var_s": math.nan,
            "z": math.nan,
            "p_value": math.nan,
            "tau": math.nan,
            "direction": "not computable",
        }
    diffs = np.sign(x[None, :] - x[:, None])
    s = int(np.triu(diffs, k=1).sum())
    _, ties = np.unique(x, return_counts=True)
    ties = ties[ties > 1]
    var_s = (n * (n - 1) * (2 * n + 5) - float(np.sum(ties * (ties - 1) * (2 * ties + 5)))) / 18
    if var_s <= 0:
        z = math.nan
    else:
        z = (s - 1) / math.sqrt(var_s) if s > 0 else (s + 1) / math.sqrt(var_s) if s < 0 else 0.0
    p_value = float(2 * norm.sf(abs(z))) if np.isfinite(z) else math.nan
    direction = "increasing" if s > 0 else "decreasing" if s < 0 else "flat"
    return {
        "s": s,
        "var_s": float(var_s),
        "z": float(z),
        "p_value": p_value,
        "tau": s / (n * (n - 1) / 2),
        "direction": direction,
    }


def sens_slope(
    values: ArrayLike, times: ArrayLike | None = None, confidence: float = 0.95
) -> dict[str, float]:
    """Sen's estimate of the slope (Sen 1968, JASA 63:1379-1389): the median of the
    slopes (x_j - x_i)/(t_j - t_i) over every later pair, robust to an outlying
    quarter, with Gilbert's (1987, §16.5) nonparametric confidence interval from the
    Mann-Kendall variance: C = z·√VAR(S), the limits the M1-th and (M2+1)-th ordered
    slopes, M1 = (N' - C)/2, M2 = (N' + C)/2. ``times`` default to 1, 2, ... Returns
    ``slope`` (per unit of time), ``lower`` and ``upper`` (NaN when the series is too
    short for an interval)."""
    (x,), _ = _inputs(values)
    t = np.arange(1, x.size + 1, dtype=float) if times is None else _inputs(times)[0][0]
    if t.size != x.size:
        raise ValueError("times must have one value per value.")
    keep = np.isfinite(x) & np.isfinite(t)
    x, t = x[keep], t[keep]
    i, j = np.triu_indices(x.size, k=1)
    apart = t[j] != t[i]
    slopes = np.sort((x[j] - x[i])[apart] / (t[j] - t[i])[apart])
    if slopes.size == 0:
        return {"slope": math.nan, "lower": math.nan, "upper": math.nan}
    slope = float(np.median(slopes))
    var_s = mann_kendall(x)["var_s"]
    lower = upper = math.nan
    if np.isfinite(var_s):
        c = _z(confidence) * math.sqrt(var_s)
        m1 = (slopes.size - c) / 2
        m2 = (slopes.size + c) / 2
        lo, hi = round(m1) - 1, round(m2)  # M1-th and (M2 + 1)-th, 1-based
        if lo >= 0 and hi < slopes.size:
            lower, upper = float(slopes[lo]), float(slopes[hi])
    return {"slope": slope, "lower": lower, "upper": upper}


def _mover_difference(
    estimate_1: np.ndarray,
    limits_1: tuple[np.ndarray, np.ndarray],
    estimate_0: np.ndarray,
    limits_0: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Zou & Donner's MOVER interval for estimate_1 - estimate_0 from each one's limits."""
    (l1, u1), (l0, u0) = limits_1, limits_0
    difference = estimate_1 - estimate_0
    lower = difference - np.sqrt((estimate_1 - l1) ** 2 + (u0 - estimate_0) ** 2)
    upper = difference + np.sqrt((u1 - estimate_1) ** 2 + (estimate_0 - l0) ** 2)
    return lower, upper


def year_on_year_change(
    count_now: ArrayLike,
    pop_now: ArrayLike,
    count_before: ArrayLike,
    pop_before: ArrayLike,
    kind: Literal["proportion", "rate"] = "proportion",
    per: float = 10_000,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Change between two periods, with its interval and a test of no change.

    ``kind="proportion"``: the difference in proportions (0-1 scale) with Newcombe's
    hybrid score interval (Newcombe 1998, Stat Med 17:873-890, method 10; statsmodels
    ``confint_proportions_2indep(method="newcomb")``) and the two-proportion z-test
    with pooled variance (Altman 1991, ch. 10), two-sided.
    ``kind="rate"``: the difference in rates per ``per`` with the MOVER interval built
    from each period's Fingertips limits (exact below 10 events, Byar's from 10; Zou &
    Donner 2008, Stat Med 27:1693-1702, the construction Newcombe's method 10 uses),
    and the exact conditional (binomial) test of equal rates (statsmodels
    ``test_poisson_2indep(method="exact-cond")``).

    Returns ``difference`` (now - before), ``lower``, ``upper``, ``p_value`` and
    ``significant`` (p below 1 - confidence). With no events in either period the
    p-value is 1. Interval and test are separate methods and can, at the margin,
    disagree; ``significant`` follows the test.
    """
    (x1, n1, x0, n0), like = _inputs(count_now, pop_now, count_before, pop_before)
    alpha = _alpha(confidence)
    difference = np.full(x1.shape, np.nan)
    lower = np.full(x1.shape, np.nan)
    upper = np.full(x1.shape, np.nan)
    p_value = np.full(x1.shape, np.nan)
    ok = np.isfinite(x1) & np.isfinite(n1) & np.isfinite(x0) & np.isfinite(n0) & (n1 > 0) & (n0 > 0)
    if kind == "proportion":
        _check_proportion_inputs(x1, n1)
        _check_proportion_inputs(x0, n0)
        if ok.any():
            a1, b1, a0, b0 = x1[ok], n1[ok], x0[ok], n0[ok]
            difference[ok] = a1 / b1 - a0 / b0
            lower[ok], upper[ok] = confint_proportions_2indep(
                a1, b1, a0, b0, method="newcomb", compare="diff", alpha=alpha
            )
            pooled = (a1 + a0) / (b1 + b0)
            se = np.sqrt(pooled * (1 - pooled) * (1 / b1 + 1 / b0))
            with np.errstate(divide="ignore", invalid="ignore"):
                z = difference[ok] / se
            p_value[ok] = np.where(se > 0, 2 * norm.sf(np.abs(z)), 1.0)
    elif kind == "rate":
        for counts, pops in ((x1, n1), (x0, n0)):
            _check_counts(counts)
            _check_counts(pops, "populations")
            if np.any(np.isfinite(counts) & (counts != np.round(counts))):
                raise ValueError("counts of events must be whole numbers.")
        if ok.any():
            a1, b1, a0, b0 = x1[ok], n1[ok], x0[ok], n0[ok]
            r1, r0 = a1 / b1 * per, a0 / b0 * per
            l1, u1, _ = _poisson_limits(a1, confidence)
            l0, u0, _ = _poisson_limits(a0, confidence)
            difference[ok] = r1 - r0
            lower[ok], upper[ok] = _mover_difference(
                r1, (l1 / b1 * per, u1 / b1 * per), r0, (l0 / b0 * per, u0 / b0 * per)
            )
            with np.errstate(divide="ignore", invalid="ignore"):  # statsmodels' ratio at 0
                p_value[ok] = [
                    1.0
                    if c1 + c0 == 0
                    else float(
                        test_poisson_2indep(int(c1), e1, int(c0), e0, method="exact-cond").pvalue
                    )
                    for c1, e1, c0, e0 in zip(a1, b1, a0, b0, strict=True)
                ]
    else:
        raise ValueError(f"kind must be 'proportion' or 'rate'; got {kind!r}.")
    return _frame(
        {
            "difference": difference,
            "lower": lower,
            "upper": upper,
            "p_value": p_value,
            "significant": np.where(np.isnan(p_value), False, p_value < alpha),
        },
        like,
    )


# --------------------------------------------------------------------------------------
# Comparing with a benchmark
# --------------------------------------------------------------------------------------


def compare_to_benchmark(
    lower: ArrayLike, upper: ArrayLike, benchmark: ArrayLike
) -> str | pd.Series:
    """``higher``, ``similar`` or ``lower`` than a benchmark, by whether the CI excludes it.

    Fingertips' comparison: significantly higher when the lower limit is above the
    benchmark, lower when the upper limit is below it, otherwise similar, as
    Fingertips compares an area with England (OHID Fingertips technical guidance).
    Missing limits or benchmark give ``not compared``.
    """
    (lo, hi, bench), like = _inputs(lower, upper, benchmark)
    missing = ~(np.isfinite(lo) & np.isfinite(hi) & np.isfinite(bench))
    labels = np.select(
        [missing, lo > bench, hi < bench], [NOT_COMPARED, HIGHER, LOWER], default=SIMILAR
    )
    return _labels(labels, like, "comparison")


_RAG: dict[tuple[str, str], str] = {
    ("high", HIGHER): BETTER,
    ("high", LOWER): WORSE,
    ("low", HIGHER): WORSE,
    ("low", LOWER): BETTER,
    ("high", SIMILAR): SIMILAR,
    ("low", SIMILAR): SIMILAR,
}


def rag_label(comparison: object, polarity: object) -> str | pd.Series:
    """Turn ``higher``/``similar``/``lower`` into ``better``/``similar``/``worse``.

    ``polarity`` says which direction is good: ``high``, ``low`` or ``neutral``
    (LAIT's High / Low / -); a scalar or one per row. Neutral indicators, and
    comparisons that were ``not compared`` or missing, are ``not compared``: as in
    Fingertips, there is no better or worse without a direction.
    """
    (comparisons, polarities), like = _label_inputs(comparison, polarity)
    labels = []
    for found, pole in zip(comparisons, polarities, strict=True):
        pole = _check_polarity(pole)
        if found is None or (isinstance(found, float) and math.isnan(found)):
            found = NOT_COMPARED
        if found not in (HIGHER, SIMILAR, LOWER, NOT_COMPARED):
            raise ValueError(
                f"comparison must be 'higher', 'similar', 'lower' or 'not compared'; got {found!r}."
            )
        labels.append(_RAG.get((pole, found), NOT_COMPARED))
    return _labels(np.array(labels, dtype=object), like, "rag")


def rank_with_polarity(values: ArrayLike, polarity: Polarity) -> pd.Series:
    """Rank so that 1 is best; ties share the better rank (``min``), missing stay missing.

    ``high`` ranks the highest value 1, ``low`` the lowest. ``neutral`` has no best,
    so nothing is ranked (every rank is missing): a position on an item with no
    better direction reads as a judgement, so reports say ``higher``/``lower``
    instead. ``Series.attrs["ranking"]`` says how to read the ranks.
    """
    (v,), like = _inputs(values)
    pole = _check_polarity(polarity)
    series = pd.Series(v, index=like.frame_index())
    if pole == "neutral":
        ranks = pd.Series(np.nan, index=series.index)
    else:
        ranks = series.rank(method="min", ascending=(pole == "low"), na_option="keep")
    result = ranks.astype("Int64").rename("rank")
    result.attrs["ranking"] = {
        "high": "1 = highest value (high is good)",
        "low": "1 = lowest value (low is good)",
        "neutral": "not ranked: no direction is better for this item",
    }[pole]
    return result


def quartile_band(values: ArrayLike, polarity: Polarity) -> pd.Series:
    """LAIT-style quartile bands: ``A`` best quarter to ``D`` worst, by polarity.

    Bands follow OHID's quantile assignment (PHEindicatormethods ``phe_quantile``;
    OHID technical guide "Assigning deprivation categories"): with N ranked values and
    rank r (1 = best, ties ``min``), band = 5 - ceil(4(N + 1 - r)/N), and 0 counts as
    band 1. For 33 London boroughs that gives 9, 8, 8 and 8. Neutral polarity,
    missing values, and fewer than 4 values are ``not ranked``.
    """
    pole = _check_polarity(polarity)
    ranks = rank_with_polarity(values, pole)
    labels = pd.Series(NOT_RANKED, index=ranks.index, name="quartile_band", dtype=object)
    ranked = ranks.dropna()
    count = len(ranked)
    if count < len(QUARTILE_BANDS):
        return labels
    quarters = len(QUARTILE_BANDS)
    from_bottom = count + 1 - ranked.to_numpy(dtype=np.int64)
    band = quarters + 1 - (-(-from_bottom * quarters // count))  # integer ceil
    band = np.maximum(band, 1)
    labels.loc[ranked.index] = [QUARTILE_BANDS[b - 1] for b in band]
    return labels


# --------------------------------------------------------------------------------------
# Rounding
# --------------------------------------------------------------------------------------


def _round_one(value: float, quantum: decimal.Decimal) -> float:
    if not math.isfinite(value):
        return value
    # 15 significant figures is all a double holds faithfully (DBL_DIG): reading the
    # value at that precision undoes representation and arithmetic noise, so 2.675
    # (stored as 2.67499999...) and 57/200*100 (28.499999999999996) round as written.
    # From 1e15 up a double has no such noise below the units, and 15 figures would
    # drop integer digits, so the shortest exact text (repr) is used instead.
    text = format(value, ".15g") if abs(value) < 1e15 else repr(value)
    return float(decimal.Decimal(text).quantize(quantum, rounding=decimal.ROUND_HALF_UP))


def round_half_up(x: ArrayLike, decimals: int = 0) -> ArrayLike:
    """Round halves away from zero, as DfE publishes (2.5 -> 3, 0.125 -> 0.13, -2.5 -> -3).

    Python's ``round`` and numpy round halves to even, and binary floats sit just
    below many halves (2.675 is stored as 2.67499999...). Each value is read at 15
    significant figures (the precision of a double, as Excel does) and rounded with
    the decimal module's ROUND_HALF_UP, the rule of Excel's ROUND. NaN and infinities
    pass through; ``decimals`` may be negative (-1 rounds to tens).
    """
    (v,), like = _inputs(x)
    quantum = decimal.Decimal(1).scaleb(-int(decimals))
    with decimal.localcontext() as context:
        context.prec = 400 + max(int(decimals), 0)  # room for any double's digits
        # Round each distinct value once: published tables repeat values a lot.
        distinct, inverse = np.unique(np.asarray(v, dtype=float), return_inverse=True)
        done = np.array([_round_one(float(value), quantum) for value in distinct], dtype=float)
        rounded = done[inverse.ravel()].reshape(np.shape(v))
    return _output(rounded, like)
