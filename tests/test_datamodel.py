"""Tests for lscb_nb/core/datamodel/ and the candidate dataset it loads.

Validation tests build small broken models inline, one defect each, and check
that the message names the item (or rule) and the field, as an analyst needs.
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from lscb_nb.core import config, datamodel, periods, reference, returnformat, values
from lscb_nb.core.datamodel import DataModelError

# --------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def candidate() -> datamodel.DataModel:
    return datamodel.load_datamodel(config.CANDIDATE_VERSION)


@pytest.fixture(scope="module")
def candidate_raw() -> dict:
    path = config.DATAMODEL_DIR / f"{config.CANDIDATE_VERSION}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _item(item_id: str, agency: str, unit: str = "count", **overrides: object) -> dict:
    """A valid item; percentages get a denominator."""
    item = {
        "item_id": item_id,
        "title": f"Title of {item_id}",
        "definition": f"What to count for {item_id}.",
        "numerator": f"Numerator of {item_id}",
        "denominator": "Something to divide by" if unit != "count" else None,
        "denominator_item": None,
        "unit": unit,
        "polarity": "neutral",
        "decimal_places": 0 if unit == "count" else 1,
        "frequency": "quarterly",
        "measure_type": "flow",
        "agency": agency,
        "theme": "child_protection",
        "lscb_function": "monitoring_and_evaluation",
        "statutory_return": "none",
        "source_systems": ["Case management system"],
        "national_indicators": [],
        "published_measures": [],
        "related_items": [],
        "valid_range": {"min": 0, "max": 100 if unit == "percentage" else None},
        "essential": False,
    }
    item.update(overrides)
    return item


def _minimal() -> dict:
    """A small valid model: two counts, a percentage of one of them, one rule."""
    return {
        "dataset": "Test dataset",
        "version": "0.1-test",
        "status": "draft",
        "based_on": None,
        "released": "2007-09-30",
        "description": "A tiny model for tests.",
        "items": [
            _item("CSC01", "childrens_social_care", related_items=["CSC02"]),
            _item(
                "CSC02",
                "childrens_social_care",
                unit="percentage",
                denominator="Referrals (CSC01)",
                denominator_item="CSC01",
            ),
            _item("POL01", "police", published_measures=[{"source": "lait", "measure": "X"}]),
        ],
        "cross_item_rules": [
            {
                "rule_id": "XR01",
                "left": "CSC02",
                "operator": "<=",
                "right": "CSC01",
                "severity": "error",
                "message": "Re-referrals cannot exceed referrals.",
            }
        ],
    }


def _problems_after(change) -> list[str]:
    raw = _minimal()
    change(raw)
    return datamodel.validate_datamodel(raw)


# --------------------------------------------------------------------------------------
# The candidate dataset
# --------------------------------------------------------------------------------------


def test_candidate_file_validates_without_problems(candidate_raw):
    name = f"{config.CANDIDATE_VERSION}.yaml"
    assert datamodel.validate_datamodel(candidate_raw, file_name=name) == []


def test_candidate_header(candidate):
    assert candidate.version == config.CANDIDATE_VERSION
    assert candidate.meta["status"] == "candidate"
    assert candidate.meta["based_on"] is None
    assert candidate.meta["released"] == "2007-09-30"
    assert len(candidate.meta["description"]) > 100
    assert config.CANDIDATE_VERSION in datamodel.available_versions()


def test_candidate_covers_every_agency_theme_and_unit(candidate):
    assert len(candidate) >= 40
    per_agency = candidate.items["agency"].value_counts()
    assert set(per_agency.index) == set(datamodel.AGENCIES)
    assert set(candidate.items["theme"]) == set(datamodel.THEMES)
    assert (candidate.items["theme"] == "children_views_and_participation").sum() >= 3
    assert set(candidate.items["unit"]) == set(datamodel.UNITS)


def test_candidate_item_ids_carry_their_agency_prefix(candidate):
    for item_id, agency in candidate.items["agency"].items():
        assert datamodel.ID_PREFIXES[item_id[:-2]] == agency


def test_candidate_ranges_and_decimals_fit_the_unit(candidate):
    items = candidate.items
    for item_id, row in items.iterrows():
        low, high = row["valid_range"]["min"], row["valid_range"]["max"]
        assert low == 0, item_id
        if row["unit"] == "percentage":
            assert high == 100, item_id
            assert isinstance(row["denominator"], str), item_id
        else:
            assert high is None, item_id
        if row["unit"] == "count":
            assert row["decimal_places"] == 0, item_id


def test_every_percentage_of_another_item_has_a_rule_against_it(candidate):
    """A percentage whose denominator is an item cannot have a numerator above that
    item's count: the model says so with an error rule, so returns are checked."""
    rules = candidate.rules
    linked = candidate.items[candidate.items["denominator_item"].notna()]
    assert not linked.empty
    for item_id, den_item in linked["denominator_item"].items():
        hit = rules[
            (rules["left"] == item_id)
            & (rules["right"] == den_item)
            & rules["operator"].isin(["<=", "<"])
        ]
        assert len(hit) == 1, f"{item_id} has no rule against {den_item}"
        assert hit["severity"].iloc[0] == "error"


def test_candidate_rules(candidate):
    rules = candidate.rules
    assert list(rules.columns) == list(datamodel.RULE_FIELDS)
    assert len(rules) >= 8
    assert rules["rule_id"].is_unique
    assert set(rules["severity"]) == {"error", "query"}
    # Both sides of a rule are returned in the same periods.
    freq = candidate.items["frequency"]
    assert (rules["left"].map(freq) == rules["right"].map(freq)).all()
    # The canonical child protection funnel is checked: plans <= conferences <= s47.
    by_measure = _items_by_published_measure(candidate)
    cpp, icpc, s47 = by_measure["CPP_start"], by_measure["ICPC"], by_measure["Section47"]
    pairs = set(zip(rules["left"], rules["right"], strict=True))
    assert (cpp, icpc) in pairs
    assert (icpc, s47) in pairs


def _items_by_published_measure(dm: datamodel.DataModel) -> dict[str, str]:
    out = {}
    for item_id, measures in dm.items["published_measures"].items():
        for m in measures:
            out.setdefault(m["measure"], item_id)
    return out


def test_statutory_items_are_essential(candidate):
    by_measure = _items_by_published_measure(candidate)
    for measure in ("Section47", "ICPC", "CPP_At31", "Children looked after on 31 March each year"):
        assert candidate.items.loc[by_measure[measure], "essential"], measure
    items = candidate.items
    for function in ("serious_case_reviews", "child_death_review", "training"):
        assert items.loc[items["lscb_function"] == function, "essential"].any(), function


def test_lscb_activity_is_annual(candidate):
    lscb = candidate.by_agency("lscb")
    assert not lscb.empty
    assert (lscb["frequency"] == "annual").all()


def test_published_sources_match_the_reference_module():
    assert datamodel.PUBLISHED_SOURCES == reference.SOURCES


# --------------------------------------------------------------------------------------
# Published measures exist in the bundled tables
# --------------------------------------------------------------------------------------


@cache
def _reference_dir() -> Path | None:
    """lscb_nb/data/reference, or the shared copy beside the project if it is not there yet."""
    candidates = (
        config.REFERENCE_DIR,
        Path(__file__).resolve().parents[2] / "shared" / "reference-data",
    )
    for folder in candidates:
        if (folder / reference.LAIT_FILE).is_file() and all(
            (folder / name).is_file() for name in reference.DFE_FILES.values()
        ):
            return folder
    return None


@cache
def _published_names(source: str) -> frozenset[str]:
    folder = _reference_dir()
    assert folder is not None
    if source == "lait":
        codes = pd.read_parquet(folder / reference.LAIT_FILE, columns=["Short Desc"])
        return frozenset(codes["Short Desc"].dropna().astype(str))
    path = folder / reference.DFE_FILES[source]
    if source == "dfe_ssda903":
        kinds = pd.read_csv(path, usecols=["population_type"], encoding="utf-8-sig", dtype=str)
        return frozenset(kinds["population_type"].dropna())
    return frozenset(pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns)


def test_every_published_measure_exists_in_its_table(candidate):
    if _reference_dir() is None:
        pytest.skip("the bundled reference tables are not available")
    cited = [
        (item_id, m["source"], m["measure"])
        for item_id, measures in candidate.items["published_measures"].items()
        for m in measures
    ]
    assert len({s for _, s, _ in cited}) >= 6  # most bundled tables are used
    missing = [c for c in cited if c[2] not in _published_names(c[1])]
    assert missing == []


def test_every_lait_code_is_in_the_lait_data_dictionary(candidate):
    folder = _reference_dir()
    if folder is None:
        pytest.skip("the bundled reference tables are not available")
    dictionary = pd.read_csv(folder / reference.LAIT_DICTIONARY_FILE, encoding="utf-8-sig")
    known = set(dictionary["Measure_short"].dropna())
    lait = {
        m["measure"]
        for measures in candidate.items["published_measures"]
        for m in measures
        if m["source"] == "lait"
    }
    assert {"FirstYJS", "HospAd0-14", "CareApplications"} <= lait
    assert lait - known == set()


def test_a_measure_that_is_not_in_the_table_is_detected():
    """The check above can fail: a made-up column is not found."""
    if _reference_dir() is None:
        pytest.skip("the bundled reference tables are not available")
    assert "referral_count" in _published_names("dfe_cin_c1")
    assert "referral_counts" not in _published_names("dfe_cin_c1")
    assert "FirstYJS" in _published_names("lait")
    assert "FirstYJSX" not in _published_names("lait")


# --------------------------------------------------------------------------------------
# Validation: one defect, one clear message
# --------------------------------------------------------------------------------------


def test_minimal_model_is_valid():
    assert datamodel.validate_datamodel(_minimal()) == []


def _set(path: tuple, value: object):
    def change(raw: dict) -> None:
        target = raw
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path: tuple):
    def change(raw: dict) -> None:
        target = raw
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set(("items", 2, "item_id"), "CSC01"), ["duplicate item_id 'CSC01'"]),
        (_set(("items", 0, "item_id"), "csc1"), ["item csc1", "'csc1'", "e.g. 'CSC01'"]),
        (
            _set(("items", 0, "item_id"), "HLT07"),
            ["item HLT07", "'health'", "childrens_social_care"],
        ),
        (_delete(("items", 0, "unit")), ["item CSC01", "missing required field", "unit"]),
        (_delete(("items", 2, "essential")), ["item POL01", "missing required field", "essential"]),
        (
            _set(("items", 0, "unit"), "percent"),
            ["item CSC01", "unit 'percent'", "count, percentage, rate_per_10k"],
        ),
        (_set(("items", 0, "theme"), "safeguarding"), ["item CSC01", "theme 'safeguarding'"]),
        (
            _set(("items", 2, "agency"), "met_police"),
            ["item POL01", "agency 'met_police'", "police"],
        ),
        (_set(("items", 0, "frequency"), "monthly"), ["item CSC01", "frequency 'monthly'"]),
        (_set(("items", 0, "polarity"), "up"), ["item CSC01", "polarity 'up'", "high, low"]),
        (_set(("items", 0, "statutory_return"), "cin"), ["item CSC01", "statutory_return 'cin'"]),
        (_set(("items", 0, "decimal_places"), 3), ["item CSC01", "decimal_places", "3"]),
        (_set(("items", 0, "decimal_places"), "1"), ["item CSC01", "decimal_places"]),
        (_set(("items", 0, "essential"), "yes"), ["item CSC01", "essential", "true or false"]),
        (_set(("items", 0, "title"), ""), ["item CSC01", "title"]),
        (_set(("items", 0, "source_systems"), "CareFirst"), ["item CSC01", "source_systems"]),
        (_set(("items", 0, "national_indicators"), ["NI68"]), ["item CSC01", "'NI68'", "NI 68"]),
        (
            _set(("items", 0, "related_items"), ["CSC99"]),
            ["item CSC01", "related_items", "'CSC99'"],
        ),
        (_set(("items", 0, "related_items"), ["CSC01"]), ["item CSC01", "itself"]),
        (_set(("items", 0, "valid_range"), {"min": 5, "max": 1}), ["item CSC01", "valid_range"]),
        (_set(("items", 0, "valid_range"), [0, 100]), ["item CSC01", "valid_range"]),
        (_set(("items", 0, "denominator_itme"), None), ["item CSC01", "'denominator_itme'"]),
        (
            _set(("items", 2, "published_measures"), [{"source": "ofsted", "measure": "X"}]),
            ["item POL01", "source 'ofsted'", "lait"],
        ),
        (_set(("items", 1, "denominator"), None), ["item CSC02", "percentage needs a denominator"]),
        (_set(("items", 1, "denominator_item"), "CSC99"), ["item CSC02", "'CSC99'", "not an item"]),
        (_set(("items", 1, "frequency"), "annual"), ["item CSC02", "CSC01", "quarterly"]),
        (
            _set(("items", 2, "denominator_item"), "CSC01"),
            ["item POL01", "count cannot have a denominator_item"],
        ),
        (_set(("items", 2, "denominator"), "Children"), ["item POL01", "count is not divided"]),
        (_set(("cross_item_rules", 0, "right"), "CSC99"), ["rule XR01", "right 'CSC99'"]),
        (_set(("cross_item_rules", 0, "left"), "CSC01"), ["rule XR01", "same item"]),
        (_set(("cross_item_rules", 0, "operator"), "=<"), ["rule XR01", "operator '=<'", "<="]),
        (_set(("cross_item_rules", 0, "severity"), "warning"), ["rule XR01", "'warning'", "query"]),
        (_set(("cross_item_rules", 0, "rule_id"), "R1"), ["'R1'", "XR01"]),
        (_delete(("cross_item_rules", 0, "message")), ["rule XR01", "missing", "message"]),
        (_set(("status",), "final"), ["status 'final'", "candidate"]),
        (_set(("released",), "30/09/2007"), ["released", "ISO date"]),
        (_delete(("dataset",)), ["missing top-level field", "dataset"]),
        (_set(("items",), []), ["items must be a non-empty list"]),
    ],
)
def test_each_defect_is_reported_clearly(change, expected):
    problems = _problems_after(change)
    assert problems, "the defect was not detected"
    joined = "\n".join(problems)
    for fragment in expected:
        assert fragment in joined


def test_duplicate_rule_ids_are_reported():
    def change(raw):
        raw["cross_item_rules"].append(copy.deepcopy(raw["cross_item_rules"][0]))

    assert any("duplicate rule_id 'XR01'" in p for p in _problems_after(change))


def test_rule_between_annual_and_quarterly_items_is_reported():
    def change(raw):
        raw["items"].append(_item("POL02", "police", frequency="annual"))
        raw["cross_item_rules"].append(
            {**raw["cross_item_rules"][0], "rule_id": "XR02", "left": "POL02", "right": "POL01"}
        )

    problems = _problems_after(change)
    assert any("rule XR02" in p and "same period" in p for p in problems)


def test_every_problem_is_reported_at_once():
    raw = _minimal()
    raw["items"][0]["unit"] = "percent"
    raw["items"][2]["related_items"] = ["EDU01"]
    raw["cross_item_rules"][0]["severity"] = "warning"
    with pytest.raises(DataModelError) as caught:
        datamodel.from_dict(raw)
    problems = caught.value.problems
    assert len(problems) == 3
    assert [p.split(":")[0] for p in problems] == ["item CSC01", "item POL01", "rule XR01"]
    assert str(caught.value).startswith("3 problems in the data model")
    assert isinstance(caught.value, ValueError)


def test_validation_survives_garbage():
    assert datamodel.validate_datamodel(["not", "a", "model"])
    raw = _minimal()
    raw["items"].append("not an item")
    raw["cross_item_rules"].append({"rule_id": "XR02", "left": ["a"], "right": {"b": 1}})
    problems = datamodel.validate_datamodel(raw)
    assert any("item #4" in p for p in problems)
    assert any("rule XR02" in p and "left" in p for p in problems)


# --------------------------------------------------------------------------------------
# Files: load, save, versions
# --------------------------------------------------------------------------------------


def test_save_and_load_round_trip(candidate, tmp_path):
    path = datamodel.save_datamodel(candidate, tmp_path)
    assert path == tmp_path / f"{candidate.version}.yaml"
    again = datamodel.load_datamodel(candidate.version, tmp_path)
    assert datamodel.to_dict(again) == datamodel.to_dict(candidate)
    assert datamodel.diff_datamodels(candidate, again).empty
    pd.testing.assert_frame_equal(again.items, candidate.items)
    pd.testing.assert_frame_equal(again.rules, candidate.rules)


def test_saved_file_has_stable_field_order(tmp_path):
    raw = _minimal()
    raw["items"][0] = dict(reversed(list(raw["items"][0].items())))  # scrambled order
    del raw["items"][2]["related_items"]  # an optional field, written explicitly
    path = datamodel.save_datamodel(raw, tmp_path)
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert list(written) == list(datamodel.TOP_LEVEL_FIELDS)
    for item in written["items"]:
        assert list(item) == list(datamodel.ITEM_FIELDS)
    assert written["items"][2]["related_items"] == []
    # Saving the same model twice writes the same bytes.
    first = path.read_bytes()
    datamodel.save_datamodel(written, tmp_path)
    assert path.read_bytes() == first


def test_save_refuses_an_invalid_model(tmp_path):
    raw = _minimal()
    raw["items"][0]["unit"] = "percent"
    with pytest.raises(DataModelError, match="unit 'percent'"):
        datamodel.save_datamodel(raw, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_version_must_match_the_file_name(tmp_path):
    (tmp_path / "0.2-draft.yaml").write_text(yaml.safe_dump(_minimal()), encoding="utf-8")
    with pytest.raises(DataModelError) as caught:
        datamodel.load_datamodel("0.2-draft", tmp_path)
    assert any("'0.1-test'" in p and "0.2-draft.yaml" in p for p in caught.value.problems)


def test_missing_version_names_the_available_ones(tmp_path):
    datamodel.save_datamodel(_minimal(), tmp_path)
    with pytest.raises(FileNotFoundError, match=r"0\.1-test"):
        datamodel.load_datamodel("9.9-nope", tmp_path)


def test_invalid_yaml_is_a_data_model_error(tmp_path):
    (tmp_path / "0.1-test.yaml").write_text("items: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataModelError, match="not valid YAML"):
        datamodel.load_datamodel("0.1-test", tmp_path)


def test_available_versions_in_version_order(tmp_path):
    for version in ("1.10-refined", "1.2-pilot", "1.0-candidate"):
        raw = _minimal()
        raw["version"] = version
        datamodel.save_datamodel(raw, tmp_path)
    (tmp_path / ".1.3-draft.yaml.tmp.yaml").write_text("half-written", encoding="utf-8")
    assert datamodel.available_versions(tmp_path) == ["1.0-candidate", "1.2-pilot", "1.10-refined"]
    assert datamodel.available_versions(tmp_path / "absent") == []


@pytest.mark.slow  # a property, fuzz or real-data test: the slow lane
@settings(max_examples=60, deadline=None)
@given(
    text=st.text(
        alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")),
        min_size=1,
        max_size=300,
    ).filter(lambda t: t.strip() != "")
)
def test_any_text_survives_save_and_load(text):
    """Long texts are written as folded YAML blocks; whatever an analyst types in a
    definition or message comes back exactly."""
    raw = _minimal()
    raw["items"][0]["definition"] = text
    raw["items"][0]["title"] = "Title " + text[:60]
    raw["cross_item_rules"][0]["message"] = text
    with tempfile.TemporaryDirectory() as folder:
        datamodel.save_datamodel(raw, folder)
        again = datamodel.to_dict(datamodel.load_datamodel(raw["version"], folder))
    assert again["items"][0]["definition"] == text
    assert again["items"][0]["title"] == "Title " + text[:60]
    assert again["cross_item_rules"][0]["message"] == text


def test_unquoted_release_date_is_accepted():
    text = yaml.safe_dump(_minimal()).replace("'2007-09-30'", "2007-09-30")
    raw = yaml.safe_load(text)
    assert not isinstance(raw["released"], str)  # YAML made it a date
    assert datamodel.from_dict(raw).meta["released"] == "2007-09-30"


# --------------------------------------------------------------------------------------
# The DataModel object
# --------------------------------------------------------------------------------------


def test_items_frame_shape(candidate):
    items = candidate.items
    assert items.index.name == "item_id"
    assert items.index.is_unique
    assert list(items.columns) == list(datamodel.ITEM_FIELDS[1:])
    assert all(isinstance(v, list) for v in items["related_items"])
    assert all(isinstance(v, dict) for v in items["valid_range"])
    assert candidate.item_ids == list(items.index)
    assert len(candidate) == len(items)


def test_item_and_by_agency():
    dm = datamodel.from_dict(_minimal())
    item = dm.item("CSC02")
    assert item["item_id"] == "CSC02"
    assert item["denominator_item"] == "CSC01"
    assert dm.item("CSC01")["denominator_item"] is None  # not NaN
    assert list(dm.by_agency("police").index) == ["POL01"]
    assert list(dm.by_agency("Children's social care").index) == ["CSC01", "CSC02"]
    with pytest.raises(KeyError, match="CSC01"):
        dm.item("CSC0l")
    with pytest.raises(ValueError, match="childrens_social_care"):
        dm.by_agency("social services")


def test_item_returns_a_copy():
    dm = datamodel.from_dict(_minimal())
    dm.item("CSC01")["related_items"].append("POL01")
    assert dm.item("CSC01")["related_items"] == ["CSC02"]


# --------------------------------------------------------------------------------------
# Diff
# --------------------------------------------------------------------------------------


def test_diff_finds_added_removed_and_changed():
    old = datamodel.from_dict(_minimal())
    raw = _minimal()
    raw["version"] = "0.2-test"
    raw["items"][0]["title"] = "Referrals to children's social care"
    raw["items"][0]["related_items"] = []
    del raw["items"][2]  # POL01 removed
    raw["items"].append(_item("HLT01", "health"))
    raw["cross_item_rules"][0]["severity"] = "query"
    new = datamodel.from_dict(raw)

    diff = datamodel.diff_datamodels(old, new)
    assert list(diff.columns) == list(datamodel.DIFF_COLUMNS)
    changed = diff[diff["change"] == "changed"]
    assert set(zip(changed["item_id"], changed["field"], strict=True)) == {
        ("CSC01", "title"),
        ("CSC01", "related_items"),
        ("XR01", "severity"),
    }
    title = changed[changed["field"] == "title"].iloc[0]
    assert (title["old_value"], title["new_value"]) == (
        "Title of CSC01",
        "Referrals to children's social care",
    )
    added = diff[diff["change"] == "added"]
    removed = diff[diff["change"] == "removed"]
    assert list(added["item_id"]) == ["HLT01"] and added["field"].isna().all()
    assert list(removed["item_id"]) == ["POL01"] and removed["field"].isna().all()

    text = datamodel.format_diff_markdown(diff)
    for fragment in ("HLT01", "POL01", "XR01", "| CSC01 | title |", "Items added", "Items removed"):
        assert fragment in text


def test_diff_of_a_model_with_itself_is_empty(candidate):
    diff = datamodel.diff_datamodels(candidate, candidate)
    assert diff.empty
    assert "No items or cross-item rules changed" in datamodel.format_diff_markdown(diff)


def test_diff_markdown_escapes_table_pipes():
    old = datamodel.from_dict(_minimal())
    raw = _minimal()
    raw["items"][0]["numerator"] = "a | b"
    text = datamodel.format_diff_markdown(datamodel.diff_datamodels(old, datamodel.from_dict(raw)))
    assert "a \\| b" in text


# --------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------


def test_table_schema_describes_the_return(candidate, tmp_path):
    schema = datamodel.to_table_schema(candidate)
    fields = {f["name"]: f for f in schema["fields"]}
    assert [f["name"] for f in schema["fields"]] == list(returnformat.RETURN_CSV_COLUMNS)
    assert fields["item_id"]["constraints"]["enum"] == candidate.item_ids
    assert schema["primaryKey"] == ["time_period", "time_identifier", "new_la_code", "item_id"]
    assert set(schema["primaryKey"]) <= set(fields)
    assert fields["time_identifier"]["constraints"]["enum"] == list(periods.TIME_IDENTIFIERS)
    assert fields["old_la_code"]["type"] == "integer"
    for name in ("numerator", "denominator", "value"):
        assert fields[name]["type"] == "number"
        assert fields[name]["constraints"]["minimum"] == 0
    assert "<5" in fields["numerator"]["description"]
    assert schema["missingValues"][0] == ""
    assert set(values.CODES) <= set(schema["missingValues"])
    for f in schema["fields"]:
        assert {"name", "type", "title", "description"} <= set(f)
        assert f["type"] in {"string", "number", "integer"}

    time_period = re.compile(fields["time_period"]["constraints"]["pattern"])
    assert time_period.match(periods.to_ees("2024-25 Q1")[0])
    assert not time_period.match("2024-25")
    la_code = re.compile(fields["new_la_code"]["constraints"]["pattern"])
    assert la_code.match("E09000007")
    assert not la_code.match("E06000001")

    path = datamodel.write_table_schema(candidate, tmp_path / "schema.json")
    assert json.loads(path.read_text(encoding="utf-8")) == schema


def test_data_dictionary_has_one_readable_row_per_item(candidate, tmp_path):
    table = datamodel.to_data_dictionary(candidate)
    assert list(table["item_id"]) == candidate.item_ids
    assert list(table.columns) == list(datamodel.DICTIONARY_COLUMNS)
    assert set(table["agency"]) <= set(datamodel.AGENCY_LABELS.values())
    assert set(table["theme"]) <= set(datamodel.THEME_LABELS.values())
    assert set(table["unit"]) <= set(datamodel.UNIT_LABELS.values())
    assert set(table["essential"]) == {"Yes", "No"}
    assert table["source_systems"].map(type).eq(str).all()
    first = candidate.item(candidate.item_ids[0])
    assert table.loc[0, "source_systems"] == ", ".join(first["source_systems"])

    path = datamodel.write_data_dictionary(candidate, tmp_path / "dictionary.md")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ")
    for item_id in candidate.item_ids:
        assert f"### {item_id} " in text
    for rule_id in candidate.rules["rule_id"]:
        assert f"| {rule_id} |" in text
    for label in datamodel.AGENCY_LABELS.values():
        assert f"## {label} (" in text


# --------------------------------------------------------------------------------------
# The JSON Schema and the vocabularies it takes its codes from
# --------------------------------------------------------------------------------------


def test_schema_is_a_valid_json_schema_with_enums_from_the_vocabularies():
    from jsonschema import Draft202012Validator

    from lscb_nb.core.datamodel import schema

    spec = schema.schema()
    Draft202012Validator.check_schema(spec)
    item = spec["$defs"]["item"]["properties"]
    assert item["theme"]["enum"] == list(datamodel.THEMES)
    assert item["unit"]["enum"] == list(datamodel.UNITS)
    assert item["agency"]["enum"] == list(returnformat.AGENCIES)
    source = item["published_measures"]["items"]["properties"]["source"]
    assert source["enum"] == list(reference.SOURCES)
    assert list(item) == list(datamodel.ITEM_FIELDS)
    assert (
        tuple(f for f in datamodel.ITEM_FIELDS if f not in datamodel.ITEM_DEFAULTS)
        == datamodel.REQUIRED_ITEM_FIELDS
    )


def test_vocabularies_have_one_label_per_code():
    for codes, labels in (
        (datamodel.THEMES, datamodel.THEME_LABELS),
        (datamodel.LSCB_FUNCTIONS, datamodel.LSCB_FUNCTION_LABELS),
        (datamodel.STATUTORY_RETURNS, datamodel.STATUTORY_RETURN_LABELS),
        (datamodel.POLARITIES, datamodel.POLARITY_LABELS),
        (datamodel.FREQUENCIES, datamodel.FREQUENCY_LABELS),
        (datamodel.MEASURE_TYPES, datamodel.MEASURE_TYPE_LABELS),
        (datamodel.TIERS, datamodel.TIER_LABELS),
        (datamodel.UNITS, datamodel.UNIT_LABELS),
        (datamodel.PUBLISHED_SOURCES, datamodel.PUBLISHED_SOURCE_LABELS),
    ):
        assert len(set(codes)) == len(codes) > 1
        assert list(labels) == list(codes)
        assert all(isinstance(v, str) and v for v in labels.values())
    assert set(datamodel.ID_PREFIXES.values()) == set(datamodel.AGENCIES)


def test_schema_rejects_a_bad_model_in_plain_words():
    raw = _minimal()
    raw["items"][0]["unit"] = "percent"
    raw["items"][2]["published_measures"] = [{"source": "ofsted", "measure": "X"}]
    raw["items"][1]["decimal_places"] = 1.5
    with pytest.raises(DataModelError) as caught:
        datamodel.from_dict(raw)
    lines = str(caught.value).splitlines()
    assert lines[0] == "3 problems in the data model:"
    assert lines[1:] == [
        "- item CSC01: unit 'percent' is not allowed; use one of count, percentage, rate_per_10k.",
        "- item CSC02: decimal_places must be a whole number 0, 1 or 2, not 1.5.",
        "- item POL01: published_measures entry 1: source 'ofsted' is not allowed; use one of "
        + ", ".join(reference.SOURCES)
        + ".",
    ]
    # No validator jargon reaches the analyst.
    assert "Failed validating" not in str(caught.value)
    assert "is not one of" not in str(caught.value)
