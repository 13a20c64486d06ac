"""Phase 1's findings for the board, worked out from small frames: they change with
the data, say singular and plural right, name the authorities to chase, and point
to headings the notebook has."""

from __future__ import annotations

import nbformat
import pandas as pd

from lscb_nb.core import config
from lscb_nb.mapping import findings
from lscb_nb.output import chrome

AUTHORITIES = pd.DataFrame(
    {
        "la_code_ons": ["A", "B", "C", "D", "E", "F"],
        "la_name": ["Camden", "Hackney", "Islington", "Lambeth", "Southwark", "Sutton"],
    }
)


def _files(rows):
    return pd.DataFrame(rows, columns=["la_code_ons", "status"])


def test_replies_name_the_authorities_to_chase_and_change_with_the_data():
    files = _files([("A", "read"), ("B", "read"), ("C", "unreadable")])
    found = findings.replies(AUTHORITIES, files, ["A", "B"])
    assert found.text.startswith("3 of the 6 authorities sent their current dataset;")
    assert "Lambeth, Southwark and Sutton did not" in found.text
    assert "The file of Islington could not be read." in found.text
    assert "Chase Lambeth, Southwark and Sutton" in found.ask
    assert "ask Islington for a readable copy" in found.ask
    assert found.evidence == findings.REPLIES

    files = _files([("A", "read"), ("B", "read"), ("C", "read"), ("D", "read"), ("E", "read")])
    found = findings.replies(AUTHORITIES, files, ["A", "B", "C", "D", "E"])
    assert found.text.startswith("5 of the 6 authorities") and "Sutton did not" in found.text
    assert found.text.endswith("Every file that came could be read.")
    assert found.ask.startswith("Chase Sutton ") and "Lambeth" not in found.ask


def test_replies_when_none_or_all_have_come():
    found = findings.replies(AUTHORITIES, _files([]), [])
    assert found.text == "None of the 6 authorities has sent its current dataset yet."
    assert "Camden" in found.ask and "Sutton" in found.ask
    partly = _files([("A", "read"), ("B", "partly read")])
    found = findings.replies(AUTHORITIES, partly, ["A", "B"])
    assert found.text.endswith("Part of Hackney's file could not be read.")
    assert "Every file" not in found.text
    everyone = _files([(c, "read") for c in AUTHORITIES["la_code_ons"]])
    found = findings.replies(AUTHORITIES, everyone, list(AUTHORITIES["la_code_ons"]))
    assert found.text.startswith("All 6 authorities sent") and found.ask == ""


def _matches(statuses, la="A"):
    return pd.DataFrame(
        {
            "la_code_ons": la,
            "local_name": [f"Measure {i}" for i in range(len(statuses))],
            "status": statuses,
            "item_id": [None if s in ("uncertain", "unmatched") else "X" for s in statuses],
        }
    )


def test_matching_counts_the_review_waiting_in_the_singular_and_plural():
    found = findings.matching(_matches(["confident", "confirmed", "uncertain", "unmatched"]))
    assert found.text == (
        "Of the 4 local measures read, 2 matched a data-model item, 1 waits for review as a "
        "suggestion and 1 matched nothing."
    )
    assert found.ask.startswith("Review 1 suggested match in the crosswalk review panel")
    found = findings.matching(_matches(["uncertain", "uncertain", "confident"]))
    assert "2 wait for review" in found.text and "Review 2 suggested matches" in found.ask
    assert findings.matching(_matches(["confident"])).ask == ""


def _matrix(rows, items=("X1", "X2", "X3")):
    return pd.DataFrame(rows, index=[r[0] for r in rows], columns=["la", *items]).drop(columns="la")


def test_items_no_authority_collects_and_what_the_draft_keeps():
    matrix = _matrix([("A", True, False, False), ("B", True, True, False)])
    selection = pd.DataFrame({"in_draft": [True, True, True]}, index=["X1", "X2", "X3"])
    found = findings.never_collected(matrix, selection)
    assert found.text.startswith("1 candidate item is collected by no authority")
    assert "the draft keeps it to develop" in found.text and "(X3)" in found.ask
    matrix.loc["B", "X2"] = False
    selection.loc["X2", "in_draft"] = False
    found = findings.never_collected(matrix, selection)
    assert found.text.startswith("2 candidate items are collected by no authority")
    assert "the draft keeps 1 of them to develop" in found.text
    assert "X2 and X3" in found.ask
    matrix.loc[:, :] = True
    assert "Every candidate item" in findings.never_collected(matrix, selection).text


def test_an_authority_leads_with_its_coverage_or_the_ask_for_its_file():
    matrix = _matrix([("A", True, False, False), ("B", True, True, True)])
    files = _files([("A", "read"), ("B", "read"), ("C", "unreadable")])
    found = findings.authority_coverage(matrix, files, ["X1", "X2"], "A", "Camden", "London")
    assert found.text.startswith("Camden already collects 1 of the 3 candidate items")
    assert "1 of the 2 draft items; it would start collecting 1." in found.text
    assert found.ask == "Ask Camden whether it can supply the 1 draft item it does not collect yet."
    found = findings.authority_coverage(matrix, files, ["X1", "X2"], "C", "Islington", "London")
    assert "could not be read" in found.text and found.ask.startswith("Ask Islington for a")
    found = findings.authority_coverage(matrix, files, ["X1", "X2"], "D", "Lambeth", "London")
    assert found.ask == "Chase Lambeth for the dataset it keeps today."
    assert found.evidence == findings.REPLIES


def test_an_authoritys_unmatched_names_are_listed_as_it_wrote_them():
    matches = _matches(["confident", "unmatched", "unmatched"])
    matches.loc[1, "local_name"] = "Faith <b>based</b> abuse"
    found = findings.authority_unmatched(matches, "A", "Camden")
    assert found.text.startswith("2 of Camden's 3 local measures match nothing")
    assert "Faith <b>based</b> abuse" in found.text  # escaped when shown, not here
    one = findings.authority_unmatched(_matches(["confident", "unmatched"]), "A", "Camden")
    assert "1 of Camden's 2 local measures matches nothing" in one.text
    assert findings.authority_unmatched(matches, "Z", "Nowhere") is None


def test_the_draft_when_no_dataset_could_be_read():
    selection = pd.DataFrame(
        {"in_draft": [True, False, True], "tier": ["develop", "develop", "develop"]},
        index=["X1", "X2", "X3"],
    )
    found = findings.draft(selection, 1, 0, "1.1-draft")
    assert found.text.startswith("No authority's dataset could be read yet")
    assert "holds only the 2 items" in found.text
    selection["tier"] = ["core", "develop", "develop"]
    found = findings.draft(selection, 1, 3, "1.1-draft")
    assert "keeps 2 items: 1 collected by at least 1 of the 3 authorities" in found.text


def test_every_finding_points_to_a_heading_of_the_notebook():
    nb = nbformat.read(config.NOTEBOOKS_DIR / "01_mapping.ipynb", as_version=4)
    headings = {h["text"] for h in chrome.headings(nb) if h["level"] == 2}
    for name in ("REPLIES", "MATCHING", "GAPS", "NEVER", "BOROUGH", "DRAFT"):
        assert getattr(findings, name) in headings, name
    assert "For the board" in headings


def test_measures_the_model_lacks_are_listed_even_when_no_two_boroughs_share_one():
    """Each unmatched local measure is in the table, those kept by two or more boroughs
    first; with none shared the text says so rather than showing an empty table."""
    from functools import partial
    from types import SimpleNamespace

    from lscb_nb.core.projectfile import say_authority
    from lscb_nb.mapping import sections

    def section(rows):
        matches = pd.DataFrame(
            rows, columns=["la_code_ons", "local_name", "normalised_name", "status"]
        ).assign(item_id=None, source_agency="Police")
        ctx = SimpleNamespace(matches=matches, word=partial(say_authority, "borough"))
        sec = sections.section_unmatched(ctx)
        return sec.parts[0], str(getattr(sec.parts[1], "data", sec.parts[1]))

    text, html = section([("A", "Gang nominals", "gang nominals", "unmatched")])
    assert text.startswith("1 local measure matches nothing")
    assert "None is kept by more than one borough" in text
    assert "Gang nominals" in html
    text, html = section(
        [
            ("A", "Gang nominals", "gang nominals", "unmatched"),
            ("A", "Knife crime", "knife crime", "unmatched"),
            ("B", "Knife crime (u18)", "knife crime", "unmatched"),
        ]
    )
    assert "The 1 measure kept by two or more boroughs" in text and "one borough's own" in text
    assert html.index("Knife crime") < html.index("Gang nominals")
