"""The plan in project.yaml (lscb_nb/core/plan.py) and where each task stands on a date
(lscb_nb.core.plan_status.py): done on time or late, late by so many days, due
soon, on track; the next milestone and what blocks it; and the checks a schema
cannot make."""

from __future__ import annotations

import re
from datetime import date

import pytest

from lscb_nb.core import plan_status
from lscb_nb.core.plan import read_plan
from lscb_nb.core.project import PROJECT_FILE, ProjectError, load_project
from lscb_nb.core.workspace import init_project
from lscb_nb.output import status

PLAN = """
plan:
  start: 2026-07-13
  tasks:
    - name: "Phase 1: mapping and the draft dataset"
      due: 2026-09-04
      owner: Consultant
      phase: "01"
    - name: "Outline data model at the conference"
      due: 2026-10-20
      owner: Chair
      done: 2026-10-22
    - name: "Phase 3: pilot evaluation"
      due: 2027-03-31
      owner: Consultant
      phase: 3
  meetings: [2026-07-13, 2026-08-10, 2026-09-07]
"""


@pytest.fixture
def project(tmp_path):
    init_project(tmp_path / "p", name="Plan test")
    path = tmp_path / "p" / PROJECT_FILE
    path.write_text(path.read_text() + PLAN)
    return load_project(tmp_path / "p")


def test_the_plan_is_read_with_its_dates_and_unquoted_phase_numbers(project):
    plan = read_plan(project.settings)
    assert plan.start == date(2026, 7, 13)
    assert [t.phase for t in plan.tasks] == ["01", None, "03"]
    assert plan.next_meeting(date(2026, 8, 11)) == date(2026, 9, 7)
    assert plan.previous_meeting(date(2026, 9, 7)) == date(2026, 8, 10)
    assert plan.previous_meeting(date(2026, 7, 13)) == date(2026, 7, 13)  # the start


def test_each_task_stands_as_it_did_on_the_day(project):
    on = {s.task.name[:7]: s for s in plan_status.standings(project, date(2026, 9, 7))}
    assert on["Phase 1"].state == plan_status.LATE and on["Phase 1"].days_late == 3
    assert on["Phase 1"].text == "late by 3 days"
    assert any("phase1_catalogues" in b for b in on["Phase 1"].blockers)
    assert on["Outline"].state == plan_status.ON_TRACK
    early = {s.task.name[:7]: s for s in plan_status.standings(project, date(2026, 8, 25))}
    assert early["Phase 1"].state == plan_status.DUE_SOON
    late = {s.task.name[:7]: s for s in plan_status.standings(project, date(2026, 11, 1))}
    assert late["Outline"].state == plan_status.DONE
    assert late["Outline"].text == "done 2026-10-22, 2 days late"


def test_status_prints_the_plan_with_the_next_milestone_and_its_blocker(project):
    found = status.project_status(project)["plan"]
    assert found["next_milestone"]["name"] == "Phase 1: mapping and the draft dataset"
    text = "\n".join(plan_status.format_plan(plan_status.plan_status(project, date(2026, 9, 7))))
    assert "2026-09-04  Phase 1: mapping and the draft dataset (Consultant): late by 3 days" in text
    assert "next milestone: Phase 1: mapping and the draft dataset, due 2026-09-04" in text
    assert "blocked by: No files in data/raw/phase1_catalogues/" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('phase: "01"', 'phase: "07"'), "phase '07' is not a phase"),
        (("due: 2026-09-04", "due: 2026-06-01"), "comes before the plan's start 2026-07-13"),
        (("2026-08-10, 2026-09-07", "2026-09-07, 2026-08-10"), "earliest first"),
        (("      owner: Chair\n", ""), "'owner' is a required property"),
        (("due: 2026-09-04", "due: 4 September"), "'4 September'"),
    ],
)
def test_a_wrong_plan_is_refused_naming_the_key_and_the_value(project, change, message):
    path = project.root / PROJECT_FILE
    path.write_text(path.read_text().replace(*change))
    with pytest.raises(ProjectError, match=re.escape(message)):
        load_project(project.root)


def test_init_writes_a_commented_example_plan_in_the_phases_order(tmp_path):
    init_project(tmp_path / "q", name="Q")
    text = (tmp_path / "q" / PROJECT_FILE).read_text()
    example = re.findall(r'(?m)^#       phase: "(\d+)"$', text)
    assert example == ["01", "02", "03", "04"]
    uncommented = re.sub(r"(?m)^# (plan:|  )", r"\1", text)
    uncommented = uncommented.replace("\n#   ", "\n  ")
    (tmp_path / "q" / PROJECT_FILE).write_text(uncommented)
    plan = read_plan(load_project(tmp_path / "q").settings)
    assert len(plan.tasks) == 5 and plan.meetings[0] == plan.start


def test_a_phase_report_says_its_milestone_and_what_the_next_phase_needs(project):
    from lscb_nb.core import nextsteps
    from lscb_nb.core.board import Finding

    text = nextsteps.milestone(project, "mapping", date(2026, 9, 7))
    assert text == (
        "The milestone 'Phase 1: mapping and the draft dataset' was due 2026-09-04; "
        "it is not met yet, 3 days late on 2026-09-07."
    )
    assert "sets no milestone for Phase 2" in nextsteps.milestone(project, "02", date(2026, 9, 7))
    found = [Finding("A.", "x", ask="Chase Camden."), None, Finding("B.", "y", ask="Chase Camden.")]
    steps = nextsteps.steps(project, "mapping", found)
    assert steps[0] == "Chase Camden." and len(steps) == 2
    assert steps[1].startswith("Phase 2: Assessment needs its inputs: No files in data/raw/")
