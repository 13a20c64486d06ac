"""The "For the board" block every report leads with: links whose ids match the ones
nbconvert gives the notebooks' headings, text escaped, asks each said once."""

from __future__ import annotations

import re

import nbformat
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from lscb_nb.core import board, config
from lscb_nb.core.board import Finding


def _html(section) -> str:
    return "".join(str(getattr(p, "data", p)) for p in section.parts)


def _headings() -> list[str]:
    found = []
    for path in sorted(config.NOTEBOOKS_DIR.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                found += [
                    line[3:].strip() for line in cell.source.splitlines() if line[:3] == "## "
                ]
    return found


def test_anchor_is_the_id_nbconvert_gives_every_notebook_heading():
    headings = [*_headings(), "Écarts — et « citations » & co"]
    assert len(headings) > 30
    for heading in headings:
        rendered = markdown2html_mistune(f"## {heading}")
        nbconvert_id = re.search(r'id="([^"]+)"', rendered).group(1)
        assert board.anchor(heading) == nbconvert_id.replace("&amp;", "&"), heading


def test_findings_link_their_evidence_and_text_is_escaped():
    found = [
        Finding("Hackney's <script>alert(1)</script> measure.", "Who replied", ask="Chase A."),
        Finding("Second.", "Did raters agree?", ask="Chase A."),
        Finding("Third.", "The authority's raters against the whole area's"),
    ]
    html = _html(board.section_for_the_board(found, "nothing"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("Evidence:") == 3
    assert '<a href="#Who-replied">Evidence: Who replied</a>' in html
    assert 'href="#Did-raters-agree?"' in html
    assert html.count("Chase A.") == 1  # the same ask once
    assert board.ASKED in html


def test_recommendations_are_numbered_and_linked():
    recs = [Finding("Adopt it.", "1. The dataset"), Finding("Agree rules.", "7. Gaps")]
    html = _html(
        board.section_for_the_board([Finding("A.", "1. The dataset")], "", recs, "Recommendations:")
    )
    assert '<ol class="lscb-asks">' in html and html.count("Evidence:") == 3
    assert html.index("Adopt it.") < html.index("Agree rules.")
    assert 'href="#7.-Gaps"' in html


def test_nothing_to_report_says_why():
    html = _html(board.section_for_the_board([], "No authority has sent its dataset yet."))
    assert "No authority has sent its dataset yet." in html and "lscb-board" not in html


def test_listed_and_context_findings():
    assert board.listed([]) == "none"
    assert board.listed(["A"]) == "A"
    assert board.listed(["A", "B", "C"]) == "A, B and C"
    assert board.listed(list("ABCDEFGH"), 6) == "A, B, C, D, E, F and 2 more"
    found = board.as_context([Finding("x", "h", ask="do"), None])
    assert found[0].ask == "" and found[0].text == "x" and found[1] is None
