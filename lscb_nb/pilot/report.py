"""Phase 3's report: what the pilot returns show, area-wide and per authority.

``prepare_pilot`` runs once per batch (after the returns are ingested): it works
out the funnel positions, definitional flags, the pilot-versus-published check
and the refined data model, and writes them to ``data/processed/pilot``. The
notebook calls ``load_context`` and then one ``section_*`` function per part of
the story. Every table that leaves here passes small-number suppression.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lscb_nb.core import disclosure, display, periods, phases, reference, states
from lscb_nb.core.datamodel import (
    AGENCY_LABELS,
    DataModel,
    diff_datamodels,
    format_diff_markdown,
    load_datamodel,
)
from lscb_nb.core.display import Section, esc, listing, nothing_to_show, number, plural, table
from lscb_nb.core.fileio import write_json_atomic, write_parquet_atomic
from lscb_nb.core.project import AREA, Project, find_project
from lscb_nb.pilot import benchmark, completeness, quality, refinement, store
from lscb_nb.pilot.returns import read_summary

log = logging.getLogger(__name__)

PHASE = "pilot"


def pilot_dir(project: Project) -> Path:
    return project.processed / "pilot"


def datamodel_dir(project: Project) -> Path:
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
    obs = benchmark.observations(in_scope, items)
    published_check = benchmark.pilot_vs_published(obs, items)
    # Flags look for figures far outside OHID's unadjusted limits; the funnels the
    # reports draw then leave the flagged figures out and allow for over-dispersion.
    flags = quality.definition_flags(
        benchmark.funnel_positions(obs, adjustment="none"), obs, published_check
    )
    positions = benchmark.funnel_positions(obs, exclude=flags)
    out = pilot_dir(project)
    write_parquet_atomic(out / "funnel_positions.parquet", positions)
    write_parquet_atomic(out / "published_check.parquet", published_check)
    write_parquet_atomic(out / "definition_flags.parquet", flags)
    write_parquet_atomic(out / "extra_items.parquet", extra_items(returns, items))

    deadline = deadlines(project)
    recs = recommendations(project, items, returns, obs, flags, deadline, labels)
    write_parquet_atomic(out / "recommendations.parquet", recs.reset_index())
    write_parquet_atomic(out / "observations.parquet", obs)
    write_parquet_atomic(out / "cells.parquet", _cells(project, items, returns, labels, deadline))
    authorities = project.authorities
    tables, standing = [], []
    latest = max(labels, key=periods.parse_period) if labels else None
    for la in sorted(set(obs["la_code_ons"])):
        near = _neighbours(la)
        if latest is not None:
            tables.append(
                benchmark.borough_benchmark(
                    obs, la, latest, authorities, near, exclude=flags, items=items
                ).assign(la_code_ons=la)
            )
        standing.append(benchmark.london_standing(items, la, authorities).assign(la_code_ons=la))
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


def _neighbours(la_code: str) -> list[str]:
    """The authority's statistical neighbours (DfE's model); none if it is not in it."""
    try:
        return reference.statistical_neighbours(la_code)["la_code_ons"].dropna().tolist()
    except KeyError:
        return []


def _cells(
    project: Project,
    items: pd.DataFrame,
    returns,
    labels: list[str],
    deadline_days: int | dict[str, int],
) -> pd.DataFrame:
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
    cells = _cells(project, items, returns, labels, deadline_days)
    ev = refinement.evidence(
        items,
        completeness.summarise(cells, "item_id"),
        returns.issues,
        flags,
        refinement.discrimination(obs),
        _assessment(project),
    )
    return refinement.recommend(ev, thresholds or refinement.Thresholds())


# --------------------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------------------


@dataclass
class Context:
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

    @property
    def is_london(self) -> bool:
        """The report is about the whole area, not one authority."""
        return self.la_code == AREA

    @property
    def area(self) -> str:
        return self.project.area_name

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

    def name(self, code: str) -> str:
        return self.project.authority_name(code)


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
    prepared = phases.prepared_summary(project, PHASE)
    base = base_datamodel(project)
    items = base.items
    authorities = project.authorities
    returns = store.load_returns(project)
    # The report evaluates the piloted items; figures for others are listed as extra.
    returns = dataclasses.replace(
        returns, accepted=returns.accepted.loc[returns.accepted["item_id"].isin(items.index)]
    )
    folder = pilot_dir(project)
    all_periods = prepared.get("periods") or collection_periods(project, returns)
    labels = periods_shown or all_periods
    latest = max(labels, key=periods.parse_period)
    period = period or latest
    pilots = prepared.get("pilots") or store.pilot_authorities(project)
    flags = pd.read_parquet(folder / "definition_flags.parquet")
    deadline = deadlines(project) if deadline_days is None else deadline_days
    # The batch prepares everything for the project's settings once; other choices
    # (a shorter span, another deadline or quarter) are worked out here instead.
    as_prepared = labels == all_periods and deadline == deadlines(project)
    if as_prepared:
        obs = pd.read_parquet(folder / "observations.parquet")
        cells = pd.read_parquet(folder / "cells.parquet")
        recs = pd.read_parquet(folder / "recommendations.parquet").set_index("item_id")
    else:
        accepted = returns.accepted.loc[
            returns.accepted["period"].isin(labels) & returns.accepted["item_id"].isin(items.index)
        ]
        obs = benchmark.observations(accepted, items)
        cells = _cells(project, items, returns, labels, deadline)
        recs = recommendations(project, items, returns, obs, flags, deadline, labels)
    bench = standing = None
    if la_code != AREA:
        tables = pd.read_parquet(folder / "benchmarks.parquet")
        if as_prepared and period == latest:
            bench = tables.loc[tables["la_code_ons"] == la_code].drop(columns="la_code_ons")
        standing = pd.read_parquet(folder / "standing.parquet")
        standing = standing.loc[standing["la_code_ons"] == la_code].drop(columns="la_code_ons")
    refined_name = phases.version_name(project, "refined")
    refined = (
        load_datamodel(refined_name, datamodel_dir(project))
        if (datamodel_dir(project) / f"{refined_name}.yaml").exists()
        else None
    )
    neighbours = _neighbours(la_code) if la_code != AREA else []
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
        else benchmark.funnel_positions(obs, funnel_adjustment, flags),
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
    )


def header(ctx: Context) -> Section:
    facts = {
        "Report": "Phase 3: evaluation of the pilot returns",
        "Area": ctx.la_name if ctx.is_london else f"{ctx.la_name} ({ctx.la_code})",
        "Dataset piloted": f"{ctx.base.version} ({len(ctx.items)} items)",
        "Periods": periods.span_text(ctx.period_labels),
        "Benchmark quarter": ctx.period,
        "Return deadline": ctx.deadline_text,
        "Small numbers": f"counts of 1 to {ctx.threshold} shown as c",
        "Data snapshot": str(ctx.ingest.get("input_snapshot_sha256", ""))[:12],
    }
    return display.header("Phase 3", facts, ctx.synthetic).add(
        ctx.summary.get("basis_note") or None
    )


def section_intro(ctx: Context) -> Section:
    """What the pilot was, in words built from the data."""
    n = len(ctx.pilots)
    quarters = len(ctx.period_labels)
    return Section().add(
        f"{plural(n, 'authority', 'authorities').capitalize()} in {esc(ctx.area)} piloted "
        f"the {esc(_role_words(ctx))} ({esc(ctx.base.version)}, {plural(len(ctx.items), 'item')}), "
        + (
            f"sending a return each quarter for {plural(quarters, 'quarter')}, "
            if quarters > 1
            else "sending a return for "
        )
        + f"{periods.span_text(ctx.period_labels)}. This report asks four questions: "
        "could authorities supply the figures, on time and to the definition; how good were "
        "the returns; how does each authority compare; and what should change in the dataset "
        "as a result."
    )


def _role_words(ctx: Context) -> str:
    return {
        "pilot": "pilot dataset agreed in phase 2",
        "draft": "draft dataset from phase 1",
        "candidate": "candidate dataset",
    }.get(ctx.summary.get("basis_role", "pilot"), "dataset")


# --------------------------------------------------------------------------------------
# Small helpers for display
# --------------------------------------------------------------------------------------


def needs_returns(section):
    """A section that has nothing to say for a borough with no returns (the
    ``section_no_returns`` page says why instead)."""
    import functools

    @functools.wraps(section)
    def wrapper(ctx: Context) -> Section:
        return section(ctx) if ctx.has_returns else Section()

    return wrapper


def _agency(code: str) -> str:
    return AGENCY_LABELS.get(code, code)


def _fmt(value: float, decimals: int) -> str:
    return number(value, decimals)


def _suppressed_counts(counts: pd.Series, threshold: int) -> pd.Series:
    return disclosure.primary_suppress(counts.fillna(0), threshold)


# --------------------------------------------------------------------------------------
# Sections: the pilot as a whole
# --------------------------------------------------------------------------------------


def section_no_returns(ctx: Context) -> Section:
    """For a borough that sent nothing: say so plainly, and nothing else."""
    if ctx.has_returns:
        return Section()
    return nothing_to_show(
        f"{ctx.la_name} has no pilot returns on file for {periods.span_text(ctx.period_labels)}"
        ", so there is nothing to evaluate or benchmark. Boroughs in "
        f"the pilot were: {', '.join(ctx.name(c) for c in ctx.pilots)}."
    )


@needs_returns
def section_scope(ctx: Context) -> Section:
    """What came in, and that every row is accounted for."""
    s = ctx.ingest
    files = ctx.returns.files
    # README files, lock files and folders are listed by ingestion but are not returns.
    files = files.loc[files["status"] != "not a return"]
    failed = files.loc[files["status"] != "read"]
    sec = Section()
    sec.add(
        f"{plural(len(ctx.pilots), 'pilot borough')} sent "
        f"{plural(len(files), 'return file')} covering {plural(len(ctx.period_labels), 'quarter')} "
        f"({periods.span_text(ctx.period_labels)}). Of "
        f"{number(s.get('rows_read', 0))} rows read, {number(s.get('rows_accepted', 0))} were "
        f"accepted and {number(s.get('rows_quarantined', 0))} held back for correction: every "
        "row is accounted for."
    )
    if not ctx.extra.empty:
        sec.add(
            f"Figures also came in for {plural(len(ctx.extra), 'item')} outside "
            f"{esc(ctx.base.version)}: {listing(ctx.extra['item_id'])}. They are kept in the "
            "processed data but not evaluated or benchmarked here, since the pilot does not "
            "cover them."
        )
    if not failed.empty:
        sec.add(
            f"{plural(len(failed), 'file')} could not be read in full; the borough has been "
            "asked to send it again:",
            table(
                failed[["file", "error"]].rename(columns={"file": "File", "error": "Problem"}),
            ),
        )
    return sec


def _status_share(cells: pd.DataFrame, rows: str, cols: str) -> pd.DataFrame:
    supplied = cells["status"].isin(completeness.SUPPLIED)
    return supplied.groupby([cells[rows], cells[cols]]).mean().unstack() * 100


@needs_returns
def section_completeness(ctx: Context) -> Section:
    """Share of expected figures supplied, by borough and quarter, and the trend."""
    cells = ctx.cells if ctx.is_london else ctx.cells.loc[ctx.cells["la_code_ons"] == ctx.la_code]
    if cells.empty:
        return nothing_to_show("No figures were expected in these quarters.")
    sec = Section()
    if ctx.is_london:
        share = _status_share(cells, "la_code_ons", "period")
        share.index = [ctx.name(c) for c in share.index]
        share = share[sorted(share.columns, key=periods.parse_period)]
        fig, ax = plt.subplots(figsize=(9, 0.45 * len(share) + 1.6))
        import seaborn as sns

        sns.heatmap(
            share,
            annot=True,
            fmt=".0f",
            cmap="RdYlGn",
            vmin=50,
            vmax=100,
            cbar_kws={"label": "% of expected figures supplied"},
            ax=ax,
        )
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_title("Figures supplied, % of those expected")
        fig.tight_layout()
        worst = share.stack().idxmin()
        display.describe(
            fig,
            f"Grid of {len(share)} boroughs by {share.shape[1]} quarters, each cell labelled "
            f"with the % of expected figures supplied. Lowest: {worst[0]} in {worst[1]} "
            f"({share.stack().min():.0f}%); {int((share.stack() >= 100).sum())} cells are "
            "complete.",
        )
        sec.add(
            "The heatmap shows, for each borough and quarter, what share of the figures the "
            "dataset expects were actually supplied (on time or late). Red cells are the gaps "
            f"to chase: the lowest was {esc(worst[0])} in {esc(worst[1])} at "
            f"{share.stack().min():.0f}%.",
            fig,
        )
    else:
        sec.add(_borough_status_heatmap(ctx, cells))

    tr = completeness.trend(cells)
    by_q = tr["by_quarter"]
    where = "Across the pilot" if ctx.is_london else f"In {esc(ctx.la_name)}"
    sec.add(
        f"{where}, {tr['first_pct']:.0f}% of expected figures were supplied in "
        f"{esc(by_q.index[0])}: one quarter, so no trend can be tested yet."
        if len(by_q) == 1
        else f"{where}, {tr['first_pct']:.0f}% of expected figures were supplied in "
        f"{esc(by_q.index[0])} and {tr['last_pct']:.0f}% in {esc(by_q.index[-1])}: "
        f"{completeness_verdict(tr)}",
        table(
            by_q.reset_index()
            .rename(columns={"period": "Quarter"})
            .rename(columns=str.capitalize)[
                ["Quarter", "Expected", "On time", "Late", "Suppressed", "Quarantined", "Missing"]
            ]
            .assign(**{"% supplied": by_q["supplied_pct"].to_numpy()}),
            caption="Expected figures by status, each quarter",
            decimals={"% supplied": 1},
            meta=completeness.table_meta(
                "period",
                "Quarter",
                {s: s.capitalize() for s in [*completeness.STATUSES, "expected"]},
                {"% supplied": completeness.SUPPLIED},
                where={} if ctx.is_london else {"la_code_ons": ctx.la_code},
            ),
        ),
    )
    return sec


def completeness_verdict(tr: dict) -> str:
    """What the trend test says about the share supplied, in words that match the
    figures: a constant series is never a significant trend."""
    p = tr.get("p_value", np.nan)
    if "p_value" not in tr:
        return "too few quarters to test a trend."
    if tr.get("direction") == "not computable" or not np.isfinite(p):
        same = tr["first_pct"] == tr["last_pct"]
        return (
            "the share was the same every quarter, so there is no trend to test."
            if same
            else "the share did not vary enough to test a trend."
        )
    if p < 0.05:
        better = tr["direction"] == "increasing"
        shares = tr["by_quarter"]["supplied_pct"]
        agrees = tr["last_pct"] > tr["first_pct"] if better else tr["last_pct"] < tr["first_pct"]
        if not agrees:
            low, high = shares.idxmin(), shares.idxmax()
            turn = (
                f"dipped to {shares.min():.0f}% in {esc(low)} and recovered"
                if better
                else f"rose to {shares.max():.0f}% in {esc(high)} and fell back"
            )
            return (
                f"the share {turn}. The chi-square test for trend finds the later quarters "
                f"{'higher' if better else 'lower'} on the whole (p = {p:.3f}), but the last "
                "quarter is no "
                + ("better" if better else "worse")
                + " than the first, so this is not a lasting change."
            )
        return (
            f"a statistically significant {tr['direction']} trend (chi-square test for "
            f"trend, p = {p:.3f}). Returns "
            + ("improved" if better else "got worse")
            + " as the pilot went on."
        )
    return (
        "no statistically significant trend (chi-square test for trend, "
        f"p = {p:.3f}): returns did not measurably improve as the pilot went on."
    )


def _borough_status_heatmap(ctx: Context, cells: pd.DataFrame) -> plt.Figure:
    order = list(completeness.STATUSES)
    codes = cells.assign(code=cells["status"].map({s: i for i, s in enumerate(order)}))
    grid = codes.pivot_table(index="item_id", columns="period", values="code", aggfunc="first")
    grid = grid[sorted(grid.columns, key=periods.parse_period)]
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    cmap = ListedColormap([completeness.STATUS_COLOURS[s] for s in order])
    fig, ax = plt.subplots(figsize=(9, 0.16 * len(grid) + 1.8))
    ax.imshow(grid.to_numpy(float), aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(order) - 0.5)
    ax.set_yticks(range(len(grid)), grid.index, fontsize=6)
    ax.set_xticks(range(len(grid.columns)), grid.columns, fontsize=8)
    ax.grid(False)
    ax.legend(
        handles=[Patch(color=completeness.STATUS_COLOURS[s], label=s) for s in order],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.03),
        ncol=5,
        frameon=False,
    )
    ax.set_title(f"{ctx.la_name}: every expected figure, by quarter")
    fig.tight_layout()
    counts = cells["status"].value_counts()
    return display.describe(
        fig,
        f"Grid of {len(grid)} items by {grid.shape[1]} quarters for {ctx.la_name}, each cell "
        "coloured by the figure's status: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in order)
        + ".",
    )


@needs_returns
def section_timeliness(ctx: Context) -> Section:
    """On-time and supplied shares by agency; health is expected to be worst."""
    cells = ctx.cells if ctx.is_london else ctx.cells.loc[ctx.cells["la_code_ons"] == ctx.la_code]
    if cells.empty:
        return Section()
    by_agency = completeness.summarise(cells, "agency")
    by_agency.index = [_agency(a) for a in by_agency.index]
    by_agency = by_agency.sort_values("on_time_pct")
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(by_agency) + 1.4))
    ax.barh(by_agency.index, by_agency["supplied_pct"], color="#c6dbef", label="supplied")
    ax.barh(by_agency.index, by_agency["on_time_pct"], color="#2171b5", label="supplied on time")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of expected figures")
    ax.legend(loc="lower right")
    ax.set_title("Supplied and on time, by agency")
    fig.tight_layout()
    display.describe(
        fig,
        "Bar chart, by agency, of the % of expected figures supplied and supplied on time: "
        + "; ".join(
            f"{a} {r.supplied_pct:.0f}% supplied, {r.on_time_pct:.0f}% on time"
            for a, r in by_agency.iterrows()
        )
        + ".",
    )
    worst = by_agency.index[0]
    sec = Section().add(
        f"Light bars show the share of expected figures each agency supplied; dark bars the "
        f"share supplied by the deadline ({ctx.deadline_text}). "
        f"{esc(worst)} was the least timely at {by_agency['on_time_pct'].iloc[0]:.0f}% on "
        "time: its figures reach the board a quarter late, which limits what the board can do "
        "with them.",
        fig,
    )
    items = completeness.worst(completeness.summarise(cells, "item_id"), n=10)
    items = items.assign(title=[ctx.items.at[i, "title"] for i in items.index])
    sec.add(
        "The items least often supplied are where the dataset asks for something boroughs "
        "cannot yet produce:",
        table(
            items.reset_index()[
                ["item_id", "title", "expected", "supplied_pct", "on_time_pct"]
            ].rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "expected": "Expected",
                    "supplied_pct": "% supplied",
                    "on_time_pct": "% on time",
                }
            ),
            caption="Items least often supplied",
            decimals={"% supplied": 0, "% on time": 0},
            meta=completeness.table_meta(
                "item_id",
                "Item",
                {"expected": "Expected"},
                {"% supplied": completeness.SUPPLIED, "% on time": (completeness.ON_TIME,)},
                where={} if ctx.is_london else {"la_code_ons": ctx.la_code},
            ),
        ),
    )
    return sec


@needs_returns
def section_quality(ctx: Context) -> Section:
    """Errors and queries found on ingestion, and the cross-item checks."""
    issues = ctx.returns.issues
    if not ctx.is_london:
        issues = issues.loc[issues["la_code_ons"] == ctx.la_code]
    sec = Section()
    if issues.empty:
        sec.add("Ingestion found no errors or queries in these returns.")
    else:
        by_rule = quality.issue_summary(issues, ctx.items, "rule").reset_index()
        sec.add(
            f"Ingestion raised {plural(len(issues), 'issue')}. Each one held back the row "
            "concerned until the borough corrects it; none was silently dropped.",
            table(by_rule.rename(columns=str.capitalize), caption="Issues by rule"),
        )
        if ctx.is_london:
            by_la = quality.issue_summary(issues, ctx.items, "borough").reset_index()
            by_la["la_code_ons"] = [ctx.name(c) for c in by_la["la_code_ons"]]
            by_agency = quality.issue_summary(issues, ctx.items, "agency").reset_index()
            by_agency["agency"] = [_agency(a) for a in by_agency["agency"]]
            sec.add(
                table(
                    by_la.rename(columns={"la_code_ons": "Borough"}).rename(columns=str.capitalize),
                    caption="Issues by borough",
                ),
                table(by_agency.rename(columns=str.capitalize), caption="Issues by agency"),
            )
        listing_cols = ["file", "sheet", "row", "column", "rule_code", "message"]
        sec.add(
            "Every issue, as the borough's data officer needs it to find and fix the cell:",
            table(
                issues[listing_cols]
                .rename(columns=str.capitalize)
                .rename(columns={"Rule_code": "Rule"}),
                caption="Issue list",
                max_rows=40,
            ),
        )
    checks = quality.cross_item_checks(ctx.returns.issues, ctx.rules)
    broken = checks.loc[checks["returns_breaking_it"] > 0]
    sec.add(
        f"The {len(checks)} cross-item rules (for example, child protection plans started "
        "cannot exceed conferences held) were checked on every return: "
        + (
            "all held."
            if broken.empty
            else f"{plural(len(broken), 'rule')} failed somewhere, listed below."
        )
    )
    if not broken.empty:
        sec.add(table(broken.rename(columns=str.capitalize)))
    return sec


def _funnel_figure(ctx: Context, item_id: str, period: str, highlight: str | None) -> plt.Figure:
    f = benchmark.funnel(ctx.obs, item_id, period, ctx.funnel_adjustment, ctx.flags)
    pts, lim = f["points"], f["limits"]
    item = ctx.items.loc[item_id]
    how = f.get("dispersion")
    widened = how is not None and how.applied != "none"
    fig, ax = plt.subplots(figsize=(8, 4.2))
    if not lim.empty:
        tag = " (widened for over-dispersion)" if widened else ""
        ax.plot(
            lim["base"],
            lim["upper_998"],
            color="#b2182b",
            lw=1,
            ls="--",
            label="99.8% limits" + tag,
        )
        ax.plot(lim["base"], lim["lower_998"], color="#b2182b", lw=1, ls="--")
        ax.plot(lim["base"], lim["upper_95"], color="#ef8a62", lw=1, label="95% limits" + tag)
        ax.plot(lim["base"], lim["lower_95"], color="#ef8a62", lw=1)
        ax.axhline(f["target"], color="#444", lw=1, label="pilot average")
    hidden = _suppressed_counts(pts["count"], ctx.threshold).to_numpy()
    shown = pts.loc[~hidden]
    kept = shown.loc[~shown["excluded"]]
    ax.scatter(kept["base"], kept["value"], color="#4d4d4d", s=28, zorder=3, label="pilot boroughs")
    other = shown.loc[shown["excluded"]]
    if not other.empty:
        ax.scatter(
            other["base"],
            other["value"],
            facecolors="none",
            edgecolors="#4d4d4d",
            marker="D",
            s=40,
            zorder=3,
            label="different definition (not in the average)",
        )
    if highlight is not None:
        mine = shown.loc[shown["la_code_ons"] == highlight]
        ax.scatter(
            mine["base"],
            mine["value"],
            color="#d6604d",
            marker="D" if mine["excluded"].any() else "o",
            s=80,
            zorder=4,
            label=ctx.name(highlight),
        )
    for row in shown.itertuples():
        ax.annotate(
            ctx.name(row.la_code_ons),
            (row.base, row.value),
            fontsize=7,
            xytext=(4, 3),
            textcoords="offset points",
        )
    unit = benchmark.unit_label(item["unit"], item.get("measure_type"), item.get("frequency"))
    ax.set_xlabel("Denominator" if f.get("kind") == "proportion" else "Children aged 0-17")
    ax.set_ylabel("%" if f.get("kind") == "proportion" else unit.replace(" children", ""))
    title = f"{item_id} {item['title']} ({period})"
    ax.set_title(title if how is None else f"{title}\n{how.short()}", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    outside = [
        ctx.name(row.la_code_ons)
        for row in shown.itertuples()
        if str(getattr(row, "funnel", "")).startswith(("above 99", "below 99"))
    ]
    return display.describe(
        fig,
        f"Funnel plot of {title}: {len(shown)} pilot boroughs' figures against their size, "
        f"with 95% and 99.8% limits around the pilot average ({f['target']:.1f}). "
        + (
            f"Outside the 99.8% limits: {', '.join(outside)}."
            if outside
            else "No borough is outside the 99.8% limits."
        ),
    )


@needs_returns
def section_definitions(ctx: Context) -> Section:
    """Boroughs that appear to count an item differently: for a conversation."""
    flags = ctx.flags if ctx.is_london else ctx.flags.loc[ctx.flags["la_code_ons"] == ctx.la_code]
    sec = Section()
    if flags.empty:
        sec.add(
            "No figure looked like a different definition: no borough sat persistently far "
            "outside the funnel or shifted level suddenly on its own."
        )
        return sec
    shown = flags.assign(
        Borough=[ctx.name(c) for c in flags["la_code_ons"]],
        Item=flags["item_id"],
        Title=[ctx.items.at[i, "title"] for i in flags["item_id"]],
        Signal=flags["signal"],
        Detail=flags["detail"],
    )[["Borough", "Item", "Title", "Signal", "Detail"]]
    sec.add(
        f"{plural(len(flags), 'figure')} look as if the borough is counting something other "
        "than the definition: far outside what the other pilot boroughs report, or a sudden "
        "change that nobody else shows. These are questions to raise with the borough's data "
        "officer, not findings about its performance.",
        table(shown),
    )
    for row in flags.drop_duplicates(["item_id", "la_code_ons"]).head(4).itertuples():
        sec.add(
            f"The funnel plot for {esc(row.item_id)} shows each pilot borough against the "
            "pilot average (without figures counted to a different definition, drawn as "
            "hollow diamonds), with 95% and 99.8% limits; its title says whether they are "
            "widened because the boroughs vary more than chance predicts. "
            f"{esc(ctx.name(row.la_code_ons))} is highlighted.",
            _funnel_figure(ctx, row.item_id, ctx.period, row.la_code_ons),
        )
    return sec


@needs_returns
def section_published(ctx: Context) -> Section:
    """The pilot's figures beside DfE's published ones for the same authority and year."""
    check = ctx.published_check
    if not ctx.is_london:
        check = check.loc[check["la_code_ons"] == ctx.la_code]
    if check.empty:
        return nothing_to_show(
            "None of this borough's pilot items has a published DfE figure to compare with."
        )
    shown = check.assign(
        Borough=[ctx.name(c) for c in check["la_code_ons"]],
        Title=[ctx.items.at[i, "title"] for i in check["item_id"]],
    )
    far = shown.loc[~shown["ratio"].between(0.67, 1.5)]
    sec = Section().add(
        "Where DfE publishes a measure (children in need census, SSDA903), the pilot figure "
        "for the same authority and year should match the published one. A pilot figure "
        "well away from DfE's means the borough counted it differently for the pilot."
    )
    if ctx.is_london:
        fig, ax = plt.subplots(figsize=(7, 5))
        ok = shown.loc[shown["published_value"] > 0]
        ax.scatter(ok["published_value"], ok["pilot_value"], s=14, color="#4d4d4d", alpha=0.7)
        lim = float(max(ok["published_value"].max(), ok["pilot_value"].max())) * 1.05
        ax.plot([0.1, lim], [0.1, lim], color="#888", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        bad = far.loc[far["published_value"] > 0]
        ax.scatter(bad["published_value"], bad["pilot_value"], s=40, color="#d6604d")
        for row in bad.itertuples():
            ax.annotate(
                f"{row.Borough} {row.item_id}", (row.published_value, row.pilot_value), fontsize=7
            )
        ax.set_xlabel("DfE published figure")
        ax.set_ylabel("Pilot figure, same authority and year")
        ax.set_title("Pilot against published (log scales; the line is agreement)")
        fig.tight_layout()
        display.describe(
            fig,
            f"Scatter plot of {len(ok)} pilot figures against DfE's published figure for the "
            f"same authority and year, on log scales. {len(bad)} lie well away from agreement"
            + (
                ": " + ", ".join(f"{r.Borough} {r.item_id}" for r in bad.itertuples()) + "."
                if len(bad)
                else "."
            ),
        )
        sec.add(fig)
    sec.add(
        f"{plural(len(far), 'figure')} differ from DfE's by more than half again:"
        if not far.empty
        else "Every pilot figure is within half again of DfE's published figure.",
    )
    shown = shown.assign(Measure=[_published_unit(ctx, i) for i in shown["item_id"]])
    far = shown.loc[~shown["ratio"].between(0.67, 1.5)]
    cols = ["Borough", "item_id", "Title", "Measure", "year", "pilot_value"]
    cols += ["published_value", "ratio"]
    sec.add(
        "Both figures are for the financial year (the pilot's four quarters added up for "
        "flows, its Q4 figure for snapshots), on the same population.",
        table(
            (far if ctx.is_london else shown)[cols].rename(
                columns={
                    "item_id": "Item",
                    "year": "Year",
                    "pilot_value": "Pilot (year)",
                    "published_value": "DfE published (year)",
                    "ratio": "Pilot / DfE",
                }
            ),
            caption="Pilot figures beside DfE's published figures",
            decimals={"Pilot (year)": 1, "DfE published (year)": 1, "Pilot / DfE": 2},
        ),
    )
    return sec


TOTAL = "Pilot total"
IN_TOTAL = "Boroughs in total"


def count_table(ctx: Context, period: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts per item (rows) and pilot borough (columns) with the pilot total, for the
    benchmark quarter, each cell shown by its state (:mod:`lscb_nb.core.states`).

    The total adds up the reported figures only; figures not reported (not returned,
    suppressed by the borough, held back by validation) are outside it, shown by
    their symbol, and counted in ``Boroughs in total``. Small counts are suppressed
    with the totals treated as published; a total is withheld only when a suppressed
    cell could be recovered from it. Returns (display, mask of cells shown as c).
    """
    period = period or ctx.period
    accepted = ctx.returns.accepted
    here = accepted.loc[(accepted["period"] == period) & (accepted["unit"] == "count")]
    quarantined = ctx.returns.quarantined
    held = quarantined.loc[quarantined["period"] == period]
    count_items = set(ctx.items.index[ctx.items["unit"] == "count"])
    ids = sorted(set(here["item_id"]) | (set(held["item_id"]) & count_items))
    boroughs = list(ctx.pilots)
    keys = ["la_code_ons", "period", "item_id"]
    grid = pd.MultiIndex.from_product([boroughs, [period], ids], names=keys).to_frame(index=False)
    cells = states.of_cells(here, held, grid, keys)
    numbers = cells.pivot(index="item_id", columns="la_code_ons", values="number")
    numbers = numbers.reindex(index=ids, columns=boroughs)
    state = cells.pivot(index="item_id", columns="la_code_ons", values="state")
    state = state.reindex(index=ids, columns=boroughs)
    outside = ~state.isin(list(states.USABLE))
    frame = numbers.where(~outside, 0.0).fillna(0.0)
    _, mask = disclosure.suppress_table(
        frame, boroughs, threshold=ctx.threshold, margins="rows", outside=outside
    )
    totals, _ = disclosure.published_totals(frame, boroughs, "rows", ctx.threshold, outside=outside)
    shown = states.render_frame(numbers, state)
    shown = shown.where(~mask[boroughs], states.symbol(states.WITHHELD))
    shown[TOTAL] = [states.symbol(states.WITHHELD) if pd.isna(t) else f"{t:,.0f}" for t in totals]
    included = (~outside).sum(axis=1)
    shown[IN_TOTAL] = [f"{n} of {len(boroughs)}" for n in included]
    mask = mask[boroughs] | state.eq(states.SUPPRESSED)
    shown.columns = [ctx.name(c) if c in boroughs else c for c in shown.columns]
    mask.columns = [ctx.name(c) for c in mask.columns]
    shown.index.name = "item_id"
    return shown, mask


@needs_returns
def section_counts(ctx: Context) -> Section:
    """The count items for every pilot borough in the benchmark quarter, suppressed."""
    shown, _ = count_table(ctx)
    if shown.empty:
        return Section()
    shown.insert(0, "Title", [ctx.items.at[i, "title"] for i in shown.index])
    shown = shown.reset_index().rename(columns={"item_id": "Item"})
    boroughs = [c for c in shown.columns if c not in ("Item", "Title", TOTAL, IN_TOTAL)]
    meta = {
        "kind": "grid",
        "source": "returns/accepted",
        "filter": {"period": ctx.period, "unit": "count"},
        "value": "numerator",
        "row_key": "item_id",
        "row_column": "Item",
        "column_key": "la_name",
        "columns": boroughs,
        "total": {"column": TOTAL, "of": "reported", "count_column": IN_TOTAL},
    }
    return Section().add(
        f"The count items for each pilot borough in {esc(ctx.period)}. Counts of 1 to "
        f"{ctx.threshold} are shown as c, and where a total would reveal one, another cell "
        "is hidden too (secondary suppression), following DfE's convention. The pilot "
        "total adds up the figures boroughs reported; figures not returned or suppressed "
        f"by the borough are left out of it, and '{IN_TOTAL}' says how many it covers.",
        table(shown, caption=f"Counts by pilot borough, {ctx.period}", meta=meta),
        display.state_key(shown[boroughs], total_excludes=True),
    )


# --------------------------------------------------------------------------------------
# Sections: one borough's benchmark report
# --------------------------------------------------------------------------------------


def borough_benchmark(ctx: Context) -> pd.DataFrame:
    """The borough's benchmark table: prepared by the batch, or worked out once here."""
    if ctx.benchmark_table is None:
        ctx.benchmark_table = benchmark.borough_benchmark(
            ctx.obs,
            ctx.la_code,
            ctx.period,
            ctx.authorities,
            ctx.neighbours,
            exclude=ctx.flags,
            items=ctx.items,
        )
    return ctx.benchmark_table.reset_index(drop=True)


def _neighbour_cell(r: pd.Series, d: int) -> str:
    """The neighbour comparator with what it rests on: the pilot neighbours' median and
    how many, or DfE's published figure for all ten where fewer than three reported."""
    n = int(r.get("neighbours_n", 0) or 0)
    if n >= benchmark.MIN_NEIGHBOURS or not np.isfinite(r.get("dfe_neighbours", np.nan)):
        if n == 0:
            return "– (no pilot neighbour)"
        value = _fmt(r["Statistical neighbours (median)"], d)
        return f"{value} ({plural(n, 'borough')})"
    return (
        f"{_fmt(r['dfe_neighbours'], 1)} {r['dfe_unit']} (DfE {int(r['dfe_year'])}, "
        f"{int(r['dfe_neighbours_n'])} neighbours; {plural(n, 'pilot neighbour')})"
    )


def _rank_cell(r: pd.Series, hidden: bool) -> str:
    if hidden:
        return "c"
    if r["polarity"] == "neutral":
        return "not ranked (no better direction)"
    return "–" if pd.isna(r["rank"]) else f"{int(r['rank'])} of {r['ranked_of']}"


@needs_returns
def section_benchmark(ctx: Context) -> Section:
    """The borough's figures with intervals, against the area, neighbours and the pilot."""
    if ctx.is_london:
        return Section().add(
            "Each pilot authority's own report benchmarks its figures, with confidence "
            f"intervals, against the {esc(ctx.area)} pilot average, its statistical neighbours "
            "and its own figures a year earlier, with funnel plots and a spine chart. This "
            f"{esc(ctx.area)} report looks at the pilot as a whole."
        )
    bb = borough_benchmark(ctx)
    if bb.empty:
        return nothing_to_show(f"{ctx.la_name} supplied no usable figures for {ctx.period}.")
    hidden = _suppressed_counts(bb["count"], ctx.threshold)
    rows = []
    for i, r in bb.iterrows():
        d = int(r["decimal_places"]) if r["kind"] == "proportion" else 1
        c = bool(hidden.iloc[i])
        neutral = r["polarity"] == "neutral"
        london = _fmt(r[benchmark.AREA_AVERAGE], d)
        if r.get("london_excluded", 0):
            london += f" (without {plural(int(r['london_excluded']), 'different definition')})"
        rows.append(
            {
                "Item": r["item_id"],
                "Title": r["title"],
                "Measure": benchmark.unit_label(
                    r["unit"], r.get("measure_type"), r.get("frequency")
                ),
                "Value": "c" if c else _fmt(r["value"], d),
                "95% CI": "c" if c else f"{_fmt(r['lower'], d)} to {_fmt(r['upper'], d)}",
                f"{ctx.area} pilot": london,
                "Neighbours": _neighbour_cell(r, d),
                f"vs {ctx.area}": "c" if c else r["vs_london"],
                "Better/worse": "c" if c else ("no better direction" if neutral else r["rag"]),
                "Rank": _rank_cell(r, c),
                "Quartile": "c" if c else ("not ranked" if neutral else r["quartile_band"]),
                "Change on last year": "c"
                if c or pd.isna(r.get("change"))
                else f"{_fmt(r['change'], d)}"
                + (" (significant)" if r["change_significant"] else ""),
                "Trend": r.get("trend") if isinstance(r.get("trend"), str) else "–",
            }
        )
    shown = pd.DataFrame(rows)
    higher = int((bb["vs_london"] == "higher").sum())
    lower = int((bb["vs_london"] == "lower").sum())
    own_flags = bb.loc[bb.get("own_excluded", pd.Series(False, index=bb.index)).astype(bool)]
    dropped = ctx.flags.loc[ctx.flags["item_id"].isin(bb["item_id"])]
    sec = Section().add(
        f"Each of {esc(ctx.la_name)}'s figures for {esc(ctx.period)}, with its 95% confidence "
        f"interval, against the {esc(ctx.area)} pilot average (the pilot authorities pooled) "
        "and the median "
        "of its DfE statistical neighbours that took part, with how many boroughs it rests on. "
        f"Where fewer than {benchmark.MIN_NEIGHBOURS} neighbours reported, DfE's published "
        "figure for all ten neighbours is shown instead where DfE publishes the item (a "
        "figure for the year, so read it beside the borough's own published figure, not its "
        "quarter). Rates for a quarter are per quarter; they are not annualised. A figure is "
        f"called higher or lower only when its interval excludes the {esc(ctx.area)} figure: "
        f"{higher} were higher and {lower} lower. 'Better/worse' applies the item's polarity; "
        "items where neither direction is better are only higher or lower, and are not "
        "ranked. Rank and quartile are among the pilot boroughs (1 = best)."
    )
    if not dropped.empty:
        sec.add(
            "Figures that look counted to a different definition are left out of the "
            f"{esc(ctx.area)} and neighbour figures: "
            + listing([f"{ctx.name(f.la_code_ons)} {f.item_id}" for f in dropped.itertuples()])
            + "."
            + (
                f" {esc(ctx.la_name)}'s own figure for "
                + listing(own_flags["item_id"])
                + " is one of them: compare it with care."
                if not own_flags.empty
                else ""
            )
        )
    sec.add(
        table(
            shown,
            caption=f"{ctx.la_name} against {ctx.area}, {ctx.period}",
            meta={
                "kind": "benchmark",
                "source": "pilot/observations",
                "la_code_ons": ctx.la_code,
                "period": ctx.period,
                "row_column": "Item",
            },
        ),
        display.state_key(shown[["Value"]]),
    )
    return sec


def spine_chart(ctx: Context, bb: pd.DataFrame) -> plt.Figure | None:
    """Fingertips-style spine: each item's pilot range, middle half and the borough."""
    now = ctx.obs.loc[ctx.obs["period"] == ctx.period]
    hidden = _suppressed_counts(bb["count"], ctx.threshold).to_numpy()
    bb = bb.loc[~hidden & bb["polarity"].isin(["high", "low", "neutral"])]
    rows = []
    for _, r in bb.iterrows():
        vals = now.loc[now["item_id"] == r["item_id"], "value"].dropna()
        centre = r[benchmark.AREA_AVERAGE]
        if len(vals) < 4 or not np.isfinite(centre):
            continue
        lo, hi = vals.min(), vals.max()
        half = max(centre - lo, hi - centre) or 1.0
        flip = -1 if r["polarity"] == "low" else 1

        def pos(v: float, flip: int = flip, centre: float = centre, half: float = half) -> float:
            return 0.5 + flip * (v - centre) / (2 * half)

        rows.append(
            {
                "label": f"{r['item_id']} {r['title'][:42]}",
                "min": pos(lo),
                "max": pos(hi),
                "q1": pos(vals.quantile(0.25)),
                "q3": pos(vals.quantile(0.75)),
                "me": pos(r["value"]),
                "rag": r["rag"] if r["polarity"] != "neutral" else r["vs_london"],
            }
        )
    if not rows:
        return None
    sp = pd.DataFrame(rows)
    colours = {
        "better": "#1a9850",
        "worse": "#d73027",
        "similar": "#fee08b",
        "higher": "#4575b4",
        "lower": "#91bfdb",
        "not compared": "#ffffff",
    }
    fig, ax = plt.subplots(figsize=(9, 0.2 * len(sp) + 1.6))
    y = np.arange(len(sp))[::-1]
    lo, hi = np.minimum(sp["min"], sp["max"]), np.maximum(sp["min"], sp["max"])
    ax.barh(y, hi - lo, left=lo, color="#d9d9d9", height=0.6)
    lo, hi = np.minimum(sp["q1"], sp["q3"]), np.maximum(sp["q1"], sp["q3"])
    ax.barh(y, hi - lo, left=lo, color="#969696", height=0.6)
    # A shape as well as a colour: better points right, worse left, similar is round.
    shapes = {"better": ">", "worse": "<", "similar": "o", "higher": "^", "lower": "v"}
    for rag, part in sp.assign(y=y).groupby("rag"):
        ax.scatter(
            part["me"],
            part["y"],
            s=40,
            marker=shapes.get(rag, "s"),
            c=colours.get(rag, "#ffffff"),
            edgecolors="black",
            zorder=3,
            label=rag,
        )
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=6, frameon=False)
    ax.axvline(0.5, color="#b2182b", lw=1)
    ax.set_yticks(y, sp["label"], fontsize=6)
    ax.set_xticks(
        [0.02, 0.5, 0.98], ["worse / lower", f"{ctx.area} pilot average", "better / higher"]
    )
    ax.set_xlim(-0.05, 1.05)
    ax.grid(False)
    ax.set_title(f"{ctx.la_name}, {ctx.period}: spine chart against the pilot")
    fig.tight_layout()
    counts = sp["rag"].value_counts()
    worse = sp.loc[sp["rag"] == "worse", "label"].tolist()
    return display.describe(
        fig,
        f"Spine chart of {len(sp)} items for {ctx.la_name} in {ctx.period} against the "
        f"{ctx.area} pilot: "
        + ", ".join(f"{n} {rag}" for rag, n in counts.items())
        + "."
        + (f" Significantly worse: {'; '.join(worse)}." if worse else ""),
    )


@needs_returns
def section_spine(ctx: Context) -> Section:
    if ctx.is_london or not ctx.has_returns:
        return Section()
    bb = borough_benchmark(ctx)
    fig = spine_chart(ctx, bb) if not bb.empty else None
    if fig is None:
        return nothing_to_show("Too few boroughs reported this quarter to draw a spine chart.")
    return Section().add(
        "One line per item: the light bar spans the pilot boroughs from lowest to highest, "
        "the dark bar the middle half, and the red line the "
        f"{esc(ctx.area)} pilot average. The dot is "
        f"{esc(ctx.la_name)}: green is significantly better, red significantly worse, yellow "
        "similar; blue shades mark higher or lower on items with no better direction. Items "
        "where good is low are flipped so that right is always better.",
        fig,
    )


@needs_returns
def section_borough_funnels(ctx: Context) -> Section:
    """Funnel plots for the borough's items that stand out most."""
    if ctx.is_london or not ctx.has_returns:
        return Section()
    mine = ctx.positions.loc[
        (ctx.positions["la_code_ons"] == ctx.la_code) & (ctx.positions["period"] == ctx.period)
    ]
    outside = mine.loc[mine["funnel"].astype(str).str.contains("99.8")]
    picks = list(outside["item_id"].head(3)) or list(mine["item_id"].head(1))
    sec = Section().add(
        f"{esc(ctx.la_name)} is outside the 99.8% funnel limits on "
        f"{plural(len(outside), 'item')} in {esc(ctx.period)}. "
        + _limits_sentence(ctx)
        + " Funnel plots for up to three of them follow: a point outside the dashed lines is "
        "very unlikely to be chance alone."
    )
    for item_id in picks:
        sec.add(_funnel_figure(ctx, item_id, ctx.period, ctx.la_code))
    return sec


def _limits_sentence(ctx: Context) -> str:
    """Which limits the funnels draw, and why, for the benchmark quarter."""
    here = ctx.positions.loc[ctx.positions["period"] == ctx.period]
    if "limits" not in here.columns or here.empty:
        return ""
    per_item = here.drop_duplicates("item_id")
    widened = int((per_item["limits"] != "none").sum())
    out, total = benchmark.outside_share(ctx.positions, ctx.period)
    plain, _ = benchmark.outside_share(ctx.positions, ctx.period, "funnel_unadjusted")
    how = {
        "additive": "an additive random-effects model",
        "multiplicative": "the dispersion ratio φ",
    }.get(ctx.funnel_adjustment, "")
    if ctx.funnel_adjustment == "none":
        return (
            "The limits are OHID's, without adjustment for over-dispersion (as this report "
            f"was asked): {out} of {total} borough × item points lie outside 99.8%, where "
            "about 0.2% would by chance."
        )
    return (
        f"On {widened} of {len(per_item)} items the pilot boroughs vary more than chance "
        "alone predicts (Spiegelhalter's test on 10% winsorised z-scores), so their limits "
        f"are widened with {how}; the other items keep OHID's limits. Figures that look "
        "counted to a different definition are left out of the pilot average. With these "
        f"limits {out} of {total} borough × item points lie outside 99.8% "
        f"({100 * out / max(total, 1):.1f}%, where about 0.2% would by chance); without the "
        f"adjustment it would be {plain}."
    )


@needs_returns
def section_standing(ctx: Context) -> Section:
    """Rank among the project's authorities on DfE's latest published figures."""
    if ctx.is_london:
        return Section()
    st = ctx.standing
    if st is None:
        st = benchmark.london_standing(ctx.items, ctx.la_code, ctx.authorities)
    if st.empty:
        return Section()
    st = st.assign(
        title=[ctx.items.at[i, "title"] for i in st["item_id"]],
        measure=[_published_unit(ctx, i) for i in st["item_id"]],
        rank=[
            "not ranked (no better direction)"
            if ctx.items.at[i, "polarity"] == "neutral"
            else ("–" if pd.isna(r) else f"{int(r)} of {n}")
            for i, r, n in zip(st["item_id"], st["rank"], st["of"], strict=True)
        ],
    )
    return Section().add(
        f"Where {esc(ctx.la_name)} stands among {esc(ctx.area)}'s authorities on DfE's latest "
        "published "
        "figures for the items DfE publishes: annual figures, rates per 10,000 children for "
        "counts. Rank (1 = best) and quartile (A is the best quarter) only where the item "
        "has a better direction.",
        table(
            st[
                [
                    "item_id",
                    "title",
                    "measure",
                    "year",
                    "published",
                    "london_median",
                    "rank",
                    "quartile_band",
                ]
            ].rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "measure": "Measure",
                    "year": "Year to March",
                    "published": "Published",
                    "london_median": f"{ctx.area} median",
                    "rank": "Rank",
                    "quartile_band": "Quartile",
                }
            ),
            caption=f"{ctx.la_name} among {ctx.area}'s authorities, DfE published figures",
            decimals={"Published": 1, f"{ctx.area} median": 1},
            years=["Year to March"],
        ),
    )


def _published_unit(ctx: Context, item_id: str) -> str:
    """The unit of DfE's published figure for an item: annual, so per year (flows) or
    at 31 March (snapshots)."""
    item = ctx.items.loc[item_id]
    if item["unit"] == "percentage":
        return "%"
    if item.get("measure_type") == "snapshot":
        return f"{benchmark.PER_10K} at 31 March"
    return f"{benchmark.PER_10K} per year"


# --------------------------------------------------------------------------------------
# Refinement
# --------------------------------------------------------------------------------------


@needs_returns
def section_refinement(ctx: Context) -> Section:
    """What the pilot recommends for each item, and the refined dataset."""
    recs = ctx.recommendations_in_scope
    counts = recs["disposition"].astype(str).value_counts()
    sec = Section().add(
        "Each item's evidence from the pilot (how often it was supplied and on time, value "
        "errors, boroughs that counted it differently, whether it told boroughs apart, and "
        "phase 2's ratings where they exist) leads to a recommendation: "
        + ", ".join(f"{counts.get(d, 0)} {d}" for d in refinement.DISPOSITIONS)
        + "."
    )
    changed = recs.loc[recs["disposition"].astype(str) != refinement.KEEP]
    sec.add(
        table(
            changed.reset_index()[["item_id", "title", "disposition", "reasons"]]
            .rename(columns=str.capitalize)
            .rename(columns={"Item_id": "Item"}),
            caption="Items not kept as they are",
        )
    )
    if ctx.refined is not None:
        base = ctx.base
        diff = diff_datamodels(base, ctx.refined)
        sec.add(
            f"The refined dataset is written as data-model version {esc(ctx.refined.version)} "
            f"({len(ctx.refined.items)} items), based on {esc(base.version)}. Its change log:",
            format_diff_markdown(diff, f"Changes from {base.version} to {ctx.refined.version}"),
        )
    return sec
