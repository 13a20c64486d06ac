"""Reader-facing words (lscb_nb/core/labels.py): field labels, coded values, counted
nouns and cross-item rules in words."""

from __future__ import annotations

import pandas as pd
import pytest

from lscb_nb.core import labels
from lscb_nb.core.datamodel import DICTIONARY_COLUMNS, ITEM_FIELDS, RULE_FIELDS, load_datamodel


def test_every_data_model_field_has_a_declared_label_in_words():
    for field in (*ITEM_FIELDS, *RULE_FIELDS):
        label = labels.field_label(field)
        assert field in labels.fields(), field
        assert "_" not in label and label[:1].isupper(), (field, label)


def test_the_data_dictionary_takes_its_headings_from_the_declared_labels():
    assert DICTIONARY_COLUMNS["related_items"] == labels.fields()["related_items"]
    assert DICTIONARY_COLUMNS["source_systems"] == "Systems that can supply it"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("related_items", "Related items"),
        ("la_code_ons", "Authority"),  # neutral; a report passes its word
        ("some_new_column", "Some new column"),  # undeclared: made readable, never raw
        ("% supplied", "% supplied"),  # already words: kept
        ("Title", "Title"),
    ],
)
def test_field_label(name, expected):
    assert labels.field_label(name) == expected


@pytest.mark.parametrize(
    ("field", "code", "expected"),
    [
        ("tier", "local_option", "Local option"),
        ("statutory_return", "cin_census", "Children in need census"),
        ("statutory_return", "ssda903", "SSDA903 looked-after children return"),
        (
            "statutory_return",
            "cin_census/ssda903",
            "Children in need census / SSDA903 looked-after children return",
        ),
        ("agency", "childrens_social_care", "Children's social care"),
        ("tier", "not_a_tier", "not_a_tier"),  # not a code of the field: kept as written
        ("title", "local_option", "local_option"),  # a field with no codes: kept
    ],
)
def test_value_label(field, code, expected):
    assert labels.value_label(field, code) == expected


def test_relabel_puts_codes_and_headings_into_words():
    frame = pd.DataFrame(
        {"item_id": ["CSC01"], "tier": ["local_option"], "statutory_return": ["cin_census"]}
    )
    shown = labels.relabel(frame, {"statutory_return": "Statutory return"})
    assert list(shown.columns) == ["Item", "Tier", "Statutory return"]
    assert shown.iloc[0].tolist() == ["CSC01", "Local option", "Children in need census"]
    assert frame.iloc[0]["tier"] == "local_option"  # the caller's frame is left alone


@pytest.mark.parametrize(
    ("n", "noun", "expected"),
    [
        (1, "authority", "1 authority"),
        (2, "authority", "2 authorities"),
        (1, "borough", "1 borough"),
        (3, "borough", "3 boroughs"),
        (0, "query", "0 queries"),
        (2, "day", "2 days"),
        (2, "pilot borough", "2 pilot boroughs"),
        (2, "criterion", "2 criteria"),
        (2, "match", "2 matches"),
        (1_024, "row", "1,024 rows"),
    ],
)
def test_counted_nouns_agree_with_their_number(n, noun, expected):
    assert labels.counted(n, noun) == expected
    assert "(s)" not in labels.counted(n, noun)


def test_shorten_cuts_at_a_word():
    text = "Children subject of a child protection plan at the end of the quarter"
    short = labels.shorten(text, 40)
    assert len(short) <= 40 and short.endswith("…")
    assert text.startswith(short[:-1])
    assert text[len(short) - 1] == " "  # the cut falls between words
    assert labels.shorten("Referrals", 40) == "Referrals"


def test_a_cross_item_rule_reads_in_words_from_the_titles():
    items = pd.DataFrame(
        {
            "title": [
                "Initial health assessments on time",
                "Children who started to be looked after",
            ],
            "agency": ["health", "childrens_social_care"],
        },
        index=["HLT06", "CSC22"],
    )
    rule = {"rule_id": "XR24", "left": "HLT06", "operator": "<=", "right": "CSC22"}
    text = labels.rule_text({**rule, "severity": "query"}, items)
    assert text == (
        "Health: Initial health assessments on time should not exceed children who started "
        "to be looked after (a query, not an error) [XR24]"
    )
    error = labels.rule_text({**rule, "severity": "error", "operator": ">="}, items)
    assert "should be at least" in error and "an error" in error
    # Without titles the ids stand in, and the agency comes from the id's prefix.
    assert labels.rule_text({**rule, "severity": "query"}).startswith("Health: HLT06 should")


def test_every_shipped_rule_reads_without_symbols_or_codes():
    dm = load_datamodel("1.0-candidate")
    for text in labels.rules_in_words(dm.rules, dm.items):
        assert "<=" not in text and " < " not in text and ">" not in text
        assert not labels.snake_case_words([text]), text


def test_snake_case_words_are_found():
    assert labels.snake_case_words(["a related_items b", "Local option", "x_y2"]) == [
        "related_items",
        "x_y2",
    ]


def test_a_report_heads_authority_columns_with_its_projects_word():
    frame = pd.DataFrame({"la_code_ons": ["E09000007"], "boroughs": [3], "period": ["Q1"]})
    assert list(labels.relabel(frame).columns) == ["Authority", "Authorities", "Quarter"]
    london = labels.relabel(frame, word="borough")
    assert list(london.columns) == ["Borough", "Boroughs", "Quarter"]
    named = labels.relabel(frame, {"boroughs": "Collecting"}, word="borough")
    assert list(named.columns) == ["Borough", "Collecting", "Quarter"]
