"""Word-level differences (lscb_nb/core/textdiff.py) and how a table shows them."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from lscb_nb.core import display
from lscb_nb.core.textdiff import Marked, code, word_diff


def _kinds(marked: Marked, kind: str) -> list[str]:
    return [text for k, text in marked.segments if k == kind]


def test_the_diff_marks_exactly_the_changed_words():
    old = "Count referrals whose referral date falls in the quarter."
    new = "Count referrals whose decision date falls in the quarter, excluding contacts."
    marked = word_diff(old, new)
    assert _kinds(marked, "removed") == ["referral", "quarter."]
    assert _kinds(marked, "added") == ["decision", "quarter, excluding contacts."]
    # Unchanged words are kept once, in order, and the two texts can be rebuilt.
    same = [t for k, t in marked.segments if k == "same"]
    assert "Count referrals whose" in same[0] and "date falls in the" in "".join(same)
    rebuilt_old = "".join(t for k, t in marked.segments if k != "added")
    rebuilt_new = "".join(t for k, t in marked.segments if k != "removed")
    assert " ".join(rebuilt_old.split()) == old
    assert " ".join(rebuilt_new.split()) == new


def test_identical_texts_have_nothing_marked_and_spacing_is_not_a_change():
    marked = word_diff("A  child\nreferred twice", "A child referred twice")
    assert not marked.changed
    assert str(marked) == "A child referred twice"


def test_an_appended_note_is_one_added_run():
    marked = word_diff("Count plans.", "Count plans. Pilot note: agree the rules.")
    assert _kinds(marked, "removed") == []
    assert _kinds(marked, "added") == ["Pilot note: agree the rules."]
    assert str(marked) == "Count plans. [added: Pilot note: agree the rules.]"


def test_a_marked_cell_is_escaped_then_marked_with_del_and_ins():
    marked = word_diff("Under <5s & others", "Under <18s & others")
    html = str(display.table(pd.DataFrame({"Item": ["CSC01"], "Change": [marked]}), "Changes").data)
    assert "<script" not in html and "&lt;5s" in html and "&amp;" in html
    removed = re.search(r"<del>(.*?)</del>", html).group(1)
    added = re.search(r"<ins>(.*?)</ins>", html).group(1)
    # Colour is not the only signal: a screen reader hears which words went and came.
    assert "removed:" in removed and "&lt;5s" in removed
    assert "added:" in added and "&lt;18s" in added
    assert html.count("<del>") == 1 and html.count("<ins>") == 1


def test_a_marked_cell_downloads_as_plain_words():
    marked = word_diff("within 15 days", "within 10 days")
    download = display.table(pd.DataFrame({"Change": [marked]}), "Changes").download
    assert download["rows"] == [["within [removed: 15] [added: 10] days"]]


def test_a_quoted_identifier_is_shown_as_code():
    html = str(
        display.table(pd.DataFrame({"Column": [code("item_id", "Item (", ")")]}), "Columns").data
    )
    assert "Item (<code>item_id</code>)" in html


def test_unknown_segment_kinds_are_refused():
    with pytest.raises(ValueError, match="segment kinds"):
        Marked((("bold", "x"),))
