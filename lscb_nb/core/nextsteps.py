"""What every phase report ends with, as the terms of reference ask of a milestone
report: whether the phase met its milestone in the plan, and the recommended next
steps drawn from the data (who to chase and what to decide, from the phase's own
findings; what the next phase needs, from its inputs).

Each phase's ``findings.section_next_steps`` calls :func:`section_next_steps` with its
findings, so the block reads the same in every report. Text stays plain until it is
escaped here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from lscb_nb.core import phases, plan_status
from lscb_nb.core.board import Finding, asks_of
from lscb_nb.core.display import Section, esc
from lscb_nb.core.labels import counted
from lscb_nb.core.project import Project

log = logging.getLogger(__name__)

HEADING = "Recommended next steps"


def milestone(project: Project, key: str, as_of: date) -> str:
    """Whether the phase met its milestone in the plan, in one sentence."""
    phase = phases.get(key)
    tasks = [
        t
        for t in (plan_status.plan_of(project).tasks if plan_status.plan_of(project) else ())
        if t.phase is not None and phases.get(t.phase).key == phase.key
    ]
    if not tasks:
        return (
            f"The project's plan sets no milestone for {phase.title} "
            "(a task with this phase in `plan:` in project.yaml)."
        )
    s = plan_status.standing(project, tasks[0], as_of)
    due = f"The milestone '{s.task.name}' was due {s.task.due}"
    if s.state == plan_status.DONE and not s.days_late:
        return f"{due} and was met: the phase was ready on {s.done_on}."
    if s.state == plan_status.DONE:
        return (
            f"{due} and was missed: the phase was ready on {s.done_on}, "
            f"{counted(s.days_late, 'day')} late."
        )
    if s.state == plan_status.LATE:
        return f"{due}; it is not met yet, {counted(s.days_late, 'day')} late on {as_of}."
    return f"The milestone '{s.task.name}' is due {s.task.due} ({s.state} on {as_of})."


def next_phase_needs(project: Project, key: str) -> list[str]:
    """What the phase after this one needs before it can run, in words."""
    order = list(phases.all_phases())
    later = [p for p in order[[p.key for p in order].index(key) + 1 :] if p.writes]
    if not later:
        return []
    nxt = later[0]
    missing = phases.missing_inputs(project, nxt)
    if missing:
        return [f"{nxt.title} needs its inputs: {missing[0].partition('. ')[0]}."]
    if not phases.is_prepared(project, nxt):
        return [f"{nxt.title} has its inputs: run `lscb-nb run --phases {nxt.number}`."]
    return []


def steps(project: Project, key: str, found: Sequence[Finding | None]) -> list[str]:
    """The recommended next steps: the findings' asks, then what the next phase needs."""
    return list(dict.fromkeys([*asks_of([f for f in found if f]), *next_phase_needs(project, key)]))


def section_next_steps(
    project: Project, key: str, found: Sequence[Finding | None], as_of: date | None = None
) -> Section:
    """The milestone sentence and the steps, as a list."""
    as_of = as_of or project.as_of
    shown = steps(project, key, found) or ["None: nothing in this phase's data calls for action."]
    lines = [esc(milestone(project, key, as_of)), "", *(f"- {esc(s)}" for s in shown)]
    return Section().add("\n".join(lines))
