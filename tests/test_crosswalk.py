"""Phase 1's reviewed crosswalk: every saved decision says who decided and when, none
is saved without a reviewer's name, and Undo takes the last one back out of the file."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from lscb_nb.core import config
from lscb_nb.core.datamodel import load_datamodel
from lscb_nb.mapping import crosswalk, matching


@pytest.fixture(scope="module")
def items():
    return load_datamodel(config.CANDIDATE_VERSION).items


@pytest.fixture
def matches(items):
    local = pd.DataFrame(
        {
            "la_code_ons": ["E09000001", "E09000002", "E09000003"],
            "la_name": ["City of London", "Barking and Dagenham", "Barnet"],
            "local_name": ["Children with plans", "Referrals (repeat)", "LAC reviews on time"],
            "local_definition": [None, None, None],
            "local_unit": [None, None, None],
        }
    )
    return matching.match(local, items, confident=101, suggest_from=0)  # all to review


def saved_rows(path) -> list[dict]:
    with Path(path).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_each_saved_decision_stores_the_reviewer_and_an_iso_time_in_the_file(
    matches, items, tmp_path
):
    path = tmp_path / "crosswalk.csv"
    panel = crosswalk.review_panel(matches, items, path, reviewer="  Ada Lovelace ")
    before = datetime.now().astimezone()
    panel.buttons["Confirm"].click()
    panel.choice.value = "LSCB02"
    panel.buttons["Re-point"].click()
    rows = saved_rows(path)
    assert [r["decision"] for r in rows] == ["confirm", "repoint"]
    assert [r["reviewer"] for r in rows] == ["Ada Lovelace", "Ada Lovelace"]
    for row in rows:
        stamp = datetime.fromisoformat(row["decided_at"])
        assert stamp.tzinfo is not None
        assert abs((stamp - before).total_seconds()) < 120
    assert rows[1]["item_id"] == "LSCB02"
    assert "Saved: re-pointed" in panel.message.value and "Ada Lovelace" in panel.message.value
    assert "Barking and Dagenham" in panel.done.value  # the session's decisions, listed


def test_no_decision_is_saved_without_a_reviewer_and_the_panel_says_why(matches, items, tmp_path):
    path = tmp_path / "crosswalk.csv"
    panel = crosswalk.review_panel(matches, items, path)
    for name in ("", "   "):
        panel.reviewer.value = name
        for button in ("Confirm", "Re-point", "Reject"):
            panel.buttons[button].click()
            assert not path.exists()
            assert "Type your name as reviewer first" in panel.message.value
            assert "nothing was recorded" in panel.message.value
    assert panel.state["i"] == 0  # still on the first suggestion
    with pytest.raises(ValueError, match="reviewer"):
        crosswalk.record_decision(
            pd.DataFrame(columns=crosswalk.COLUMNS), matches.iloc[0], "confirm", reviewer=" "
        )


def test_undo_takes_the_last_decision_out_of_the_file_and_the_panel(matches, items, tmp_path):
    path = tmp_path / "crosswalk.csv"
    panel = crosswalk.review_panel(matches, items, path, reviewer="R")
    assert panel.buttons["Undo"].disabled
    panel.buttons["Confirm"].click()
    panel.buttons["Skip"].click()
    panel.buttons["Reject"].click()
    assert [r["decision"] for r in saved_rows(path)] == ["confirm", "reject"]
    panel.buttons["Undo"].click()
    assert [r["decision"] for r in saved_rows(path)] == ["confirm"]
    assert panel.state["i"] == 2  # the undone suggestion is shown again
    assert matches.iloc[2]["local_name"] in panel.body.value
    assert "Undone: rejected" in panel.message.value
    panel.buttons["Undo"].click()
    assert saved_rows(path) == []
    assert panel.state["i"] == 0 and panel.buttons["Undo"].disabled


def test_undo_brings_back_the_decision_it_replaced_and_keeps_others_saved_meanwhile(
    matches, items, tmp_path
):
    path = tmp_path / "crosswalk.csv"
    first = matches.iloc[0]
    earlier = crosswalk.record_decision(
        pd.DataFrame(columns=crosswalk.COLUMNS),
        first,
        "reject",
        reviewer="Earlier reviewer",
        decided_at="2007-11-30T09:00:00+00:00",
    )
    crosswalk.save_crosswalk(earlier, path)
    panel = crosswalk.review_panel(matches, items, path, reviewer="Now")
    panel.buttons["Confirm"].click()  # replaces the earlier rejection
    assert saved_rows(path)[0]["reviewer"] == "Now"
    # another reviewer saves a decision about another name meanwhile
    other = crosswalk.record_decision(
        crosswalk.load_crosswalk(path), matches.iloc[2], "reject", reviewer="Colleague"
    )
    crosswalk.save_crosswalk(other, path)
    panel.buttons["Undo"].click()
    rows = {r["la_code_ons"]: r for r in saved_rows(path)}
    assert rows["E09000001"]["decision"] == "reject"
    assert rows["E09000001"]["reviewer"] == "Earlier reviewer"
    assert rows["E09000001"]["decided_at"] == "2007-11-30T09:00:00+00:00"
    assert rows["E09000003"]["reviewer"] == "Colleague"
    assert "The decision it replaced is back" in panel.message.value


def test_an_undo_that_fails_while_writing_leaves_the_file_and_the_panel_as_they_were(
    matches, items, tmp_path, monkeypatch
):
    path = tmp_path / "crosswalk.csv"
    panel = crosswalk.review_panel(matches, items, path, reviewer="R")
    panel.buttons["Confirm"].click()
    saved = path.read_bytes()

    def half_then_fail(self, target, *args, **kwargs):
        Path(target).write_text("la_code_ons,local_na", encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)
    panel.buttons["Undo"].click()
    assert path.read_bytes() == saved
    assert [p.name for p in tmp_path.iterdir()] == ["crosswalk.csv"]  # no half-written file
    assert "Could not write crosswalk.csv" in panel.message.value
    assert panel.state["i"] == 1 and not panel.buttons["Undo"].disabled
    monkeypatch.undo()
    panel.buttons["Undo"].click()  # the same undo, once the disk is back
    assert saved_rows(path) == [] and panel.state["i"] == 0
