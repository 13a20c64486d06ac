"""Where a project stands: per phase, what is there, what is missing, what to do next.

``lscb-nb status`` prints :func:`format_status`; the same facts are a dict for
scripts (:func:`project_status`).
"""

from __future__ import annotations

import logging

import pandas as pd

from lscb_nb.core import fingerprints, phases
from lscb_nb.core.labels import counted
from lscb_nb.core.project import RAW_FOLDERS, Project

log = logging.getLogger(__name__)


def _inputs(project: Project, phase: phases.Phase) -> dict:
    out = {}
    for key in phase.inputs:
        out[key] = {
            "folder": f"data/raw/{RAW_FOLDERS[key][0]}",
            "files": len(phases.input_files(project, key)),
        }
    return out


def _returns_facts(project: Project) -> dict:
    """Authorities and periods found in the ingested returns."""
    from lscb_nb.pilot import store

    if not store.has_returns(project):
        return {}
    accepted = store.load_returns(project).accepted
    found = sorted(set(accepted["period"].dropna()))
    return {
        "authorities_with_returns": int(accepted["la_code_ons"].nunique()),
        "periods_found": found,
    }


def project_status(project: Project) -> dict:
    """Per phase: inputs found, when it was last prepared, the version it wrote,
    what is missing, and whether its inputs changed since."""
    out = {
        "project": project.name,
        "root": str(project.root),
        "synthetic": project.synthetic,
        "authorities": len(project.authorities),
        "pilots": list(project.pilots),
        "periods": list(project.periods),
        "phases": [],
    }
    for phase in phases.all_phases():
        summary = phases.summary(project, phase)
        stamp = phases.stamp(project, phase) or {}
        inputs = _inputs(project, phase)
        # The same fingerprint `lscb-nb run` re-prepares by: files, settings, toolkit and
        # earlier phases' outputs.
        changed = bool(summary) and stamp.get("key") != fingerprints.prepare_key(project, phase)
        entry = {
            "key": phase.key,
            "number": phase.number,
            "title": phase.title,
            "inputs": inputs,
            "missing": phases.missing_inputs(project, phase),
            "prepared_at": (stamp.get("prepared_at") or "(time not recorded)") if summary else None,
            "version_written": (summary or {}).get("writes"),
            "based_on": (summary or {}).get("based_on"),
            "inputs_changed_since": changed,
        }
        if phase.key == "mapping" and summary:
            entry["authorities_replied"] = summary.get("replied")
        if phase.key == "assessment" and summary:
            entry["raters"] = summary.get("raters")
        if phase.key == "pilot":
            entry.update(_returns_facts(project))
        out["phases"].append(entry)
    out["next_step"] = next_step(project, out["phases"])
    out["plan"] = _plan(project)
    return out


def _plan(project: Project) -> dict:
    """Where the plan's tasks stand today (or on ``collection.as_of``)."""
    from lscb_nb.core import plan_status

    return plan_status.plan_status(project, project.as_of)


def next_step(project: Project, entries: list[dict]) -> str:
    """The one thing to do next, in words."""
    if not project.pilots:
        waiting_for_pilots = "; name the pilot authorities in project.yaml (`pilots:`)"
    else:
        waiting_for_pilots = ""
    for entry in entries:
        phase = phases.get(entry["key"])
        if phase.writes is None:
            continue
        if entry["missing"]:
            return f"{phase.title}: {entry['missing'][0]}" + (
                waiting_for_pilots if phase.runs_for == "pilots" else ""
            )
        if entry["prepared_at"] is None or entry["inputs_changed_since"]:
            why = (
                "its inputs changed since it was prepared"
                if entry["inputs_changed_since"]
                else "it has not run yet"
            )
            return f"{phase.title}: run `lscb-nb run --phases {phase.number}` ({why})."
    if project.periods and entries:
        pilot = next(e for e in entries if e["key"] == "pilot")
        found = set(pilot.get("periods_found", []))
        gaps = [p for p in project.periods if p not in found]
        if gaps:
            return (
                "Every phase is prepared. Returns for "
                f"{counted(len(gaps), 'collection quarter')} are not in yet ({gaps[0]} first); "
                "run `lscb-nb run` again as they arrive."
            )
    return "Every phase is prepared: `lscb-nb run` renders the reports."


def format_status(status: dict) -> str:
    """The status as text for the terminal."""
    lines = [
        f"Project: {status['project']}"
        + (" (synthetic)" if status["synthetic"] and "synthetic" not in status["project"] else ""),
        f"Folder: {status['root']}",
        f"Authorities: {status['authorities']}; pilots: {len(status['pilots'])}; "
        + (
            f"collection {status['periods'][0]} to {status['periods'][-1]}"
            if status["periods"]
            else "collection periods not set"
        ),
        "",
    ]
    for entry in status["phases"]:
        lines.append(f"{entry['number']} {entry['title']}")
        for value in entry["inputs"].values():
            lines.append(f"   {value['folder']}: {counted(value['files'], 'file')}")
        if entry.get("authorities_replied") is not None:
            lines.append(f"   authorities replied: {entry['authorities_replied']}")
        if entry.get("raters") is not None:
            lines.append(f"   raters: {entry['raters']}")
        if entry.get("authorities_with_returns") is not None:
            found = entry.get("periods_found") or []
            span = f"{found[0]} to {found[-1]}" if found else "none"
            lines.append(
                f"   authorities with returns: {entry['authorities_with_returns']}; "
                f"periods found: {span}"
            )
        if entry["prepared_at"]:
            lines.append(
                f"   prepared {entry['prepared_at']}"
                + (f"; wrote {entry['version_written']}" if entry["version_written"] else "")
                + (f" from {entry['based_on']}" if entry.get("based_on") else "")
                + ("; INPUTS CHANGED SINCE" if entry["inputs_changed_since"] else "")
            )
        elif not entry["missing"] and phases.get(entry["key"]).writes is None:
            lines.append("   ready: rendered from the phases above by `lscb-nb run`")
        elif not entry["missing"]:
            lines.append("   not prepared yet")
        for reason in entry["missing"]:
            lines.append(f"   missing: {reason}")
    if status.get("plan"):
        from lscb_nb.core import plan_status

        lines += ["", *plan_status.format_plan(status["plan"])]
    lines += ["", f"Next: {status['next_step']}"]
    return "\n".join(lines)


def as_frame(status: dict) -> pd.DataFrame:
    """One row per phase (for a notebook)."""
    return pd.DataFrame(
        [
            {
                "phase": e["title"],
                "prepared": e["prepared_at"] or "",
                "version": e["version_written"] or "",
                "missing": " ".join(e["missing"]),
            }
            for e in status["phases"]
        ]
    )
