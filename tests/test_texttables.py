"""Delimited text: pyarrow's reader for plain files, the careful readers for anything odd."""

from __future__ import annotations

import pandas as pd

from lscb_nb.core import texttables


def _is_header(cells: list[str]) -> bool:
    return "item_id" in cells


def _read(path, monkeypatch=None, arrow: bool = True):
    if not arrow:
        monkeypatch.setattr(texttables, "_arrow_records", lambda *a: None)
    return texttables.read_text_table(path, _is_header)


def test_a_plain_file_reads_the_same_with_pyarrow_as_with_pandas(tmp_path, monkeypatch):
    path = tmp_path / "plain.csv"
    path.write_text("note\nitem_id,numerator,value\nCSC01,12,\nCSC02, 7 ,x\n\nCSC03,,3\n")
    fast = _read(path)
    assert texttables._arrow_records("CSC01,12,\n\nCSC02,7,x", 3, ",", 3) is not None
    plain = _read(path, monkeypatch, arrow=False)
    pd.testing.assert_frame_equal(fast.records, plain.records)
    assert list(fast.lines) == list(plain.lines) == [3, 4, 6]  # the blank line is no record
    assert fast.records.iloc[1].tolist() == ["CSC02", " 7 ", "x"]


def test_quotes_and_ragged_lines_leave_pyarrow_for_the_careful_reader(tmp_path):
    assert texttables._arrow_records('CSC01,"1,2",\nCSC02,7,x', 2, ",", 3) is None
    assert texttables._arrow_records("CSC01,12\nCSC02,7,x", 2, ",", 3) is None
    assert texttables._arrow_records("CSC01,12,,\nCSC02,7,x", 2, ",", 3) is None
    path = tmp_path / "quoted.csv"
    path.write_text('item_id,numerator,note\nCSC01,12,"two\nlines"\nCSC02,7,ok\n')
    table = texttables.read_text_table(path, _is_header)
    assert table.records[2].tolist() == ["two lines", "ok"]
    assert list(table.lines) == [2, 4]


def test_repeated_text_is_the_readers_own_text(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("item_id,numerator\nCSC01,12\nCSC02,7\n")
    read = texttables.read_text_table(path, _is_header).records[0]
    stamped = pd.Series(texttables.repeated_text("plain.csv", 2))
    assert stamped.dtype == read.dtype
    assert stamped.tolist() == ["plain.csv", "plain.csv"]
    assert len(texttables.repeated_text("", 0)) == 0
