"""The change log a report shows (lscb_nb/core/changelog.py): every change in words,
a changed definition word by word."""

from __future__ import annotations

import pandas as pd
import pytest

from lscb_nb.core import changelog, labels
from lscb_nb.core.datamodel import from_dict, keep_items, load_datamodel, to_dict
from lscb_nb.core.textdiff import Marked


@pytest.fixture(scope="module")
def versions():
    old = load_datamodel("1.0-candidate")
    raw = to_dict(old)
    by_id = {item["item_id"]: item for item in raw["items"]}
    by_id["CSC01"]["definition"] = by_id["CSC01"]["definition"].replace(
        "referral date", "decision date"
    )
    by_id["CSC02"]["tier"] = "local_option"
    by_id["CSC05"]["related_items"] = [*by_id["CSC05"]["related_items"], "CSC07"]
    raw = keep_items(raw, [i for i in by_id if i != "HLT06"])  # drops rule XR24 with it
    raw["version"] = "1.1-test"
    return old, from_dict(raw)


def _row(table: pd.DataFrame, who: str, what: str) -> pd.Series:
    rows = table.loc[table[changelog.WHO].str.startswith(who) & (table[changelog.WHAT] == what)]
    assert len(rows) == 1, (who, what, table[[changelog.WHO, changelog.WHAT]])
    return rows.iloc[0]


def test_a_changed_definition_is_one_paragraph_with_only_the_changed_words_marked(versions):
    table = changelog.change_table(*versions)
    change = _row(table, "CSC01 Referrals to children's social care", "Definition")[
        changelog.CHANGE
    ]
    assert isinstance(change, Marked)
    assert change.text("removed") == "referral"
    assert change.text("added") == "decision"


def test_coded_values_and_item_lists_are_in_words(versions):
    table = changelog.change_table(*versions)
    tier = _row(table, "CSC02", "Tier")[changelog.CHANGE]
    assert tier == "from Core to Local option"
    related = _row(table, "CSC05", "Related items")[changelog.CHANGE]
    assert related == "added CSC07 (Initial assessments completed)"
    removed = _row(table, "HLT06", "Item removed")
    assert "Initial health assessments" in removed[changelog.WHO]
    rule = _row(table, "Rule XR24", "Rule removed")[changelog.CHANGE]
    assert rule.startswith("Health: Initial health assessments") and "[XR24]" in rule
    assert "a query, not an error" in rule and "<=" not in rule


def test_nothing_in_the_change_log_is_a_field_name_or_a_code(versions):
    table = changelog.change_table(*versions)
    words = [str(v) for v in table.to_numpy().ravel()] + list(table.columns)
    assert labels.snake_case_words(words) == []


def test_the_section_says_how_many_changed_and_how_to_read_the_marks(versions):
    old = versions[0].items
    # The three edited, and those that named the removed item as related.
    pointed = {i for i, related in old["related_items"].items() if "HLT06" in related}
    changed = {"CSC01", "CSC02", "CSC05"} | (pointed - {"HLT06"})
    sec = changelog.show_changes(*versions)
    sentence = sec.parts[0]
    assert f"{len(changed)} items changed" in sentence and "1 item removed" in sentence
    assert "1 cross-item rule removed" in sentence
    assert "Struck-through words were removed" in sentence
    html = str(sec.parts[1].data)
    assert "<del>" in html and "<ins>" in html and "Changes from 1.0-candidate to 1.1-test" in html


def test_no_change_says_so():
    dm = load_datamodel("1.0-candidate")
    sec = changelog.show_changes(dm, dm)
    assert len(sec.parts) == 1 and "no items or cross-item rules changed" in sec.parts[0]
