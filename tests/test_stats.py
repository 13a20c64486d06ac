"""Tests for lscb_nb.core.stats against published worked examples.

Each published value names its source. Tolerances follow the decimals published:
a value printed to 4 decimals is checked to half a unit in the 4th decimal.
"""

from __future__ import annotations

import decimal
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, chi2_contingency, norm, poisson

from lscb_nb.core import stats

# --------------------------------------------------------------------------------------
# Wilson score interval
# --------------------------------------------------------------------------------------

# Newcombe RG (1998) "Two-sided confidence intervals for the single proportion:
# comparison of seven methods", Stat Med 17:857-872, Table I, method 3 (Wilson score).
NEWCOMBE_1998_WILSON = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("x", "n", "lower", "upper"), NEWCOMBE_1998_WILSON)
def test_wilson_matches_newcombe_1998_table_1(x, n, lower, upper):
    got_lower, got_upper = stats.wilson_ci(x, n)
    assert got_lower == pytest.approx(lower, abs=5e-5)
    assert got_upper == pytest.approx(upper, abs=5e-5)
    assert isinstance(got_lower, float)


def test_wilson_is_vectorised_and_keeps_the_index():
    x = pd.Series([81, 15, 0, 1], index=["Camden", "Brent", "Ealing", "Barnet"], name="cp")
    n = pd.Series([263, 148, 20, 29], index=x.index)
    lower, upper = stats.wilson_ci(x, n)
    assert list(lower.index) == list(x.index)
    assert lower.name == "cp"
    assert upper.to_numpy() == pytest.approx([r[3] for r in NEWCOMBE_1998_WILSON], abs=5e-5)
    array_lower, _ = stats.wilson_ci(x.to_numpy(), n.to_numpy())
    assert isinstance(array_lower, np.ndarray)
    assert array_lower == pytest.approx(lower.to_numpy())


def test_wilson_all_events_reaches_one_and_zero_denominator_is_nan():
    lower, upper = stats.wilson_ci(np.array([20, 0, np.nan]), np.array([20, 0, 10]))
    # 20/20 mirrors 0/20 (Newcombe 1998, Table I: 0/20 gives 0 to 0.1611).
    assert lower[0] == pytest.approx(1 - 0.1611, abs=5e-5)
    assert upper[0] == 1.0
    assert np.isnan(lower[1]) and np.isnan(upper[1])
    assert np.isnan(lower[2])


def test_wilson_rejects_impossible_proportions_and_bad_confidence():
    with pytest.raises(ValueError, match="exceed"):
        stats.wilson_ci(5, 4)
    with pytest.raises(ValueError, match="zero or more"):
        stats.wilson_ci(-1, 4)
    with pytest.raises(ValueError, match="not 95"):
        stats.wilson_ci(1, 4, confidence=95)


@given(
    n=st.integers(min_value=1, max_value=100_000),
    share=st.floats(min_value=0, max_value=1),
)
def test_wilson_contains_the_estimate_and_widens_with_confidence(n, share):
    x = math.floor(share * n)
    lower_95, upper_95 = stats.wilson_ci(x, n, 0.95)
    lower_998, upper_998 = stats.wilson_ci(x, n, 0.998)
    assert 0 <= lower_998 <= lower_95 <= x / n + 1e-12
    assert x / n - 1e-12 <= upper_95 <= upper_998 <= 1


# --------------------------------------------------------------------------------------
# Poisson intervals for counts and rates
# --------------------------------------------------------------------------------------

# Exact Poisson 95% limits: Garwood F (1936) "Fiducial limits for the Poisson
# distribution", Biometrika 28:437-442, as tabulated in standard tables
# (e.g. Documenta Geigy Scientific Tables): 0 -> (0, 3.689), 1 -> (0.0253, 5.572),
# 10 -> (4.795, 18.39).
GARWOOD_95 = [(0, 0.0, 3.689, 5e-4), (1, 0.0253, 5.572, 5e-4), (10, 4.795, 18.39, 5e-3)]


@pytest.mark.parametrize(("count", "lower", "upper", "tolerance"), GARWOOD_95)
def test_exact_poisson_matches_garwood_tables(count, lower, upper, tolerance):
    got_lower, got_upper = stats.exact_poisson_ci(count)
    assert got_lower == pytest.approx(lower, abs=5e-5 if count < 10 else 5e-4)
    assert got_upper == pytest.approx(upper, abs=tolerance)


def test_byars_is_within_two_tenths_of_a_percent_of_exact_from_ten_events():
    # PHE Public Health Data Science (2018) "Technical Guide: Confidence Intervals":
    # "for 95% confidence intervals, Byar's method is within 0.2% of the exact value
    # for numerators of 10 or more" - the reason Fingertips switches at 10.
    counts = np.arange(10, 5001)
    byars_lower, byars_upper = stats.byars_ci(counts)
    exact_lower, exact_upper = stats.exact_poisson_ci(counts)
    assert np.max(np.abs(byars_lower / exact_lower - 1)) < 0.002
    assert np.max(np.abs(byars_upper / exact_upper - 1)) < 0.002


def test_byars_follows_the_published_formula():
    # Fingertips technical guidance, "Rates": O(1 - 1/(9O) - z/(3√O))³ and
    # (O+1)(1 - 1/(9(O+1)) + z/(3√(O+1)))³, worked here by hand for O = 100, z = 1.959964.
    z = 1.959963984540054
    lower, upper = stats.byars_ci(100)
    assert lower == pytest.approx(100 * (1 - 1 / 900 - z / 30) ** 3, rel=1e-12)
    assert upper == pytest.approx(101 * (1 - 1 / 909 + z / (3 * math.sqrt(101))) ** 3, rel=1e-12)
    assert lower == pytest.approx(81.36, abs=0.005)
    assert upper == pytest.approx(121.63, abs=0.005)


def test_byars_and_exact_reject_negative_counts():
    with pytest.raises(ValueError, match="zero or more"):
        stats.byars_ci([3, -1])
    with pytest.raises(ValueError, match="zero or more"):
        stats.exact_poisson_ci(-2)


def test_byars_never_gives_a_negative_lower_limit():
    lower, upper = stats.byars_ci(np.array([0, 1, 2]), confidence=0.998)
    assert np.all(lower >= 0)
    assert lower[0] == 0
    assert np.all(upper > np.array([0, 1, 2]))


@given(count=st.integers(min_value=1, max_value=100_000))
def test_poisson_limits_contain_the_count_and_widen_with_confidence(count):
    for method in (stats.exact_poisson_ci, stats.byars_ci):
        lower_95, upper_95 = method(count, 0.95)
        lower_998, upper_998 = method(count, 0.998)
        assert 0 <= lower_998 <= lower_95 <= count <= upper_95 <= upper_998


def test_rate_ci_uses_exact_below_ten_and_byars_from_ten():
    # OHID Fingertips technical guidance, "Rates", and PHEindicatormethods phe_rate:
    # exact chi-square limits for fewer than 10 events, Byar's from 10.
    counts = pd.Series([9, 10, 0], index=["Camden", "Brent", "City"])
    result = stats.rate_ci(counts, pd.Series([30_000, 30_000, 1_800], index=counts.index))
    assert list(result.columns) == ["rate", "lower", "upper", "method"]
    assert list(result.index) == ["Camden", "Brent", "City"]
    assert result["method"].tolist() == ["exact", "byars", "exact"]
    assert result.loc["Camden", "rate"] == pytest.approx(3.0)
    exact_lower, exact_upper = stats.exact_poisson_ci(9)
    assert result.loc["Camden", "lower"] == pytest.approx(exact_lower / 3)
    assert result.loc["Camden", "upper"] == pytest.approx(exact_upper / 3)
    byars_lower, _ = stats.byars_ci(10)
    assert result.loc["Brent", "lower"] == pytest.approx(byars_lower / 3)
    # 0 events in 1,800 children: 0 to 3.689 events (Garwood), i.e. 0 to 20.49 per 10,000.
    assert result.loc["City", "lower"] == 0
    assert result.loc["City", "upper"] == pytest.approx(3.689 / 1_800 * 10_000, abs=0.01)


def test_rate_ci_per_other_multiplier_and_zero_population():
    result = stats.rate_ci([10, 5], [0, 100_000], per=100_000)
    assert np.isnan(result.loc[0, "rate"]) and np.isnan(result.loc[0, "upper"])
    assert result.loc[1, "rate"] == pytest.approx(5.0)


@given(
    count=st.integers(min_value=0, max_value=50_000),
    population=st.integers(min_value=1, max_value=10_000_000),
)
def test_rate_ci_contains_the_rate(count, population):
    row = stats.rate_ci(count, population).iloc[0]
    assert row["lower"] <= row["rate"] * (1 + 1e-12) and row["rate"] <= row["upper"]


# --------------------------------------------------------------------------------------
# Funnel limits
# --------------------------------------------------------------------------------------

# PHEindicatormethods tests/testthat/testdata_funnel_prop_outputs.csv
# (ukhsa-collaboration/PHEindicatormethods): OHID's proportion funnel around a
# baseline of 80.642448%, as percentages to 6 decimals.
# Population, lower 95%, upper 95%, lower 99.8%, upper 99.8%.
PHE_FUNNEL_PROPORTION = [
    (1, 3.204264, 100, 0, 100),
    (10, 56.154344, 100, 42.03259, 100),
    (50, 69.691035, 91.593861, 63.375595, 97.909301),
    (1008, 78.203374, 83.081521, 76.796814, 84.488082),
    (9998, 79.867989, 81.416907, 79.421375, 81.863521),
    (110000, 80.408963, 80.875933, 80.274317, 81.010578),
]


def test_proportion_funnel_matches_phe_indicator_methods():
    denominators = [row[0] for row in PHE_FUNNEL_PROPORTION]
    limits = stats.funnel_limits_proportion(0.80642448, denominators)
    assert list(limits.columns) == [
        "denominator",
        "lower_95",
        "upper_95",
        "lower_998",
        "upper_998",
    ]
    expected = np.array([row[1:] for row in PHE_FUNNEL_PROPORTION], dtype=float)
    got = limits[["lower_95", "upper_95", "lower_998", "upper_998"]].to_numpy() * 100
    # 6 published decimals, plus the baseline's own rounding to 6 decimals.
    assert got == pytest.approx(expected, abs=2e-6)


def test_ohid_proportion_funnel_is_where_the_wilson_interval_reaches_the_target():
    # Why OHID calls its proportion funnel "Wilson": a proportion on the limit has a
    # Wilson interval whose end is exactly the target.
    target = 0.35
    n = np.array([12, 40, 333, 5000])
    limits = stats.funnel_limits_proportion(target, n)
    _, upper_of_lower_limit = stats.wilson_ci(limits["lower_95"].to_numpy() * n, n)
    lower_of_upper_limit, _ = stats.wilson_ci(limits["upper_95"].to_numpy() * n, n)
    assert upper_of_lower_limit == pytest.approx(np.full(4, target), abs=1e-12)
    assert lower_of_upper_limit == pytest.approx(np.full(4, target), abs=1e-12)


def _spiegelhalter_by_hand(target: Fraction, n: int, p: Fraction) -> float:
    """Spiegelhalter (2005) appendix, from first principles with exact fractions."""
    pmf = [math.comb(n, r) * target**r * (1 - target) ** (n - r) for r in range(n + 1)]
    cumulative = Fraction(0)
    for r, mass in enumerate(pmf):
        cumulative += mass
        if cumulative >= p:
            alpha = (cumulative - p) / mass
            return float((r - alpha) / n)
    raise AssertionError("unreachable")


@pytest.mark.parametrize("n", [20, 57, 250])
def test_spiegelhalter_proportion_limits_follow_the_interpolation_definition(n):
    limits = stats.funnel_limits_proportion(0.3, [n], method="spiegelhalter").iloc[0]
    target = Fraction(3, 10)
    assert limits["lower_95"] == pytest.approx(
        max(0.0, _spiegelhalter_by_hand(target, n, Fraction(25, 1000))), abs=1e-9
    )
    assert limits["upper_95"] == pytest.approx(
        _spiegelhalter_by_hand(target, n, Fraction(975, 1000)), abs=1e-9
    )
    assert limits["upper_998"] == pytest.approx(
        _spiegelhalter_by_hand(target, n, Fraction(999, 1000)), abs=1e-9
    )


def test_spiegelhalter_and_ohid_agree_for_large_denominators():
    limits_exact = stats.funnel_limits_proportion(0.2, [200_000], method="spiegelhalter")
    limits_ohid = stats.funnel_limits_proportion(0.2, [200_000])
    difference = (limits_exact - limits_ohid).drop(columns="denominator").abs().to_numpy()
    assert difference.max() < 1e-4


def test_spiegelhalter_needs_whole_denominators():
    with pytest.raises(ValueError, match="whole-number"):
        stats.funnel_limits_proportion(0.3, [10.5], method="spiegelhalter")
    with pytest.raises(ValueError, match="between 0 and 1"):
        stats.funnel_limits_proportion(30, [10])
    with pytest.raises(ValueError, match="method"):
        stats.funnel_limits_proportion(0.3, [10], method="normal")


# PHEindicatormethods tests/testthat/testdata_funnel_rate_outputs.csv: OHID's rate
# funnel (per 100,000, baseline 116.1720835, 3 years of data). Each row gives, for a
# number of events, the population at which that count sits on each limit.
# Events, lower 95% (pop per year, limit), upper 95%, lower 99.8%, upper 99.8%.
PHE_FUNNEL_RATE = [
    (1, (1598.675694, 20.85059119), (7.264481402, 4588.535848)),
    (10, (5276.757672, 63.17010446), (1375.943768, 242.2579623)),
    (99, (34583.45945, 95.42133877), (23087.10848, 142.9369123)),
    (1360, (411529.9259, 110.158048), (369759.5622, 122.6021934)),
]
PHE_FUNNEL_RATE_998 = [
    (1, (2649.348525, 12.58170943), (0.287087625, 116108.569)),
    (10, (6924.776769, 48.13632908), (849.4639547, 392.4043292)),
    (1360, (424043.2424, 106.9073359), (358342.3275, 126.5084525)),
]


@pytest.mark.parametrize(
    ("confidence", "rows"), [(0.95, PHE_FUNNEL_RATE), (0.998, PHE_FUNNEL_RATE_998)]
)
def test_rate_funnel_matches_phe_indicator_methods(confidence, rows):
    suffix = "95" if confidence == 0.95 else "998"
    for _events, (lower_pop, lower_limit), (upper_pop, upper_limit) in rows:
        limits = stats.funnel_limits_rate(
            116.1720835,
            [3 * lower_pop, 3 * upper_pop],
            per=100_000,
            confidences=(confidence,),
        )
        # PHE solves by bisection to 1e-7, so agree to a relative 1e-5.
        assert limits.loc[0, f"lower_{suffix}"] == pytest.approx(lower_limit, rel=1e-5)
        assert limits.loc[1, f"upper_{suffix}"] == pytest.approx(upper_limit, rel=1e-5)


def test_rate_funnel_spiegelhalter_follows_the_interpolation_definition():
    # Expected count 0.0045 × 1000 = 4.5: the 97.5% quantile of Poisson(4.5) is 9
    # (P(Y <= 8) = 0.95974, P(Y <= 9) = 0.98291), so the limit is (9 - α)/1000.
    limits = stats.funnel_limits_rate(45, [1000], method="spiegelhalter").iloc[0]
    cdf_9, pmf_9 = poisson.cdf(9, 4.5), poisson.pmf(9, 4.5)
    assert poisson.cdf(8, 4.5) < 0.975 <= cdf_9
    alpha = (cdf_9 - 0.975) / pmf_9
    assert limits["upper_95"] == pytest.approx((9 - alpha) / 1000 * 10_000, rel=1e-12)


def test_funnel_limits_keep_the_index_and_accept_a_grid():
    pops = pd.Series([12_000, 60_000], index=["City", "Barnet"])
    limits = stats.funnel_limits_rate(40.0, pops)
    assert list(limits.index) == ["City", "Barnet"]
    assert limits["population"].tolist() == [12_000, 60_000]
    grid = stats.funnel_grid(80_000, points=100)
    assert grid[0] == 1 and grid[-1] == 80_000
    assert np.all(np.diff(grid) > 0) and len(grid) > 80
    drawn = stats.funnel_limits_proportion(0.2, grid)
    assert len(drawn) == len(grid)


@settings(max_examples=50)
@given(
    target=st.floats(min_value=0.01, max_value=0.99),
    n=st.integers(min_value=1, max_value=100_000),
    factor=st.integers(min_value=2, max_value=50),
)
def test_ohid_proportion_funnel_narrows_as_denominators_grow(target, n, factor):
    small, large = stats.funnel_limits_proportion(target, [n, n * factor]).itertuples()
    assert large.lower_95 >= small.lower_95 and large.upper_95 <= small.upper_95
    assert large.lower_998 >= small.lower_998 and large.upper_998 <= small.upper_998
    # and the 99.8% funnel sits outside the 95% one
    assert small.lower_998 <= small.lower_95 <= target <= small.upper_95 <= small.upper_998


@settings(max_examples=50)
@given(
    rate=st.floats(min_value=0.5, max_value=500),
    population=st.integers(min_value=100, max_value=1_000_000),
    factor=st.integers(min_value=2, max_value=50),
)
def test_ohid_rate_funnel_narrows_as_populations_grow(rate, population, factor):
    small, large = stats.funnel_limits_rate(rate, [population, population * factor]).itertuples()
    assert large.lower_95 >= small.lower_95 - 1e-9 and large.upper_95 <= small.upper_95 + 1e-9
    assert small.lower_998 <= small.lower_95 <= rate <= small.upper_95 <= small.upper_998


@settings(max_examples=50)
@given(
    rate=st.floats(min_value=1, max_value=500),
    population=st.integers(min_value=10_000, max_value=1_000_000),
)
def test_spiegelhalter_rate_limits_bracket_the_target(rate, population):
    row = stats.funnel_limits_rate(rate, [population], method="spiegelhalter").iloc[0]
    assert row["lower_998"] <= row["lower_95"] <= rate <= row["upper_95"] <= row["upper_998"]


def test_classify_against_funnel_labels_each_band():
    values = pd.Series([0.05, 0.15, 0.5, 0.85, 0.95, np.nan], index=list("abcdef"))
    labels = stats.classify_against_funnel(values, 0.2, 0.8, 0.1, 0.9)
    assert labels.tolist() == [
        "below 99.8%",
        "below 95%",
        "within",
        "above 95%",
        "above 99.8%",
        "not compared",
    ]
    assert list(labels.index) == list("abcdef")
    # a value exactly on a limit is within it (strict comparison, as PHE's)
    assert stats.classify_against_funnel(0.8, 0.2, 0.8, 0.1, 0.9) == "within"


def test_classify_against_funnel_with_limits_table():
    denominators = pd.Series([100, 400, 2_500], index=["City", "Brent", "Barnet"])
    observed = pd.Series([0.30, 0.10, 0.26], index=denominators.index)
    limits = stats.funnel_limits_proportion(0.2, denominators)
    labels = stats.classify_against_funnel(
        observed, limits.lower_95, limits.upper_95, limits.lower_998, limits.upper_998
    )
    # 0.2 ± 1.96√(0.16/100) = 0.1216-0.2784 and ± 3.09·0.04 = 0.0764-0.3236
    assert labels.to_dict() == {
        "City": "above 95%",
        "Brent": "below 99.8%",
        "Barnet": "above 99.8%",
    }


# --------------------------------------------------------------------------------------
# Trend
# --------------------------------------------------------------------------------------

# Altman DG (1991) Practical Statistics for Medical Research, p. 229: caesarean
# section by mother's shoe size (<4, 4, 4.5, 5, 5.5, 6+). Altman reports the chi-square
# for trend as 8.02 (1 df); Dalgaard P (2008) Introductory Statistics with R, 2nd ed.,
# §7.3, runs the same data through R's prop.trend.test: X-squared = 8.0237,
# p-value = 0.004617.
CAESAREAN_YES = [5, 7, 6, 7, 8, 10]
CAESAREAN_TOTAL = [22, 35, 42, 48, 54, 150]


def test_trend_matches_altman_caesarean_example():
    result = stats.chi_square_trend(CAESAREAN_YES, CAESAREAN_TOTAL)
    assert result["chi2"] == pytest.approx(8.0237, abs=5e-5)
    assert round(result["chi2"], 2) == 8.02
    assert result["p_value"] == pytest.approx(0.004617, abs=5e-7)
    assert result["direction"] == "decreasing"


def test_trend_scores_and_series_inputs():
    yes = pd.Series(CAESAREAN_YES, index=[2019, 2020, 2021, 2022, 2023, 2024])
    total = pd.Series(CAESAREAN_TOTAL, index=yes.index)
    reversed_scores = stats.chi_square_trend(yes, total, scores=[6, 5, 4, 3, 2, 1])
    assert reversed_scores["chi2"] == pytest.approx(8.0237, abs=5e-5)
    assert reversed_scores["direction"] == "increasing"


def test_trend_works_from_two_groups_and_leaves_fingertips_five_points_to_the_report():
    # R's documentation for prop.trend.test (example(prop.trend.test): smokers 83/86,
    # 90/93, 129/136, 70/82) prints X-squared = 8.2249, df = 1, p-value = 0.004132: four
    # groups, and the test needs no minimum beyond two.
    four = stats.chi_square_trend([83, 90, 129, 70], [86, 93, 136, 82])
    assert four["chi2"] == pytest.approx(8.2249, abs=5e-5)
    assert four["p_value"] == pytest.approx(0.004132, abs=5e-7)
    # Two groups: the trend test is the 2 x 2 chi-square (without continuity correction).
    two = stats.chi_square_trend([10, 20], [50, 50])
    assert two["chi2"] == pytest.approx(stats.chi_square_homogeneity([10, 20], [50, 50])["chi2"])
    # Fingertips' rule (five points before a trend is called) is the report's, asked for
    # explicitly; the test itself refuses only fewer than two groups.
    with pytest.raises(ValueError, match="at least 5 periods"):
        stats.chi_square_trend([5, 7, np.nan, 7, 8], [22, 35, 42, 48, 54], min_points=5)
    with pytest.raises(ValueError, match="at least 2 periods"):
        stats.chi_square_trend([1], [10])
    with pytest.raises(ValueError, match="min_points must be at least 2"):
        stats.chi_square_trend([1, 2], [10, 10], min_points=1)
    assert stats.TREND_MIN_POINTS == 5


def test_chi_square_homogeneity_matches_r_prop_test():
    # R's documentation for prop.test, the same smokers data on four groups:
    # "4-sample test for equality of proportions without continuity correction",
    # X-squared = 12.6, df = 3, p-value = 0.005585.
    result = stats.chi_square_homogeneity([83, 90, 129, 70], [86, 93, 136, 82])
    assert result["chi2"] == pytest.approx(12.6, abs=0.005)
    assert result["df"] == 3
    assert result["p_value"] == pytest.approx(0.005585, abs=5e-6)
    # Nothing varies (every group all events), or one group: nothing to test.
    assert math.isnan(stats.chi_square_homogeneity([5, 6], [5, 6])["p_value"])
    assert math.isnan(stats.chi_square_homogeneity([5], [9])["chi2"])


# A Mann-Kendall example worked by hand (Holy Cross College, "A Mann-Kendall Example
# (By Hand)", after Gilbert 1987): 14 values, one pair tied, S = 54,
# VAR(S) = 14·13·33/18 - 2·1·9/18, Z = (S - 1)/sqrt(VAR) = 2.9058, one-sided p = .0018.
MK_SERIES = [12.9, 14.8, 13.2, 15.7, 13.8, 15.6, 12.9, 11.0, 17.3, 15.9, 19.0, 18.3, 20.1, 21.7]


def test_mann_kendall_matches_the_worked_example():
    result = stats.mann_kendall(MK_SERIES)
    assert result["s"] == 54
    assert result["var_s"] == pytest.approx(14 * 13 * 33 / 18 - 2 * 1 * 9 / 18)
    assert result["z"] == pytest.approx(2.9058, abs=5e-5)
    assert result["p_value"] / 2 == pytest.approx(0.0018, abs=5e-5)  # two-sided here
    assert result["direction"] == "increasing"
    assert result["tau"] == pytest.approx(54 / 91)
    falling = stats.mann_kendall(MK_SERIES[::-1])
    assert falling["s"] == -54 and falling["z"] == pytest.approx(-2.9058, abs=5e-5)
    assert stats.mann_kendall([1, np.nan])["direction"] == "not computable"
    flat = stats.mann_kendall([3, 3, 3, 3])
    assert flat["s"] == 0 and math.isnan(flat["p_value"])


def test_sens_slope_is_the_median_pairwise_slope_with_its_interval():
    from scipy.stats import theilslopes

    # By hand: 1, 2, 4 at times 1, 2, 3 give slopes 1, 1.5 and 3; the median is 1.5.
    assert stats.sens_slope([1, 2, 4])["slope"] == 1.5
    # Uneven times are used as given: 0 at t=0 and 10 at t=5 is 2 per unit.
    assert stats.sens_slope([0, 10], times=[0, 5])["slope"] == 2
    result = stats.sens_slope(MK_SERIES)
    assert result["slope"] == pytest.approx(theilslopes(MK_SERIES).slope)
    assert result["lower"] <= result["slope"] <= result["upper"]
    assert result["lower"] > 0  # the Mann-Kendall test finds a rise; so does the interval


def test_trend_on_a_constant_full_series_is_not_computable():
    # Every period 100%: nothing varies, so there is no trend to call significant.
    result = stats.chi_square_trend([40, 42, 41, 40, 43], [40, 42, 41, 40, 43])
    assert result["direction"] == "not computable" and math.isnan(result["p_value"])


def test_trend_skips_missing_periods_but_keeps_their_scores():
    yes = [5, 7, np.nan, 6, 7, 8, 10]
    total = [22, 35, 40, 42, 48, 54, 150]
    result = stats.chi_square_trend(yes, total)
    expected = stats.chi_square_trend(CAESAREAN_YES, CAESAREAN_TOTAL, scores=[1, 2, 4, 5, 6, 7])
    assert result == expected


def test_trend_for_rates_is_the_poisson_score_test():
    # Cross-check against an independent implementation: the score test for adding the
    # period score to a Poisson GLM with log-population offset (statsmodels).
    counts = np.array([31, 40, 38, 52, 55, 61], dtype=float)
    populations = np.array([60_100, 60_900, 61_300, 61_800, 62_200, 62_900], dtype=float)
    result = stats.chi_square_trend(counts, populations, kind="rate")
    fit = sm.GLM(
        counts,
        np.ones((6, 1)),
        family=sm.families.Poisson(),
        offset=np.log(populations),
    ).fit()
    score = fit.score_test(exog_extra=np.arange(1, 7, dtype=float)[:, None])
    assert result["chi2"] == pytest.approx(float(score.statistic[0]), rel=1e-9)
    assert result["p_value"] == pytest.approx(float(score.pvalue[0]), rel=1e-9)
    assert result["direction"] == "increasing"


def test_trend_for_rare_events_agrees_between_proportion_and_rate_forms():
    counts = [12, 15, 11, 19, 24]
    population = [90_000, 91_000, 90_500, 92_000, 93_000]
    as_proportion = stats.chi_square_trend(counts, population)
    as_rate = stats.chi_square_trend(counts, population, kind="rate")
    assert as_proportion["chi2"] == pytest.approx(as_rate["chi2"], rel=1e-3)


def test_trend_without_events_is_not_computable():
    result = stats.chi_square_trend([0, 0, 0, 0, 0], [10, 12, 9, 11, 10])
    assert result["direction"] == "not computable"
    assert math.isnan(result["chi2"]) and math.isnan(result["p_value"])


# --------------------------------------------------------------------------------------
# Change between two periods
# --------------------------------------------------------------------------------------

# Newcombe RG (1998) "Interval estimation for the difference between independent
# proportions: comparison of eleven methods", Stat Med 17:873-890, Table II, method 10
# (hybrid score, no continuity correction).
NEWCOMBE_1998_DIFFERENCE = [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
    (10, 10, 0, 10, 0.6075, 1.0000),
]


def test_change_in_proportion_matches_newcombe_1998_table_2():
    x1, n1, x0, n0, lower, upper = (
        np.array(column) for column in zip(*NEWCOMBE_1998_DIFFERENCE, strict=True)
    )
    result = stats.year_on_year_change(x1, n1, x0, n0)
    assert list(result.columns) == ["difference", "lower", "upper", "p_value", "significant"]
    assert result["difference"].to_numpy() == pytest.approx(x1 / n1 - x0 / n0)
    assert result["lower"].to_numpy() == pytest.approx(lower, abs=5e-5)
    assert result["upper"].to_numpy() == pytest.approx(upper, abs=5e-5)


def test_change_in_proportion_test_is_the_uncorrected_chi_square():
    # The pooled two-proportion z-test is Pearson's chi-square on the 2x2 table
    # without Yates' correction: check against scipy's independent implementation.
    result = stats.year_on_year_change(56, 70, 48, 80).iloc[0]
    table = [[56, 70 - 56], [48, 80 - 48]]
    expected = chi2_contingency(table, correction=False).pvalue
    assert result["p_value"] == pytest.approx(expected, rel=1e-10)
    assert bool(result["significant"]) is True
    none = stats.year_on_year_change(0, 10, 0, 20).iloc[0]
    assert none["p_value"] == 1.0 and not none["significant"]


def test_change_in_rate_uses_exact_conditional_test_and_mover_interval():
    counts_now = pd.Series([56, 4], index=["Camden", "City"])
    result = stats.year_on_year_change(
        counts_now,
        pd.Series([40_000, 1_800], index=counts_now.index),
        pd.Series([38, 1], index=counts_now.index),
        pd.Series([39_000, 1_750], index=counts_now.index),
        kind="rate",
    )
    assert list(result.index) == ["Camden", "City"]
    camden = result.loc["Camden"]
    assert camden["difference"] == pytest.approx(56 / 4 - 38 / 3.9)
    # Given 94 events in all, the current period's share is Binomial(94, 40/79) if the
    # rates are equal: the exact conditional test.
    assert camden["p_value"] == pytest.approx(binomtest(56, 94, 40_000 / 79_000).pvalue)
    now = stats.rate_ci(56, 40_000)
    before = stats.rate_ci(38, 39_000)
    rate_now, rate_before = now.loc[0, "rate"], before.loc[0, "rate"]
    assert camden["lower"] == pytest.approx(
        camden["difference"]
        - math.hypot(rate_now - now.loc[0, "lower"], before.loc[0, "upper"] - rate_before)
    )
    assert camden["upper"] == pytest.approx(
        camden["difference"]
        + math.hypot(now.loc[0, "upper"] - rate_now, rate_before - before.loc[0, "lower"])
    )


def test_change_in_rate_with_no_events_and_missing_data():
    result = stats.year_on_year_change([0, np.nan], [1_000, 1_000], [0, 3], [1_000, 1_000], "rate")
    assert result.loc[0, "p_value"] == 1.0 and result.loc[0, "difference"] == 0
    assert result.loc[0, "lower"] < 0 < result.loc[0, "upper"]
    assert np.isnan(result.loc[1, "p_value"]) and not result.loc[1, "significant"]
    with pytest.raises(ValueError, match="whole numbers"):
        stats.year_on_year_change(2.5, 100, 1, 100, kind="rate")
    with pytest.raises(ValueError, match="kind"):
        stats.year_on_year_change(2, 100, 1, 100, kind="ratio")


@settings(max_examples=50)
@given(
    n1=st.integers(min_value=1, max_value=5_000),
    n0=st.integers(min_value=1, max_value=5_000),
    share1=st.floats(min_value=0, max_value=1),
    share0=st.floats(min_value=0, max_value=1),
)
def test_change_intervals_contain_the_difference(n1, n0, share1, share0):
    x1, x0 = math.floor(share1 * n1), math.floor(share0 * n0)
    for kind in ("proportion", "rate"):
        row = stats.year_on_year_change(x1, n1, x0, n0, kind=kind).iloc[0]
        assert row["lower"] <= row["difference"] + 1e-12
        assert row["difference"] <= row["upper"] + 1e-12
        assert 0 <= row["p_value"] <= 1


# --------------------------------------------------------------------------------------
# Benchmarks, RAG, ranks and bands
# --------------------------------------------------------------------------------------


def test_compare_to_benchmark_by_whether_the_interval_excludes_it():
    lower = pd.Series([0.30, 0.10, 0.20, np.nan, 0.25], index=list("abcde"))
    upper = pd.Series([0.40, 0.15, 0.30, 0.3, 0.35], index=lower.index)
    labels = stats.compare_to_benchmark(lower, upper, 0.25)
    assert labels.tolist() == ["higher", "lower", "similar", "not compared", "similar"]
    assert stats.compare_to_benchmark(0.26, 0.3, 0.25) == "higher"


def test_compare_to_benchmark_with_wilson_interval():
    # Newcombe's 81/263 (0.2553-0.3662) against England at 25% and at 30%.
    lower, upper = stats.wilson_ci(81, 263)
    assert stats.compare_to_benchmark(lower, upper, 0.25) == "higher"
    assert stats.compare_to_benchmark(lower, upper, 0.30) == "similar"


def test_rag_label_respects_polarity():
    comparisons = pd.Series(["higher", "similar", "lower", "not compared", None])
    assert stats.rag_label(comparisons, "high").tolist() == [
        "better",
        "similar",
        "worse",
        "not compared",
        "not compared",
    ]
    assert stats.rag_label(comparisons, "low").tolist()[:3] == ["worse", "similar", "better"]
    assert set(stats.rag_label(comparisons, "neutral")) == {"not compared"}
    per_row = stats.rag_label(["higher", "higher", "higher"], ["high", "low", "neutral"])
    assert per_row.tolist() == ["better", "worse", "not compared"]
    assert stats.rag_label("lower", "low") == "better"
    with pytest.raises(ValueError, match="polarity"):
        stats.rag_label("higher", "up")
    with pytest.raises(ValueError, match="comparison"):
        stats.rag_label("better", "high")


def test_rank_with_polarity_puts_best_first():
    values = pd.Series([50.0, 20.0, 20.0, np.nan, 80.0], index=list("abcde"))
    assert stats.rank_with_polarity(values, "high").tolist() == [2, 3, 3, pd.NA, 1]
    assert stats.rank_with_polarity(values, "low").tolist() == [3, 1, 1, pd.NA, 4]
    neutral = stats.rank_with_polarity(values, "neutral")
    # No better direction, no best: nothing is ranked (reports say higher/lower).
    assert neutral.isna().all()
    assert "not ranked" in neutral.attrs["ranking"]
    assert list(neutral.index) == list("abcde")


def test_quartile_bands_follow_ohid_quantile_algorithm():
    # OHID's quantile assignment (PHEindicatormethods phe_quantile): band =
    # 5 - ceil(4(N + 1 - rank)/N). Eight values, low is good: A A B B C C D D.
    values = pd.Series([10, 20, 30, 40, 50, 60, 70, 80], index=list("abcdefgh"), dtype=float)
    assert stats.quartile_band(values, "low").tolist() == list("AABBCCDD")
    assert stats.quartile_band(values, "high").tolist() == list("DDCCBBAA")
    # 33 London boroughs split 9, 8, 8, 8.
    london = stats.quartile_band(pd.Series(np.arange(33.0)), "high")
    assert london.value_counts().to_dict() == {"A": 9, "B": 8, "C": 8, "D": 8}
    assert london.iloc[-1] == "A" and london.iloc[0] == "D"


def test_quartile_bands_not_ranked_cases():
    values = pd.Series([1.0, 1.0, 2.0, 3.0, np.nan])
    banded = stats.quartile_band(values, "high")
    assert banded.tolist() == ["C", "C", "B", "A", "not ranked"]
    assert set(stats.quartile_band(values, "neutral")) == {"not ranked"}
    assert set(stats.quartile_band([1.0, 2.0, 3.0], "high")) == {"not ranked"}


# --------------------------------------------------------------------------------------
# Rounding half up
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (2.5, 0, 3.0),  # Python's round gives 2
        (0.5, 0, 1.0),  # Python's round gives 0
        (0.125, 2, 0.13),  # banker's rounding gives 0.12
        (2.675, 2, 2.68),  # stored as 2.67499999..., round() gives 2.67
        (1.005, 2, 1.01),  # stored as 1.00499999...
        (57 / 200 * 100, 0, 29.0),  # 28.499999999999996 after the arithmetic
        (-2.5, 0, -3.0),  # halves away from zero, as Excel's ROUND
        (1234.5, -1, 1230.0),
        (1235.0, -1, 1240.0),
        (12.34, 1, 12.3),
        (123456789012345678.0, 2, 123456789012345678.0),  # big figures keep their digits
        (1e300, 2, 1e300),
    ],
)
def test_round_half_up(value, decimals, expected):
    assert stats.round_half_up(value, decimals) == expected


def test_round_half_up_keeps_kind_and_missing_values():
    series = pd.Series([2.5, np.nan, 3.5, np.inf], index=list("abcd"), name="pct")
    rounded = stats.round_half_up(series)
    assert list(rounded.index) == list("abcd") and rounded.name == "pct"
    assert rounded.iloc[0] == 3.0 and np.isnan(rounded.iloc[1])
    assert rounded.iloc[2] == 4.0 and rounded.iloc[3] == np.inf
    array = stats.round_half_up(np.array([[0.5, 1.5], [2.5, 3.5]]))
    assert array.shape == (2, 2) and array.tolist() == [[1.0, 2.0], [3.0, 4.0]]


@given(
    units=st.integers(min_value=-(10**9), max_value=10**9),
    scale=st.integers(min_value=0, max_value=6),
    decimals=st.integers(min_value=0, max_value=4),
)
def test_round_half_up_rounds_decimal_text_as_written(units, scale, decimals):
    # A figure typed as decimal text rounds exactly as the decimal module rounds it.
    text = str(decimal.Decimal(units).scaleb(-scale))
    expected = decimal.Decimal(text).quantize(
        decimal.Decimal(1).scaleb(-decimals), rounding=decimal.ROUND_HALF_UP
    )
    assert stats.round_half_up(float(text), decimals) == float(expected)


# --------------------------------------------------------------------------------------
# Over-dispersion (Spiegelhalter 2005, Qual Saf Health Care 14:347-351)
# --------------------------------------------------------------------------------------

# The BCG vaccine trials (Colditz et al. 1994, JAMA 271:698-702), as metafor ships them
# (dat.bcg: tpos, tneg, cpos, cneg). metafor's test suite checks its DerSimonian-Laird
# fit against Stata's metan on these data (tests/testthat/
# test_misc_metan_vs_rma.uni_with_dat.bcg.r): log relative risk, fixed effect -0.4303,
# Q = 152.2330 on 12 df, tau^2 (DL) = 0.3088, I^2 = 92.1173%.
BCG = np.array(
    [
        [4, 119, 11, 128],
        [6, 300, 29, 274],
        [3, 228, 11, 209],
        [62, 13536, 248, 12619],
        [33, 5036, 47, 5761],
        [180, 1361, 372, 1079],
        [8, 2537, 10, 619],
        [505, 87886, 499, 87892],
        [29, 7470, 45, 7232],
        [17, 1699, 65, 1600],
        [186, 50448, 141, 27197],
        [5, 2493, 3, 2338],
        [27, 16886, 29, 17825],
    ],
    dtype=float,
)


def _bcg_log_rr() -> tuple[np.ndarray, np.ndarray]:
    a, b, c, d = BCG.T
    y = np.log(a / (a + b)) - np.log(c / (c + d))
    v = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    return y, np.sqrt(v)


def test_dispersion_without_winsorising_is_dersimonian_laird_on_bcg():
    y, se = _bcg_log_rr()
    w = 1 / se**2
    fixed = float((w * y).sum() / w.sum())
    assert fixed == pytest.approx(-0.4303, abs=5e-5)
    found = stats.dispersion(y, fixed, se, winsorise_by=0.0)
    assert found.statistic == pytest.approx(152.2330, abs=5e-5)  # Cochran's Q
    assert found.tau2 == pytest.approx(0.3088, abs=5e-5)
    i2 = (found.statistic - 12) / found.statistic * 100
    assert i2 == pytest.approx(92.1173, abs=5e-5)
    assert found.overdispersed and found.applied == "additive"
    # The additive z-score uses s^2 + tau^2; the multiplicative one divides by sqrt(phi).
    z_add = stats.adjusted_z(y, fixed, se, found)
    assert z_add == pytest.approx((y - fixed) / np.sqrt(se**2 + 0.30876026), rel=1e-6)
    multi = stats.dispersion(y, fixed, se, adjustment="multiplicative", winsorise_by=0.0)
    z_mult = stats.adjusted_z(y, fixed, se, multi)
    assert z_mult == pytest.approx((y - fixed) / se / np.sqrt(152.2330 / 13), rel=1e-5)


def test_winsorising_sets_each_tail_to_the_nearest_kept_value():
    # Spiegelhalter (2005, QSHC), appendix: with 10% winsorising the lowest 10% of
    # z-scores take the 10th centile's value and the highest 10% the 90th's. Ten areas:
    # one per tail.
    z = np.array([-9.0, -1.5, -0.5, 0.0, 0.2, 0.4, 0.6, 1.0, 1.2, 7.0])
    got = np.sort(stats.winsorise(z, 0.1))
    assert got.tolist() == [-1.5, -1.5, -0.5, 0.0, 0.2, 0.4, 0.6, 1.0, 1.2, 1.2]
    assert stats.winsorise(z, 0.0).tolist() == z.tolist()
    with pytest.raises(ValueError):
        stats.winsorise(z, 0.5)


def test_winsorised_phi_ignores_one_extreme_area():
    # Twenty areas exactly at chance (z = ±1, so phi = 1) and one wildly different
    # definition: unwinsorised, phi is inflated; winsorised, the areas are not
    # over-dispersed and the limits are drawn without adjustment.
    z = np.r_[np.tile([1.0, -1.0], 10), 25.0]
    se = np.ones_like(z)
    raw = stats.dispersion(z, 0.0, se, winsorise_by=0.0)
    robust = stats.dispersion(z, 0.0, se)
    assert raw.overdispersed and raw.phi > 25
    assert robust.phi == pytest.approx(1.0) and not robust.overdispersed
    assert robust.applied == "none" and "no more than chance" in robust.describe()


def test_limits_widen_only_when_asked_and_overdispersed():
    rng = np.random.default_rng(5)
    n = rng.integers(500, 5000, 40).astype(float)
    true_p = np.clip(rng.normal(0.3, 0.06, 40), 0.01, 0.99)
    x = rng.binomial(n.astype(int), true_p).astype(float)
    target = x.sum() / n.sum()
    se = stats.proportion_se(target, n)
    found = stats.dispersion(x / n, target, se)
    assert found.overdispersed and found.tau2 > 0
    plain = stats.dispersed_limits(target, se, stats.dispersion(x / n, target, se, "none"))
    wide = stats.dispersed_limits(target, se, found, floor=0.0, ceiling=1.0)
    assert (wide["upper_998"] > plain["upper_998"]).all()
    assert (wide["lower_998"] < plain["lower_998"]).all()
    # Under the additive limits few areas fall outside 99.8%, as chance predicts.
    outside = ((x / n > wide["upper_998"]) | (x / n < wide["lower_998"])).sum()
    assert outside <= 1
    assert "random-effects" in found.describe()
    assert "as asked" in stats.dispersion(x / n, target, se, "none").describe()


def test_dispersion_needs_three_areas():
    few = stats.dispersion([0.1, 0.5], 0.3, [0.01, 0.01])
    assert math.isnan(few.phi) and few.applied == "none"
    with pytest.raises(ValueError):
        stats.dispersion([0.1, 0.5, 0.2], 0.3, [0.01] * 3, adjustment="both")


def test_multiplicative_and_additive_limits_follow_spiegelhalters_formulas():
    # Spiegelhalter (2005, QSHC): multiplicative limits target ± z·√phi·s, additive
    # target ± z·√(s² + τ²); with no over-dispersion both are target ± z·s.
    se = np.array([0.01, 0.02, 0.05])
    z998 = norm.ppf(0.999)
    multi = stats.Dispersion(
        20, 4.0, 80.0, 1e-9, 0.0009, True, "multiplicative", "multiplicative", 0.1
    )
    limits = stats.dispersed_limits(0.3, se, multi, floor=0.0, ceiling=1.0)
    assert limits["upper_998"].to_numpy() == pytest.approx(0.3 + z998 * 2 * se)
    additive = stats.Dispersion(20, 4.0, 80.0, 1e-9, 0.0009, True, "additive", "additive", 0.1)
    limits = stats.dispersed_limits(0.3, se, additive, floor=0.0, ceiling=1.0)
    assert limits["lower_998"].to_numpy() == pytest.approx(0.3 - z998 * np.sqrt(se**2 + 0.0009))
    assert "φ = 4.0" in multi.short() and "random effects" in additive.short()
