"""Phase 3's stage: ingest the returns and work out what every report shares, once.

``prepare_pilot`` runs once per batch (``lscb-nb run``, declared in
``data/phases.yaml``): it ingests the returns (:mod:`lscb_nb.pilot.store`), works out
the funnel positions, definitional flags, the pilot-versus-published check, every
expected figure's status and the recommendations, and writes them to
``data/processed/pilot`` with the refined data model. The functions it works them out
with are public so that a report asked for other settings can work them out again.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pandas as pd

from lscb_nb.core import periods, phases, reference
from lscb_nb.core.datamodel import (
    AGENCY_LABELS,
    DataModel,
)
from lscb_nb.core.fileio import write_json_atomic, write_parquet_atomic
from lscb_nb.core.project import Project
from lscb_nb.pilot import (
    comparators,
    completeness,
    feedback,
    funnels,
    observations,
    published,
    quality,
    refinement,
    store,
)

log = logging.getLogger(__name__)


PHASE = "pilot"


def pilot_dir(project: Project) -> Path:
    """Where phase 3's prepared tables live."""
    return project.processed / "pilot"


def datamodel_dir(project: Project) -> Path:
    """Where the refined data-model version is written."""
    return project.datamodel_dir


def base_datamodel(project: Project) -> DataModel:
    """The version the pilot works on and refines: phase 2's pilot dataset when it
    has been prepared, else the latest earlier version (draft, then candidate)."""
    return phases.basis(project, PHASE).datamodel


def collection_periods(project: Project, returns=None) -> list[str]:
    """The quarters being evaluated: the project's collection span, else the span of
    the returns on file (a project that has not set one yet)."""
    if project.periods:
        return list(project.periods)
    returns = returns if returns is not None else store.load_returns(project)
    found = sorted(set(returns.accepted["period"].dropna()), key=periods.parse_period)
    return periods.period_range(found[0], found[-1]) if found else []


def deadlines(project: Project) -> int | dict[str, int]:
    """The return deadline in days: one number, or per agency where the project overrides."""
    overrides = project.deadline_overrides
    if not overrides:
        return project.deadline_days
    return {a: project.deadline_for(a) for a in AGENCY_LABELS}


def _receipts(project: Project) -> pd.DataFrame | None:
    path = project.receipts
    return pd.read_csv(path, dtype=str) if path.exists() else None


def _assessment(project: Project) -> pd.DataFrame | None:
    """Phase 2's item scores and decisions, where phase 2 has been prepared."""
    path = project.processed / "assessment" / "item_decisions.parquet"
    return pd.read_parquet(path) if path.exists() else None


def extra_items(returns, items: pd.DataFrame) -> pd.DataFrame:
    """Figures returned for items outside the version being piloted: listed, not
    benchmarked (a borough may still send an item an earlier phase dropped)."""
    accepted = returns.accepted
    extra = accepted.loc[~accepted["item_id"].isin(items.index)]
    if extra.empty:
        return pd.DataFrame(columns=["item_id", "authorities", "figures"])
    return (
        extra.groupby("item_id")
        .agg(authorities=("la_code_ons", "nunique"), figures=("la_code_ons", "size"))
        .reset_index()
    )


def prepare_pilot(project: Project) -> dict:
    """Ingest the returns, then work out everything the phase 3 notebooks share, once,
    and the refined dataset."""
    ingest = store.ingest(project)
    basis = phases.basis(project, PHASE)
    base = basis.datamodel
    items = base.items
    returns = store.load_returns(project)
    labels = collection_periods(project, returns)
    in_scope = returns.accepted.loc[returns.accepted["item_id"].isin(items.index)]
    obs = observations.observations(in_scope, items)
    published_check = published.pilot_vs_published(obs, items)
    # Flags look for figures far outside OHID's unadjusted limits; the funnels the
    # reports draw then leave the flagged figures out and allow for over-dispersion.
    flags = quality.definition_flags(
        funnels.funnel_positions(obs, adjustment="none"), obs, published_check
    )
    positions = funnels.funnel_positions(obs, exclude=flags)
    out = pilot_dir(project)
    write_parquet_atomic(out / "funnel_positions.parquet", positions)
    write_parquet_atomic(out / "published_check.parquet", published_check)
    write_parquet_atomic(out / "definition_flags.parquet", flags)
    write_parquet_atomic(out / "extra_items.parquet", extra_items(returns, items))

    write_feedback_lists(project, items, returns, labels)

    deadline = deadlines(project)
    recs = recommendations(project, items, returns, obs, flags, deadline, labels)
    write_parquet_atomic(out / "recommendations.parquet", recs.reset_index())
    write_parquet_atomic(out / "observations.parquet", obs)
    write_parquet_atomic(
        out / "cells.parquet", figure_status(project, items, returns, labels, deadline)
    )
    authorities = project.authorities
    tables, standing = [], []
    latest = max(labels, key=periods.parse_period) if labels else None
    for la in sorted(set(obs["la_code_ons"])):
        near = neighbour_codes(la)
        if latest is not None:
            tables.append(
                comparators.borough_benchmark(
                    obs, la, latest, authorities, near, exclude=flags, items=items
                ).assign(la_code_ons=la)
            )
        standing.append(published.london_standing(items, la, authorities).assign(la_code_ons=la))
    write_parquet_atomic(
        out / "benchmarks.parquet",
        pd.concat(tables, ignore_index=True) if tables else pd.DataFrame({"la_code_ons": []}),
    )
    write_parquet_atomic(
        out / "standing.parquet",
        pd.concat(standing, ignore_index=True) if standing else pd.DataFrame({"la_code_ons": []}),
    )
    released = project.released("refined") or (
        periods.period_end(latest).isoformat() if latest else date.today().isoformat()
    )
    scoped = recs.loc[recs.index.intersection(items.index)]
    refined = refinement.refined_datamodel(
        base, scoped, flags, released, phases.version_name(project, "refined")
    )
    written = refinement.write_refined(base, refined, scoped, datamodel_dir(project))
    summary = {
        "periods": labels,
        "pilots": store.pilot_authorities(project),
        "observations": len(obs),
        "definition_flags": len(flags),
        "dispositions": recs["disposition"].astype(str).value_counts().to_dict(),
        "refined_version": refined.version,
        "writes": refined.version,
        "based_on": base.version,
        "basis_role": basis.role,
        "basis_note": basis.note(),
        "datamodel": str(written["datamodel"]),
        "rows_accepted": ingest.get("rows_accepted", 0),
    }
    write_json_atomic(out / "summary.json", summary)
    return summary


def feedback_dir(project: Project) -> Path:
    """Where every pilot authority's list to send back is written, per period."""
    return pilot_dir(project) / feedback.FOLDER


def write_feedback_lists(project: Project, items: pd.DataFrame, returns, labels) -> list[Path]:
    """Every pilot authority's list to send back for every period (xlsx and csv)."""
    return feedback.write_all_feedback(
        returns,
        items,
        project.authorities,
        store.pilot_authorities(project),
        labels,
        feedback_dir(project),
    )


def feedback_for(
    project: Project, la_code: str, period: str, out: Path | None = None
) -> tuple[pd.DataFrame, list[Path]]:
    """One authority and period's list to send back, from the ingested returns and the
    items being piloted, written into ``out`` (default: the prepared folder)."""
    periods.parse_period(period)
    items = phases.basis(project, PHASE).datamodel.items
    frame = feedback.feedback_list(
        store.load_returns(project), items, la_code, project.authority_name(la_code), period
    )
    return frame, feedback.write_feedback(frame, out or feedback_dir(project), la_code, period)


def neighbour_codes(la_code: str) -> list[str]:
    """The authority's statistical neighbours (DfE's model); none if it is not in it."""
    try:
        return reference.statistical_neighbours(la_code)["la_code_ons"].dropna().tolist()
    except KeyError:
        return []


def figure_status(
    project: Project,
    items: pd.DataFrame,
    returns,
    labels: list[str],
    deadline_days: int | dict[str, int],
) -> pd.DataFrame:
    """Every figure the dataset expects of a pilot borough in ``labels``, with its
    status (on time, late, suppressed, quarantined, missing) against the deadline."""
    accepted = returns.accepted.loc[returns.accepted["period"].isin(labels)]
    return completeness.cell_status(
        completeness.expected_cells(items, store.pilot_authorities(project), labels),
        accepted,
        returns.quarantined,
        _receipts(project),
        deadline_days,
    )


def recommendations(
    project: Project,
    items: pd.DataFrame,
    returns,
    obs: pd.DataFrame,
    flags: pd.DataFrame,
    deadline_days: int | dict[str, int],
    labels: list[str],
    thresholds: refinement.Thresholds | None = None,
) -> pd.DataFrame:
    """Evidence and a disposition per item, with the given return deadline."""
    cells = figure_status(project, items, returns, labels, deadline_days)
    ev = refinement.evidence(
        items,
        completeness.summarise(cells, "item_id"),
        returns.issues,
        flags,
        refinement.discrimination(obs),
        _assessment(project),
    )
    return refinement.recommend(ev, thresholds or refinement.Thresholds())
