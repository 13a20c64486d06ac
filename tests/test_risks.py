"""The risks and issues log (lscb_nb/core/risks.py): the consultant's rows survive every
toolkit write byte for byte, the toolkit's own rows are keyed so a re-run updates
them, a finding that no longer holds is closed rather than deleted, and a bad row is
reported with its file, row, column and reason."""

from __future__ import annotations

from datetime import date

import pytest

from lscb_nb.core.risks import COLUMNS, TOOLKIT, Entry, RiskLogError, merge, read_log, update_log

HEADER = ",".join(COLUMNS) + "\r\n"
# A quoted field running over two lines, a doubled quote, markup, CRLF line endings
# and a blank source (the consultant's): everything a spreadsheet export might hold.
CONSULTANT = (
    'R1,risk,"Pilots may not release staff, ""busy"" winter\nsecond line",medium,high,'
    "Chair,Ask directors,open,2026-07-13,2026-07-13,\r\n"
    "R2,issue,<b>Data sharing</b> agreement unsigned,,medium,Lead,Escalate,open,"
    "2026-08-01,2026-08-02,consultant\r\n"
)


def _found(days: int = 40) -> Entry:
    return Entry(
        id="T-overdue-E09000007",
        type="issue",
        description=f"Camden: 1 return overdue, {days} days past the deadline.",
        impact="high",
        owner="Project Co-ordinator",
        mitigation="Chase Camden.",
        source=TOOLKIT,
    )


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "risks.csv"
    path.write_bytes((HEADER + CONSULTANT).encode())
    return path


def test_toolkit_entries_are_added_after_the_consultants_rows_left_byte_for_byte(log_file):
    log = update_log(log_file, [_found()], date(2026, 9, 7))
    data = log_file.read_bytes()
    assert data.startswith((HEADER + CONSULTANT).encode())
    added = data[len(HEADER + CONSULTANT) :].decode()
    assert added.startswith("T-overdue-E09000007,issue,") and added.endswith("toolkit\r\n")
    assert [e.id for e in log.entries] == ["R1", "R2", "T-overdue-E09000007"]
    assert [e.source for e in log.entries] == ["consultant", "consultant", "toolkit"]
    assert log.entries[0].description == 'Pilots may not release staff, "busy" winter\nsecond line'


def test_a_rerun_updates_its_own_entry_keeps_its_raised_date_and_closes_what_no_longer_holds(
    log_file,
):
    update_log(log_file, [_found(40)], date(2026, 9, 7))
    same = update_log(log_file, [_found(40)], date(2026, 9, 14))
    assert len(same.entries) == 3 and same.entries[2].updated == "2026-09-07"  # unchanged
    later = update_log(log_file, [_found(47)], date(2026, 9, 14))
    entry = later.entries[2]
    assert (entry.raised, entry.updated) == ("2026-09-07", "2026-09-14")
    assert "47 days" in entry.description
    gone = update_log(log_file, [], date(2026, 10, 12))
    assert [e.status for e in gone.entries] == ["open", "open", "closed"]
    assert gone.entries[2].updated == "2026-10-12"
    assert log_file.read_bytes().startswith((HEADER + CONSULTANT).encode())


def test_an_id_the_consultant_took_over_is_never_written_by_the_toolkit(tmp_path):
    mine = (
        "T-overdue-E09000007,issue,Camden agreed to send by Friday,,low,Me,Wait,monitoring,"
        "2026-09-07,2026-09-10,consultant\n"
    )
    path = tmp_path / "risks.csv"
    path.write_text(",".join(COLUMNS) + "\n" + mine)
    text, entries = merge(read_log(path), [_found()], date(2026, 9, 14))
    assert text == ",".join(COLUMNS) + "\n" + mine
    assert [e.description for e in entries] == ["Camden agreed to send by Friday"]


def test_severity_ranks_likelihood_by_impact_and_issues_count_as_happened():
    risk = Entry("A", "risk", "x", impact="high", likelihood="low")
    issue = Entry("B", "issue", "y", impact="medium")
    assert (risk.score, risk.severity) == (3, "medium")
    assert (issue.score, issue.severity) == (6, "high")


def test_bad_rows_are_reported_all_at_once_with_file_row_column_and_reason(tmp_path):
    path = tmp_path / "risks.csv"
    path.write_text(
        ",".join(COLUMNS)
        + "\nR1,threat,x,low,high,,,open,2026-07-13,,\nR2,risk,y,low,huge,,,open,13/07/2026,,\n"
        + "R1,risk,z,low,low,,,open,2026-07-13,,\n"
    )
    with pytest.raises(RiskLogError) as err:
        read_log(path)
    message = str(err.value)
    assert f"{path}, row 2, column type: 'threat' is not one of risk, issue." in message
    assert "row 3, column impact: 'huge'" in message
    assert "row 3, column raised: '13/07/2026' is not a date" in message
    assert "row 4, column id: 'R1' is also row 2." in message


def test_a_log_without_the_documented_columns_is_refused(tmp_path):
    path = tmp_path / "risks.csv"
    path.write_text("id,type,description,impact,status,raised\nR1,risk,x,low,open,2026-07-13\n")
    with pytest.raises(RiskLogError, match="lacks the column"):
        read_log(path)


def test_no_log_and_nothing_found_writes_nothing(tmp_path):
    path = tmp_path / "risks.csv"
    assert update_log(path, [], date(2026, 9, 7)).entries == ()
    assert not path.exists()
