"""Where a project stands: per phase, what is there, what is missing, what to do next.

``lscb-nb status`` prints :func:`format_status`; the same facts are a dict for
scripts (:func:`project_status`).
"""

from __future__ import annotations

import logging

import pandas as pd

from lscb_nb.core import fingerprints, lineage, phases
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


def versions_status(project: Project) -> dict:
    """The version chain: every version written (based on what), the version each
    phase works on, what went out by version, and where newer evidence waits upstream."""
    written = phases.project_versions(project)
    when = {v["version"]: v.get("written_at") for v in written}
    ledger = lineage.load_ledger(project)
    works_on, warnings = [], []
    for phase in phases.all_phases():
        if not phase.writes_version:
            continue
        pin = lineage.pin_of(project, phase.key)
        version = phases.basis_version(project, phase)
        newer = phases.newer_upstream(project, phase)
        works_on.append(
            {
                "phase": phase.key,
                "number": phase.number,
                "starts_from": phase.starts_from,
                "version": version,
                "pinned_since": pin["since"] if pin and version == pin["version"] else None,
                "how": pin["how"] if pin and version == pin["version"] else None,
                "newer_upstream": newer,
            }
        )
        if newer:
            warnings.append(
                f"Newer evidence upstream: {newer} written "
                f"{when.get(newer) or '(time not recorded)'}; {phase.title} still works on "
                f"{version}. Move it with `lscb-nb datamodel adopt --phase {phase.number}` "
                f"(what it has sent out and reported so far rests on {version})."
            )
    sent: dict[tuple, dict] = {}
    for record in ledger["sent"]:
        key = (record["kind"], record["phase"], record["version"])
        group = sent.setdefault(
            key,
            {
                "kind": record["kind"],
                "phase": record["phase"],
                "version": record["version"],
                "items": record["items"],
                "authorities": set(),
                "periods": set(),
            },
        )
        group["authorities"].add(record["la_code_ons"])
        if record.get("period"):
            group["periods"].add(record["period"])
    by_phase = {w["phase"]: w["version"] for w in works_on}
    groups = []
    for group in sent.values():
        group["authorities"] = len(group["authorities"])
        group["periods"] = sorted(group["periods"])
        groups.append(group)
        now = by_phase.get(group["phase"])
        if now and now != group["version"]:
            warnings.append(
                f"{counted(group['authorities'], 'authority')} got {group['kind']}s of "
                f"{group['version']} ({group['items']} items), but "
                f"{phases.get(group['phase']).title} works on {now}: what they return for "
                f"items outside {now} is listed but set aside."
            )
    return {"written": written, "works_on": works_on, "sent": groups, "warnings": warnings}


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
    out["versions"] = versions_status(project)
    out["next_step"] = next_step(project, out["phases"])
    waiting = [w for w in out["versions"]["works_on"] if w["newer_upstream"]]
    if waiting:
        out["next_step"] += (
            " Newer evidence waits upstream (above): move "
            + ", ".join(f"phase {w['number']}" for w in waiting)
            + " on with `lscb-nb datamodel adopt --phase "
            + (waiting[0]["number"] if len(waiting) == 1 else "NN")
            + "`, or keep "
            + ("it" if len(waiting) == 1 else "them")
            + " on the version already sent out."
        )
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
    lines += format_versions(status.get("versions"))
    if status.get("plan"):
        from lscb_nb.core import plan_status

        lines += ["", *plan_status.format_plan(status["plan"])]
    lines += ["", f"Next: {status['next_step']}"]
    return "\n".join(lines)


def format_versions(versions: dict | None) -> list[str]:
    """The version chain as lines for the terminal."""
    if not versions or not (versions["written"] or versions["sent"]):
        return []
    lines = ["", "Data-model versions (written once, never changed):"]
    for v in versions["written"]:
        based = f" from {v['based_on']}" if v.get("based_on") else ""
        revises = f", revises {v['revises']}" if v.get("revises") else ""
        lines.append(
            f"   {v['version']}: {v['label']}{based}{revises}, {v['items']} items, "
            f"written {v.get('written_at') or '(time not recorded)'}"
        )
    for w in versions["works_on"]:
        if w["version"] is None:
            continue
        how = (
            f" (since {w['pinned_since']}, {w['how']})"
            if w.get("pinned_since")
            else (" (project.yaml's candidate)" if w["starts_from"] == phases.CANDIDATE else "")
        )
        lines.append(f"   phase {w['number']} works on {w['version']}{how}")
    for g in versions["sent"]:
        span = f" for {', '.join(g['periods'])}" if g["periods"] else ""
        lines.append(
            f"   {g['kind']}s of {g['version']} ({g['items']} items): "
            f"{counted(g['authorities'], 'authority')}{span}"
        )
    lines += [f"   ! {w}" for w in versions["warnings"]]
    return lines


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
