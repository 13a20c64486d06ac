"""Delimited text: one reader (pyarrow's CSV reader) for plain and odd files, each
record with its own line number."""

from __future__ import annotations

import pandas as pd

from lscb_nb.core import texttables


def _is_header(cells: list[str]) -> bool:
    return "item_id" in cells


def test_a_plain_file_keeps_each_records_line_and_its_text_as_written(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("note\nitem_id,numerator,value\nCSC01,12,\nCSC02, 7 ,x\n\nCSC03,,3\n")
    table = texttables.read_text_table(path, _is_header)
    assert list(table.lines) == [3, 4, 6]  # the blank line is no record
    assert table.records.iloc[1].tolist() == ["CSC02", " 7 ", "x"]
    assert table.header_line == 2 and not table.problems


def test_a_plain_and_a_quoted_file_read_the_same(tmp_path):
    plain, quoted = tmp_path / "p.csv", tmp_path / "q.csv"
    plain.write_text("item_id,numerator,note\nCSC01,12,a\nCSC02,7,\n")
    quoted.write_text('item_id,numerator,note\n"CSC01",12,"a"\nCSC02,"7",\n')
    a = texttables.read_text_table(plain, _is_header)
    b = texttables.read_text_table(quoted, _is_header)
    pd.testing.assert_frame_equal(a.records, b.records)
    assert list(a.lines) == list(b.lines) == [2, 3]


def test_a_quoted_line_break_is_kept_exactly_and_lines_still_count(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('item_id,numerator,note\nCSC01,12,"two\nlines"\nCSC02,7,"a, b"\n')
    table = texttables.read_text_table(path, _is_header)
    assert table.records[2].tolist() == ["two\nlines", "a, b"]
    assert list(table.lines) == [2, 4]


def test_an_unbalanced_quote_names_its_line_and_cell_and_the_next_lines_are_read(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text('item_id,numerator,note\nCSC01,12,"never closed\nCSC02,7,ok\nCSC03,1,\n')
    table = texttables.read_text_table(path, _is_header)
    assert [p[:2] for p in table.problems] == [(2, "F10")]
    assert table.problem_cells == {2: "note"}
    assert list(table.lines) == [2, 3, 4]
    assert table.records[0].tolist() == ["CSC01", "CSC02", "CSC03"]


def test_short_and_long_rows_fit_the_header_and_filled_extra_cells_are_reported(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("item_id,numerator,note\nCSC01\nCSC02,7,x,,\nCSC03,1,y,9\n")
    table = texttables.read_text_table(path, _is_header)
    assert table.records.iloc[0].tolist() == ["CSC01", "", ""]
    assert [(p[0], p[1]) for p in table.problems] == [(4, "F12")]


def test_repeated_text_is_the_readers_own_text(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("item_id,numerator\nCSC01,12\nCSC02,7\n")
    read = texttables.read_text_table(path, _is_header).records[0]
    stamped = pd.Series(texttables.repeated_text("plain.csv", 2))
    assert stamped.dtype == read.dtype
    assert stamped.tolist() == ["plain.csv", "plain.csv"]
    assert len(texttables.repeated_text("", 0)) == 0


def test_a_row_of_another_width_keeps_its_quoted_cells_whole(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text('item_id,numerator\n"CSC01, referrals",12,x\nCSC02,7\n')
    table = texttables.read_text_table(path, _is_header)
    assert table.records.iloc[0].tolist() == ["CSC01, referrals", "12"]
    assert [(p[0], p[1]) for p in table.problems] == [(2, "F12")]
    assert texttables.read_text_table(path, _is_header).header == ["item_id", "numerator"]
