"""The steering group's highlight report (issue 26) on a project made with ``init``, not
the sample: a plan with a late task, a risks and issues log the consultant keeps, pilot
returns of which some are overdue, and phases 1 and 2 not started. The report is the
real notebook run by ``lscb-nb highlight``; the assertions are on its HTML, the run's
index and the log file."""

from __future__ import annotations

import csv
import json
import re
from html import unescape
from pathlib import Path

import pytest

from lscb_nb import cli
from lscb_nb.core import phases
from lscb_nb.core.project import PROJECT_FILE, load_project
from lscb_nb.core.risks import COLUMNS, read_log
from lscb_nb.core.workspace import init_project
from lscb_nb.pilot import stage

pytestmark = pytest.mark.notebook

NORTH_EAST = ["E08000021", "E08000037", "E08000024"]  # Newcastle, Gateshead, Sunderland
PLAN = """
plan:
  start: 2025-07-01
  tasks:
    - name: "Phase 1: mapping and the draft dataset"
      due: 2025-09-05
      owner: Consultant
      phase: "01"
    - name: "Phase 3: pilot evaluation"
      due: 2026-03-31
      owner: Consultant
      phase: "03"
  meetings: [2025-07-01, 2025-12-01, 2026-02-02]
"""
CONSULTANT_LOG = (
    ",".join(COLUMNS) + "\r\n"
    'R1,risk,"Pilots may not release staff, ""busy"" winter\nsecond line",medium,high,'
    "Chair,Ask directors,open,2025-07-01,2025-07-01,\r\n"
    "R2,issue,<script>alert(1)</script> sharing agreement unsigned,,medium,Lead,Escalate,"
    "open,2025-08-01,2025-08-01,consultant\r\n"
).encode()


def _return(project, la: str, period: str) -> None:
    """A long-CSV return with a figure for every quarterly item of the candidate."""
    items = phases.load_candidate(project).items
    year, quarter = period.split(" ")
    start = year.split("-")[0]
    rows = [
        {
            "time_period": f"{start}{int(start[2:]) + 1:02d}",
            "time_identifier": f"Financial year {quarter}",
            "new_la_code": la,
            "item_id": item_id,
            "numerator": "12",
            "denominator": "40" if item["unit"] == "percentage" else "",
        }
        for item_id, item in items.iterrows()
        if item["frequency"] != "annual"
    ]
    project.returns.mkdir(parents=True, exist_ok=True)
    with (project.returns / f"{la}_{period.replace(' ', '_')}.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _project(folder: Path, with_plan: bool = True):
    init_project(folder, name="North East dataset pilot")
    text = (folder / PROJECT_FILE).read_text()
    text = re.sub(r"(?m)^area: .*$", 'area: "North East"', text)
    text = re.sub(r"(?m)^authorities: .*$", f"authorities: {NORTH_EAST}", text)
    text = re.sub(r"(?m)^pilots: .*$", f"pilots: {NORTH_EAST}", text)
    text = re.sub(r"(?m)^  (first|last)_period: .*\n", "", text)
    text = text.replace(
        "collection:\n", 'collection:\n  first_period: "2025-26 Q1"\n  last_period: "2025-26 Q2"\n'
    )
    text = re.sub(r"(?m)^  as_of: .*$", "  as_of: 2026-01-31", text)
    (folder / PROJECT_FILE).write_text(text + (PLAN if with_plan else ""))
    (folder / "risks.csv").write_bytes(CONSULTANT_LOG)
    return load_project(folder)


@pytest.fixture(scope="module")
def meeting(tmp_path_factory):
    """Phase 3 prepared with Q1 from every pilot and Q2 from Newcastle only, judged on
    2026-01-31: Gateshead's and Sunderland's Q2 returns are overdue. Two meetings'
    highlight reports written into the same run."""
    project = _project(tmp_path_factory.mktemp("meeting") / "p")
    for la in NORTH_EAST:
        _return(project, la, "2025-26 Q1")
    _return(project, NORTH_EAST[0], "2025-26 Q2")
    stage.prepare_pilot(project)
    # Prepared on 2026-01-20, as `lscb-nb run` stamps a phase it prepares.
    stamp = {"key": "", "prepared_at": "2026-01-20T10:00:00+00:00"}
    (stage.pilot_dir(project) / phases.STAMP_FILE).write_text(json.dumps(stamp))
    run = project.outputs / "run-1"
    phase3 = ["run", "--project", str(project.root), "--phases", "03", "--la", "area"]
    assert cli.main([*phase3, "--no-prepare", "--workers", "1", "--run-name", "run-1"]) == 0
    args = ["highlight", "--project", str(project.root), "--run-dir", str(run)]
    assert cli.main([*args, "--meeting", "2025-12-01", "--as-of", "2025-11-30"]) == 0
    after_first = (project.root / "risks.csv").read_bytes()
    assert cli.main([*args, "--as-of", "2026-01-31"]) == 0  # the next meeting: 2026-02-02
    html = (run / "reports" / "05_highlight__2026-02-02.html").read_text(encoding="utf-8")
    return project, run, html, after_first


def test_the_highlight_report_shows_a_late_task_as_late(meeting):
    _, _, html, _ = meeting
    row = re.search(r"Phase 1: mapping and the draft dataset</th>(.*?)</tr>", html, re.S)
    assert row and "late by 148 days" in row.group(1)  # due 2025-09-05, judged 2026-01-31
    assert "Agree a new date for 'Phase 1: mapping and the draft dataset'" in unescape(html)


def test_it_lists_the_overdue_returns_the_toolkit_logged(meeting):
    project, _, html, _ = meeting
    log = read_log(project.root / "risks.csv")
    overdue = {e.id: e for e in log.entries if e.id.startswith("T-overdue-")}
    assert set(overdue) == {"T-overdue-E08000037", "T-overdue-E08000024"}  # not Newcastle
    assert all(e.source == "toolkit" and e.type == "issue" for e in overdue.values())
    assert "Gateshead: 1 return overdue (2025-26 Q2)" in html
    assert "T-overdue-E08000037" in html and "Chase Gateshead for the missing returns." in html


def test_the_consultants_entries_are_kept_byte_for_byte_and_shown_escaped(meeting):
    project, _, html, after_first = meeting
    data = (project.root / "risks.csv").read_bytes()
    assert data.startswith(CONSULTANT_LOG) and after_first.startswith(CONSULTANT_LOG)
    ids = [e.id for e in read_log(project.root / "risks.csv").entries]
    assert len(ids) == len(set(ids))  # the second meeting updated, never duplicated
    assert "&lt;script&gt;alert(1)&lt;/script&gt; sharing agreement unsigned" in html
    assert "<script>alert" not in html


def test_phases_not_started_are_shown_as_waiting_without_failing(meeting):
    _, _, html, _ = meeting
    assert "No files in data/raw/phase1_catalogues/" in html
    assert "No files in data/raw/phase2_instruments/" in html
    assert "Traceback" not in html


def test_the_index_puts_the_latest_highlight_report_first(meeting):
    _, run, html, _ = meeting
    index = (run / "index.html").read_text(encoding="utf-8")
    latest = index.index("reports/05_highlight__2026-02-02.html")
    earlier = index.index("reports/05_highlight__2025-12-01.html")
    phase3 = index.index("reports/03_pilot_evaluation__area.html")
    assert latest < earlier < phase3
    assert '<a href="03_pilot_evaluation__area.html">Phase 3: Pilot evaluation</a>' in html
    assert 'href="01_mapping__area.html"' not in html  # not in this run: not linked


def test_the_plan_counts_a_phase_done_on_the_day_it_was_prepared(meeting):
    _, run, html, _ = meeting
    row = re.search(r"Phase 3: pilot evaluation</th>(.*?)</tr>", html, re.S)
    assert row and "done 2026-01-20, on time" in row.group(1)
    first = (run / "reports" / "05_highlight__2025-12-01.html").read_text(encoding="utf-8")
    row = re.search(r"Phase 3: pilot evaluation</th>(.*?)</tr>", first, re.S)
    assert row and "on track" in row.group(1)  # not prepared yet as of 2025-11-30


def test_the_phase_report_ends_with_its_milestone_and_next_steps(meeting):
    _, run, _, _ = meeting
    page = unescape((run / "reports" / "03_pilot_evaluation__area.html").read_text())
    tail = page[page.index("Recommended next steps") :]
    assert (
        "The milestone 'Phase 3: pilot evaluation' was due 2026-03-31 and was met: "
        "the phase was ready on 2026-01-20."
    ) in tail
    assert "Agree the refined dataset" in tail  # what the phase's findings ask


def test_a_project_with_no_data_and_no_plan_still_gets_a_report(tmp_path):
    project = _project(tmp_path / "empty", with_plan=False)
    args = ["highlight", "--project", str(project.root), "--meeting", "2026-02-02"]
    assert cli.main([*args, "--run-dir", str(tmp_path / "run")]) == 0
    html = (tmp_path / "run" / "reports" / "05_highlight__2026-02-02.html").read_text()
    assert "The project has no plan yet" in html
    assert "No files in data/raw/phase3_returns/" in html
    assert (project.root / "risks.csv").read_bytes() == CONSULTANT_LOG  # nothing to add
