"""Inter-rater agreement, checked against published worked examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lscb_nb.core import agreement

# Krippendorff, K. (2011) "Computing Krippendorff's Alpha-Reliability", Annenberg
# School for Communication Departmental Papers 43, section C: 4 observers x 12
# units with missing values. Published: nominal 0.743, ordinal 0.815,
# interval 0.849, ratio 0.797.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
    [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_worked_example(level, published):
    assert agreement.krippendorff_alpha(K2011, level) == pytest.approx(published, abs=5e-4)


def test_alpha_from_long_matches_the_matrix():
    long = pd.DataFrame(K2011, index=list("ABCD")).stack().rename("score").reset_index()
    long.columns = ["rater_id", "item_id", "score"]
    assert agreement.alpha_from_long(long) == pytest.approx(0.815, abs=5e-4)


# Fleiss, J. L. (1971) "Measuring nominal scale agreement among many raters",
# Psychological Bulletin 76(5):378-382; the 10 subjects x 14 raters x 5 categories
# example as reproduced on Wikipedia's "Fleiss' kappa" page: kappa = 0.210.
FLEISS_COUNTS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_1971_example():
    ratings = [
        [cat for cat, n in enumerate(row, start=1) for _ in range(n)] for row in FLEISS_COUNTS
    ]
    assert agreement.fleiss_kappa(ratings) == pytest.approx(0.210, abs=5e-4)


def test_cohens_kappa_published_example():
    """Wikipedia "Cohen's kappa", worked example: 50 grant proposals, both yes 20,
    A yes/B no 5, A no/B yes 10, both no 15: kappa = 0.40."""
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert agreement.cohens_kappa(a, b) == pytest.approx(0.40, abs=1e-9)
    # with two categories, linear weights change nothing
    assert agreement.cohens_kappa(a, b, weights="linear") == pytest.approx(0.40, abs=1e-9)


def test_weighted_kappa_credits_near_misses():
    a = [1, 2, 3, 4, 1, 2, 3, 4]
    b = [2, 3, 4, 4, 1, 1, 3, 3]
    assert agreement.cohens_kappa(a, b, weights="quadratic") > agreement.cohens_kappa(a, b)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: agreement.krippendorff_alpha([[1, 2, 3]]), "at least 2 raters"),
        (lambda: agreement.krippendorff_alpha(K2011, "fuzzy"), "level_of_measurement"),
        (lambda: agreement.fleiss_kappa([[1, 2, 3], [1, 2, None]]), "same number of raters"),
        (lambda: agreement.krippendorff_alpha([[1, np.nan], [np.nan, 2]]), "2 or more raters"),
        (
            lambda: agreement.alpha_from_long(
                pd.DataFrame({"rater_id": ["a", "a"], "item_id": ["X", "X"], "score": [1, 2]})
            ),
            "more than once",
        ),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_no_variation_is_undefined_not_perfect():
    assert np.isnan(agreement.krippendorff_alpha([[3, 3, 3], [3, 3, 3]]))
    assert agreement.interpret_alpha(float("nan")) == "cannot be measured"


def test_summary_and_disagreement():
    long = pd.DataFrame(
        {
            "borough": ["A"] * 6 + ["B"] * 6,
            "rater_id": ["r1", "r2", "r1", "r2", "r1", "r2"] * 2,
            "item_id": ["X", "X", "Y", "Y", "Z", "Z"] * 2,
            "score": [1, 1, 2, 2, 4, 4, 1, 4, 2, 2, 3, 1],
        }
    )
    summary = agreement.agreement_summary(long, by=["borough"]).set_index("borough")
    assert summary.loc["A", "alpha"] == pytest.approx(1.0)
    assert summary.loc["B", "alpha"] < summary.loc["A", "alpha"]
    assert summary.loc["A", "interpretation"] == "reliable"
    worst = agreement.disagreement_by_unit(long[long["borough"] == "B"])
    assert worst.iloc[0]["item_id"] == "X" and worst.iloc[0]["share_pairs_2_apart"] == 1.0


def test_interpretation_bands():
    assert agreement.interpret_alpha(0.81) == "reliable"
    assert agreement.interpret_alpha(0.7) == "tentative conclusions only"
    assert agreement.interpret_alpha(0.5) == "unreliable"
    assert agreement.interpret_kappa(0.4) == "fair"
    assert agreement.interpret_kappa(0.85) == "almost perfect"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 4), min_size=3, max_size=12).filter(lambda v: len(set(v)) > 1),
    st.randoms(),
)
def test_perfect_agreement_is_one_and_unit_order_does_not_matter(scores, rnd):
    data = np.array([scores, scores, scores], dtype=float)
    assert agreement.krippendorff_alpha(data) == pytest.approx(1.0)
    noisy = data.copy()
    noisy[0, 0] = 5 - noisy[0, 0]
    order = list(range(len(scores)))
    rnd.shuffle(order)
    assert agreement.krippendorff_alpha(noisy[:, order]) == pytest.approx(
        agreement.krippendorff_alpha(noisy)
    )


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_alpha_interval_is_centred_on_the_published_alpha(level, published):
    """The point estimate is Krippendorff's (2011) published value, from the same
    coincidence matrices the bootstrap reweights; the interval contains it."""
    found = agreement.krippendorff_alpha_ci(K2011, level, n_boot=500, seed=1)
    assert found["alpha"] == pytest.approx(published, abs=5e-4)
    assert found["lower"] < found["alpha"] <= found["upper"] <= 1.0
    assert found["n_units"] == 11  # unit 12 has one rating: not pairable


def test_alpha_interval_is_seedable_and_narrows_with_more_units():
    rng = np.random.default_rng(0)

    def ratings(units: int) -> np.ndarray:
        truth = rng.integers(1, 5, units)
        noise = rng.integers(-1, 2, (4, units)) * (rng.random((4, units)) < 0.3)
        return np.clip(truth + noise, 1, 4).astype(float)

    small, large = ratings(30), ratings(600)
    a = agreement.krippendorff_alpha_ci(small, seed=3)
    b = agreement.krippendorff_alpha_ci(small, seed=3)
    assert a == b
    wide = a["upper"] - a["lower"]
    big = agreement.krippendorff_alpha_ci(large, seed=3)
    assert big["upper"] - big["lower"] < wide / 2
    # Each bootstrap draw's alpha equals the library's alpha on the resampled units.
    units = np.array([0, 0, 3, 5, 7, 7, 7, 11, 20, 29])
    domain = np.unique(small)
    per_unit = agreement._unit_coincidences(small, domain)
    weights = np.bincount(units, minlength=30)[None, :].astype(float)
    mine = agreement._alpha_from_coincidences(weights @ per_unit, domain, "ordinal")[0]
    assert mine == pytest.approx(agreement.krippendorff_alpha(small[:, units], "ordinal"))


def test_alpha_interval_on_a_large_table_is_repeatable_and_holds_the_estimate():
    """A national-size table (its speed is measured by benchmarks, never asserted here):
    random ratings agree by chance only, the interval holds the estimate, and the
    same seed gives the same interval."""
    rng = np.random.default_rng(1)
    data = rng.integers(1, 5, (8, 3000)).astype(float)
    data[rng.random(data.shape) < 0.6] = np.nan
    first = agreement.krippendorff_alpha_ci(data, n_boot=200)
    assert first["lower"] <= first["alpha"] <= first["upper"]
    assert abs(first["alpha"]) < 0.05 and first["upper"] - first["lower"] < 0.1
    assert first["n_boot"] == 200 and first["n_units"] == 3000 - np.sum(
        np.sum(~np.isnan(data), axis=0) < 2
    )
    assert agreement.krippendorff_alpha_ci(data, n_boot=200) == first


def test_agreement_summary_reports_the_interval():
    long = pd.DataFrame(K2011, index=list("ABCD")).stack().rename("score").reset_index()
    long.columns = ["rater_id", "item_id", "score"]
    out = agreement.agreement_summary(long, [])
    assert {"alpha", "alpha_lower", "alpha_upper"} <= set(out.columns)
    assert out.loc[0, "alpha_lower"] < out.loc[0, "alpha"] < out.loc[0, "alpha_upper"] + 1e-12
