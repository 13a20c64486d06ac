import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lscb_nb import values


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("c", values.SUPPRESSED),
        ("C", values.SUPPRESSED),
        ("*", values.SUPPRESSED),
        ("<5", values.SUPPRESSED),
        ("< 6", values.SUPPRESSED),
        ("x", values.NOT_AVAILABLE),
        ("..", values.NOT_AVAILABLE),
        ("n/a", values.NOT_AVAILABLE),
        ("N/A", values.NOT_AVAILABLE),
        ("u", values.LOW_RELIABILITY),
        ("z", values.NOT_APPLICABLE),
        ("low", values.ROUNDS_TO_ZERO),
        ("", values.MISSING),
        ("  ", values.MISSING),
        ("twelve", values.INVALID),
        ("12 (provisional)", values.INVALID),
    ],
)
def test_codes_become_states_not_numbers(raw, state):
    parsed = values.parse_values(pd.Series([raw], dtype=object))
    assert parsed.loc[0, "state"] == state
    assert np.isnan(parsed.loc[0, "value"])
    assert parsed.loc[0, "state_reason"] != "" or state == values.REPORTED


def test_numbers_are_cleaned():
    parsed = values.parse_values(pd.Series(["1,234", " 56 ", "7.5", "-3", "£1,000"]))
    assert parsed["value"].tolist() == [1234.0, 56.0, 7.5, -3.0, 1000.0]
    assert set(parsed["state"]) == {values.REPORTED}


def test_numeric_series_pass_through_and_none_is_missing():
    parsed = values.parse_values(pd.Series([1, 2.5, None]))
    assert parsed["value"].iloc[:2].tolist() == [1.0, 2.5]
    assert parsed["state"].tolist() == [values.REPORTED, values.REPORTED, values.MISSING]


def test_invalid_reason_names_the_text():
    parsed = values.parse_values(pd.Series(["abc"]))
    assert "abc" in parsed.loc[0, "state_reason"]


@given(
    st.lists(
        st.one_of(
            st.integers(-(10**6), 10**6).map(str),
            st.text(max_size=6),
            st.sampled_from(list(values.CODES)),
        )
    )
)
def test_every_cell_gets_exactly_one_known_state(cells):
    parsed = values.parse_values(pd.Series(cells, dtype=object))
    assert len(parsed) == len(cells)
    assert parsed["state"].isin(values.STATES).all()
    # a value is present exactly when the state is "reported"
    assert (parsed["value"].notna() == (parsed["state"] == values.REPORTED)).all()
