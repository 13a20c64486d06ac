"""Phase 3's prepared data, read back for a report (read only).

``load_context`` reads what :mod:`lscb_nb.pilot.stage` wrote to
``data/processed/pilot``; a shorter span of quarters or another deadline is worked out
again here, with the stage's own functions, and nothing is written.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lscb_nb.core import periods, phases
from lscb_nb.core.datamodel import (
    AGENCY_LABELS,
    DataModel,
    load_datamodel,
)
from lscb_nb.core.display import Section
from lscb_nb.core.project import AREA, AreaReport, Project, find_project
from lscb_nb.pilot import comparators, funnels, observations, stage, store
from lscb_nb.pilot.returns import read_summary

log = logging.getLogger(__name__)


@dataclass
class Context(AreaReport):
    project: Project
    la_code: str
    la_name: str
    period: str
    period_labels: list[str]
    deadline_days: int | dict[str, int]
    threshold: int
    synthetic: bool
    items: pd.DataFrame
    authorities: pd.DataFrame
    pilots: list[str]
    returns: object
    obs: pd.DataFrame
    cells: pd.DataFrame
    positions: pd.DataFrame
    flags: pd.DataFrame
    published_check: pd.DataFrame
    recommendations: pd.DataFrame
    base: DataModel
    refined: DataModel | None
    summary: dict
    ingest: dict
    rules: pd.DataFrame
    extra: pd.DataFrame
    neighbours: list[str] = field(default_factory=list)
    benchmark_table: pd.DataFrame | None = None
    standing: pd.DataFrame | None = None
    # Funnel limits: "additive" (default), "multiplicative" or "none" (unadjusted).
    funnel_adjustment: str = "additive"
    # The quarter benchmarked and what it rests on (lscb_nb.pilot.quarters), and the
    # number of authorities an average or rank needs (the project's quorum).
    benchmark: dict = field(default_factory=dict)
    quorum: int = 1

    @property
    def judged(self) -> bool:
        """The report's authority has a return for the quarter benchmarked (the area
        report always does): otherwise it is told so and not judged."""
        if self.is_london:
            return self.benchmark.get("period") is not None
        return self.la_code in set(self.obs.loc[self.obs["period"] == self.period, "la_code_ons"])

    @property
    def benchmark_sentence(self) -> str:
        """Which quarter is benchmarked and how many pilots it rests on, in words."""
        from lscb_nb.pilot import quarters

        if not self.benchmark:
            return ""
        bq = quarters.BenchmarkQuarter(**self.benchmark)
        text = quarters.sentence(bq, self.la_name, self.area)
        if not self.is_london and bq.period is not None and self.period != bq.period:
            text += f" This report was asked for {self.period} instead."
        if not self.is_london and not self.judged:
            text += (
                f" {self.la_name} has no return for {self.period} on file, so it is not "
                "judged on that quarter."
            )
        return text

    @property
    def base_version(self) -> str:
        return self.base.version

    @property
    def recommendations_in_scope(self) -> pd.DataFrame:
        """Recommendations for the items of the version the pilot refines."""
        return self.recommendations.loc[self.recommendations.index.intersection(self.items.index)]

    @property
    def has_returns(self) -> bool:
        return self.is_london or self.la_code in set(self.obs["la_code_ons"])

    @property
    def deadline_text(self) -> str:
        if isinstance(self.deadline_days, dict):
            days = pd.Series(self.deadline_days)
            common = int(days.mode().iloc[0])
            other = days[days != common]
            return f"{common} days after the quarter ends" + (
                " (" + "; ".join(f"{AGENCY_LABELS.get(a, a)} {d}" for a, d in other.items()) + ")"
                if len(other)
                else ""
            )
        return f"{self.deadline_days} days after the quarter ends"


def load_context(
    project: Project | Path | str | None = None,
    la_code: str = AREA,
    period: str | None = None,
    periods_shown: list[str] | None = None,
    deadline_days: int | None = None,
    threshold: int | None = None,
    funnel_adjustment: str = "additive",
) -> Context:
    """Everything a phase 3 report shows, from the prepared data (read only).
    ``funnel_adjustment`` chooses the funnel limits: ``additive`` (over-dispersion
    allowed for by random effects where the pilot is over-dispersed),
    ``multiplicative`` or ``none``.

    ``deadline_days`` and ``threshold`` default to the project's; other values
    (or a shorter span of quarters) are worked out here from the prepared returns.
    """
    project = find_project(project)
    la_code = project.area_code(la_code)
    prepared = phases.prepared_summary(project, stage.PHASE)
    base = stage.base_datamodel(project)
    items = base.items
    authorities = project.authorities
    returns = store.load_returns(project)
    # The report evaluates the piloted items; figures for others are listed as extra.
    returns = dataclasses.replace(
        returns, accepted=returns.accepted.loc[returns.accepted["item_id"].isin(items.index)]
    )
    folder = stage.pilot_dir(project)
    all_periods = prepared.get("periods") or stage.collection_periods(project, returns)
    labels = periods_shown or all_periods
    latest = max(labels, key=periods.parse_period)
    quarter = (
        prepared.get("benchmark_quarter", {})
        if la_code == AREA
        else prepared.get("benchmark_quarters", {}).get(la_code, {})
    )
    prepared_period = quarter.get("period")
    area_period = prepared.get("benchmark_quarter", {}).get("period")
    pilots = prepared.get("pilots") or store.pilot_authorities(project)
    quorum = int(prepared.get("quorum") or project.quorum_count(len(pilots)))
    if periods_shown and labels != all_periods:  # the quarter benchmarked within the span
        from lscb_nb.pilot import quarters

        received = stage.received_returns(project, returns)
        own = None if la_code == AREA else la_code
        quarter = quarters.benchmark_quarter(received, pilots, quorum, own, labels).as_dict()
        area_period = quarters.benchmark_quarter(received, pilots, quorum, None, labels).period
        prepared_period = quarter.get("period")
    period = period or prepared_period or area_period or latest
    flags = pd.read_parquet(folder / "definition_flags.parquet")
    deadline = stage.deadlines(project) if deadline_days is None else deadline_days
    # The batch prepares everything for the project's settings once; other choices
    # (a shorter span, another deadline or quarter) are worked out here instead.
    as_prepared = labels == all_periods and deadline == stage.deadlines(project)
    if as_prepared:
        obs = pd.read_parquet(folder / "observations.parquet")
        cells = pd.read_parquet(folder / "cells.parquet")
        recs = pd.read_parquet(folder / "recommendations.parquet").set_index("item_id")
    else:
        accepted = returns.accepted.loc[
            returns.accepted["period"].isin(labels) & returns.accepted["item_id"].isin(items.index)
        ]
        obs = observations.observations(accepted, items)
        cells = stage.figure_status(project, items, returns, labels, deadline)
        recs = stage.recommendations(project, items, returns, obs, flags, deadline, labels)
    bench = standing = None
    if la_code != AREA:
        tables = pd.read_parquet(folder / "benchmarks.parquet")
        if as_prepared and period == prepared_period:
            bench = tables.loc[tables["la_code_ons"] == la_code].drop(
                columns=["la_code_ons", "period"], errors="ignore"
            )
        standing = pd.read_parquet(folder / "standing.parquet")
        standing = standing.loc[standing["la_code_ons"] == la_code].drop(columns="la_code_ons")
    refined_name = prepared.get("writes") or phases.version_name(project, "refined")
    refined = (
        load_datamodel(refined_name, stage.datamodel_dir(project))
        if (stage.datamodel_dir(project) / f"{refined_name}.yaml").exists()
        else None
    )
    neighbours = stage.neighbour_codes(la_code) if la_code != AREA else []
    return Context(
        project=project,
        la_code=la_code,
        la_name=project.authority_name(la_code),
        period=period,
        period_labels=labels,
        deadline_days=deadline,
        threshold=project.suppression_threshold if threshold is None else threshold,
        synthetic=project.synthetic,
        items=items,
        authorities=authorities,
        pilots=pilots,
        returns=returns,
        obs=obs,
        cells=cells,
        positions=pd.read_parquet(folder / "funnel_positions.parquet")
        if as_prepared and funnel_adjustment == "additive"
        else funnels.funnel_positions(obs, funnel_adjustment, flags),
        flags=flags,
        published_check=pd.read_parquet(folder / "published_check.parquet"),
        recommendations=recs,
        base=base,
        refined=refined,
        summary=prepared,
        ingest=read_summary(store.returns_dir(project)),
        rules=base.rules,
        extra=pd.read_parquet(folder / "extra_items.parquet"),
        neighbours=neighbours,
        benchmark_table=bench,
        standing=standing,
        funnel_adjustment=funnel_adjustment,
        benchmark=quarter,
        quorum=quorum,
    )


def needs_returns(section):
    """A section that has nothing to say for a borough with no returns (the
    ``section_no_returns`` page says why instead)."""
    import functools

    @functools.wraps(section)
    def wrapper(ctx: Context) -> Section:
        return section(ctx) if ctx.has_returns else Section()

    return wrapper


def prepared_benchmarks(ctx: Context) -> pd.DataFrame:
    """Every pilot authority's benchmark table for its own benchmark quarter, as the
    stage prepared them (``la_code_ons`` says whose, ``period`` for which quarter);
    empty if there are none."""
    path = stage.pilot_dir(ctx.project) / "benchmarks.parquet"
    return pd.read_parquet(path) if path.exists() else pd.DataFrame({"la_code_ons": []})


def borough_benchmark(ctx: Context) -> pd.DataFrame:
    """The borough's benchmark table: prepared by the batch, or worked out once here."""
    if ctx.benchmark_table is None:
        ctx.benchmark_table = comparators.borough_benchmark(
            ctx.obs,
            ctx.la_code,
            ctx.period,
            ctx.authorities,
            ctx.neighbours,
            exclude=ctx.flags,
            items=ctx.items,
            min_authorities=ctx.quorum,
        )
    return ctx.benchmark_table.reset_index(drop=True)
