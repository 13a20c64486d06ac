"""Where each task of the plan stands on a date: done (on time or late), on track, due
soon or late by so many days; the next milestone; and what blocks it.

A task with a ``phase`` is done when that phase's reports are ready, on the day the
phase was prepared (the final report: when every phase it draws on is); a task with a
``done`` date was done that day. Judged "as of" a date (a meeting's, or today), so a
past meeting's highlight report shows the plan as it stood then. ``lscb-nb status``
prints :func:`format_plan`; the highlight report shows :func:`plan_table`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from lscb_nb.core import phases
from lscb_nb.core.labels import counted
from lscb_nb.core.plan import DUE_SOON_DAYS, Plan, Task, read_plan
from lscb_nb.core.project import Project

log = logging.getLogger(__name__)

DONE, LATE, DUE_SOON, ON_TRACK = "done", "late", "due soon", "on track"


@dataclass(frozen=True)
class Standing:
    """One task on one date."""

    task: Task
    state: str  # DONE, LATE, DUE_SOON or ON_TRACK
    done_on: date | None
    days_late: int  # days past due (done late, or not done and past due); 0 otherwise
    blockers: tuple[str, ...]

    @property
    def text(self) -> str:
        """'done 2026-09-01', 'done 2026-09-10, 6 days late', 'late by 12 days', ..."""
        if self.state == DONE:
            late = f", {counted(self.days_late, 'day')} late" if self.days_late else ", on time"
            return f"done {self.done_on}{late}"
        if self.state == LATE:
            return f"late by {counted(self.days_late, 'day')}"
        return self.state


def _stamp_date(project: Project, phase: phases.Phase) -> date | None:
    stamp = phases.stamp(project, phase) or {}
    when = stamp.get("prepared_at")
    if when:
        try:
            return datetime.fromisoformat(when).date()
        except ValueError:
            pass
    return date.today() if phases.is_prepared(project, phase) else None


def phase_done_on(project: Project, key: str) -> date | None:
    """The day a phase's reports became ready: the day it was prepared (a phase that
    writes nothing, the final report: the day the last phase it draws on was)."""
    phase = phases.get(key)
    if phase.writes:
        return _stamp_date(project, phase) if phases.is_prepared(project, phase) else None
    dates = [phase_done_on(project, k) for k in phase.after]
    return None if not dates or None in dates else max(dates)  # type: ignore[type-var]


def blockers(project: Project, task: Task) -> list[str]:
    """What stands between a phase's task and done, in words."""
    if task.phase is None:
        return []
    phase = phases.get(task.phase)
    if phase.writes is None:
        return [
            f"{phases.get(k).title} is not prepared yet"
            for k in phase.after
            if not phases.is_prepared(project, phases.get(k))
        ]
    missing = phases.missing_inputs(project, phase)
    if missing:
        return missing
    if not phases.is_prepared(project, phase):
        return [f"{phase.title} is not prepared yet: run `lscb-nb run --phases {phase.number}`."]
    return []


def standing(project: Project, task: Task, as_of: date) -> Standing:
    """Where ``task`` stands on ``as_of``."""
    done_on = task.done or (phase_done_on(project, task.phase) if task.phase else None)
    if done_on is not None and done_on <= as_of:
        return Standing(task, DONE, done_on, max(0, (done_on - task.due).days), ())
    found = tuple(blockers(project, task))
    if as_of > task.due:
        return Standing(task, LATE, None, (as_of - task.due).days, found)
    state = DUE_SOON if (task.due - as_of).days <= DUE_SOON_DAYS else ON_TRACK
    return Standing(task, state, None, 0, found)


def plan_of(project: Project) -> Plan | None:
    return read_plan(project.settings)


def standings(project: Project, as_of: date) -> list[Standing]:
    """Every task of the plan on ``as_of``, in due order (none without a plan)."""
    plan = plan_of(project)
    return [] if plan is None else [standing(project, t, as_of) for t in plan.tasks]


def next_milestone(found: list[Standing]) -> Standing | None:
    """The first task, by due date, that is not done."""
    return next((s for s in found if s.state != DONE), None)


def plan_status(project: Project, as_of: date) -> dict:
    """The plan on ``as_of`` as plain data (for ``lscb-nb status`` and scripts)."""
    found = standings(project, as_of)
    nxt = next_milestone(found)
    return {
        "as_of": as_of.isoformat(),
        "has_plan": plan_of(project) is not None,
        "tasks": [
            {
                "name": s.task.name,
                "owner": s.task.owner,
                "due": s.task.due.isoformat(),
                "state": s.state,
                "days_late": s.days_late,
                "done_on": s.done_on.isoformat() if s.done_on else None,
                "text": s.text,
                "blockers": list(s.blockers),
            }
            for s in found
        ],
        "next_milestone": None
        if nxt is None
        else {
            "name": nxt.task.name,
            "due": nxt.task.due.isoformat(),
            "blockers": list(nxt.blockers),
        },
    }


def format_plan(status: dict) -> list[str]:
    """The plan block of ``lscb-nb status``, as lines."""
    if not status["has_plan"]:
        return ["Plan: none in project.yaml (`plan:`; `lscb-nb init` writes an example)."]
    lines = [f"Plan, as of {status['as_of']}:"]
    for task in status["tasks"]:
        lines.append(f"   {task['due']}  {task['name']} ({task['owner']}): {task['text']}")
    nxt = status["next_milestone"]
    if nxt is None:
        lines.append("   every task is done")
    else:
        lines.append(f"   next milestone: {nxt['name']}, due {nxt['due']}")
        for reason in nxt["blockers"]:
            lines.append(f"   blocked by: {reason}")
    return lines


def plan_table(found: list[Standing]) -> pd.DataFrame:
    """One row per task, for the highlight report."""
    return pd.DataFrame(
        {
            "Task": [s.task.name for s in found],
            "Owner": [s.task.owner for s in found],
            "Due": [s.task.due.isoformat() for s in found],
            "Where it stands": [s.text for s in found],
        }
    )
