"""One way to show each value state: numbers, symbols, totals and the key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lscb_nb.core import states


def test_a_figure_not_returned_is_never_zero():
    assert states.render(0, states.REPORTED) == "0"
    assert states.render(np.nan, states.MISSING) == "ns"
    assert states.render(0, states.MISSING) == "ns"  # whatever number sits behind it
    assert states.render(np.nan, states.NOT_AVAILABLE) == "x"
    assert states.render(0, states.ZERO_DENOMINATOR) == "0/0"
    assert states.render(np.nan, states.NOT_COLLECTED) == "nc"
    assert states.render(np.nan, states.NOT_RECEIVED) == "nr"
    assert states.render(np.nan, states.NOT_DUE) == "nd"
    assert states.render(12, states.SUPPRESSED) == "c"
    assert states.render(None, states.QUARANTINED) == "q"
    assert states.render(3, states.NOT_APPLICABLE) == "z"
    assert states.render(1234.56, states.REPORTED, 1) == "1,234.6"
    assert states.render(7, states.LOW_RELIABILITY) == "u 7"
    assert states.render(0.2, states.ROUNDS_TO_ZERO) == "low"
    with pytest.raises(ValueError):
        states.render(1, "zero")


def test_totals_add_reported_figures_and_say_what_they_leave_out():
    total, left_out = states.total(
        [10, np.nan, 5, 3, np.nan],
        [states.REPORTED, states.MISSING, states.REPORTED, states.SUPPRESSED, states.MISSING],
    )
    assert total == 15
    assert left_out == {states.MISSING: 2, states.SUPPRESSED: 1}
    assert (
        states.total_note(left_out) == "excludes 1 suppressed by the authority and 2 not supplied"
    )
    assert states.total_note({}) == ""


def test_the_key_lists_only_the_symbols_shown():
    shown = pd.DataFrame({"a": ["12", "c"], "b": ["x", "u 4"]})
    found = states.symbols_in(shown)
    assert found == {"c", "x", "u"}
    key = states.key(found, total_excludes=True)
    assert "**c**" in key and "**x**" in key and "**u**" in key and "**q**" not in key
    assert "never shown as 0" in key and "totals add up reported figures only" in key


def test_cells_take_their_state_from_accepted_quarantined_or_nothing():
    keys = ["la", "item"]
    grid = pd.DataFrame({"la": ["A", "A", "B", "B"], "item": ["X", "Y", "X", "Y"]})
    accepted = pd.DataFrame(
        {
            "la": ["A", "A"],
            "item": ["X", "Y"],
            "numerator": [4.0, np.nan],
            "value_state": ["reported", "suppressed"],
        }
    )
    quarantined = pd.DataFrame({"la": ["B"], "item": ["X"]})
    cells = states.of_cells(accepted, quarantined, grid, keys)
    assert cells["state"].tolist() == ["reported", "suppressed", "quarantined", "missing"]
    assert cells["number"].iloc[0] == 4 and cells["number"].iloc[1:].isna().all()
    wide = states.render_frame(
        cells.pivot(index="item", columns="la", values="number"),
        cells.pivot(index="item", columns="la", values="state"),
    )
    assert wide.loc["X"].tolist() == ["4", "q"] and wide.loc["Y"].tolist() == ["c", "ns"]
    download = states.for_download(cells, "number", "state")
    assert download["symbol"].tolist() == ["", "c", "q", "ns"]


def test_every_state_has_one_symbol_and_a_meaning_in_the_key():
    """One place says how each state is shown: no two states that mean different
    things share a symbol (c is shared by the authority's and the report's own
    suppression, which mean the same to a reader), and the key explains each."""
    shown = {s: states.SYMBOL[s] for s in states.ORDER if s != states.REPORTED}
    by_symbol: dict[str, list[str]] = {}
    for state, sym in shown.items():
        by_symbol.setdefault(sym, []).append(state)
    shared = {k: v for k, v in by_symbol.items() if len(v) > 1}
    assert shared == {"c": [states.SUPPRESSED, states.WITHHELD]}
    assert set(shown.values()) == set(states.MEANING)
    line = states.key_plain()
    for sym in states.MEANING:
        assert f"{sym} " in line


def test_figure_statuses_say_what_counts_as_expected_supplied_and_received():
    expected = states.figure_statuses(expected=True)
    assert "not yet due" not in expected and "not applicable" not in expected
    assert "not received" in expected and "not supplied" in expected
    assert states.figure_statuses(supplied=True) == ("on time", "late")
    received = states.figure_statuses(expected=True, received=True)
    assert "not received" not in received and "not supplied" in received
    # 0 of 0 is a supplied figure, though it has no number to compare.
    assert states.ZERO_DENOMINATOR in states.SUPPLIED_STATES
    assert not states.usable(states.ZERO_DENOMINATOR)
