"""A corrected return supersedes the earlier one: its new cells are accepted, no R06
between a return and its correction, the old file is listed as superseded and every
changed cell is listed (and queried, R08). Also: an agency sheet left empty (F14)
and a subfolder of the returns folder (listed, not read)."""

from __future__ import annotations

import os
from datetime import date

import pandas as pd
from hostile_cases import CAMDEN, PERIOD, csv_row, csv_text
from openpyxl import load_workbook

from lscb_nb.core.inputfiles import list_folder
from lscb_nb.pilot import returns, template
from lscb_nb.pilot.rawrows import cell_address

FIGURES = {"CSC01": (100, None), "CSC02": (12, 60), "CSC03": (10, None), "CSC04": (8, None)}


def _workbook(path, items, figures, sent=None):
    values = pd.DataFrame(
        {
            "numerator": [figures.get(i, (None, None))[0] for i in items.index],
            "denominator": [figures.get(i, (None, None))[1] for i in items.index],
            "note": "",
        },
        index=items.index,
    )
    template.write_return_template(
        path, items, CAMDEN, PERIOD, "test", values=values, date_sent=sent
    )
    return path


def _ingest(folder, tiny_items, tiny_rules, tiny_authorities):
    return returns.read_returns(
        [e.path for e in list_folder(folder)],
        tiny_items,
        tiny_rules,
        tiny_authorities,
        "test",
        expected_periods=[PERIOD],
        root=folder,
    )


def test_a_corrected_workbook_supersedes_the_original_sheet_by_sheet(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    # The original leaves Health blank; the correction fills it and fixes CSC03.
    _workbook(tmp_path / "camden.xlsx", tiny_items, FIGURES, sent=date(2024, 7, 10))
    fixed = {**FIGURES, "CSC03": (11, None), "HLT01": (50, None)}
    _workbook(tmp_path / "camden corrected.xlsx", tiny_items, fixed, sent=date(2024, 7, 20))
    res = _ingest(tmp_path, tiny_items, tiny_rules, tiny_authorities)
    assert res.reconciles()
    assert "R06" not in set(res.issues["rule_code"])
    accepted = res.accepted.set_index("item_id")
    assert accepted.loc["HLT01", "numerator"] == 50  # the newly filled Health figure
    assert accepted.loc["CSC03", "numerator"] == 11
    assert set(accepted["source_file"]) == {"camden corrected.xlsx"}
    files = res.files.set_index("file")
    assert files.loc["camden.xlsx", "outcome"] == "superseded by camden corrected.xlsx"
    assert files.loc["camden.xlsx", "rows_superseded"] == 5
    assert files.loc["camden corrected.xlsx", "outcome"] == ""
    # The changed cells, with their old and new values and where they are
    changes = res.changes.set_index("item_id")
    assert set(changes.index) == {"CSC03", "HLT01"}
    assert changes.loc["HLT01", "old_value"] == "" and changes.loc["HLT01", "new_value"] == "50"
    assert changes.loc["HLT01", "old_state"] == "missing"
    assert changes.loc["HLT01", "cell"] == "Health!E7"
    assert changes.loc["CSC03", "cell"] == "'Children''s social care'!E9"
    assert changes.loc["CSC03", ["old_value", "new_value"]].tolist() == ["10", "11"]
    assert changes.loc["CSC03", "old_file"] == "camden.xlsx"
    # No value changes without an issue row: one R08 query per changed cell
    r08 = res.issues.loc[res.issues["rule_code"] == "R08"]
    assert sorted(r08["item_id"]) == ["CSC03", "HLT01"]
    assert (r08["severity"] == "query").all() and (r08["file"] == "camden corrected.xlsx").all()
    assert r08.set_index("item_id").loc["CSC03", "message"].count("'10'") == 1
    # The original's empty Health sheet was corrected: it is no longer asked for
    assert "F14" not in set(res.issues["rule_code"])


def test_a_blank_sheet_of_the_later_return_supersedes_nothing(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    _workbook(tmp_path / "a.xlsx", tiny_items, {**FIGURES, "HLT01": (50, None)}, date(2024, 7, 1))
    _workbook(tmp_path / "b.xlsx", tiny_items, {"HLT01": (55, None)}, date(2024, 7, 9))
    res = _ingest(tmp_path, tiny_items, tiny_rules, tiny_authorities)
    assert res.reconciles() and "R06" not in set(res.issues["rule_code"])
    accepted = res.accepted.set_index("item_id")
    assert accepted.loc["CSC01", "source_file"] == "a.xlsx"  # b's CSC sheet is blank
    assert accepted.loc["HLT01", "numerator"] == 55
    files = res.files.set_index("file")
    assert files.loc["a.xlsx", "outcome"] == "partly superseded by b.xlsx (1 of 5 rows)"
    assert files.loc["b.xlsx", "outcome"] == "partly superseded by a.xlsx (4 of 5 rows)"
    blank = res.superseded.loc[res.superseded["source_file"] == "b.xlsx"]
    assert blank["superseded_reason"].str.startswith("supplied nothing").all()


def test_csv_rows_are_superseded_row_by_row_by_submission_date_or_file_time(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    first = [csv_row("CSC01", "5"), csv_row("CSC03", "6")]
    later = [csv_row("CSC01", "7"), csv_row("CSC03", "")]  # no figure: supersedes nothing
    (tmp_path / "old.csv").write_text(csv_text(first))
    (tmp_path / "new.csv").write_text(csv_text(later))
    os.utime(tmp_path / "old.csv", (1_720_000_000, 1_720_000_000))
    os.utime(tmp_path / "new.csv", (1_720_086_400, 1_720_086_400))  # a day later
    res = _ingest(tmp_path, tiny_items, tiny_rules, tiny_authorities)
    assert res.reconciles() and "R06" not in set(res.issues["rule_code"])
    accepted = res.accepted.set_index("item_id")
    assert accepted.loc["CSC01", ["numerator", "source_file"]].tolist() == [7, "new.csv"]
    assert accepted.loc["CSC03", ["numerator", "source_file"]].tolist() == [6, "old.csv"]
    assert res.changes[["item_id", "old_value", "new_value", "cell"]].values.tolist() == [
        ["CSC01", "5", "7", "line 2, numerator"]
    ]
    # A stated submission date wins over the file's time: now old.csv says it is later.
    text = csv_text(first).splitlines()
    dated = [text[0] + ",submission_date"] + [line + ",2024-08-01" for line in text[1:]]
    (tmp_path / "old.csv").write_text("\n".join(dated) + "\n")
    res = _ingest(tmp_path, tiny_items, tiny_rules, tiny_authorities)
    assert res.accepted.set_index("item_id").loc["CSC01", "numerator"] == 5


def test_returns_that_cannot_be_ordered_keep_their_r06(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    for name, figure in (("a.csv", "5"), ("b.csv", "6")):
        (tmp_path / name).write_text(csv_text([csv_row("CSC01", figure)]))
        os.utime(tmp_path / name, (1_720_000_000, 1_720_000_000))
    res = _ingest(tmp_path, tiny_items, tiny_rules, tiny_authorities)
    assert res.reconciles()
    assert (res.issues["rule_code"] == "R06").sum() == 2  # conflicting copies, both
    assert res.superseded.empty and res.changes.empty


def test_an_empty_agency_sheet_is_one_query_naming_it(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    _workbook(tmp_path / "camden.xlsx", tiny_items, FIGURES)
    res = _ingest(tmp_path, tiny_items, tiny_rules, tiny_authorities)
    f14 = res.issues.loc[res.issues["rule_code"] == "F14"]
    assert len(f14) == 1
    assert f14.iloc[0]["sheet"] == "Health" and f14.iloc[0]["severity"] == "query"
    assert "nothing supplied for Health" in f14.iloc[0]["message"]
    assert res.files.set_index("file").loc["camden.xlsx", "status"] == "read"


def test_a_subfolder_is_listed_and_not_read(tmp_path, tiny_items, tiny_rules, tiny_authorities):
    (tmp_path / "camden.csv").write_text(csv_text([csv_row("CSC01", "7")]))
    (tmp_path / "superseded").mkdir()
    (tmp_path / "superseded" / "camden old.csv").write_text(csv_text([csv_row("CSC01", "5")]))
    res = _ingest(tmp_path, tiny_items, tiny_rules, tiny_authorities)
    files = res.files.set_index("file")
    assert files.loc["superseded/camden old.csv", "status"] == "not read"
    assert "subfolder 'superseded/'" in files.loc["superseded/camden old.csv", "error"]
    assert files.loc["superseded", "status"] == "not a return"
    assert res.rows_read == 1 and res.accepted["numerator"].tolist() == [7]


def test_the_date_sent_cell_is_read_from_the_instructions_sheet(tmp_path, tiny_items):
    path = _workbook(tmp_path / "c.xlsx", tiny_items, FIGURES, sent=date(2024, 7, 20))
    raw = returns.read_raw_return(path)
    assert set(raw["submission_date"]) == {"2024-07-20"}
    blank = returns.read_raw_return(_workbook(tmp_path / "d.xlsx", tiny_items, FIGURES))
    assert set(blank["submission_date"]) == {""}


def test_a_date_sent_that_is_not_a_date_is_queried_and_the_file_time_used(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    path = _workbook(tmp_path / "c.xlsx", tiny_items, FIGURES)
    wb = load_workbook(path)
    ws = wb["Instructions"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == "Date sent:")
    ws.cell(row=cell.row, column=2).value = "the week after next"
    wb.save(path)
    res = _ingest(tmp_path, tiny_items, tiny_rules, tiny_authorities)
    r09 = res.issues.loc[res.issues["rule_code"] == "R09"]
    assert r09[["sheet", "severity"]].values.tolist() == [["Instructions", "query"]]
    assert "'the week after next'" in r09.iloc[0]["message"]


def test_cell_addresses_name_the_sheet_cell_or_the_csv_line():
    assert cell_address("Health", 9, "numerator", "item_id=A numerator=E") == "Health!E9"
    assert cell_address("Police", 9, "note", "numerator=E") == "Police, row 9, note"
    assert cell_address(None, 4, "numerator") == "line 4, numerator"
