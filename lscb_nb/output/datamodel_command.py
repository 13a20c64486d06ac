"""`lscb-nb datamodel`: list, validate, diff and export the shipped candidates and the
versions a project wrote, copy the candidate into the project, and move a phase onto
a newer upstream version (the command line only parses; this does the work)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from lscb_nb.core import config, datamodel, phases
from lscb_nb.core.project import Project

log = logging.getLogger(__name__)


def run(args: argparse.Namespace, project: Project | None) -> int:
    """Carry out ``lscb-nb datamodel ACTION`` for ``project`` (None outside one)."""
    if args.action == "versions":
        print(format_versions(project))
        return 0
    if args.action == "copy":
        from lscb_nb.core.workspace import copy_candidate

        if project is None:
            return _no_project("copy")
        path = copy_candidate(project, args.version, overwrite=args.force)
        print(
            f"Editable copy of the candidate written to {path}; project.yaml's "
            f"datamodel.candidate now names it. Edit it, then `lscb-nb run`."
        )
        return 0
    if args.action == "adopt":
        if project is None:
            return _no_project("adopt")
        if not args.phase:
            raise ValueError("adopt needs --phase (e.g. --phase 02): the phase to move on")
        before, after = phases.adopt(project, args.phase, args.version)
        phase = phases.get(args.phase)
        print(
            f"{phase.title} now works on {after} (before: {before}); "
            f"`lscb-nb run --phases {phase.number}` prepares it again on {after}."
            if before != after
            else f"{phase.title} already works on {after}."
        )
        return 0
    if args.version:
        dm = phases.find_version(project, args.version)
    elif project is not None:
        dm = phases.load_candidate(project)
    else:
        dm = datamodel.load_datamodel(config.CANDIDATE_VERSION)
    if args.action == "validate":
        print(f"{dm.version}: {len(dm)} items, {len(dm.rules)} cross-item rules, valid.")
    elif args.action == "diff":
        if not args.other:
            raise ValueError("diff needs --other: the version to compare --version with")
        other = phases.find_version(project, args.other)
        print(datamodel.format_diff_markdown(datamodel.diff_datamodels(dm, other)))
    elif args.action == "schema":
        out = Path(args.out or f"return-schema-{dm.version}.json")
        datamodel.write_table_schema(dm, out)
        print(f"Table Schema written to {out}")
    elif args.action == "dictionary":
        out = Path(args.out or f"data-dictionary-{dm.version}.md")
        datamodel.write_data_dictionary(dm, out)
        print(f"Data dictionary written to {out}")
    return 0


def _no_project(action: str) -> int:
    print(
        f"lscb-nb datamodel {action}: no project here; pass --project DIR "
        "(or make one with `lscb-nb init`).",
        file=sys.stderr,
    )
    return 2


def format_versions(project: Project | None) -> str:
    """The shipped candidates, then every version the project has."""

    lines = ["Shipped with the toolkit:"]
    for name in datamodel.available_versions():
        dm = datamodel.load_datamodel(name)
        lines.append(f"  {name}  {dm.meta.get('status')}, {len(dm)} items")
    if project is None:
        return "\n".join(lines)
    candidate = phases.load_candidate(project)
    lines += [
        "",
        f"Project {project.name} ({project.root}):",
        f"  {candidate.version}  candidate (project.yaml: {project.candidate}), "
        f"{len(candidate)} items",
    ]
    for entry in phases.project_versions(project):
        based = f", based on {entry['based_on']}" if entry.get("based_on") else ""
        revises = f", revises {entry['revises']}" if entry.get("revises") else ""
        lines.append(
            f"  {entry['version']}  {entry['label']}{based}{revises}, {entry['items']} items, "
            f"written {entry['written_at']}"
        )
    return "\n".join(lines)
