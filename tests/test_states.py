"""One way to show each value state: numbers, symbols, totals and the key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lscb_nb.core import states


def test_a_figure_not_returned_is_never_zero():
    assert states.render(0, states.REPORTED) == "0"
    assert states.render(np.nan, states.MISSING) == "x"
    assert states.render(0, states.MISSING) == "x"  # whatever number sits behind it
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
    note = states.total_note(left_out)
    assert note == "excludes 1 suppressed by the authority and 2 not returned"
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
    assert wide.loc["X"].tolist() == ["4", "q"] and wide.loc["Y"].tolist() == ["c", "x"]
    download = states.for_download(cells, "number", "state")
    assert download["symbol"].tolist() == ["", "c", "q", "x"]
