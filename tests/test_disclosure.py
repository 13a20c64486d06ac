"""Small-number suppression: DfE's convention, secondary suppression, and proof
that no suppressed count can be recovered from what a table shows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lscb_nb.core import disclosure as d


def test_threshold_edges_follow_dfe():
    counts = pd.Series([0, 1, 5, 6, 120])
    assert d.primary_suppress(counts).tolist() == [False, True, True, False, False]
    assert d.primary_suppress(counts, suppress_zero=True).tolist()[0]
    assert d.primary_suppress(counts, threshold=10).tolist() == [False, True, True, True, False]


def test_derived_percentage_is_suppressed_with_its_count():
    frame = pd.DataFrame({"plans": [3, 40], "children": [100, 200], "pct": [3.0, 20.0]})
    shown, mask = d.suppress_table(frame, ["plans"], derived={"pct": ["plans"]}, margins=None)
    assert shown.loc[0, "plans"] == "c" and shown.loc[0, "pct"] == "c"
    assert shown.loc[1, "pct"] == 20.0 and not mask.loc[1].any()


def test_secondary_cell_is_the_smallest_non_zero_other():
    frame = pd.DataFrame({"a": [4], "b": [0], "c": [9], "d": [30]})
    shown, _ = d.suppress_table(frame, list("abcd"), margins="rows")
    assert shown.iloc[0].tolist() == ["c", 0, "c", 30]


def test_both_margins_settle():
    frame = pd.DataFrame({"q1": [3, 20, 15], "q2": [12, 18, 40], "q3": [25, 2, 30]})
    shown, mask = d.suppress_table(frame, ["q1", "q2", "q3"], margins="both")
    m = mask[["q1", "q2", "q3"]].to_numpy()
    for line in [*m, *m.T]:
        assert line.sum() != 1
    assert (
        d.can_recover(shown, ["q1", "q2", "q3"], frame.sum(axis=1), frame[["q1", "q2", "q3"]].sum())
        == []
    )


def test_the_auditor_catches_a_naively_suppressed_table():
    """Primary suppression alone, with the row total shown, gives the cell away."""
    frame = pd.DataFrame({"a": [3, 10], "b": [20, 30]})
    naive, mask = d.suppress_table(frame, ["a", "b"], margins=None)
    assert d.can_recover(naive, ["a", "b"], frame.sum(axis=1)) == [(0, "a")]
    interval = d.feasible_interval(frame, ["a", "b"], mask, margins="rows")
    assert interval.loc[0, "upper"] - interval.loc[0, "lower"] == 0


def test_suppress_long_protects_a_group_with_a_total():
    frame = pd.DataFrame(
        {"item": ["X"] * 4 + ["Y"] * 2, "la": list("abcdab"), "n": [2, 50, 9, 30, 40, 60]}
    )
    mask = d.suppress_long(frame, "n", ["item"])
    assert mask.tolist() == [True, False, True, False, False, False]


def test_suppress_rates():
    out = d.suppress_rates(pd.Series([2, 80]), pd.Series([1.4, 55.2]))
    assert out.tolist() == ["c", 55.2]


@pytest.mark.slow  # a property, fuzz or real-data test: the slow lane
@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int64, st.tuples(st.integers(2, 5), st.integers(2, 5)), elements=st.integers(0, 40))
)
def test_no_suppressed_count_can_be_recovered(values):
    cols = [f"c{j}" for j in range(values.shape[1])]
    frame = pd.DataFrame(values, columns=cols)
    shown, mask = d.suppress_table(frame, cols, margins="both")
    primary = d.primary_suppress(frame[cols]).to_numpy()
    assert mask[cols].to_numpy()[primary].all()  # every small count is hidden
    row_totals, col_totals = d.published_totals(frame, cols)
    assert d.can_recover(shown, cols, row_totals, col_totals) == []
    # a total that is itself a small count is never shown
    shown_totals = pd.concat([row_totals, col_totals]).dropna()
    assert not ((shown_totals >= 1) & (shown_totals <= 5)).any()
    intervals = d.feasible_interval(frame, cols, mask, margins="both")
    width = {(r, c): hi - lo for r, c, lo, hi in intervals.itertuples(index=False)}
    # a suppressed small count can never be pinned to one value
    for i, j in zip(*np.nonzero(primary), strict=True):
        assert width[(frame.index[i], cols[j])] > 0


def test_figures_not_reported_stay_out_of_totals_and_are_never_complementary():
    """A borough's own c and a figure not returned are outside the sums: the total of
    the reported figures is still published when no hidden cell can be recovered
    from it (it was withheld before), and a missing cell is never the complement."""
    frame = pd.DataFrame(
        {"a": [6.0], "b": [np.nan], "c": [5.0], "d": [4.0], "e": [3.0], "f": [0.0], "g": [20.0]}
    )
    cols = list(frame.columns)
    outside = pd.DataFrame(
        {c: [c in ("b", "f")] for c in cols}
    )  # b suppressed by the borough, f not returned
    shown, mask = d.suppress_table(frame, cols, margins="rows", outside=outside)
    assert not mask.loc[0, "b"] and not mask.loc[0, "f"]
    assert mask.loc[0, ["c", "d", "e"]].all()
    rows, _ = d.published_totals(frame, cols, "rows", outside=outside)
    assert rows.iloc[0] == 6 + 5 + 4 + 3 + 20
    assert d.can_recover(shown.drop(columns=["b", "f"]), ["a", "c", "d", "e", "g"], rows) == []
    # One small count alone: the complement is the smallest reported cell, not the blank.
    lone = pd.DataFrame({"a": [3.0], "b": [0.0], "c": [40.0], "d": [9.0]})
    out = pd.DataFrame({"a": [False], "b": [True], "c": [False], "d": [False]})
    _, mask = d.suppress_table(lone, list(lone.columns), margins="rows", outside=out)
    assert mask.iloc[0].tolist() == [True, False, False, True]
