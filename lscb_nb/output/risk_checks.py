"""What the toolkit can see for itself and logs as risks and issues: returns overdue
past their deadline, an agency missing from every return, a phase whose inputs are
missing near its due date, ratings too unreliable to decide on, and a released version
that phases depend on changed upstream.

Each check reads what preparation wrote (``data/processed``) and the plan, and returns
:class:`~lscb_nb.core.risks.Entry` rows marked ``source: toolkit`` with an id that
stays the same from run to run (``T-overdue-E09000007``), so
:func:`lscb_nb.core.risks.merge` updates an entry instead of adding another. The
checks are a registry (:data:`CHECKS`): a new one is one function added to it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date

import pandas as pd

from lscb_nb.core import phases, plan_status
from lscb_nb.core.board import listed
from lscb_nb.core.labels import counted
from lscb_nb.core.plan import DUE_SOON_DAYS
from lscb_nb.core.project import Project
from lscb_nb.core.risks import TOOLKIT, Entry, log_path, update_log
from lscb_nb.core.states import figure_statuses

log = logging.getLogger(__name__)

Check = Callable[[Project, date], list[Entry]]
# Days past the deadline from which an overdue return is a high-impact issue.
LONG_OVERDUE_DAYS = 30


def _entry(id_: str, type_: str, description: str, impact: str, **more: str) -> Entry:
    return Entry(
        id=f"T-{id_}", type=type_, description=description, impact=impact, source=TOOLKIT, **more
    )


def _cells(project: Project) -> pd.DataFrame | None:
    path = project.processed / "pilot" / "cells.parquet"
    return pd.read_parquet(path) if path.exists() else None


def overdue_returns(project: Project, as_of: date) -> list[Entry]:
    """One issue per authority with returns not received past their deadline."""
    cells = _cells(project)
    if cells is None or cells.empty:
        return []
    late = cells.loc[cells["status"] == "not received"]
    found = []
    for code, rows in late.groupby("la_code_ons", sort=True):
        quarters = sorted(set(rows["period"]))
        days = int(pd.to_numeric(rows["days_late"], errors="coerce").max())
        name = project.authority_name(str(code))
        found.append(
            _entry(
                f"overdue-{code}",
                "issue",
                f"{name}: {counted(len(quarters), 'return')} overdue ({listed(quarters)}), "
                + ("up to " if len(quarters) > 1 else "")
                + f"{counted(days, 'day')} past the deadline.",
                "high" if days > LONG_OVERDUE_DAYS else "medium",
                owner="Project Co-ordinator",
                mitigation=f"Chase {name} for the missing returns.",
            )
        )
    return found


def missing_agencies(project: Project, as_of: date) -> list[Entry]:
    """An agency none of the returns that arrived carries a figure for."""
    cells = _cells(project)
    if cells is None or cells.empty or "agency" not in cells:
        return []
    received = cells.loc[cells["status"].isin(figure_statuses(received=True, expected=True))]
    if received.empty:
        return []
    supplied = received["status"].isin(figure_statuses(supplied=True))
    by_agency = supplied.groupby(received["agency"]).any()
    return [
        _entry(
            f"agency-{agency}",
            "issue",
            f"No return that arrived carries a figure from {str(agency).replace('_', ' ')}.",
            "high",
            owner="Project Co-ordinator",
            mitigation="Ask each pilot who supplies this agency's figures and why none came.",
        )
        for agency, any_supplied in by_agency.items()
        if not any_supplied
    ]


def inputs_missing_near_due(project: Project, as_of: date) -> list[Entry]:
    """A phase task due within :data:`DUE_SOON_DAYS` (or past due) whose inputs are absent."""
    found = []
    for s in plan_status.standings(project, as_of):
        if s.state == plan_status.DONE or s.task.phase is None:
            continue
        phase = phases.get(s.task.phase)
        if (s.task.due - as_of).days > DUE_SOON_DAYS or not phases.missing_inputs(project, phase):
            continue
        found.append(
            _entry(
                f"inputs-{phase.key}",
                "risk" if s.state != plan_status.LATE else "issue",
                f"{phase.title} is due {s.task.due} and its inputs are not in: "
                + phases.missing_inputs(project, phase)[0].partition(". ")[0]
                + ".",
                "high",
                likelihood="high" if (s.task.due - as_of).days <= 7 else "medium",
                owner=s.task.owner,
                mitigation="Collect the missing files, or agree a new date with the group.",
            )
        )
    return found


def unreliable_ratings(project: Project, as_of: date) -> list[Entry]:
    """Raters' agreement whose whole interval is below the level for tentative
    conclusions: overall, or for some pilot authorities."""
    from lscb_nb.assessment.findings import ALPHA_TENTATIVE

    path = project.processed / "assessment" / "agreement.parquet"
    if not path.exists():
        return []
    table = pd.read_parquet(path)
    upper = table["alpha_upper"].fillna(table["alpha"])
    weak = table.loc[upper < ALPHA_TENTATIVE]
    found = []
    overall = weak.loc[weak["level"] == "overall"]
    if not overall.empty:
        alpha = float(overall["alpha"].iloc[0])
        found.append(
            _entry(
                "agreement-overall",
                "issue",
                f"Raters agreed too weakly to decide on the ratings (Krippendorff's alpha "
                f"{alpha:.2f}, below {ALPHA_TENTATIVE} even at the top of its interval).",
                "high",
                owner="Consultant",
                mitigation="Review the instrument's guidance with the raters before deciding.",
            )
        )
    boroughs = weak.loc[weak["level"] == "borough", "group"]
    if not boroughs.empty:
        names = [project.authority_name(str(c)) for c in sorted(boroughs)]
        found.append(
            _entry(
                "agreement-authorities",
                "risk",
                f"Raters in {listed(names)} agreed too weakly for their ratings to be decided on.",
                "medium",
                likelihood="high",
                owner="Consultant",
                mitigation="Ask these authorities' raters to compare notes and re-rate.",
            )
        )
    return found


def version_changed_upstream(project: Project, as_of: date) -> list[Entry]:
    """A phase working on a version whose role has a newer release upstream (read from
    the data-model ledger, ``data/processed/datamodel/lineage.json``, when present)."""
    path = project.datamodel_dir / "lineage.json"
    if not path.exists():
        return []
    try:
        ledger = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    current, found = ledger.get("current") or {}, []
    for key, pin in sorted((ledger.get("pins") or {}).items()):
        if not isinstance(pin, dict):
            continue
        newer = current.get(pin.get("role"))
        if newer and pin.get("version") and newer != pin["version"]:
            try:
                title = phases.get(key).title
            except KeyError:
                title = key
            found.append(
                _entry(
                    f"upstream-{key}",
                    "risk",
                    f"{title} works on {pin['version']}, but {newer} has been released "
                    "upstream since.",
                    "medium",
                    likelihood="high",
                    owner="Consultant",
                    mitigation=f"Decide whether {title} adopts {newer} "
                    "(`lscb-nb datamodel adopt`).",
                )
            )
    return found


CHECKS: tuple[Check, ...] = (
    overdue_returns,
    missing_agencies,
    inputs_missing_near_due,
    unreliable_ratings,
    version_changed_upstream,
)


def toolkit_entries(project: Project, as_of: date) -> list[Entry]:
    """Everything every check finds on ``as_of``."""
    return [entry for check in CHECKS for entry in check(project, as_of)]


def refresh_log(project: Project, as_of: date):
    """Merge what the checks find into the project's log and write it (a
    :class:`~lscb_nb.core.risks.RiskLog`)."""
    return update_log(
        log_path(project.root, project.settings), toolkit_entries(project, as_of), as_of
    )
