"""Phase 2's findings for the board, worked out from small frames: ratings received
against those expected, agreement in plain words with its uncertainty, the items
proposed, disputed and seen differently by an authority, and the asks."""

from __future__ import annotations

import nbformat
import numpy as np
import pandas as pd

from lscb_nb.assessment import findings
from lscb_nb.core import config
from lscb_nb.output import chrome

NAMES = {"A": "Camden", "B": "Islington", "C": "Sutton"}


def _ratings(rows):
    """One row per (authority, rater, item, criterion, score); None is don't know."""
    frame = pd.DataFrame(rows, columns=["la_code_ons", "rater_id", "item_id", "criterion", "score"])
    frame["rater_agency"] = "health"
    frame["dont_know"] = frame["score"].isna()
    return frame


def test_ratings_received_against_expected_name_the_pilots_to_chase():
    ratings = _ratings(
        [
            ("A", "A:1", "X1", "held", 3),
            ("A", "A:1", "X1", "relevance", None),
            ("A", "A:1", "X2", "held", 2),
            ("A", "A:1", "X2", "relevance", 4),
        ]
    )
    found = findings.received(["A", "B", "C"], ratings, 2, NAMES)
    assert found.text == (
        "1 rater in 1 of the 3 pilot authorities returned completed instruments; none came from "
        "Islington and Sutton. Of the 4 scores they were asked for, 75% came back usable and "
        "25% as 'don't know'."
    )
    assert found.ask == "Chase Islington and Sutton for their raters' instruments."
    more = pd.concat([ratings, ratings.assign(la_code_ons="B", rater_id="B:1")])
    found = findings.received(["A", "B"], more, 2, NAMES)
    assert found.text.startswith("2 raters in both pilot authorities") and found.ask == ""


def test_no_raters_yet_and_no_pilots_yet_say_so():
    empty = _ratings([])
    found = findings.received(["A", "B"], empty, 5, NAMES)
    assert found.text == "No completed instruments have come in yet from the 2 pilot authorities."
    assert "Camden and Islington" in found.ask
    assert "pilots in project.yaml" in findings.received([], empty, 5, NAMES).ask


def test_agreement_is_said_with_its_uncertainty():
    weak = findings.agreement_reading(0.57, 0.55, 0.58)
    assert weak.startswith("too weakly to rely on: Krippendorff's alpha 0.57 (95% CI 0.55 to 0.58)")
    assert "even the top of its interval" in weak
    assert findings.agreement_reading(0.85, 0.81, 0.9).startswith("well enough to rely on")
    assert findings.agreement_reading(0.72, 0.69, 0.75).startswith("well enough for tentative")
    unsure = findings.agreement_reading(0.66, 0.6, 0.71)
    assert unsure.startswith("perhaps too weakly") and "uncertain" in unsure
    assert "no interval" in findings.agreement_reading(0.5, np.nan, np.nan)


def test_agreement_asks_nothing_when_raters_agree_and_copes_with_one_rater():
    table = pd.DataFrame(
        {
            "level": ["overall", "borough"],
            "group": ["all", "A"],
            "alpha": [0.9, np.nan],
            "alpha_lower": [0.85, np.nan],
            "alpha_upper": [0.93, np.nan],
        }
    )
    found = findings.agreement(table, "overall", "all", "Raters")
    assert found.text.startswith("Raters agreed well enough to rely on") and found.ask == ""
    found = findings.agreement(table, "borough", "A", "Camden's 1 rater")
    assert "cannot be measured yet" in found.text and found.evidence == findings.AGREE
    assert findings.agreement(table, "borough", "B", "Islington's raters") is None


def test_placements_count_each_decision_in_the_singular_and_plural():
    decisions = pd.DataFrame({"decision": ["core", "core", "develop", "local option", "drop"]})
    found = findings.placements(decisions, "1.2-pilot")
    assert found.text == (
        "Of the 5 items rated, the scores propose 2 for the pilot dataset (1.2-pilot) as core, "
        "1 to develop and 1 as a local option; 1 would be dropped."
    )
    assert found.ask == "Agree the pilot dataset (1.2-pilot), including the 1 item to drop."
    decisions.loc[4, "decision"] = "local option"
    found = findings.placements(decisions, "1.2-pilot")
    assert "2 as local options; 0 would be dropped" in found.text
    assert found.ask == "Agree the pilot dataset (1.2-pilot)."


def test_the_most_disputed_items_are_named_with_their_titles():
    disputed = pd.DataFrame({"item_id": ["X2", "X1"], "pairs_two_apart": [0.05, 0.2]})
    titles = pd.Series({"X1": "Referrals", "X2": "Plans"})
    found = findings.disputed(disputed, titles)
    assert found.text.startswith("Raters disagreed most on X1 (Referrals) and X2 (Plans)")
    assert "for X1, 20% of pairs" in found.text and "these items" in found.ask
    disputed["pairs_two_apart"] = 0.0
    assert "No item's raters" in findings.disputed(disputed, titles).text


def test_an_authoritys_raters_differ_most_where_its_scores_are_furthest_from_the_area():
    scores = pd.DataFrame({"item_id": ["X1", "X2"], "accessibility": [3.0, 3.0], "usefulness": 3.0})
    mine = scores.assign(la_code_ons="A")
    mine.loc[1, "accessibility"] = 1.5
    titles = pd.Series({"X1": "Referrals", "X2": "Plans"})
    found = findings.authority_differs(mine, scores, titles, "A", "Camden", "London", n=1)
    assert found.text.startswith("Camden's raters differ most from London's on X2 (Plans)")
    assert "1.5 for accessibility" in found.text and "this item" in found.ask
    mine.loc[0, "usefulness"] = 1.0
    found = findings.authority_differs(mine, scores, titles, "A", "Camden", "London", n=1)
    assert "on X1 (Referrals)" in found.text


def test_an_authority_without_instruments_is_asked_for_them():
    ratings = _ratings([("A", "A:1", "X1", "held", 3)])
    issues = pd.DataFrame({"la_code_ons": ["A"], "file": ["a.xlsx"]})
    found = findings.authority_raters(ratings, issues, "B", "Islington", "London")
    assert "No completed instruments from Islington" in found.text
    assert found.ask == "Chase Islington's raters for their completed instruments."
    found = findings.authority_raters(ratings, issues, "A", "Camden", "London")
    assert found.text.startswith("Camden's 1 rater (Health) gave 1 usable score.")
    assert "1 instrument had problems" in found.text and "resend the instrument " in found.ask


def test_every_finding_points_to_a_heading_of_the_notebook():
    nb = nbformat.read(config.NOTEBOOKS_DIR / "02_assessment.ipynb", as_version=4)
    headings = {h["text"] for h in chrome.headings(nb) if h["level"] == 2}
    for name in ("RATERS", "MATRIX", "HARD", "AGREE", "DISPUTED", "BOROUGH"):
        assert getattr(findings, name) in headings, name
