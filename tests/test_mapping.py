"""Phase 1: reading boroughs' local datasets in any layout, matching names to the
data model, the reviewed crosswalk, coverage and the draft dataset."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from lscb_nb.core import config
from lscb_nb.core.datamodel import load_datamodel, validate_datamodel
from lscb_nb.mapping import coverage, crosswalk, localdata, matching, names
from lscb_nb.mapping.context import mapping_dir
from lscb_nb.mapping.stage import prepare_mapping


@pytest.fixture(scope="module")
def sample(sample_project):
    project, truth = sample_project["root"], sample_project["truth"]
    local = localdata.read_local_datasets(project.catalogues)
    return project, truth["phase1"], local


@pytest.fixture(scope="module")
def items():
    return load_datamodel(config.CANDIDATE_VERSION).items


# ---------------------------------------------------------------- reading


def test_every_planted_local_item_is_read_with_its_authority(sample):
    _, truth, local = sample
    read = set(zip(local.items["la_code_ons"], local.items["local_name"], strict=True))
    planted = {(t["la_code_ons"], t["local_name"]) for t in truth["items"]}
    assert read == planted
    assert len(local.items) == len(truth["items"])
    assert local.items["row"].notna().all() and local.items["file"].notna().all()


def test_unreadable_files_and_sheets_are_named_and_the_rest_read(sample):
    _, truth, local = sample
    bad = local.files.loc[local.files["status"] == "unreadable"]
    assert set(bad["file"]) == {u["file"] for u in truth["unreadable"]}
    reasons = " ".join(local.problems["message"])
    assert "password-protected" in reasons and "not an Excel workbook" in reasons
    odd = truth["uninterpretable_sheets"][0]
    hit = local.problems.loc[local.problems["sheet"] == odd["sheet"]]
    assert list(hit["file"]) == [odd["file"]]
    assert local.files.loc[local.files["file"] == odd["file"], "status"].item() == "partly read"
    replied = set(truth["replied"])
    assert set(local.files["la_code_ons"]) == replied
    assert not replied & set(truth["non_responders"])


def test_header_found_wherever_it_is_and_columns_in_any_order():
    rows = [
        ["SYNTHETIC"],
        ["Camden LSCB: current dataset"],
        [],
        ["Frequency", "Data item", "Agency", "To board (Y/N)"],
        ["Quarterly", "No. of refs to CSC", "CSC", "Y"],
        [None, None, None, None],
        ["Annual", "SCRs started", "LSCB", "n"],
    ]
    tidy, reason = localdata.tidy_sheet(rows)
    assert reason is None
    assert list(tidy["local_name"]) == ["No. of refs to CSC", "SCRs started"]
    assert list(tidy["row"]) == [5, 7]
    assert list(tidy["reported_to_board"]) == [True, False]
    assert list(tidy["source_agency"]) == ["CSC", "LSCB"]


def test_a_sheet_without_a_header_is_refused_with_the_reason():
    tidy, reason = localdata.tidy_sheet([["Total", 4, 5], ["Change", 1, 2]])
    assert tidy.empty and "no header row" in reason


# ---------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("No. of refs to CSC", "referral child social care"),
        ("ICPCs held", "initial child protection conference"),
        ("NI68 IA's", "initial assessment"),
        ("LAC w/in 12 months", "look after child within 12 month"),
        ("A&E admissions", "accident emergency admission"),
        ("Children on a CP plan at month end", "child child protection plan"),
        ("LAC at period end", "look after child"),
    ],
)
def test_normalise_expands_the_fields_shorthand(local, expected):
    """Shorthand expanded, counting words ("No. of", "held") and NI codes set aside,
    plurals and word endings folded (the same on both sides of a comparison)."""
    assert names.normalise(local) == expected


def test_matching_is_precise_and_finds_most_items(sample, items):
    _, truth, local = sample
    matches = matching.match(local.items, items)
    acc = matching.accuracy(matches, pd.DataFrame(truth["items"]))
    assert acc["precision"] >= 0.98
    assert acc["recall"] >= 0.95
    # Measures the model lacks are not forced onto an item.
    lacking = {t["local_name"] for t in truth["items"] if t["item_id"] is None}
    forced = matches.loc[matches["local_name"].isin(lacking), "item_id"].notna()
    assert forced.mean() < 0.05


def test_ni_code_breaks_a_tie(items):
    s = matching.suggest(pd.Series(["NI 62 LAC 3+ placements"]), items)
    assert s["suggested_item"].item() == "CSC23"


# ---------------------------------------------------------------- crosswalk


def test_crosswalk_round_trip_survives_a_changed_catalogue(sample, items, tmp_path):
    _, _, local = sample
    path = tmp_path / "crosswalk.csv"
    matches = matching.match(local.items, items)
    uncertain = matches.loc[matches["status"] == "uncertain"]
    confident = matches.loc[matches["status"] == "confident"]
    assert len(uncertain) >= 2
    walk = crosswalk.load_crosswalk(path)
    walk = crosswalk.record_decision(walk, uncertain.iloc[0], "confirm", reviewer="t")
    walk = crosswalk.record_decision(walk, confident.iloc[0], "reject", reviewer="t")
    walk = crosswalk.record_decision(walk, uncertain.iloc[1], "repoint", "LSCB01", reviewer="t")
    crosswalk.save_crosswalk(walk, path)

    # The borough re-sends: rows shuffled, a new item added.
    changed = pd.concat(
        [
            local.items.sample(frac=1.0, random_state=3),
            local.items.iloc[[0]].assign(local_name="Brand new local measure"),
        ],
        ignore_index=True,
    )
    again = matching.match(changed, items, crosswalk.load_crosswalk(path))
    by_key = again.set_index(["la_code_ons", "normalised_name"])

    def decided(row):
        return by_key.loc[(row["la_code_ons"], row["normalised_name"])]

    assert decided(uncertain.iloc[0])["status"] == "confirmed"
    assert decided(uncertain.iloc[0])["item_id"] == uncertain.iloc[0]["suggested_item"]
    assert decided(confident.iloc[0])["status"] == "rejected"
    assert decided(confident.iloc[0])["item_id"] is None
    assert decided(uncertain.iloc[1])["item_id"] == "LSCB01"
    assert len(again) == len(changed)


def test_crosswalk_with_an_unknown_decision_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame([dict.fromkeys(crosswalk.COLUMNS, "x")]).to_csv(path, index=False)
    with pytest.raises(ValueError, match="decision"):
        crosswalk.load_crosswalk(path)


def test_review_panel_saves_each_decision(sample, items, tmp_path):
    _, _, local = sample
    matches = matching.match(local.items, items)
    path = tmp_path / "reviewed.csv"
    panel = crosswalk.review_panel(matches, items, path, reviewer="consultant")
    queue = matches.loc[matches["status"] == "uncertain"].reset_index(drop=True)
    panel.buttons["Confirm"].click()
    panel.choice.value = "LSCB02"
    panel.buttons["Re-point"].click()
    panel.buttons["Skip"].click()
    panel.buttons["Reject"].click()
    saved = crosswalk.load_crosswalk(path)
    assert list(saved.sort_values("decision")["decision"]) == ["confirm", "reject", "repoint"]
    repointed = saved.loc[saved["decision"] == "repoint"]
    assert repointed["item_id"].item() == "LSCB02"
    assert repointed["normalised_name"].item() == queue.iloc[1]["normalised_name"]
    assert (saved["reviewer"] == "consultant").all()


# ---------------------------------------------------------------- coverage and draft


def test_coverage_and_draft_dataset(sample, items):
    _, _, local = sample
    matches = matching.match(local.items, items)
    boroughs = sorted(local.items["la_code_ons"].unique())
    matrix = coverage.coverage_matrix(matches, items, boroughs)
    assert matrix.shape == (len(boroughs), len(items))
    by_agency = coverage.coverage_by(matrix, items, "agency")
    assert by_agency.index[0] == "voluntary_sector"
    assert by_agency.index[-1] == "childrens_social_care"
    assert {"CSC14", "VOL01", "LSCB09"} <= set(coverage.never_collected(matrix))

    k = coverage.default_min_boroughs(len(boroughs))
    selection = coverage.draft_selection(items, coverage.boroughs_collecting(matrix), k)
    assert (
        selection.loc[selection["in_draft"] & (selection["tier"] == "core"), "boroughs"].ge(k).all()
    )
    essential = items.index[items["essential"]]
    assert selection.loc[essential, "in_draft"].all()
    draft = coverage.draft_datamodel(
        load_datamodel(config.CANDIDATE_VERSION),
        selection,
        k,
        len(boroughs),
        "2007-12-31",
        "1.1-draft",
    )
    assert validate_datamodel(yaml.safe_load(yaml.safe_dump(draft_dict(draft)))) == []
    assert set(draft.items.index) == set(selection.index[selection["in_draft"]])


def draft_dict(dm):
    from lscb_nb.core.datamodel import to_dict

    return to_dict(dm)


def test_prepare_mapping_writes_the_draft_version(sample):
    project, truth, _ = sample
    summary = prepare_mapping(project)
    assert summary["replied"] == len(truth["replied"])
    folder = project.datamodel_dir
    draft = load_datamodel("1.1-draft", folder)
    assert draft.meta["based_on"] == config.CANDIDATE_VERSION
    assert f"at least {summary['min_boroughs']}" in draft.meta["description"]
    saved = json.loads((mapping_dir(project) / "summary.json").read_text())
    assert saved["draft_items"] == len(draft.items)


def test_coverage_heatmap_names_items_in_words_legibly_with_a_key():
    import matplotlib.pyplot as plt

    from lscb_nb.core import display
    from lscb_nb.mapping import figures

    items = pd.DataFrame(
        {
            "title": [
                "Referrals to children's social care",
                "Children subject of a child protection plan at the end of the quarter",
                "Reports of missing children",
            ],
            "agency": ["childrens_social_care", "childrens_social_care", "police"],
            "theme": ["referral_and_assessment", "child_protection", "youth_justice"],
        },
        index=pd.Index(["CSC01", "CSC17", "POL03"], name="item_id"),
    )
    matrix = pd.DataFrame(
        [[True, False, False], [True, True, False]],
        index=["E09000007", "E09000008"],
        columns=items.index,
    )
    names = {"E09000007": "Camden", "E09000008": "Croydon"}
    fig = figures.plot_coverage_heatmap(matrix, items, names.get, word="borough")
    fig.canvas.draw()
    labels = [t for ax in fig.axes for t in ax.get_yticklabels() if t.get_text()]
    texts = [t.get_text() for t in labels]
    assert "Referrals to children's social care" in texts
    assert "CSC01" not in texts and all(t.get_fontsize() >= 8 for t in labels)
    long = next(t for t in texts if t.startswith("Children subject"))
    assert long.endswith("…") and len(long) <= 44  # shortened at a word
    # One panel per agency, and both kinds of cell in the key.
    assert len(fig.axes) == 2
    key = [t.get_text() for t in fig.legends[0].get_texts()]
    assert key == ["collected already", "not collected"]
    alt = display.figure_alt(fig)
    assert "3 candidate items" in alt and "2 boroughs" in alt
    assert "3 of 6 cells (50%)" in alt
    assert "Reports of missing children" in alt  # collected by none, named in words
    plt.close(fig)


@pytest.mark.parametrize(
    "header",
    [
        ["Item name", "Definition", "Source", "Frequency"],
        ["KPI", "Counting rules", "Data source", "Periodicity"],
        ["Indicator title:", "Description", "Lead agency"],
        ["Performance measure", "Technical definition", "Owner", "Reported to board"],
    ],
)
def test_headers_as_boroughs_write_them_are_found(header):
    from lscb_nb.mapping.localdata import find_header

    rows = [["Leeds local dataset 2025"], [], header, ["Referrals", "as counted", "CSC", "monthly"]]
    found = find_header(rows)
    assert found is not None and found[0] == 2
    assert found[1]["local_name"] == 0 and found[1]["local_definition"] == 1


def test_a_title_row_is_not_taken_for_the_header():
    from lscb_nb.mapping.localdata import find_header

    assert find_header([["Name", "Leeds"], ["Referrals", "monthly"]]) is None


@pytest.mark.parametrize("sep", [";", "\t", "|", ","])
def test_a_catalogue_csv_is_read_whatever_its_separator(tmp_path, sep):
    """Excel in many locales saves CSVs with semicolons; a comma inside a definition
    must not be taken for the separator."""
    from lscb_nb.mapping import localdata

    rows = [
        ["KPI", "Definition", "Data source", "Periodicity"],
        ["Referrals", "Referrals to CSC, accepted", "Mosaic", "Monthly"],
        ["Children in care", "CLA at month end", "Mosaic", "Monthly"],
    ]
    text = "\n".join(sep.join(f'"{c}"' if sep == "," and "," in c else c for c in r) for r in rows)
    (tmp_path / "Camden.csv").write_text(text + "\n", encoding="utf-8")
    local = localdata.read_local_datasets(tmp_path)
    assert local.items["local_name"].tolist() == ["Referrals", "Children in care"]
    assert local.items["local_definition"].iloc[0] == "Referrals to CSC, accepted"


def test_the_heatmap_text_names_the_darkest_and_lightest_panels_from_the_data():
    """The sentence under the coverage heatmap says which agency's items are most and
    least collected in this project, not what the sample happens to show."""
    from lscb_nb.mapping import sections

    items = pd.DataFrame(
        {
            "title": ["Referrals", "CP plans", "Missing children", "Youth offending"],
            "agency": ["childrens_social_care", "childrens_social_care", "police", "youth_justice"],
            "theme": ["referral_and_assessment", "child_protection", "youth_justice", "other"],
        },
        index=pd.Index(["CSC01", "CSC17", "POL03", "YJS01"], name="item_id"),
    )
    # the police collect everywhere, children's social care hardly at all
    matrix = pd.DataFrame(
        [[False, False, True, True], [True, False, True, False]],
        index=["E08000001", "E08000006"],
        columns=items.index,
    )
    by_agency, _ = coverage.coverage_tables(matrix, items)
    text = sections.panel_contrast(by_agency)
    darkest, lightest = text.split("the lightest")
    assert "Police" in darkest and "100%" in darkest
    assert "social care" in lightest.lower()
    same = pd.DataFrame(True, index=matrix.index, columns=items.index)
    assert sections.panel_contrast(coverage.coverage_tables(same, items)[0]) == ""


def test_the_draft_keeps_the_denominator_of_every_rate_it_keeps(items):
    """A rate kept without its denominator could not be computed: when only CSC32
    (care leavers in education, employment or training) is collected widely, its
    denominator (care leavers reaching 19, 20 or 21) goes into the draft with why."""
    rate = next(
        i for i, d in items["denominator_item"].dropna().items() if not items.at[d, "essential"]
    )
    den = items.at[rate, "denominator_item"]
    counts = pd.Series(0, index=items.index)
    counts[rate] = 3
    selection = coverage.draft_selection(items, counts, 2, priority_themes=())
    assert selection.at[rate, "in_draft"] and selection.at[rate, "tier"] == "core"
    assert selection.at[den, "in_draft"] and selection.at[den, "tier"] == "develop"
    assert selection.at[den, "reason"].startswith(f"the denominator of {rate}")
    # every kept item's denominator is kept, so the draft keeps the link
    kept = selection.index[selection["in_draft"]]
    needed = items.loc[kept, "denominator_item"].dropna()
    assert needed.isin(kept).all()
    draft = coverage.draft_datamodel(
        load_datamodel(config.CANDIDATE_VERSION), selection, 2, 3, "2007-12-31", "1.1-draft"
    )
    assert draft.items.at[rate, "denominator_item"] == den
