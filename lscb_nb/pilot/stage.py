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

from lscb_nb.core import decisions, overrules, periods, phases, reference
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
    quarters,
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
    recs, table = decided_recommendations(project, items, returns, obs, flags, deadline, labels)
    write_parquet_atomic(out / "recommendations.parquet", recs.reset_index())
    write_parquet_atomic(out / "observations.parquet", obs)
    write_parquet_atomic(
        out / "cells.parquet", figure_status(project, items, returns, labels, deadline)
    )
    authorities = project.authorities
    pilots = store.pilot_authorities(project)
    quorum = project.quorum_count(len(pilots))
    received = received_returns(project, returns)
    area_quarter = quarters.benchmark_quarter(received, pilots, quorum, labels=labels)
    benchmark_quarters = {}
    tables, standing = [], []
    for la in sorted(set(obs["la_code_ons"])):
        near = neighbour_codes(la)
        bq = quarters.benchmark_quarter(received, pilots, quorum, la, labels)
        benchmark_quarters[la] = bq.as_dict()
        if bq.period is not None:
            tables.append(
                comparators.borough_benchmark(
                    obs,
                    la,
                    bq.period,
                    authorities,
                    near,
                    exclude=flags,
                    items=items,
                    min_authorities=quorum,
                ).assign(la_code_ons=la, period=bq.period)
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
    latest = max(labels, key=periods.parse_period) if labels else None
    released = project.released("refined") or (
        periods.period_end(latest).isoformat() if latest else date.today().isoformat()
    )
    scoped = recs.loc[recs.index.intersection(items.index)]
    refined = phases.release_name(  # a new revision if it changed; released ones never do
        project,
        refinement.refined_datamodel(
            base,
            scoped,
            flags,
            released,
            phases.version_name(project, "refined"),
            overrules.guard_note(table) + overrules.overrule_note(table),
        ),
    )
    written = refinement.write_refined(base, refined, scoped, datamodel_dir(project))
    phases.record_release(project, PHASE, basis, refined)
    decisions.write_stage(
        project.processed, decisions.stage_rows(table, "refined", base.version, refined.version)
    )
    summary = {
        "periods": labels,
        "pilots": store.pilot_authorities(project),
        "observations": len(obs),
        "definition_flags": len(flags),
        "dispositions": recs["disposition"].astype(str).value_counts().to_dict(),
        "kept_for_partners": int((table["guard"] != "").sum()),
        "overruled": int((table["overruled_by"] == "board").sum()),
        "refined_version": refined.version,
        "writes": refined.version,
        "based_on": base.version,
        "basis_role": basis.role,
        "basis_note": basis.note(),
        "datamodel": str(written["datamodel"]),
        "rows_accepted": ingest.get("rows_accepted", 0),
        "as_of": project.as_of.isoformat(),
        "quorum": quorum,
        "benchmark_quarter": area_quarter.as_dict(),
        "benchmark_quarters": benchmark_quarters,
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
    """Every figure the dataset expects of a pilot authority in ``labels``, with its
    status (:data:`lscb_nb.core.states.FIGURE_STATUSES`) against the deadline, judged
    on the project's ``as_of`` date. A return counts as received when any row of it was
    read (for any item of the candidate, accepted or quarantined)."""
    accepted = returns.accepted.loc[returns.accepted["period"].isin(labels)]
    return completeness.cell_status(
        completeness.expected_cells(items, store.pilot_authorities(project), labels),
        accepted,
        returns.quarantined,
        _receipts(project),
        deadline_days,
        as_of=project.as_of,
        received=received_returns(project, returns),
    )


def received_returns(project: Project, returns=None) -> set[tuple[str, str]]:
    """The (authority, period) pairs whose return has arrived, whatever items it
    carried: read from every row ingested (returns of items outside the version
    piloted included) and the receipt log."""
    full = store.load_returns(project) if store.has_returns(project) else returns
    frames = [returns.accepted, returns.quarantined]
    if full is not None and full is not returns:
        frames += [full.accepted, full.quarantined]
    found = completeness.received_returns(*frames)
    receipts = _receipts(project)
    if receipts is not None and {"la_code_ons", "period", "received_date"} <= set(receipts):
        found |= completeness.received_returns(receipts.dropna(subset=["received_date"]))
    return found


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
    """Evidence and a disposition per item, with the given return deadline (the board's
    overrules and the partner guard applied: :func:`decided_recommendations`)."""
    return decided_recommendations(
        project, items, returns, obs, flags, deadline_days, labels, thresholds
    )[0]


def decided_recommendations(
    project: Project,
    items: pd.DataFrame,
    returns,
    obs: pd.DataFrame,
    flags: pd.DataFrame,
    deadline_days: int | dict[str, int],
    labels: list[str],
    thresholds: refinement.Thresholds | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The recommendations and the decision table behind them: the rule's disposition
    from the evidence, then the board's overrules, then the partner guard."""
    t = thresholds or refinement.Thresholds.for_project(project)
    cells = figure_status(project, items, returns, labels, deadline_days)
    ev = refinement.evidence(
        items,
        completeness.summarise(cells, "item_id"),
        returns.issues,
        flags,
        refinement.discrimination(obs),
        _assessment(project),
        cells=cells,
    )
    return refinement.decide_refined(
        refinement.recommend(ev, t), items, t, overrules.read_overrules(project.overrules)
    )
