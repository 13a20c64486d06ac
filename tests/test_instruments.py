"""Phase 2: the instrument, reading completed ones (and a suite of malformed ones),
scoring, agreement and decisions."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from conftest import make_sample_project
from openpyxl import load_workbook

from lscb_nb.assessment import completed, instrument, ratings
from lscb_nb.assessment.stage import prepare_assessment
from lscb_nb.core import agreement, config, stats
from lscb_nb.core.datamodel import load_datamodel, to_dict, validate_datamodel


@pytest.fixture(scope="module")
def items():
    return load_datamodel(config.CANDIDATE_VERSION).items.head(6)


@pytest.fixture(scope="module")
def criteria():
    return instrument.load_criteria()


def _fill(path, name="Ann Rater", role="Designated nurse", agency="health", scores=None):
    """Complete a blank instrument: every criterion 3 unless ``scores`` says otherwise."""
    wb = load_workbook(path)
    ws = wb[instrument.SHEET]
    for value, row in zip((name, role, agency), instrument.RATER_ROWS.values(), strict=True):
        ws.cell(row=row, column=2).value = value
    first = len(instrument.ITEM_COLUMNS) + 1
    for r in range(instrument.HEADER_ROW + 1, ws.max_row + 1):
        for j in range(8):
            ws.cell(row=r, column=first + j).value = 3
    for (r, j), value in (scores or {}).items():
        ws.cell(row=r, column=j).value = value
    wb.save(path)


@pytest.fixture
def blank(tmp_path, items, criteria):
    def make(name: str) -> object:
        return instrument.write_instrument(tmp_path / name, "Camden", items, criteria)

    return make


def test_criteria_are_data_with_anchors_for_every_point(criteria):
    assert set(criteria.criteria["dimension"]) == {"accessibility", "usefulness"}
    assert len(criteria.criteria) == 8
    for cid in criteria.criteria["id"]:
        assert criteria.scores(cid) == [1, 2, 3, 4]
    assert criteria.anchors["anchor"].str.len().gt(10).all()


def test_a_broken_criteria_file_lists_its_problems(tmp_path):
    bad = tmp_path / "criteria.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "scales": {"s": {1: "low", 3: "high"}},
                "criteria": [{"id": "x", "dimension": "beauty", "question": "?", "scale": "t"}],
            }
        )
    )
    with pytest.raises(ValueError) as err:
        instrument.load_criteria(bad)
    text = str(err.value)
    assert "without gaps" in text and "dimension" in text and "unknown scale" in text


def test_instrument_has_a_drop_down_on_every_score_cell(blank, items):
    path = blank("camden.xlsx")
    wb = load_workbook(path)
    ws = wb[instrument.SHEET]
    ranges = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    first, last = instrument.HEADER_ROW + 1, instrument.HEADER_ROW + len(items)
    for col in "EFGHIJKL":
        assert ranges[f"{col}{first}:{col}{last}"] == '"1,2,3,4,DK"'
    assert any(v.startswith('"childrens_social_care') for v in ranges.values())
    scales = pd.DataFrame(wb["Scales"].values)
    assert (scales[0] == "held").sum() == 4
    assert ws.cell(row=instrument.HEADER_ROW + 1, column=1).value == items.index[0]


def test_round_trip_write_fill_read(blank, items, criteria):
    path = blank("Camden - health.xlsx")
    _fill(path, scores={(instrument.HEADER_ROW + 1, 5): 1, (instrument.HEADER_ROW + 2, 6): "DK"})
    result = completed.read_instruments(path.parent, items, criteria)
    assert result.issues.empty
    assert len(result.ratings) == len(items) * 8
    first = result.ratings.loc[
        (result.ratings["item_id"] == items.index[0]) & (result.ratings["criterion"] == "held")
    ]
    assert first["score"].item() == 1
    dk = result.ratings.loc[result.ratings["dont_know"]]
    assert len(dk) == 1 and dk["score"].isna().all()
    assert (result.ratings["la_code_ons"] == "E09000007").all()


MALFORMED = {
    "not_excel.xlsx": "I01",
    "password.xlsx": "I01",
    "no_sheet.xlsx": "I02",
    "no_name.xlsx": "I03",
    "off_scale.xlsx": "I06",
    "text_score.xlsx": "I07",
    "unknown_item.xlsx": "I05",
    "twice.xlsx": "I09",
    "stray_note.xlsx": "I08",
}


@pytest.fixture
def malformed_folder(tmp_path, items, criteria):
    folder = tmp_path / "instruments"
    folder.mkdir()
    r = instrument.HEADER_ROW + 2

    def make(file_name, **kw):
        path = instrument.write_instrument(folder / file_name, "Camden", items, criteria)
        _fill(path, **kw)
        return path

    make("Camden good.xlsx", name="Good Rater")
    (folder / "not_excel.xlsx").write_text("this is not a workbook")
    (folder / "password.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    wb = load_workbook(make("no_sheet.xlsx", name="C"))
    del wb[instrument.SHEET]
    wb.save(folder / "no_sheet.xlsx")
    make("no_name.xlsx", name=None)
    make("off_scale.xlsx", name="D", scores={(r, 5): 9})
    make("text_score.xlsx", name="E", scores={(r, 6): "high"})
    make("unknown_item.xlsx", name="F", scores={(r, 1): "XYZ99"})
    make("twice.xlsx", name="G", scores={(r, 1): items.index[0]})
    make("stray_note.xlsx", name="H", scores={(instrument.HEADER_ROW + len(items) + 3, 14): "hi"})
    (folder / "Camden good again.xlsx").write_bytes((folder / "Camden good.xlsx").read_bytes())
    return folder


def test_each_malformed_instrument_gets_its_message_and_the_rest_are_read(
    malformed_folder, items, criteria
):
    result = completed.read_instruments(malformed_folder, items, criteria)
    issues = result.issues
    for file, code in MALFORMED.items():
        mine = issues.loc[issues["file"] == file]
        assert code in set(mine["rule_code"]), (file, mine)
    # The same instrument sent twice: one copy is read, the other held back as I04.
    pair = ["Camden good.xlsx", "Camden good again.xlsx"]
    dup = issues.loc[issues["file"].isin(pair)]
    assert list(dup["rule_code"]) == ["I04"]
    kept = next(f for f in pair if f not in set(dup["file"]))
    placed = issues.loc[issues["rule_code"].isin(["I05", "I06", "I07", "I09"])]
    assert placed["row"].notna().all() and placed["column"].notna().all()
    assert result.ratings.loc[result.ratings["file"] == kept].shape[0] == len(items) * 8
    # Nothing lost: every score cell in a readable file is a rating or quarantined.
    readable = set(result.files.loc[result.files["status"] != "unreadable", "file"])
    cells = 0
    for name in readable:
        ws = load_workbook(malformed_folder / name, read_only=True)[instrument.SHEET]
        for row in ws.iter_rows(min_row=instrument.HEADER_ROW + 1, values_only=True):
            if row and row[0] is not None:
                cells += sum(v is not None for v in row[4:12])
    assert cells == len(result.ratings) + len(result.quarantined)
    assert result.quarantined["reason"].str.match(r"I0\d").all()


@pytest.mark.slow  # generates a sample of its own (it reads the instruments fresh)
def test_planted_defects_in_the_sample_are_found(tmp_path_factory):
    project, truth = make_sample_project(tmp_path_factory.mktemp("phase2"))
    truth = truth["phase2"]
    items = load_datamodel(config.CANDIDATE_VERSION).items
    result = completed.read_instruments(project.instruments, items)
    found = set(zip(result.issues["file"], result.issues["rule_code"], strict=True))
    for planted in truth["planted"]:
        assert (planted["file"], planted["code"]) in found, planted
    raters = {(r["la_code_ons"], r["agency"]) for r in truth["raters"]}
    assert len(raters) == len(truth["raters"])
    per_borough = pd.Series([r["la_code_ons"] for r in truth["raters"]]).value_counts()
    assert per_borough.between(2, 4).all() and len(per_borough) == 10

    summary = prepare_assessment(project)
    pilot = load_datamodel(summary["writes"], project.datamodel_dir)
    assert validate_datamodel(to_dict(pilot)) == []
    assert summary["decisions"].get("drop", 0) == len(items) - len(pilot.items)
    # Health items are the hardest to get, as the pilot found.
    scores = ratings.item_scores(result.ratings).set_index("item_id")
    by_agency = scores["accessibility"].groupby(items["agency"]).mean()
    assert by_agency.idxmin() in {"health", "voluntary_sector"}
    assert by_agency["childrens_social_care"] > by_agency["health"]


def test_item_scores_are_means_over_raters_of_criterion_means():
    frame = pd.DataFrame(
        {
            "la_code_ons": ["A"] * 6,
            "rater_id": ["r1", "r1", "r2", "r2", "r1", "r2"],
            "rater_agency": ["lscb"] * 6,
            "item_id": ["X"] * 6,
            "dimension": ["accessibility"] * 4 + ["usefulness"] * 2,
            "criterion": ["held", "effort", "held", "effort", "relevance", "relevance"],
            "score": pd.array([4, 2, 2, 2, 3, 1], dtype="Int64"),
        }
    )
    s = ratings.item_scores(frame).set_index("item_id")
    assert s.at["X", "accessibility"] == pytest.approx((3 + 2) / 2)
    assert s.at["X", "usefulness"] == pytest.approx(2)
    assert s.at["X", "accessibility_n"] == 2
    assert s.at["X", "accessibility_lower"] < 2.5 < s.at["X", "accessibility_upper"]


def test_most_disputed_counts_rater_pairs_and_keeps_the_shares_interval():
    # Item X: borough A's three raters score held 1, 3, 4 (pairs 1-3 and 1-4 two or more
    # apart, 3-4 not) and effort 2, 2, 2 (none apart); borough B's two raters agree.
    # Item Y: every pair agrees.
    rows = []
    for criterion, scores in (("held", [1, 3, 4]), ("effort", [2, 2, 2])):
        rows += [("A", f"r{k}", "X", criterion, s) for k, s in enumerate(scores)]
    rows += [("B", f"s{k}", "X", "held", 3) for k in range(2)]
    rows += [("A", f"r{k}", "Y", "held", 2) for k in range(3)]
    frame = pd.DataFrame(rows, columns=["la_code_ons", "rater_id", "item_id", "criterion", "score"])
    disputed = ratings.most_disputed(frame).set_index("item_id")
    assert disputed.index[0] == "X"
    assert disputed.at["X", "pairs"] == 3 + 3 + 1
    assert disputed.at["X", "pairs_two_apart"] == pytest.approx(2 / 7)
    lower, upper = stats.wilson_ci(2, 7)
    assert disputed.at["X", "pairs_lower"] == pytest.approx(lower)
    assert disputed.at["X", "pairs_upper"] == pytest.approx(upper)
    assert disputed.at["Y", "pairs_two_apart"] == 0 and disputed.at["Y", "pairs_upper"] > 0


def test_classify_thresholds_and_essential_items():
    items = pd.DataFrame(
        {
            "title": list("abcde"),
            "agency": ["health"] * 5,
            "essential": [False, False, False, False, True],
        },
        index=["I1", "I2", "I3", "I4", "I5"],
    )
    scores = pd.DataFrame(
        {
            "item_id": items.index,
            "usefulness": [3.5, 3.5, 2.0, 2.0, 1.5],
            "accessibility": [3.5, 1.5, 3.5, 1.5, 1.5],
        }
    )
    d = ratings.classify(scores, items, useful=2.75, accessible=2.5)
    assert list(d["decision"].astype(str)) == ["core", "develop", "local option", "drop", "develop"]
    assert "statute" in d.at["I5", "reason"]
    stricter = ratings.classify(scores, items, useful=3.75, accessible=2.5)
    assert stricter.at["I1", "decision"] == "local option"


def test_agreement_table_matches_the_agreement_module():
    frame = pd.DataFrame(
        {
            "la_code_ons": ["A"] * 8,
            "rater_id": ["r1", "r2"] * 4,
            "item_id": ["X", "X", "Y", "Y", "Z", "Z", "W", "W"],
            "criterion": ["held"] * 8,
            "dimension": ["accessibility"] * 8,
            "score": pd.array([1, 1, 2, 3, 3, 3, 4, 4], dtype="Int64"),
        }
    )
    table = ratings.agreement_table(frame)
    overall = table.loc[table["level"] == "overall", "alpha"].item()
    direct = agreement.krippendorff_alpha([[1, 2, 3, 4], [1, 3, 3, 4]], "ordinal")
    assert overall == pytest.approx(direct)
    assert 0 < overall < 1
