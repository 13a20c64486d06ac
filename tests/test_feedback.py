"""The list to send back: every missing, rejected and queried figure of one authority
and period with its sheet, cell and reason, an empty agency sheet included; it agrees
with the issue table, and its workbook runs no formula."""

from __future__ import annotations

import pandas as pd
from hostile_cases import BARKING, CAMDEN, PERIOD, csv_row, csv_text
from openpyxl import load_workbook

from lscb_nb.core.inputfiles import list_folder
from lscb_nb.pilot import feedback, returns, template

LA = CAMDEN["la_code_ons"]


def _ingest(folder, tiny_items, tiny_rules, tiny_authorities):
    return returns.read_returns(
        [e.path for e in list_folder(folder)],
        tiny_items,
        tiny_rules,
        tiny_authorities,
        "test",
        expected_periods=[PERIOD, "2024-25 Q2"],
        root=folder,
    )


def _camden_workbook(folder, items):
    """Health left empty, CSC01 not a number, CSC03 blank, CSC04 > CSC03 is fine."""
    values = pd.DataFrame(
        {
            "numerator": ["five", 12, None, 8, None],
            "denominator": [None, 60, None, None, None],
            "note": "",
        },
        index=items.index,
    )
    template.write_return_template(
        folder / "camden.xlsx", items, CAMDEN, PERIOD, "test", values=values
    )


def test_the_list_names_every_figure_to_chase_with_its_cell(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    _camden_workbook(tmp_path, tiny_items)
    res = _ingest(tmp_path, tiny_items, tiny_rules, tiny_authorities)
    got = feedback.feedback_list(res, tiny_items, LA, "Camden", PERIOD)
    by_kind = {k: g for k, g in got.groupby("kind")}
    empty = by_kind["nothing supplied"]
    assert empty[["sheet", "cell"]].values.tolist() == [["Health", "Health"]]
    assert "nothing supplied for Health" in empty.iloc[0]["reason"]
    rejected = by_kind["rejected"]
    assert rejected[["item_id", "cell", "rule_code"]].values.tolist() == [
        ["CSC01", "'Children''s social care'!E7", "V01"]
    ]
    missing = by_kind["missing"]
    assert missing[["item_id", "cell"]].values.tolist() == [
        ["CSC03", "'Children''s social care'!E9"]
    ]  # the empty Health sheet's blank cell is its one 'nothing supplied' line
    assert (got["la_code_ons"] == LA).all() and (got["period"] == PERIOD).all()
    assert (got["file"].isin(["camden.xlsx"])).all()


def test_the_list_and_the_issue_table_agree(tmp_path, tiny_items, tiny_rules, tiny_authorities):
    _camden_workbook(tmp_path, tiny_items)
    rows = [csv_row(i, n, la=BARKING) for i, n in (("CSC01", "5"), ("CSC04", "9"), ("CSC03", "4"))]
    (tmp_path / "other.csv").write_text(csv_text(rows))
    res = _ingest(tmp_path, tiny_items, tiny_rules, tiny_authorities)
    got = feedback.feedback_list(res, tiny_items, LA, "Camden", PERIOD)
    listed = got.loc[got["rule_code"] != ""]
    issues = res.issues.loc[res.issues["file"] == "camden.xlsx"]
    key = ["file", "rule_code", "item_id"]
    assert sorted(map(tuple, listed[key].values.tolist())) == sorted(
        map(tuple, issues[key].fillna("").values.tolist())
    )
    # Barking's query (plans started > conferences held) is on Barking's list only
    barking = feedback.feedback_list(res, tiny_items, "E09000002", "Barking", PERIOD)
    assert set(barking.loc[barking["kind"] == "queried", "rule_code"]) == {"XR01"}
    assert "XR01" not in set(got["rule_code"])
    assert set(barking.loc[barking["kind"] == "missing", "item_id"]) == {"CSC02", "HLT01"}
    assert barking.loc[barking["kind"] == "missing", "reason"].str.startswith("Not in").all()


def test_a_period_with_no_return_lists_every_expected_item(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    _camden_workbook(tmp_path, tiny_items)
    res = _ingest(tmp_path, tiny_items, tiny_rules, tiny_authorities)
    got = feedback.feedback_list(res, tiny_items, LA, "Camden", "2024-25 Q2")
    assert sorted(got["item_id"]) == sorted(tiny_items.index)
    assert got["reason"].str.contains("No return was received for 2024-25 Q2").all()
    assert set(got.loc[got["item_id"] == "HLT01", "sheet"]) == {"Health"}


def test_the_workbook_and_csv_hold_the_list_and_run_no_formula(tmp_path, tiny_items):
    frame = pd.DataFrame(
        [[LA, "Camden", PERIOD, "queried", "CSC01", "Referrals", "a.csv", "", "line 2, note",
          "V16", '=HYPERLINK("http://x","click")']],
        columns=feedback.COLUMNS,
    )  # fmt: skip
    xlsx, csv_path = feedback.write_feedback(frame, tmp_path, LA, PERIOD)
    assert xlsx.name == f"feedback-{LA}-2024-25-Q1.xlsx"
    ws = load_workbook(xlsx).active
    assert [c.value for c in ws[1]][:4] == ["Authority code", "Authority", "Period", "What"]
    reason = ws.cell(row=2, column=len(feedback.COLUMNS))
    assert reason.data_type == "s" and reason.value.startswith("'=")
    text = csv_path.read_text()
    assert "'=HYPERLINK" in text and text.count("\n") == 2
