"""Prepare a project's data, phase by phase, before any notebook runs.

``lscb-nb ingest`` and ``lscb-nb run`` call these; a notebook only reads what was
prepared, so two kernels never race on ``data/processed``. Each stage reads
``data/raw`` and writes ``data/processed`` atomically. A phase whose inputs are
absent is skipped with the reason, never an error: the batch renders a page that
says what is missing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from lscb_nb import phases, reference
from lscb_nb.fileio import write_json_atomic
from lscb_nb.project import Project
from lscb_nb.returns import IngestResult, ingest_returns, load_processed, read_summary

log = logging.getLogger(__name__)


def returns_dir(project: Project) -> Path:
    return project.processed / "returns"


def ingest(project: Project) -> dict:
    """Ingest the project's ``data/raw/phase3_returns`` into ``data/processed/returns``.

    Returns are checked against the project's candidate data model (every item a
    borough may return) and the project's collection periods; the summary is returned.
    """
    dm = phases.load_candidate(project)
    ingest_returns(
        project.returns,
        returns_dir(project),
        dm.items,
        dm.rules,
        project.authorities,
        dm.version,
        expected_periods=project.periods or None,
        population=reference.population(areas="all"),
    )
    return read_summary(returns_dir(project))


def load_returns(project: Project) -> IngestResult:
    """The ingested returns (accepted, quarantined, issues, files)."""
    return load_processed(returns_dir(project))


def has_returns(project: Project) -> bool:
    return (returns_dir(project) / "summary.json").exists()


def pilot_authorities(project: Project) -> list[str]:
    """The pilot authorities: those project.yaml names, else those with a return on file."""
    if project.pilots:
        return list(project.pilots)
    codes: set[str] = set()
    if project.receipts.exists():
        codes |= set(pd.read_csv(project.receipts, usecols=["la_code_ons"])["la_code_ons"])
    if has_returns(project):
        codes |= set(load_returns(project).accepted["la_code_ons"].dropna())
    names = project.authorities.set_index("la_code_ons")["la_name"]
    return sorted(codes & set(names.index), key=lambda c: names[c])


def prepare(
    project: Project, selected: list[phases.Phase] | None = None, force: bool = False
) -> dict[str, dict]:
    """Prepare each selected phase (all by default) in order; one status per phase.

    A phase with absent inputs is skipped (status ``missing`` with the reasons). A
    phase whose fingerprint (inputs, settings, toolkit, earlier phases' outputs) is
    the one it was last prepared from is ``up to date`` and left as it is, unless
    ``force``.
    """
    from lscb_nb import fingerprints

    chosen = {p.key for p in (selected or phases.all_phases())}
    status: dict[str, dict] = {}
    for phase in phases.all_phases():
        if phase.key not in chosen or phase.prepare is None:
            continue
        missing = phases.missing_inputs(project, phase)
        if missing:
            log.info("%s: skipped, %s", phase.title, " ".join(missing))
            status[phase.key] = {"status": "missing", "missing": missing}
            continue
        key = fingerprints.prepare_key(project, phase)
        last = phases.stamp(project, phase) or {}
        if not force and last.get("key") == key and phases.is_prepared(project, phase):
            log.info("%s: up to date (prepared %s)", phase.title, last.get("prepared_at"))
            status[phase.key] = {"status": "up to date"}
            continue
        log.info("%s: preparing", phase.title)
        started = datetime.now(UTC)
        summary = phase.prepare_function()(project)
        write_json_atomic(
            phases.output_dir(project, phase) / phases.STAMP_FILE,
            {"key": key, "prepared_at": started.isoformat(timespec="seconds")},
        )
        status[phase.key] = {"status": "prepared", "summary": summary}
        log.info(
            "%s: prepared in %.1f s", phase.title, (datetime.now(UTC) - started).total_seconds()
        )
    return status
