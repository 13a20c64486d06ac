"""The highlight report for one steering group meeting: where each task stands against
the plan, what arrived since the last meeting, what each phase now shows, the open
risks and issues by severity, the decisions the group is asked to take and the
recommended next steps.

The terms of reference ask that "each steering group meeting will receive highlight
reports … with recommended next steps"; this module works the report out from the
plan, the risks and issues log and what each phase prepared, and the thin notebook
``05_highlight.ipynb`` shows it. It is short by design (one screen at 1400 px, two A4
pages in print): each block is a few lines, and the evidence is a link away.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from lscb_nb.core import display, phases, plan_status
from lscb_nb.core.board import Finding, asks_of, listed
from lscb_nb.core.display import Section, esc
from lscb_nb.core.labels import counted
from lscb_nb.core.project import AREA, RAW_FOLDERS, Project, find_project
from lscb_nb.core.risks import Entry, RiskLog, log_path, read_log
from lscb_nb.output import risk_checks

log = logging.getLogger(__name__)

NOTEBOOK = "05_highlight.ipynb"
TITLE = "Highlight report"
# How many risks and issues, decisions and steps the report shows (the rest are in
# the log and the phase reports): it must stay one screen long.
SHOWN_RISKS = 5
SHOWN_ASKS = 5
LINES_PER_PHASE = 3


@dataclass
class Context:
    """What one meeting's highlight report reads (the log is refreshed when loaded)."""

    project: Project
    meeting: date
    as_of: date
    since: date | None
    standings: list[plan_status.Standing]
    risks: RiskLog
    phase_findings: dict[str, list[Finding]] = field(default_factory=dict)
    linked: tuple[str, ...] = ()  # phases whose area report sits beside this one

    @property
    def late(self) -> list[plan_status.Standing]:
        return [s for s in self.standings if s.state == plan_status.LATE]


def first_sentence(text: str) -> str:
    """A reason's first sentence (the report is short; the phase page says the rest)."""
    head, dot, _ = str(text).partition(". ")
    return head + (dot.strip() if dot else "")


def meeting_date(project: Project, meeting: str | None, as_of: date) -> date:
    """The meeting asked for, else the plan's next meeting on or after ``as_of``."""
    if meeting:
        return date.fromisoformat(str(meeting))
    plan = plan_status.plan_of(project)
    found = plan.next_meeting(as_of) if plan else None
    if found is None:
        raise ValueError(
            "project.yaml: plan: meetings: no meeting on or after "
            f"{as_of}; add the next meeting's date or pass --meeting DATE."
        )
    return found


def _findings(project: Project, key: str) -> list[Finding]:
    """The phase's own findings for the whole area (empty when it has not run)."""
    phase = phases.get(key)
    if not phases.is_ready(project, phase) or phase.writes is None:
        return []
    import importlib

    package = importlib.import_module(f"lscb_nb.{key}")
    context = importlib.import_module(f"{package.__name__}.context")
    findings = importlib.import_module(f"{package.__name__}.findings")
    ctx = context.load_context(project=project, la_code=AREA)
    return [f for f in findings.findings(ctx) if f is not None]


def load_context(
    project: Project | str | None = None,
    meeting: str | None = None,
    as_of: str | None = None,
    linked: list | None = None,
    refresh: bool = True,
) -> Context:
    """The meeting's report, judged on ``as_of`` (default: the meeting's date, or today
    if that is later than today); with ``refresh`` the toolkit's own entries in the
    risks and issues log are brought up to date first."""
    project = find_project(project)
    today = date.fromisoformat(as_of) if as_of else date.today()
    when = meeting_date(project, meeting, today)
    judged = today if as_of else min(when, today)
    plan = plan_status.plan_of(project)
    risks = (
        risk_checks.refresh_log(project, judged)
        if refresh
        else read_log(log_path(project.root, project.settings))
    )
    return Context(
        project=project,
        meeting=when,
        as_of=judged,
        since=plan.previous_meeting(when) if plan else None,
        standings=plan_status.standings(project, judged),
        risks=risks,
        phase_findings={p.key: _findings(project, p.key) for p in phases.all_phases() if p.writes},
        linked=tuple(linked or ()),
    )


def header(ctx: Context) -> Section:
    facts = {
        "Project": ctx.project.name,
        "Meeting": ctx.meeting.isoformat(),
        "Since": ctx.since.isoformat() if ctx.since else "the start",
        "Position as of": ctx.as_of.isoformat(),
    }
    # The marker the stylesheet fits two A4 pages by (print only).
    compact = HTML('<span class="lscb-compact" hidden></span>')
    return display.header(f"{TITLE}: {ctx.meeting}", facts, ctx.project.synthetic).add(compact)


def section_summary(ctx: Context) -> Section:
    """The answer first: the plan in a sentence, the next milestone, the log, the asks."""
    if not ctx.standings:
        return display.nothing_to_show(
            "The project has no plan yet: add `plan:` to project.yaml (start, tasks, "
            "meetings) to see where it stands."
        )
    done = sum(s.state == plan_status.DONE for s in ctx.standings)
    since = ctx.since.isoformat() if ctx.since else "the start"
    lines = [
        f"- **Meeting of {ctx.meeting}:** the position as of {ctx.as_of}, since {since}.",
        f"- **Plan:** {done} of {counted(len(ctx.standings), 'task')} done"
        + (
            f"; **{len(ctx.late)} late** ({esc(listed(s.task.name for s in ctx.late))})"
            if ctx.late
            else "; none late"
        )
        + ".",
    ]
    nxt = plan_status.next_milestone(ctx.standings)
    if nxt is not None:
        lines.append(
            f"- **Next milestone:** {esc(nxt.task.name)}, due {nxt.task.due} ({nxt.text})"
            + (f"; blocked: {esc(first_sentence(nxt.blockers[0]))}" if nxt.blockers else "")
        )
    open_entries = ctx.risks.open_entries()
    high = [e for e in open_entries if e.severity == "high"]
    lines.append(
        f"- **Risks and issues:** {counted(len(open_entries), 'open entry', 'open entries')}"
        + (f", {len(high)} of high severity" if high else "")
        + "."
    )
    return Section().add("\n".join(lines))


def section_plan(ctx: Context) -> Section:
    if not ctx.standings:
        return display.nothing_to_show("No tasks in the plan yet.")
    return Section().add(
        display.table(
            plan_status.plan_table(ctx.standings),
            caption=f"Each task of the plan as of {ctx.as_of}",
            max_rows=None,
        )
    )


def arrivals(project: Project, since: date | None, until: date) -> pd.DataFrame:
    """The files put in each raw folder after ``since`` and up to ``until`` (by the
    time each file was last written), with the authorities and periods returns carry."""
    rows = []
    for key, (folder, about) in RAW_FOLDERS.items():
        files = [
            p
            for p in phases.input_files(project, key)
            if (when := datetime.fromtimestamp(p.stat().st_mtime).date()) <= until
            and (since is None or when > since)
        ]
        if files:
            rows.append(
                {"what": about.split(":")[0], "folder": f"data/raw/{folder}", "files": files}
            )
    out = []
    returns = _returns_by_file(project)
    for row in rows:
        names = {p.name for p in row["files"]}
        carried = returns.loc[returns["source_file"].isin(names)] if not returns.empty else returns
        out.append(
            {
                "Phase": row["what"],
                "Folder": row["folder"],
                "Files": len(names),
                "Authorities": carried["la_code_ons"].nunique() if not carried.empty else None,
                "Periods": listed(sorted(set(carried["period"]))) if not carried.empty else "",
            }
        )
    return pd.DataFrame(out, columns=["Phase", "Folder", "Files", "Authorities", "Periods"])


def _returns_by_file(project: Project) -> pd.DataFrame:
    from lscb_nb.pilot import store

    empty = pd.DataFrame({"source_file": [], "la_code_ons": [], "period": []})
    if not store.has_returns(project):
        return empty
    accepted = store.load_returns(project).accepted
    if "source_file" not in accepted:
        return empty
    frame = accepted[["source_file", "la_code_ons", "period"]].drop_duplicates()
    return frame.assign(source_file=frame["source_file"].map(lambda s: Path(str(s)).name))


def section_arrivals(ctx: Context) -> Section:
    table = arrivals(ctx.project, ctx.since, ctx.as_of)
    since = ctx.since.isoformat() if ctx.since else "the start"
    if table.empty:
        return display.nothing_to_show(f"No files have arrived since {since}.")
    return Section().add(
        display.table(table, caption=f"Files that arrived since {since}", max_rows=None)
    )


def _phase_lines(ctx: Context, phase: phases.Phase) -> str:
    found = ctx.phase_findings.get(phase.key, [])
    link = f"{Path(phase.notebook).stem}__{AREA}.html"
    title = f"[{phase.title}]({link})" if phase.key in ctx.linked else phase.title
    if found:
        shown = [esc(f.text) for f in found[:LINES_PER_PHASE]]
    elif phase.writes is None:
        shown = ["Drawn from the phases above; rendered by `lscb-nb run`."]
    else:
        shown = [esc(first_sentence(phases.not_ready_reason(ctx.project, phase)))]
    return f"**{title}**\n\n" + "\n".join(f"- {line}" for line in shown)


def section_phases(ctx: Context) -> Section:
    return Section().add(*(_phase_lines(ctx, p) for p in phases.all_phases()))


def risks_table(entries: list[Entry]) -> pd.DataFrame:
    """The open entries (their mitigations are the next steps, below)."""
    return pd.DataFrame(
        {
            "Severity": [e.severity for e in entries],
            "Type": [e.type for e in entries],
            "Description": [e.description for e in entries],
            "Owner": [e.owner for e in entries],
            "Logged by": [e.source for e in entries],
            "Id": [e.id for e in entries],
        }
    )


def section_risks(ctx: Context) -> Section:
    entries = ctx.risks.open_entries()
    if not entries:
        return display.nothing_to_show("The risks and issues log has no open entries.")
    shown = risks_table(entries[:SHOWN_RISKS])
    out = Section().add(
        display.table(shown, caption="Open risks and issues, most severe first", max_rows=None)
    )
    if len(entries) > SHOWN_RISKS:
        out.add(
            f"{counted(len(entries) - SHOWN_RISKS, 'more open entry', 'more open entries')} "
            f"in the log ({esc(ctx.risks.path.name)})."
        )
    return out


def decisions(ctx: Context) -> list[str]:
    """What the group is asked to decide: a new date for each late task, then what
    each phase's findings ask, then an owner for each severe entry that has none."""
    asks = [
        f"Agree a new date for '{s.task.name}' ({s.text}) or what would bring it back."
        for s in ctx.late
    ]
    for key in ctx.phase_findings:
        asks += [a for a in asks_of(ctx.phase_findings[key])]
    asks += [
        f"Name an owner for {e.id}: {e.description}"
        for e in ctx.risks.open_entries()
        if e.severity == "high" and not e.owner
    ]
    return list(dict.fromkeys(asks))


def section_decisions(ctx: Context) -> Section:
    asks = decisions(ctx)
    if not asks:
        return display.nothing_to_show("No decisions are asked of the group at this meeting.")
    more = len(asks) - SHOWN_ASKS
    lines = [f"{n}. {esc(a)}" for n, a in enumerate(asks[:SHOWN_ASKS], 1)]
    if more > 0:
        lines.append(f"\nAnd {counted(more, 'more')} in the phase reports.")
    return Section().add("\n".join(lines))


def next_steps(ctx: Context) -> list[str]:
    """What to do before the next meeting: unblock the next milestone, then the
    mitigations of the open entries the toolkit logged, most severe first."""
    steps = []
    nxt = plan_status.next_milestone(ctx.standings)
    if nxt is not None:
        steps += [f"{nxt.task.name} ({nxt.task.owner}): {first_sentence(b)}" for b in nxt.blockers]
        if not nxt.blockers:
            steps.append(f"{nxt.task.name} ({nxt.task.owner}): on course for {nxt.task.due}.")
    steps += [f"{e.mitigation} ({e.owner})" for e in ctx.risks.open_entries() if e.mitigation]
    return list(dict.fromkeys(steps))


def section_next_steps(ctx: Context) -> Section:
    steps = next_steps(ctx)
    if not steps:
        return display.nothing_to_show("Nothing stands in the way of the plan.")
    return Section().add("\n".join(f"- {esc(s)}" for s in steps[:SHOWN_ASKS]))
