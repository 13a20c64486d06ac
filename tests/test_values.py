import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lscb_nb.core import values


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


def test_plain_numbers_pass_and_thousands_separators_are_read_with_a_query():
    parsed = values.parse_values(pd.Series(["1,234", " 56 ", "7.5", "-3", "12 345", "1e3"]))
    assert parsed["value"].tolist() == [1234.0, 56.0, 7.5, -3.0, 12345.0, 1000.0]
    assert set(parsed["state"]) == {values.REPORTED}
    assert parsed["rule_code"].tolist() == ["V10", "", "", "", "V10", ""]
    assert parsed.loc[0, "read_as"] == "1234"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1,5", "V09"),  # decimal comma: 1.5 or 15?
        ("0,25", "V09"),
        ("1.234,5", "V09"),
        ("12%", "V11"),
        ("12 %", "V11"),
        ("12,5%", "V11"),
        ("inf", "V12"),
        ("-Infinity", "V12"),
        ("NaN", "V12"),
        ("1e400", "V12"),  # overflows to infinity
        ("99999999999999999999", "V13"),  # 2^53 < n: a float would round it
        ("9007199254740993", "V13"),
        ("12 5", ""),  # a space inside a number is no known form: V01
        ("£1,000", ""),
        ("1,2,3", ""),
    ],
)
def test_ambiguous_or_changed_numbers_are_invalid_with_their_own_code(raw, code):
    parsed = values.parse_values(pd.Series([raw], dtype=object))
    assert parsed.loc[0, "state"] == values.INVALID
    assert parsed.loc[0, "rule_code"] == code
    assert np.isnan(parsed.loc[0, "value"])


def test_numeric_cells_too_large_or_infinite_are_not_accepted():
    parsed = values.parse_values(pd.Series([float("inf"), 2.0**60, 12.0]))
    assert parsed["rule_code"].tolist() == ["V12", "V13", ""]
    assert parsed["state"].tolist() == [values.INVALID, values.INVALID, values.REPORTED]


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
