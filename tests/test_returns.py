"""The returns reader: every defect is reported against its cell, every row is
accepted or quarantined, and an unreadable file does not stop the others."""

from __future__ import annotations

import io
import os

import msoffcrypto
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lscb_nb.core import values
from lscb_nb.core.returnformat import RETURN_CSV_COLUMNS
from lscb_nb.pilot import returns, template

CAMDEN = {"la_code_ons": "E09000007", "la_code_dfe": 202, "la_name": "Camden"}


def _csv(path, rows):
    frame = pd.DataFrame(rows, columns=RETURN_CSV_COLUMNS)
    frame.to_csv(path, index=False)
    return path


def _row(
    item,
    num="",
    den="",
    la="E09000007",
    dfe="202",
    name="Camden",
    tp="202425",
    ti="Financial year Q1",
    value="",
    note="",
):
    return [tp, ti, "Local authority", la, dfe, name, item, num, den, value, note]


def _read(paths, tiny_items, tiny_rules, tiny_authorities, **kw):
    return returns.read_returns(paths, tiny_items, tiny_rules, tiny_authorities, "test", **kw)


def _codes(result):
    return result.issues.groupby("rule_code").size().to_dict()


def test_clean_csv_is_accepted_with_values(
    tmp_path, tiny_items, tiny_rules, tiny_authorities, tiny_population
):
    path = _csv(
        tmp_path / "camden.csv",
        [
            _row("CSC01", "120"),
            _row("CSC02", "12", "60"),
            _row("CSC03", "10"),
            _row("CSC04", "8"),
            _row("HLT01", "50"),
        ],
    )
    res = _read([path], tiny_items, tiny_rules, tiny_authorities, population=tiny_population)
    assert res.issues.empty
    assert len(res.accepted) == 5 and res.quarantined.empty
    acc = res.accepted.set_index("item_id")
    assert acc.loc["CSC02", "value"] == pytest.approx(20.0)
    # rate per 10,000 uses the mid-year population of the year the financial year starts
    assert acc.loc["HLT01", "value"] == pytest.approx(50 / 35_276 * 10_000)
    assert acc.loc["CSC01", "period"] == "2024-25 Q1"
    assert res.reconciles()


def test_each_defect_is_reported_at_its_cell_and_quarantined(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    rows = [
        _row("CSC01", "twelve"),  # V01 text in number (line 2)
        _row("CSC02", "70", "60"),  # V03 numerator > denominator (3)
        _row("CSC03", "-4"),  # V02 negative (4)
        _row("CSC99", "5"),  # R01 unknown item (5)
        _row("CSC01", "5", la="E09000099"),  # R02 unknown authority (6)
        _row("CSC01", "5", la="E09000002"),  # R03 code says B&D, name Camden (7)
        _row("CSC01", "5", ti="Financial year Q5"),  # R04 bad period (8)
        _row("CSC04", "9", tp="202324"),  # fine (9)
        _row("CSC04", "9", tp="202324"),  # R06 exact duplicate (10)
        _row("CSC02", "5"),  # V05 no denominator (11)
    ]
    res = _read([_csv(tmp_path / "r.csv", rows)], tiny_items, tiny_rules, tiny_authorities)
    where = {(r.rule_code, r.row, r.column) for r in res.issues.itertuples()}
    expected = {
        ("V01", 2, "numerator"),
        ("V03", 3, "numerator"),
        ("V02", 4, "numerator"),
        ("R01", 5, "item_id"),
        ("R02", 6, "new_la_code"),
        ("R03", 7, "old_la_code"),
        ("R04", 8, "time_period"),
        ("R06", 10, "item_id"),
        ("V05", 11, "denominator"),
    }
    assert expected <= where
    assert set(res.issues["file"]) == {"r.csv"}
    assert sorted(res.quarantined["source_row"]) == [2, 3, 4, 5, 6, 7, 8, 10, 11]
    assert res.accepted["source_row"].tolist() == [9]
    assert res.reconciles()
    msg = res.issues.set_index("rule_code").loc["V01", "message"]
    assert "twelve" in msg


def test_conflicting_duplicates_are_all_quarantined(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    path = _csv(tmp_path / "d.csv", [_row("CSC01", "10"), _row("CSC01", "11")])
    res = _read([path], tiny_items, tiny_rules, tiny_authorities)
    assert len(res.quarantined) == 2 and res.accepted.empty
    assert (res.issues["rule_code"] == "R06").sum() == 2


def test_suppression_codes_are_states_with_reasons(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    path = _csv(
        tmp_path / "s.csv",
        [_row("CSC01", "c"), _row("CSC03", "<5"), _row("CSC04", "n/a"), _row("CSC02", "3", "*")],
    )
    res = _read([path], tiny_items, tiny_rules, tiny_authorities)
    assert res.issues.empty
    acc = res.accepted.set_index("item_id")
    assert acc.loc["CSC01", "numerator_state"] == values.SUPPRESSED
    assert acc.loc["CSC03", "numerator_reason"] == "suppressed small number (<5)"
    assert acc.loc["CSC04", "numerator_state"] == values.NOT_AVAILABLE
    assert acc.loc["CSC02", "value_state"] == values.SUPPRESSED
    assert acc["value"].isna().all()


def test_cross_item_query_is_kept_and_flagged(tmp_path, tiny_items, tiny_rules, tiny_authorities):
    path = _csv(tmp_path / "x.csv", [_row("CSC03", "5"), _row("CSC04", "9")])
    res = _read([path], tiny_items, tiny_rules, tiny_authorities)
    assert res.issues["rule_code"].tolist() == ["XR01"]
    assert res.issues["severity"].tolist() == ["query"]
    assert len(res.accepted) == 2
    assert res.accepted.set_index("item_id").loc["CSC04", "issue_codes"] == "XR01"


def test_a_row_with_several_issues_lists_each_code_once_in_code_order(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    # CSC04: "1,234" is read as 1234 (V10), the value given differs (V06) and it is
    # above the conferences held (XR01): three queries, so the row is kept.
    path = _csv(tmp_path / "m.csv", [_row("CSC03", "5"), _row("CSC04", "1,234", value="3")])
    res = _read([path], tiny_items, tiny_rules, tiny_authorities)
    assert sorted(res.issues["rule_code"]) == ["V06", "V10", "XR01"]
    acc = res.accepted.set_index("item_id")
    assert acc.loc["CSC04", "issue_codes"] == "V06;V10;XR01"
    assert acc.loc["CSC03", "issue_codes"] == ""


def test_cross_item_rules_compare_items_within_each_return_of_many_files(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    """Many files are checked as one frame: each return's items are compared with
    its own, never with another authority's or quarter's, and the message quotes
    both figures."""
    paths = [
        _csv(tmp_path / "a.csv", [_row("CSC03", "5"), _row("CSC04", "9")]),
        # 6 plans, 7 conferences: fine, though 6 is above a.csv's 5 in another quarter
        _csv(
            tmp_path / "b.csv", [_row("CSC03", "7", tp="202324"), _row("CSC04", "6", tp="202324")]
        ),
        _csv(
            tmp_path / "c.csv",
            [
                _row("CSC03", "1", la="E09000002", dfe="301", name="Barking and Dagenham"),
                _row("CSC04", "4", la="E09000002", dfe="301", name="Barking and Dagenham"),
            ],
        ),
    ]
    res = _read(paths, tiny_items, tiny_rules, tiny_authorities)
    xr = res.issues.loc[res.issues["rule_code"] == "XR01"]
    assert set(res.issues["rule_code"]) == {"XR01"}
    assert xr[["file", "row", "item_id"]].values.tolist() == [
        ["a.csv", 3, "CSC04"],
        ["c.csv", 3, "CSC04"],
    ]
    assert xr["message"].tolist() == [
        "XR01: Plans started should not exceed conferences held. (CSC04 = 9, CSC03 = 5)",
        "XR01: Plans started should not exceed conferences held. (CSC04 = 4, CSC03 = 1)",
    ]


def test_a_population_with_no_period_read_does_not_stop_ingestion(
    tmp_path, tiny_items, tiny_rules, tiny_authorities, tiny_population
):
    """Every row's period unreadable, or no row read at all: nothing to look a
    population up for, and the rows are still accounted for."""
    bad = _csv(tmp_path / "bad.csv", [_row("CSC01", "5", ti="Financial year Q5")])
    (tmp_path / "empty.csv").write_text("")
    paths = [bad, tmp_path / "empty.csv"]
    for read in (paths, paths[1:]):
        res = _read(read, tiny_items, tiny_rules, tiny_authorities, population=tiny_population)
        assert res.reconciles() and res.accepted.empty
    assert res.files["status"].tolist() == ["unreadable"]
    assert res.issues["rule_code"].tolist() == ["F04"]
    res = _read([bad], tiny_items, tiny_rules, tiny_authorities, population=tiny_population)
    assert res.issues["rule_code"].tolist() == ["R04"]
    assert res.quarantined["source_row"].tolist() == [2]


def test_expected_periods_reject_others(tmp_path, tiny_items, tiny_rules, tiny_authorities):
    path = _csv(tmp_path / "p.csv", [_row("CSC01", "5", tp="201920")])
    res = _read(
        [path],
        tiny_items,
        tiny_rules,
        tiny_authorities,
        expected_periods=["2024-25 Q1", "2024-25 Q2"],
    )
    assert res.issues["rule_code"].tolist() == ["R05"]
    assert len(res.quarantined) == 1


def test_template_round_trips_through_the_reader(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    filled = pd.DataFrame(
        {
            "numerator": [100, "c", 7, 6, 40],
            "denominator": [None, 20, None, None, None],
            "note": ["", "", "", "new system", ""],
        },
        index=tiny_items.index,
    )
    path = tmp_path / "camden.xlsx"
    template.write_return_template(
        path, tiny_items, CAMDEN, "2024-25 Q2", "test", values=filled, synthetic=True
    )
    res = _read([path], tiny_items, tiny_rules, tiny_authorities)
    assert res.issues.empty, res.issues
    acc = res.accepted.set_index("item_id")
    assert len(acc) == 5
    assert set(acc["period"]) == {"2024-25 Q2"} and set(acc["la_code_ons"]) == {"E09000007"}
    assert acc.loc["CSC01", "numerator"] == 100
    assert acc.loc["CSC02", "numerator_state"] == values.SUPPRESSED
    assert acc.loc["CSC04", "note"] == "new system"
    assert set(acc["source_sheet"]) == {"Children's social care", "Health"}
    # provenance points at the cell's real row in the sheet
    assert acc["source_row"].min() == template.HEADER_ROW + 1


def test_blank_template_is_all_missing_not_lost(tmp_path, tiny_items, tiny_rules, tiny_authorities):
    path = tmp_path / "blank.xlsx"
    template.write_return_template(path, tiny_items, CAMDEN, "2024-25 Q1", "test")
    res = _read([path], tiny_items, tiny_rules, tiny_authorities)
    assert len(res.accepted) == len(tiny_items)
    assert (res.accepted["numerator_state"] == values.MISSING).all()


def test_unreadable_files_get_one_clear_error_each(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    _csv(tmp_path / "good.csv", [_row("CSC01", "5")])
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "notexcel.xlsx").write_text("<html>this is a web page</html>")
    (tmp_path / "wrongcols.csv").write_text("a,b\n1,2\n")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4")
    wb_path = tmp_path / "plain.xlsx"
    template.write_return_template(wb_path, tiny_items, CAMDEN, "2024-25 Q1", "test")
    encrypted = tmp_path / "locked.xlsx"
    office = msoffcrypto.OfficeFile(io.BytesIO(wb_path.read_bytes()))
    with encrypted.open("wb") as out:
        office.encrypt("secret", out)
    wb_path.unlink()
    paths = returns.find_return_files(tmp_path)
    res = _read(paths, tiny_items, tiny_rules, tiny_authorities, root=tmp_path)
    by_file = res.issues.set_index("file")["rule_code"].to_dict()
    assert by_file == {
        "empty.csv": "F04",
        "notexcel.xlsx": "F01",
        "wrongcols.csv": "F03",
        "scan.pdf": "F01",
        "locked.xlsx": "F02",
    }
    status = res.files.set_index("file")["status"]
    assert status.to_dict() == {
        "good.csv": "read",
        "empty.csv": "unreadable",
        "notexcel.xlsx": "unreadable",
        "locked.xlsx": "unreadable",
        "wrongcols.csv": "not a return",
        "scan.pdf": "not a return",
    }
    assert len(res.accepted) == 1


def test_ingest_writes_atomically_and_is_idempotent(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    raw = tmp_path / "raw"
    raw.mkdir()
    _csv(raw / "a.csv", [_row("CSC01", "5"), _row("CSC03", "x1")])
    before = (raw / "a.csv").read_bytes()
    out = tmp_path / "processed" / "returns"
    first = returns.ingest_returns(raw, out, tiny_items, tiny_rules, tiny_authorities, "test")
    snapshot = {p.name: p.read_bytes() for p in out.iterdir()}
    second = returns.ingest_returns(raw, out, tiny_items, tiny_rules, tiny_authorities, "test")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == snapshot
    assert (raw / "a.csv").read_bytes() == before  # raw inputs are never modified
    assert len(first.accepted) == len(second.accepted) == 1
    loaded = returns.load_processed(out)
    assert len(loaded.quarantined) == 1
    # out is a link to one complete version; nothing half-written is left beside it
    assert out.is_symlink()
    left = sorted(p.name for p in out.parent.iterdir())
    assert left == [".returns.versions", "returns"]
    versions = list((out.parent / ".returns.versions").iterdir())
    assert len(versions) == 2 and all((v / ".complete").exists() for v in versions)


_cell = st.one_of(
    st.integers(-50, 10_000).map(str),
    st.sampled_from(["c", "x", "<5", "*", "..", "", "n/a"]),
    st.text(alphabet="abcxyz ,.-£%", max_size=5),
)
_row_strategy = st.tuples(
    st.sampled_from(["CSC01", "CSC02", "CSC03", "CSC04", "HLT01", "csc01", "ZZZ9", ""]),
    _cell,
    _cell,
    st.sampled_from(["E09000007", "E09000002", "E09000099", "", "e09000007"]),
    st.sampled_from(["202425", "202324", "2024", "", "abc"]),
    st.sampled_from(["Financial year Q1", "Financial year Q3", "Q2", ""]),
)


@pytest.mark.slow  # a property, fuzz or real-data test: the slow lane
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_row_strategy, min_size=1, max_size=25))
def test_malformed_csv_never_loses_a_row(
    tmp_path_factory, tiny_items, tiny_rules, tiny_authorities, rows
):
    folder = tmp_path_factory.mktemp("prop")
    path = _csv(
        folder / "m.csv",
        [
            _row(item, num, den, la=la, dfe="", name="", tp=tp, ti=ti)
            for item, num, den, la, tp, ti in rows
        ],
    )
    res = _read([path], tiny_items, tiny_rules, tiny_authorities)
    assert res.rows_read == len(rows)
    assert res.reconciles()
    # every quarantined row has at least one error against it
    quarantined_rows = set(res.quarantined["source_row"])
    error_rows = set(res.issues.loc[res.issues["severity"] == "error", "row"].dropna())
    assert quarantined_rows == error_rows


def test_wrong_code_row_does_not_knock_out_the_real_boroughs_figure(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    camden = _csv(tmp_path / "camden.csv", [_row("CSC01", "100")])
    bd = _csv(
        tmp_path / "bd.csv",
        [_row("CSC01", "7", la="E09000007", dfe="301", name="Barking and Dagenham")],
    )
    res = _read([camden, bd], tiny_items, tiny_rules, tiny_authorities)
    assert res.issues["rule_code"].tolist() == ["R03"]
    assert res.accepted["source_file"].tolist() == ["camden.csv"]


def test_readme_files_are_not_returns(tmp_path):
    (tmp_path / "README_SYNTHETIC.txt").write_text("about these files")
    (tmp_path / "r.csv").write_text("x")
    assert [p.name for p in returns.find_return_files(tmp_path)] == ["r.csv"]


def test_fractional_counts_are_queried_but_fractional_fte_percentages_are_not(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    path = _csv(tmp_path / "f.csv", [_row("CSC01", "10.5"), _row("CSC02", "2.5", "12.5")])
    res = _read([path], tiny_items, tiny_rules, tiny_authorities)
    assert res.issues[["rule_code", "item_id"]].values.tolist() == [["V07", "CSC01"]]
    assert len(res.accepted) == 2


def test_plausible_limit_is_configurable_and_follows_the_items_valid_maximum(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    path = _csv(tmp_path / "p.csv", [_row("CSC01", "5000"), _row("CSC03", "900")])
    relaxed = _read([path], tiny_items, tiny_rules, tiny_authorities)
    assert relaxed.issues.empty
    strict = _read([path], tiny_items, tiny_rules, tiny_authorities, plausible_count=1000)
    assert strict.issues[["rule_code", "item_id"]].values.tolist() == [["V14", "CSC01"]]
    capped = tiny_items.copy()
    capped.at["CSC03", "valid_range"] = {"min": 0, "max": 500}
    res = _read([path], capped, tiny_rules, tiny_authorities)
    # the item's own maximum is its limit: V04 says so, without a second V14
    assert res.issues[["rule_code", "item_id"]].values.tolist() == [["V04", "CSC03"]]


def test_duplicates_compare_text_and_state_and_name_the_other_copy(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    a = _csv(tmp_path / "a.csv", [_row("CSC01", "c"), _row("CSC03", "<5")])
    b = _csv(tmp_path / "b.csv", [_row("CSC01", "x"), _row("CSC03", "*")])
    for path in (a, b):  # sent at the same time: copies, not a correction
        os.utime(path, (1_720_000_000, 1_720_000_000))
    res = _read([a, b], tiny_items, tiny_rules, tiny_authorities)
    r06 = res.issues.loc[res.issues["rule_code"] == "R06"].set_index(["file", "row"])
    assert len(r06) == 4 and res.accepted.empty  # c/x and <5/* are different statements
    assert "b.csv row 2" in r06.loc[("a.csv", 2), "message"]
    assert "a.csv row 3" in r06.loc[("b.csv", 3), "message"]


def test_csv_rows_are_numbered_by_their_line_in_the_file(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    header = ",".join(RETURN_CSV_COLUMNS)
    rows = [",".join(_row(i, "5", note=n)) for i, n in (("CSC01", ""), ("CSC03", '"a\nb"'))]
    text = f"{header}\n\n{rows[0]}\n{rows[1]}\n{','.join(_row('CSC04', 'bad'))}\n"
    path = tmp_path / "l.csv"
    path.write_text(text)
    res = _read([path], tiny_items, tiny_rules, tiny_authorities)
    rows_seen = sorted([*res.accepted["source_row"], *res.quarantined["source_row"]])
    assert rows_seen == [3, 4, 6]  # line 2 blank; the note spans lines 4-5
    assert res.issues[["rule_code", "row"]].values.tolist() == [["V01", 6]]


def test_checking_rows_leaves_the_callers_raw_rows_as_they_were(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    from lscb_nb.pilot import checks, returnfiles

    path = _csv(tmp_path / "r.csv", [_row("csc01", " 5 "), _row("CSC02", "70", "60")])
    raw = returnfiles.read_raw_return(path)
    before = raw.copy()
    accepted, _, issues = checks.check_rows(raw, tiny_items, tiny_rules, tiny_authorities, "test")
    pd.testing.assert_frame_equal(raw, before)
    assert list(accepted["item_id"]) == ["CSC01"] and list(issues["rule_code"]) == ["V03"]
