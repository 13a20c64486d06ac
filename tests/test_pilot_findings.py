"""Phase 3's findings for the board: worked out from small frames, in plain words,
and each pointing to the heading that holds its evidence."""

from __future__ import annotations

import nbformat
import pandas as pd

from lscb_nb.core import config
from lscb_nb.output import chrome
from lscb_nb.pilot import findings


def _cells(rows):
    return pd.DataFrame(rows, columns=["la_code_ons", "item_id", "period", "agency", "status"])


def test_supply_counts_late_figures_as_supplied_but_not_on_time():
    cells = _cells(
        [
            ("A", "X1", "Q1", "health", "on time"),
            ("A", "X2", "Q1", "health", "late"),
            ("A", "X3", "Q1", "police", "not supplied"),
            ("A", "X4", "Q1", "police", "on time"),
        ]
    )
    found = findings.supply(cells, "Camden")
    assert found.text == (
        "Camden supplied 75% of the figures the dataset expects, 50% by the deadline."
    )
    assert found.evidence == findings.SUPPLY


def test_the_least_timely_agency_is_named_in_words_with_an_ask():
    cells = _cells(
        [
            ("A", "X1", "Q1", "health", "late"),
            ("A", "X2", "Q1", "health", "on time"),
            ("A", "X3", "Q1", "police", "on time"),
        ]
    )
    found = findings.least_timely(cells)
    assert found.text.startswith("Health was the least timely agency: 50%")
    assert "Health partners" in found.ask


def test_nothing_held_back_says_so_and_asks_nothing():
    found = findings.held_back({"rows_quarantined": 0, "files_failed": 0})
    assert found.ask == "" and "passed" in found.text
    found = findings.held_back({"rows_quarantined": 1, "files_failed": 2})
    assert "1 row held back" in found.text and "2 files that could not be read" in found.text


def test_definitions_for_one_authority_use_the_singular():
    flags = pd.DataFrame({"la_code_ons": ["A", "B", "B"], "item_id": ["X1", "X2", "X3"]})
    assert findings.definitions(flags, "A").text == (
        "1 item looks counted to a different definition."
    )
    assert findings.definitions(flags, None).text == (
        "3 items look counted to a different definition across 2 authorities."
    )
    assert findings.definitions(flags, "C") is None


def test_outside_limits_counts_items_in_the_quarter_only():
    positions = pd.DataFrame(
        {
            "la_code_ons": ["A", "A", "A", "B"],
            "item_id": ["X1", "X2", "X1", "X1"],
            "period": ["Q4", "Q4", "Q3", "Q4"],
            "funnel": ["above 99.8%", "within", "below 99.8%", "above 99.8%"],
        }
    )
    found = findings.outside_limits(positions, "Q4", "A", "Camden")
    assert "outside the pilot's 99.8% limits on 1 item" in found.text and found.ask
    positions.loc[0, "funnel"] = "within"
    assert "within the pilot's 99.8% limits on every item" in (
        findings.outside_limits(positions, "Q4", "A", "Camden").text
    )


def test_every_finding_points_to_a_heading_of_the_notebook():
    nb = nbformat.read(config.NOTEBOOKS_DIR / "03_pilot_evaluation.ipynb", as_version=4)
    headings = {h["text"] for h in chrome.headings(nb) if h["level"] == 2}
    for name in ("SUPPLY", "TIMELY", "QUALITY", "DEFINITIONS", "COMPARES", "REFINE"):
        assert getattr(findings, name) in headings, name
