"""The pilot's store of ingested returns: where they live, ingesting them, reading them
back, and who the pilots are. Phase 3's stage and context, the batch and the status
read returns only through here."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from lscb_nb.core import phases, reference
from lscb_nb.core.project import Project
from lscb_nb.pilot.returns import IngestResult, ingest_returns, load_processed, read_summary

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
