"""Tests for the shipped candidate datasets (lscb_nb/data/datamodel/*-candidate.yaml):
the 2007 London project's, kept as history, and the current one `lscb-nb init` gives.

tests/test_datamodel.py tests the loader and validation on small inline models and
the 2007 candidate's own items; this module holds what every shipped candidate must
satisfy (it validates, every published link resolves) and what the current one must
cover (every partner, today's terms, each share's total in the set).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import yaml

from lscb_nb import cli
from lscb_nb.core import config, datamodel, reference
from lscb_nb.core.workspace import init_project
from lscb_nb.synthetic import SAMPLE_SETTINGS

SHIPPED = [v for v in datamodel.available_versions() if v.endswith("-candidate")]
CURRENT = config.CURRENT_CANDIDATE_VERSION
HISTORY = "1.0-candidate"
CHANGES_FILE = config.DATAMODEL_DIR / "CHANGES-2.0.md"
TEXT_FIELDS = ("title", "definition", "numerator", "denominator")
ID_IN_TEXT = re.compile(r"\(([A-Z]{2,4}[0-9]{2})\)")


@cache
def _model(version: str) -> datamodel.DataModel:
    return datamodel.load_datamodel(version)


@cache
def _published() -> pd.DataFrame:
    return reference.published()


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


@pytest.fixture(scope="module")
def current() -> datamodel.DataModel:
    return _model(CURRENT)


def test_both_candidates_are_shipped():
    assert {HISTORY, CURRENT} <= set(SHIPPED)
    assert CURRENT != HISTORY


# --------------------------------------------------------------------------------------
# Every shipped candidate
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", SHIPPED)
def test_candidate_file_validates(version):
    path = config.DATAMODEL_DIR / f"{version}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert datamodel.validate_datamodel(raw, file_name=path.name) == []
    assert _model(version).meta["status"] == "candidate"


@pytest.mark.parametrize("version", SHIPPED)
def test_every_published_link_resolves_to_a_bundled_table_and_measure(version):
    dm = _model(version)
    links = sum(len(m) for m in dm.items["published_measures"])
    assert links >= 40  # both candidates cite the bundled tables widely
    missing = reference.unresolved_measures(dm.items, _published())
    assert missing.to_dict("records") == []


def test_an_unresolved_link_is_reported_with_its_reason(current):
    """The check above can fail: a made-up measure and a made-up source are both found."""
    items = current.items.loc[["CSC01", "CSC41"]].copy()
    items["published_measures"] = [
        [{"source": "dfe_cin_c1", "measure": "referral_counts"}],
        [{"source": "ofsted", "measure": "Continue_Assess_Comp"}],
    ]
    found = reference.unresolved_measures(items, _published())
    assert list(found["item_id"]) == ["CSC01", "CSC41"]
    assert found["reason"].iloc[0] == "dfe_cin_c1 has no measure 'referral_counts'"
    assert "'ofsted' is not a bundled published table" in found["reason"].iloc[1]


@pytest.mark.parametrize("version", SHIPPED)
def test_every_lait_code_is_in_the_lait_data_dictionary(version):
    path = config.REFERENCE_DIR / reference.LAIT_DICTIONARY_FILE
    known = set(pd.read_csv(path, encoding="utf-8-sig")["Measure_short"].dropna())
    lait = {
        m["measure"]
        for measures in _model(version).items["published_measures"]
        for m in measures
        if m["source"] == "lait"
    }
    assert lait and lait - known == set()


@pytest.mark.parametrize("version", SHIPPED)
def test_every_share_of_another_item_has_its_total_and_a_rule(version):
    """A percentage whose denominator is an item of the set names it, and an error rule
    keeps its numerator at most that item's; a denominator that names an item id in
    brackets names the denominator item."""
    dm = _model(version)
    items, rules = dm.items, dm.rules
    for item_id, row in items.iterrows():
        named = ID_IN_TEXT.findall(_text(row["denominator"]))
        if row["unit"] == "percentage" and named:
            assert row["denominator_item"] == named[-1], item_id
        den = row["denominator_item"]
        if not isinstance(den, str):
            continue
        assert den in items.index, item_id
        hit = rules[(rules["left"] == item_id) & (rules["right"] == den)]
        assert list(hit["severity"]) == ["error"], f"{item_id} has no error rule against {den}"


# --------------------------------------------------------------------------------------
# The current candidate
# --------------------------------------------------------------------------------------


def test_current_candidate_covers_every_partner(current):
    """Children's social care, health, police, education, youth justice, Cafcass,
    probation, the voluntary sector and the partnership itself all supply items."""
    per_agency = current.items["agency"].value_counts()
    assert set(per_agency.index) == set(datamodel.AGENCIES)
    assert per_agency.min() >= 4
    # Children's social care no longer dominates as it did in 2007.
    history = _model(HISTORY).items["agency"].value_counts(normalize=True)
    assert per_agency["childrens_social_care"] / len(current) < history["childrens_social_care"]
    assert set(current.items["theme"]) == set(datamodel.THEMES)
    assert set(current.items["unit"]) == set(datamodel.UNITS)


def _by_title(dm: datamodel.DataModel, pattern: str) -> pd.DataFrame:
    return dm.items[dm.items["title"].str.contains(pattern, case=False, regex=True)]


@pytest.mark.parametrize(
    ("pattern", "return_code"),
    [
        (r"^single assessments completed within 45 working days$", "cin_census"),
        (r"^rapid reviews completed within 15 working days$", "national_panel"),
        (r"^early help assessments completed$", "none"),
        (r"^child death reviews in category", "ncmd"),
        (r"^first-time entrants", "yjb"),
        (r"social worker turnover", "csww"),
        (r"elective home education", "cme_ehe"),
        (r"emergency department attendances .* self-harm", "ecds"),
    ],
)
def test_current_candidate_holds_todays_measures(current, pattern, return_code):
    found = _by_title(current, pattern)
    assert not found.empty, pattern
    assert set(found["statutory_return"]) == {return_code}


def test_current_candidate_speaks_of_today(current):
    """No retired measure is named as an item: no initial or core assessments, serious
    case reviews, LSCB, National Indicators or common assessments; and no area is
    named, so a project anywhere in England can use it."""
    items = current.items
    retired = re.compile(
        r"initial assessment|core assessment|serious case review|\bLSCB\b|"
        r"national indicator|\bNI \d|common assessment|CAF\b",
        re.IGNORECASE,
    )
    for item_id, row in items.iterrows():
        for name in [row["title"], *row["aliases"]]:
            assert not retired.search(name), (item_id, name)
        for field in TEXT_FIELDS:
            assert "London" not in _text(row[field]), (item_id, field)
    assert items["national_indicators"].map(len).sum() == 0
    assert "serious_case_reviews" not in set(items["lscb_function"])
    assert "London" not in current.meta["description"]
    # The retired 2007 ids are not reused for another measure.
    for gone in ("CSC07", "CSC08", "CSC09", "CSC10", "LSCB03", "LSCB04", "LSCB05"):
        assert gone not in items.index


def test_annual_items_say_so_and_quarterly_ones_do_not(current):
    items = current.items
    annual = items["frequency"] == "annual"
    assert annual.any() and (~annual).any()
    says = items["definition"].str.startswith("Annual item")
    assert (says == annual).all(), list(items.index[says != annual])


def test_rare_partnership_events_are_quarterly_counts(current):
    """A partnership has a handful of rapid reviews a year: they are counted each quarter
    (many quarters have none), beside the notifications that start them."""
    for item_id in ("LSCB10", "LSCB11"):
        item = current.item(item_id)
        assert (item["unit"], item["frequency"]) == ("count", "quarterly")
    assert current.item("LSCB12")["denominator_item"] == "LSCB11"


def test_an_alias_names_one_item_only(current):
    """A name that belonged to two items could not tell phase 1 which one it is."""
    names: dict[str, str] = {}
    for item_id, row in current.items.iterrows():
        for name in [row["title"], *row["aliases"]]:
            key = " ".join(name.casefold().split())
            assert names.setdefault(key, item_id) == item_id, (name, names[key], item_id)


def test_kept_ids_measure_the_same_thing(current):
    """An id both candidates share keeps its unit and agency (a redefined measure takes
    a new id)."""
    history = _model(HISTORY).items
    shared = current.items.index.intersection(history.index)
    assert len(shared) >= 30
    for field in ("unit", "agency"):
        changed = current.items.loc[shared, field] != history.loc[shared, field]
        assert not changed.any(), list(shared[changed])


# --------------------------------------------------------------------------------------
# init's default and the diff between the two
# --------------------------------------------------------------------------------------


def test_init_gives_the_current_candidate_and_the_sample_keeps_the_2007_one(tmp_path):
    project = init_project(tmp_path / "p", name="A new partnership")
    assert project.candidate == CURRENT
    assert f'candidate: "{CURRENT}"' in (project.root / "project.yaml").read_text()
    assert SAMPLE_SETTINGS["candidate"] == HISTORY
    old = init_project(tmp_path / "old", candidate=HISTORY)
    assert old.candidate == HISTORY


def test_datamodel_diff_runs_and_the_change_log_matches_it(capsys):
    assert cli.main(["datamodel", "diff", "--version", HISTORY, "--other", CURRENT]) == 0
    out = capsys.readouterr().out
    summary = next(line for line in out.splitlines() if "items added" in line)
    assert "**CSC07** Initial assessments completed" in out  # removed
    assert "**CSC41** Single assessments completed within 45 working days" in out  # added
    changes = CHANGES_FILE.read_text(encoding="utf-8")
    assert summary in changes, "CHANGES-2.0.md's summary is stale: regenerate it"
    assert "lscb-nb datamodel diff --version 1.0-candidate --other 2.0-candidate" in changes


def test_the_change_log_names_every_removed_item():
    diff = datamodel.diff_datamodels(_model(HISTORY), _model(CURRENT))
    removed = [i for i in diff.loc[diff["change"] == "removed", "item_id"] if i[:2] != "XR"]
    assert removed
    changes = CHANGES_FILE.read_text(encoding="utf-8")
    assert [i for i in removed if i not in changes] == []


def test_the_change_log_ships_with_the_data_model():
    assert Path(CHANGES_FILE).is_file()


OFFICIAL_SOURCE_TYPES = {
    "dfe_benchmarking_tool",
    "statistical_release",
    "cin_census_guidance",
    "national_indicator",
}


@pytest.mark.parametrize("version", SHIPPED)
def test_no_alias_is_taken_from_a_local_source_of_the_evaluation_set(version):
    """Aliases are official names (SCHEMA.md, *Aliases*): one that a council scorecard or
    board report in evaluation/real_names also writes would let phase 1's matching be
    scored on names copied into the model."""
    real = pd.read_csv(Path(__file__).parents[1] / "evaluation" / "real_names" / "real_names.csv")
    real["key"] = real["local_name"].map(lambda n: " ".join(str(n).casefold().split()))
    local = set(real.loc[~real["source_type"].isin(OFFICIAL_SOURCE_TYPES), "key"])
    official = set(real.loc[real["source_type"].isin(OFFICIAL_SOURCE_TYPES), "key"])
    # LAIT's chart titles are official names too, whoever else writes them.
    lait = pd.read_csv(config.REFERENCE_DIR / reference.LAIT_DICTIONARY_FILE, encoding="utf-8-sig")
    for column in ("Measure", "Chart_title"):
        official |= {" ".join(str(n).casefold().split()) for n in lait[column].dropna()}
    copied = [
        (item_id, alias)
        for item_id, aliases in _model(version).items["aliases"].items()
        for alias in aliases
        if (key := " ".join(alias.casefold().split())) in local and key not in official
    ]
    assert copied == []
