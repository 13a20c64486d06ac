"""Prepare the shared data once, so each notebook only loads prepared files.

``lscb-nb ingest`` and ``lscb-nb run`` call these before any notebook executes.
Each step reads ``data/raw`` and writes ``data/processed`` atomically.
"""

from __future__ import annotations

from pathlib import Path

from lscb_nb import config, periods, reference
from lscb_nb.datamodel import load_datamodel
from lscb_nb.returns import IngestResult, ingest_returns, load_processed, read_summary


def returns_dir(root: Path | str | None = None) -> Path:
    return config.paths(root)["processed"] / "returns"


def sample_periods() -> list[str]:
    return periods.period_range(config.SAMPLE_FIRST_PERIOD, config.SAMPLE_LAST_PERIOD)


def ingest_sample_returns(
    root: Path | str | None = None,
    version: str = config.CANDIDATE_VERSION,
    expected_periods: list[str] | None = None,
) -> dict:
    """Ingest ``data/raw/phase3_returns`` into ``data/processed/returns``; return the summary."""
    paths = config.paths(root)
    dm = load_datamodel(version)
    ingest_returns(
        paths["returns"],
        returns_dir(root),
        dm.items,
        dm.rules,
        reference.authorities(),
        dm.version,
        expected_periods=expected_periods or sample_periods(),
        population=reference.population(),
    )
    return read_summary(returns_dir(root))


def load_returns(root: Path | str | None = None) -> IngestResult:
    """The ingested returns (accepted, quarantined, issues, files)."""
    return load_processed(returns_dir(root))


def is_synthetic(root: Path | str | None = None) -> bool:
    """The data under ``root`` is the generated sample (its truth record is there)."""
    return config.paths(root)["truth"].exists()


def pilot_authorities(root: Path | str | None = None) -> list[str]:
    """Authorities that took part in the pilot: those with any return on file."""
    paths = config.paths(root)
    receipts = paths["raw"] / "phase3_receipts.csv"
    codes: set[str] = set()
    if receipts.exists():
        import pandas as pd

        codes |= set(pd.read_csv(receipts, usecols=["la_code_ons"])["la_code_ons"])
    if (returns_dir(root) / "accepted.parquet").exists():
        codes |= set(load_returns(root).accepted["la_code_ons"].dropna())
    return sorted(codes)


def prepare_all(root: Path | str | None = None) -> dict:
    """Everything the notebooks load, prepared once before a batch."""
    prepared: dict = {"returns": ingest_sample_returns(root)}
    from lscb_nb import mapping_report

    prepared["mapping"] = mapping_report.prepare_mapping(root)
    from lscb_nb import assessment_report

    prepared["assessment"] = assessment_report.prepare_assessment(root)
    # Phase 3 last: its refined dataset builds on phase 2's pilot version.
    from lscb_nb import pilot_report

    prepared["pilot"] = pilot_report.prepare_pilot(root)
    return prepared
