"""The project's plan, as ``project.yaml``'s ``plan:`` declares it: the start date, the
dated tasks (each with an owner, and done when its phase's reports are ready or on a
date the consultant records) and the steering group's meeting dates.

Scripts outside the toolkit read the same keys, so they are fixed here once
(:data:`TASK_KEYS`). The JSON Schema (``data/project/project.schema.yaml``) checks
their shapes; :func:`plan_problems` checks what a schema cannot (a task due before the
project starts, a phase that does not exist, meetings out of order). This module only
reads settings: where each task stands is worked out in
:mod:`lscb_nb.core.plan_status`, which can see the phases' outputs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

import yaml

log = logging.getLogger(__name__)

# The keys of one task, as scripts outside the toolkit write them.
TASK_KEYS = ("name", "due", "owner", "phase", "done")
# Days before a task's due date from which it is "due soon" (and a phase whose inputs
# are still missing is logged as a risk).
DUE_SOON_DAYS = 14


@dataclass(frozen=True)
class Task:
    """One dated task of the plan."""

    name: str
    due: date
    owner: str
    phase: str | None = None  # a phase number or key: done when its reports are ready
    done: date | None = None  # or the date the consultant recorded it done


@dataclass(frozen=True)
class Plan:
    """The plan: when the project started, its tasks in due order, its meetings."""

    start: date | None
    tasks: tuple[Task, ...]
    meetings: tuple[date, ...]

    def next_meeting(self, today: date) -> date | None:
        """The first meeting on or after ``today``, else None."""
        return next((m for m in self.meetings if m >= today), None)

    def previous_meeting(self, meeting: date) -> date | None:
        """The meeting before ``meeting`` (the project's start for the first one)."""
        earlier = [m for m in self.meetings if m < meeting]
        return earlier[-1] if earlier else self.start


def _as_date(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def normalise_plan(settings: dict) -> None:
    """Dates YAML read as dates become ISO text, so the schema checks one form (an
    unquoted ``2026-09-04`` is a date to YAML, a quoted one text); an unquoted phase
    number (``phase: 1``) becomes the phases' own ``"01"``."""
    plan = settings.get("plan")
    if not isinstance(plan, dict):
        return
    if isinstance(plan.get("start"), date):
        plan["start"] = plan["start"].isoformat()
    if isinstance(plan.get("meetings"), list):
        plan["meetings"] = [m.isoformat() if isinstance(m, date) else m for m in plan["meetings"]]
    for task in plan.get("tasks") or []:
        if isinstance(task, dict):
            for key in ("due", "done"):
                if isinstance(task.get(key), date):
                    task[key] = task[key].isoformat()
            if isinstance(task.get("phase"), int) and not isinstance(task["phase"], bool):
                task["phase"] = f"{task['phase']:02d}"


@cache
def _phase_names() -> frozenset[str]:
    """Every phase's number and key, read from the phases' declaration (read here, not
    through :mod:`lscb_nb.core.phases`, which loads projects and so imports this)."""
    text = (resources.files("lscb_nb") / "data" / "phases.yaml").read_text("utf-8")
    names = set()
    for entry in yaml.safe_load(text):
        names |= {str(entry["number"]), str(entry["key"])}
    return frozenset(names)


def plan_problems(settings: Mapping) -> list[str]:
    """What is wrong with a schema-valid ``plan:``, one sentence per problem."""
    raw = settings.get("plan")
    if not raw:
        return []
    problems = []
    plan = read_plan(settings)
    for number, task in enumerate(_tasks(raw), 1):
        where = f"plan: tasks: {number} ({task.name!r})"
        if plan.start and task.due < plan.start:
            problems.append(f"{where}: due {task.due} comes before the plan's start {plan.start}.")
        if task.phase is not None and task.phase not in _phase_names():
            problems.append(
                f"{where}: phase {task.phase!r} is not a phase; use one of "
                + ", ".join(sorted(_phase_names()))
                + "."
            )
    if list(plan.meetings) != sorted(set(plan.meetings)):
        problems.append("plan: meetings: list each date once, earliest first.")
    return problems


def read_plan(settings: Mapping) -> Plan | None:
    """The plan in (validated) settings, or None when the project has none."""
    raw = settings.get("plan")
    if not raw:
        return None
    return Plan(
        start=_as_date(raw.get("start")),
        tasks=tuple(sorted(_tasks(raw), key=lambda t: t.due)),
        meetings=tuple(_as_date(m) for m in raw.get("meetings") or []),  # type: ignore[misc]
    )


def _tasks(raw: Mapping) -> list[Task]:
    """The tasks in the order project.yaml lists them."""
    return [
        Task(
            name=str(t["name"]),
            due=_as_date(t["due"]),  # type: ignore[arg-type]
            owner=str(t.get("owner") or ""),
            phase=str(t["phase"]) if t.get("phase") is not None else None,
            done=_as_date(t.get("done")),
        )
        for t in raw.get("tasks") or []
    ]
