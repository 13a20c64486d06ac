"""How far raters agree when they score the same items (phase 2 instruments).

Krippendorff's alpha is the main measure: it takes any number of raters,
tolerates missing ratings (not every rater scores every item) and respects the
ordinal scales of the instruments. Cohen's kappa (two raters) and Fleiss' kappa
(a fixed number of raters per item) are offered for comparison with older work.
The arithmetic is the well-kept libraries' (``krippendorff``, statsmodels); this
module shapes the data, checks it, and says what the numbers mean.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import krippendorff
import numpy as np
import pandas as pd
from statsmodels.stats import inter_rater

log = logging.getLogger(__name__)

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def _as_matrix(reliability_data: object) -> np.ndarray:
    if isinstance(reliability_data, np.ndarray) and reliability_data.dtype.kind in "fiub":
        return reliability_data.astype(float)
    frame = pd.DataFrame(reliability_data)
    if all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes):
        return frame.to_numpy(dtype=float, na_value=np.nan)
    return frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)


def krippendorff_alpha(
    reliability_data: object,
    level_of_measurement: str = "ordinal",
    value_domain: Sequence[float] | None = None,
) -> float:
    """Krippendorff's alpha for raters x units data (NaN = not rated).

    Returns NaN when agreement is undefined: every pairable rating has the same
    value (no variation to agree about), which the library cannot score.
    """
    if level_of_measurement not in LEVELS:
        raise ValueError(
            f"level_of_measurement must be one of {', '.join(LEVELS)}, not {level_of_measurement!r}"
        )
    data = _as_matrix(reliability_data)
    if data.ndim != 2 or data.shape[0] < 2:
        raise ValueError("reliability data needs at least 2 raters (rows) x 1 unit (columns)")
    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    if not pairable.any():
        raise ValueError("no unit was rated by 2 or more raters, so agreement cannot be measured")
    values = data[:, pairable]
    if np.unique(values[~np.isnan(values)]).size < 2 and value_domain is None:
        return float("nan")
    return float(
        krippendorff.alpha(
            reliability_data=data,
            level_of_measurement=level_of_measurement,
            value_domain=value_domain,
        )
    )


def _unit_coincidences(data: np.ndarray, domain: np.ndarray) -> np.ndarray:
    """Each pairable unit's contribution to the coincidence matrix, flattened:
    o_ck(u) = (n_uc·n_uk - [c = k]·n_uc) / (m_u - 1) (Krippendorff 2011, section B)."""
    counts = np.stack([(data == v).sum(axis=0) for v in domain], axis=1).astype(float)
    m = counts.sum(axis=1)
    counts, m = counts[m >= 2], m[m >= 2]
    pairs = counts[:, :, None] * counts[:, None, :]
    pairs -= counts[:, :, None] * np.eye(len(domain))[None, :, :]
    return (pairs / (m - 1)[:, None, None]).reshape(len(m), -1)


def _alpha_from_coincidences(o: np.ndarray, domain: np.ndarray, level: str) -> np.ndarray:
    """Alpha for each row of flattened coincidence matrices (rows: bootstrap draws)."""
    v = len(domain)
    o = o.reshape(-1, v, v)
    n_c = o.sum(axis=2)
    n = n_c.sum(axis=1)
    c, k = np.meshgrid(np.arange(v), np.arange(v), indexing="ij")
    if level == "nominal":
        delta = np.broadcast_to((c != k).astype(float), o.shape)
    elif level == "interval":
        delta = np.broadcast_to((domain[c] - domain[k]) ** 2, o.shape)
    elif level == "ratio":
        with np.errstate(divide="ignore", invalid="ignore"):
            d = ((domain[c] - domain[k]) / (domain[c] + domain[k])) ** 2
        delta = np.broadcast_to(np.nan_to_num(d), o.shape)
    else:  # ordinal: depends on the marginals, so on each draw
        cum = np.cumsum(n_c, axis=1)
        lo, hi = np.minimum(c, k), np.maximum(c, k)
        between = cum[:, hi] - np.where(lo > 0, cum[:, np.maximum(lo - 1, 0)], 0.0)
        delta = (between - (n_c[:, c] + n_c[:, k]) / 2) ** 2
    observed = (o * delta).sum(axis=(1, 2))
    expected = (n_c[:, :, None] * n_c[:, None, :] * delta).sum(axis=(1, 2)) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1 - observed / expected, np.nan)


def krippendorff_alpha_ci(
    reliability_data: object,
    level_of_measurement: str = "ordinal",
    value_domain: Sequence[float] | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 2007,
) -> dict[str, float]:
    """Krippendorff's alpha with a bootstrap interval, so an alpha carries its precision.

    The interval is the percentile bootstrap over units (the items rated): units are
    drawn with replacement ``n_boot`` times and alpha recomputed on each draw, as
    Zapf et al. (2016, BMC Med Res Methodol 16:93) recommend for Krippendorff's alpha;
    Krippendorff (2004, Content Analysis, 2nd ed., ch. 11) likewise asks for alpha's
    distribution by bootstrapping. Vectorised: each unit's coincidence matrix is
    computed once and every draw is a weighted sum of them. ``seed`` makes it
    repeatable. Returns ``alpha`` (the point estimate, as :func:`krippendorff_alpha`),
    ``lower``, ``upper``, ``n_boot`` and ``n_units`` (pairable units).
    """
    data = _as_matrix(reliability_data)
    alpha = krippendorff_alpha(data, level_of_measurement, value_domain)
    observed = data[~np.isnan(data)]
    domain = np.unique(
        np.asarray(value_domain, dtype=float) if value_domain is not None else observed
    )
    per_unit = _unit_coincidences(data, domain)
    units = per_unit.shape[0]
    out = {"alpha": alpha, "lower": np.nan, "upper": np.nan, "n_boot": n_boot, "n_units": units}
    if np.isnan(alpha) or units < 2 or n_boot < 1:
        return out
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, units, size=(n_boot, units))
    picks += np.arange(n_boot)[:, None] * units
    weights = np.bincount(picks.ravel(), minlength=n_boot * units).reshape(n_boot, units)
    weights = weights.astype(float)
    draws = _alpha_from_coincidences(weights @ per_unit, domain, level_of_measurement)
    draws = draws[np.isfinite(draws)]
    if draws.size:
        tail = (1 - confidence) / 2
        out["lower"], out["upper"] = (float(q) for q in np.quantile(draws, [tail, 1 - tail]))
    return out


def _pivot(frame: pd.DataFrame, rater: str, unit: str, value: str) -> pd.DataFrame:
    dup = frame.duplicated([rater, unit], keep=False)
    if dup.any():
        first = frame.loc[dup, [rater, unit]].iloc[0].tolist()
        raise ValueError(f"rater {first[0]!r} rated unit {first[1]!r} more than once")
    return frame.pivot(index=rater, columns=unit, values=value)


def alpha_ci_from_long(
    frame: pd.DataFrame,
    rater: str = "rater_id",
    unit: str = "item_id",
    value: str = "score",
    level: str = "ordinal",
    value_domain: Sequence[float] | None = None,
    n_boot: int = 1000,
    seed: int | None = 2007,
) -> dict[str, float]:
    """Alpha and its bootstrap interval from a tidy table with one row per rater x unit."""
    return krippendorff_alpha_ci(
        _pivot(frame, rater, unit, value), level, value_domain, n_boot=n_boot, seed=seed
    )


def alpha_from_long(
    frame: pd.DataFrame,
    rater: str = "rater_id",
    unit: str = "item_id",
    value: str = "score",
    level: str = "ordinal",
    value_domain: Sequence[float] | None = None,
) -> float:
    """Alpha from a tidy table with one row per rater x unit."""
    return krippendorff_alpha(_pivot(frame, rater, unit, value), level, value_domain)


def cohens_kappa(
    rater_a: Sequence[object],
    rater_b: Sequence[object],
    weights: str | None = None,
    categories: Sequence[object] | None = None,
) -> float:
    """Cohen's kappa for two raters of the same units; ``weights`` 'linear' or
    'quadratic' for ordinal scales. Pairs with a missing rating are left out."""
    a, b = pd.Series(list(rater_a)), pd.Series(list(rater_b))
    if len(a) != len(b):
        raise ValueError("the two raters must rate the same units (equal lengths)")
    keep = a.notna() & b.notna()
    a, b = a[keep], b[keep]
    if a.empty:
        raise ValueError("no unit has ratings from both raters")
    cats = list(categories) if categories is not None else sorted(set(a) | set(b))
    table = pd.crosstab(pd.Categorical(a, cats), pd.Categorical(b, cats), dropna=False)
    table = table.reindex(index=cats, columns=cats, fill_value=0).to_numpy()
    if weights not in (None, "linear", "quadratic"):
        raise ValueError("weights must be None, 'linear' or 'quadratic'")
    result = (
        inter_rater.cohens_kappa(table, wt=weights) if weights else inter_rater.cohens_kappa(table)
    )
    return float(result.kappa)


def fleiss_kappa(ratings: object, categories: Sequence[object] | None = None) -> float:
    """Fleiss' kappa for units x raters of category labels; every unit must be
    rated by the same number of raters."""
    frame = pd.DataFrame(ratings)
    counts = frame.notna().sum(axis=1)
    if counts.nunique() != 1:
        raise ValueError(
            "Fleiss' kappa needs the same number of raters for every unit; "
            f"found {sorted(counts.unique().tolist())}"
        )
    if counts.iloc[0] < 2:
        raise ValueError("Fleiss' kappa needs at least 2 raters per unit")
    cats = (
        list(categories) if categories is not None else sorted(pd.unique(frame.to_numpy().ravel()))
    )
    table = np.stack([(frame == c).sum(axis=1).to_numpy() for c in cats], axis=1)
    return float(inter_rater.fleiss_kappa(table, method="fleiss"))


def agreement_summary(
    frame: pd.DataFrame,
    by: list[str],
    rater: str = "rater_id",
    unit: str = "item_id",
    value: str = "score",
    level: str = "ordinal",
    value_domain: Sequence[float] | None = None,
    n_boot: int = 1000,
    seed: int | None = 2007,
) -> pd.DataFrame:
    """Alpha per group (e.g. per criterion, per borough), with its 95% bootstrap
    interval (``alpha_lower``, ``alpha_upper``) and the data behind it."""
    rows = []
    groups = frame.groupby(by, sort=True) if by else [((), frame)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        rated = part.dropna(subset=[value])
        per_unit = rated.groupby(unit)[rater].nunique()
        row = dict(zip(by, key, strict=True))
        row.update(
            n_raters=int(rated[rater].nunique()),
            n_units=int(per_unit.size),
            n_pairable_values=int(per_unit[per_unit >= 2].sum()),
        )
        try:
            found = alpha_ci_from_long(
                rated, rater, unit, value, level, value_domain, n_boot=n_boot, seed=seed
            )
            row["alpha"] = found["alpha"]
            row["alpha_lower"], row["alpha_upper"] = found["lower"], found["upper"]
            row["note"] = "" if not np.isnan(row["alpha"]) else "no variation in scores"
        except ValueError as exc:
            row["alpha"], row["note"] = float("nan"), str(exc)
            row["alpha_lower"] = row["alpha_upper"] = float("nan")
        row["interpretation"] = interpret_alpha(row["alpha"])
        rows.append(row)
    return pd.DataFrame(rows)


def disagreement_by_unit(
    frame: pd.DataFrame, unit: str = "item_id", value: str = "score", rater: str = "rater_id"
) -> pd.DataFrame:
    """Per unit: how spread the ratings are, most disagreed first; ``n_pairs`` rater
    pairs, ``n_pairs_2_apart`` of them two or more points apart."""
    rated = frame.dropna(subset=[value])

    def _apart(s: pd.Series) -> int:
        v = s.to_numpy(float)
        diff = np.abs(v[:, None] - v[None, :])[np.triu_indices(v.size, 1)]
        return int((diff >= 2).sum())

    def _pairs_apart(s: pd.Series) -> float:
        return float("nan") if s.size < 2 else _apart(s) / (s.size * (s.size - 1) / 2)

    g = rated.groupby(unit)[value]
    out = pd.DataFrame(
        {
            "n_ratings": g.size(),
            "mean": g.mean(),
            "sd": g.std(ddof=1),
            "range": g.max() - g.min(),
            "iqr": g.quantile(0.75) - g.quantile(0.25),
            "share_pairs_2_apart": g.apply(_pairs_apart),
            "n_pairs": g.size().map(lambda n: n * (n - 1) // 2),
            "n_pairs_2_apart": g.apply(_apart),
        }
    )
    return out.sort_values(
        ["share_pairs_2_apart", "sd"], ascending=False, na_position="last"
    ).reset_index()


# Krippendorff (2004), Content Analysis, 2nd ed., p. 241: rely on alpha from 0.800;
# draw tentative conclusions only from 0.667 to 0.800.
ALPHA_RELIABLE = 0.8
ALPHA_TENTATIVE = 0.667


def interpret_alpha(alpha: float) -> str:
    """Krippendorff (2004), Content Analysis, 2nd ed., p. 241: rely on alpha >=
    0.800; draw tentative conclusions only from 0.667 to 0.800."""
    if alpha is None or np.isnan(alpha):
        return "cannot be measured"
    if alpha >= ALPHA_RELIABLE:
        return "reliable"
    if alpha >= ALPHA_TENTATIVE:
        return "tentative conclusions only"
    return "unreliable"


def interpret_kappa(kappa: float) -> str:
    """Landis and Koch (1977), Biometrics 33:159-174, bands."""
    if kappa is None or np.isnan(kappa):
        return "cannot be measured"
    for limit, label in (
        (0.0, "poor"),
        (0.2, "slight"),
        (0.4, "fair"),
        (0.6, "moderate"),
        (0.8, "substantial"),
    ):
        if kappa <= limit:
            return label
    return "almost perfect"
