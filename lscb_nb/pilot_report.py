"""Phase 3's report: what the pilot returns show, London-wide and per borough.

``prepare_pilot`` runs once per batch (after the returns are ingested): it works
out the funnel positions, definitional flags, the pilot-versus-published check
and the refined data model, and writes them to ``data/processed/pilot``. The
notebook calls ``load_context`` and then one ``section_*`` function per part of
the story. Every table that leaves here passes small-number suppression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lscb_nb import (
    benchmark,
    completeness,
    config,
    disclosure,
    periods,
    pipeline,
    quality,
    reference,
    refinement,
    report,
)
from lscb_nb.datamodel import (
    AGENCY_LABELS,
    DataModel,
    diff_datamodels,
    format_diff_markdown,
    load_datamodel,
)
from lscb_nb.fileio import write_json_atomic, write_parquet_atomic
from lscb_nb.report import Section, esc, nothing_to_show, number, plural, table
from lscb_nb.returns import read_summary

LONDON = "London"
PILOT_VERSION = "1.2-pilot"


def pilot_dir(root: Path | str | None = None) -> Path:
    return config.paths(root)["processed"] / "pilot"


def datamodel_dir(root: Path | str | None = None) -> Path:
    return config.paths(root)["processed"] / "datamodel"


def base_datamodel(root: Path | str | None = None) -> DataModel:
    """The version the refinement starts from: phase 2's pilot dataset when it has
    been prepared, else the candidate dataset the returns were collected against."""
    folder = datamodel_dir(root)
    if (folder / f"{PILOT_VERSION}.yaml").exists():
        return load_datamodel(PILOT_VERSION, folder)
    return load_datamodel(config.CANDIDATE_VERSION)


def _receipts(root: Path | str | None) -> pd.DataFrame | None:
    path = config.paths(root)["raw"] / "phase3_receipts.csv"
    return pd.read_csv(path, dtype=str) if path.exists() else None


def _assessment(root: Path | str | None) -> pd.DataFrame | None:
    """Phase 2's item scores and decisions, where phase 2 has been prepared."""
    path = config.paths(root)["processed"] / "assessment" / "item_decisions.parquet"
    return pd.read_parquet(path) if path.exists() else None


def prepare_pilot(root: Path | str | None = None) -> dict:
    """Work out everything the phase 3 notebooks share, once, and the refined dataset."""
    candidate = load_datamodel(config.CANDIDATE_VERSION)
    items = candidate.items
    returns = pipeline.load_returns(root)
    obs = benchmark.observations(returns.accepted, items)
    positions = benchmark.funnel_positions(obs)
    published_check = benchmark.pilot_vs_published(obs, items)
    flags = quality.definition_flags(positions, obs, published_check)
    out = pilot_dir(root)
    write_parquet_atomic(out / "funnel_positions.parquet", positions)
    write_parquet_atomic(out / "published_check.parquet", published_check)
    write_parquet_atomic(out / "definition_flags.parquet", flags)

    recs = recommendations(root, items, returns, obs, flags, config.DEFAULT_DEADLINE_DAYS)
    write_parquet_atomic(out / "recommendations.parquet", recs.reset_index())
    write_parquet_atomic(out / "observations.parquet", obs)
    write_parquet_atomic(
        out / "cells.parquet",
        _cells(root, items, returns, pipeline.sample_periods(), config.DEFAULT_DEADLINE_DAYS),
    )
    authorities = reference.authorities()
    latest = max(pipeline.sample_periods(), key=periods.parse_period)
    tables, standing = [], []
    for la in sorted(set(obs["la_code_ons"])):
        near = reference.statistical_neighbours(la)["la_code_ons"].tolist()
        tables.append(
            benchmark.borough_benchmark(obs, la, latest, authorities, near).assign(la_code_ons=la)
        )
        standing.append(benchmark.london_standing(items, la, authorities).assign(la_code_ons=la))
    write_parquet_atomic(out / "benchmarks.parquet", pd.concat(tables, ignore_index=True))
    write_parquet_atomic(out / "standing.parquet", pd.concat(standing, ignore_index=True))
    base = base_datamodel(root)
    released = max(pipeline.sample_periods(), key=periods.parse_period)
    refined = refinement.refined_datamodel(
        base,
        recs.loc[recs.index.intersection(base.items.index)],
        flags,
        periods.period_end(released).isoformat(),
    )
    written = refinement.write_refined(
        base, refined, recs.loc[recs.index.intersection(base.items.index)], datamodel_dir(root)
    )
    summary = {
        "observations": len(obs),
        "definition_flags": len(flags),
        "dispositions": recs["disposition"].astype(str).value_counts().to_dict(),
        "refined_version": refined.version,
        "based_on": base.version,
        "datamodel": str(written["datamodel"]),
    }
    write_json_atomic(out / "summary.json", summary)
    return summary


def _cells(
    root: Path | str | None,
    items: pd.DataFrame,
    returns,
    labels: list[str],
    deadline_days: int,
) -> pd.DataFrame:
    accepted = returns.accepted.loc[returns.accepted["period"].isin(labels)]
    return completeness.cell_status(
        completeness.expected_cells(items, pipeline.pilot_authorities(root), labels),
        accepted,
        returns.quarantined,
        _receipts(root),
        deadline_days,
    )


def recommendations(
    root: Path | str | None,
    items: pd.DataFrame,
    returns,
    obs: pd.DataFrame,
    flags: pd.DataFrame,
    deadline_days: int,
    thresholds: refinement.Thresholds | None = None,
) -> pd.DataFrame:
    """Evidence and a disposition per item, with the given return deadline."""
    cells = _cells(root, items, returns, pipeline.sample_periods(), deadline_days)
    ev = refinement.evidence(
        items,
        completeness.summarise(cells, "item_id"),
        returns.issues,
        flags,
        refinement.discrimination(obs),
        _assessment(root),
    )
    return refinement.recommend(ev, thresholds or refinement.Thresholds())


# --------------------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------------------


@dataclass
class Context:
    root: Path | str | None
    la_code: str
    la_name: str
    period: str
    period_labels: list[str]
    deadline_days: int
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
    base_version: str
    refined: DataModel | None
    summary: dict
    ingest: dict
    rules: pd.DataFrame
    neighbours: list[str] = field(default_factory=list)
    benchmark_table: pd.DataFrame | None = None
    standing: pd.DataFrame | None = None

    @property
    def is_london(self) -> bool:
        return self.la_code == LONDON

    @property
    def recommendations_in_scope(self) -> pd.DataFrame:
        """Recommendations for the items of the version the pilot refines (items an
        earlier phase dropped were still in the returns but are not refined)."""
        base = base_datamodel(self.root).items.index
        return self.recommendations.loc[self.recommendations.index.intersection(base)]

    @property
    def has_returns(self) -> bool:
        return self.is_london or self.la_code in set(self.obs["la_code_ons"])

    def name(self, code: str) -> str:
        return reference.authority_name(code)


def load_context(
    root: Path | str | None = None,
    la_code: str = LONDON,
    period: str | None = None,
    periods_shown: list[str] | None = None,
    deadline_days: int = config.DEFAULT_DEADLINE_DAYS,
    threshold: int = config.DEFAULT_SUPPRESSION_THRESHOLD,
) -> Context:
    """Everything a phase 3 report shows, from the prepared data."""
    if not (pipeline.returns_dir(root) / "accepted.parquet").exists():
        pipeline.ingest_sample_returns(root)
    if not (pilot_dir(root) / "summary.json").exists():
        prepare_pilot(root)
    import json

    candidate = load_datamodel(config.CANDIDATE_VERSION)
    items = candidate.items
    authorities = reference.authorities()
    returns = pipeline.load_returns(root)
    folder = pilot_dir(root)
    all_periods = pipeline.sample_periods()
    labels = periods_shown or all_periods
    latest = max(labels, key=periods.parse_period)
    period = period or latest
    pilots = pipeline.pilot_authorities(root)
    flags = pd.read_parquet(folder / "definition_flags.parquet")
    # The batch prepares everything for the default parameters once; other choices
    # (a shorter span, another deadline or quarter) are worked out here instead.
    as_prepared = labels == all_periods and deadline_days == config.DEFAULT_DEADLINE_DAYS
    if as_prepared:
        obs = pd.read_parquet(folder / "observations.parquet")
        cells = pd.read_parquet(folder / "cells.parquet")
        recs = pd.read_parquet(folder / "recommendations.parquet").set_index("item_id")
    else:
        accepted = returns.accepted.loc[returns.accepted["period"].isin(labels)]
        obs = benchmark.observations(accepted, items)
        cells = _cells(root, items, returns, labels, deadline_days)
        recs = recommendations(root, items, returns, obs, flags, deadline_days)
    bench = standing = None
    if la_code != LONDON:
        tables = pd.read_parquet(folder / "benchmarks.parquet")
        if as_prepared and period == latest:
            bench = tables.loc[tables["la_code_ons"] == la_code].drop(columns="la_code_ons")
        standing = pd.read_parquet(folder / "standing.parquet")
        standing = standing.loc[standing["la_code_ons"] == la_code].drop(columns="la_code_ons")
    refined_path = datamodel_dir(root) / f"{refinement.REFINED_VERSION}.yaml"
    refined = (
        load_datamodel(refinement.REFINED_VERSION, datamodel_dir(root))
        if refined_path.exists()
        else None
    )
    if la_code != LONDON:
        la_name = str(reference.find_authority(la_code)["la_name"])
        neighbours = reference.statistical_neighbours(la_code)["la_code_ons"].tolist()
    else:
        la_name, neighbours = LONDON, []
    return Context(
        root=root,
        la_code=la_code,
        la_name=la_name,
        period=period,
        period_labels=labels,
        deadline_days=deadline_days,
        threshold=threshold,
        synthetic=pipeline.is_synthetic(root),
        items=items,
        authorities=authorities,
        pilots=pilots,
        returns=returns,
        obs=obs,
        cells=cells,
        positions=pd.read_parquet(folder / "funnel_positions.parquet"),
        flags=flags,
        published_check=pd.read_parquet(folder / "published_check.parquet"),
        recommendations=recs,
        base_version=base_datamodel(root).version,
        refined=refined,
        summary=json.loads((folder / "summary.json").read_text(encoding="utf-8")),
        ingest=read_summary(pipeline.returns_dir(root)),
        rules=candidate.rules,
        neighbours=neighbours,
        benchmark_table=bench,
        standing=standing,
    )


def header(ctx: Context) -> Section:
    facts = {
        "Report": "Phase 3: evaluation of the pilot returns",
        "Area": ctx.la_name if ctx.is_london else f"{ctx.la_name} ({ctx.la_code})",
        "Periods": f"{ctx.period_labels[0]} to {ctx.period_labels[-1]}",
        "Benchmark quarter": ctx.period,
        "Return deadline": f"{ctx.deadline_days} days after the quarter ends",
        "Small numbers": f"counts of 1 to {ctx.threshold} shown as c",
        "Data snapshot": str(ctx.ingest.get("input_snapshot_sha256", ""))[:12],
    }
    return report.header("Phase 3", facts, ctx.synthetic)


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
        f"{ctx.la_name} has no pilot returns on file for {ctx.period_labels[0]} to "
        f"{ctx.period_labels[-1]}, so there is nothing to evaluate or benchmark. Boroughs in "
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
        f"{plural(len(files), 'return file')} covering {len(ctx.period_labels)} quarters "
        f"({ctx.period_labels[0]} to {ctx.period_labels[-1]}). Of "
        f"{number(s.get('rows_read', 0))} rows read, {number(s.get('rows_accepted', 0))} were "
        f"accepted and {number(s.get('rows_quarantined', 0))} held back for correction: every "
        "row is accounted for."
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
    verdict = (
        f"a statistically significant {tr['direction']} trend (chi-square test for trend, "
        f"p = {tr['p_value']:.3f})"
        if tr.get("p_value", 1) < 0.05
        else "no statistically significant trend"
        if "p_value" in tr
        else "too few quarters to test a trend"
    )
    sec.add(
        f"Across the pilot, {tr['first_pct']:.0f}% of expected figures were supplied in "
        f"{esc(by_q.index[0])} and {tr['last_pct']:.0f}% in {esc(by_q.index[-1])}: "
        f"{verdict}. Returns did "
        + ("" if tr.get("p_value", 1) < 0.05 and tr.get("direction") == "increasing" else "not ")
        + "measurably improve as the pilot went on.",
        table(
            by_q.reset_index()
            .rename(columns={"period": "Quarter"})
            .rename(columns=str.capitalize)[
                ["Quarter", "Expected", "On time", "Late", "Suppressed", "Quarantined", "Missing"]
            ]
            .assign(**{"% supplied": by_q["supplied_pct"].to_numpy()}),
            caption="Expected figures by status, each quarter",
            decimals={"% supplied": 1},
        ),
    )
    return sec


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
    return fig


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
    worst = by_agency.index[0]
    sec = Section().add(
        f"Light bars show the share of expected figures each agency supplied; dark bars the "
        f"share supplied by the deadline ({ctx.deadline_days} days after the quarter). "
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
            decimals={"% supplied": 0, "% on time": 0},
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
    f = benchmark.funnel(ctx.obs, item_id, period)
    pts, lim = f["points"], f["limits"]
    item = ctx.items.loc[item_id]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    if not lim.empty:
        ax.plot(lim["base"], lim["upper_998"], color="#b2182b", lw=1, ls="--", label="99.8% limits")
        ax.plot(lim["base"], lim["lower_998"], color="#b2182b", lw=1, ls="--")
        ax.plot(lim["base"], lim["upper_95"], color="#ef8a62", lw=1, label="95% limits")
        ax.plot(lim["base"], lim["lower_95"], color="#ef8a62", lw=1)
        ax.axhline(f["target"], color="#444", lw=1, label="pilot average")
    hidden = _suppressed_counts(pts["count"], ctx.threshold).to_numpy()
    shown = pts.loc[~hidden]
    ax.scatter(
        shown["base"], shown["value"], color="#4d4d4d", s=28, zorder=3, label="pilot boroughs"
    )
    if highlight is not None:
        mine = shown.loc[shown["la_code_ons"] == highlight]
        ax.scatter(
            mine["base"], mine["value"], color="#d6604d", s=80, zorder=4, label=ctx.name(highlight)
        )
    for row in shown.itertuples():
        ax.annotate(
            ctx.name(row.la_code_ons),
            (row.base, row.value),
            fontsize=7,
            xytext=(4, 3),
            textcoords="offset points",
        )
    unit = "%" if f.get("kind") == "proportion" else "per 10,000 children aged 0-17"
    ax.set_xlabel("Denominator" if f.get("kind") == "proportion" else "Children aged 0-17")
    ax.set_ylabel(unit)
    ax.set_title(f"{item_id} {item['title']} ({period})", fontsize=11)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


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
            "pilot average, with the limits within which 95% and 99.8% of boroughs would fall "
            f"by chance alone; {esc(ctx.name(row.la_code_ons))} is highlighted.",
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
        sec.add(fig)
    sec.add(
        f"{plural(len(far), 'figure')} differ from DfE's by more than half again:"
        if not far.empty
        else "Every pilot figure is within half again of DfE's published figure.",
    )
    cols = ["Borough", "item_id", "Title", "year", "pilot_value", "published_value", "ratio"]
    sec.add(
        table(
            (far if ctx.is_london else shown)[cols].rename(
                columns={
                    "item_id": "Item",
                    "year": "Year",
                    "pilot_value": "Pilot",
                    "published_value": "DfE published",
                    "ratio": "Pilot / DfE",
                }
            ),
            decimals={"Pilot": 1, "DfE published": 1, "Pilot / DfE": 2},
        )
    )
    return sec


def count_table(ctx: Context, period: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts per item (rows) and pilot borough (columns) with the pilot total, for the
    benchmark quarter, suppressed with the row totals treated as published."""
    period = period or ctx.period
    counts = ctx.returns.accepted.loc[
        (ctx.returns.accepted["period"] == period)
        & (ctx.returns.accepted["unit"] == "count")
        & ctx.returns.accepted["value_state"].isin(["reported", "suppressed"])
    ]
    wide = counts.pivot_table(
        index="item_id", columns="la_code_ons", values="numerator", aggfunc="first"
    )
    was_suppressed = (
        counts.loc[counts["value_state"] == "suppressed"]
        .pivot_table(index="item_id", columns="la_code_ons", values="value_state", aggfunc="size")
        .reindex_like(wide)
        .notna()
    )
    boroughs = list(wide.columns)
    # A borough's own "c" has no number here: it counts as 0 for finding which other
    # cells to hide, and the row's total is not shown (it would not add up).
    frame = wide.where(~was_suppressed).fillna(0)
    display, mask = disclosure.suppress_table(
        frame, boroughs, threshold=ctx.threshold, margins="rows"
    )
    totals, _ = disclosure.published_totals(frame, boroughs, "rows", ctx.threshold)
    totals = totals.where(~was_suppressed.any(axis=1))
    display = display.astype(object)
    display[boroughs] = display[boroughs].where(~was_suppressed, disclosure.CODE)
    display = display.map(lambda v: v if isinstance(v, str) else f"{v:,.0f}")
    display["Pilot total"] = [disclosure.CODE if pd.isna(t) else f"{t:,.0f}" for t in totals]
    mask = mask | was_suppressed
    display.columns = [ctx.name(c) if c in boroughs else c for c in display.columns]
    return display, mask


@needs_returns
def section_counts(ctx: Context) -> Section:
    """The count items for every pilot borough in the benchmark quarter, suppressed."""
    display, _ = count_table(ctx)
    if display.empty:
        return Section()
    display.insert(0, "Title", [ctx.items.at[i, "title"] for i in display.index])
    display = display.reset_index().rename(columns={"item_id": "Item"})
    return Section().add(
        f"The count items for each pilot borough in {esc(ctx.period)}. Counts of 1 to "
        f"{ctx.threshold} are shown as c, and where a total would reveal one, another cell "
        "is hidden too (secondary suppression), following DfE's convention.",
        table(display, caption=f"Counts, {ctx.period}"),
    )


# --------------------------------------------------------------------------------------
# Sections: one borough's benchmark report
# --------------------------------------------------------------------------------------


def borough_benchmark(ctx: Context) -> pd.DataFrame:
    """The borough's benchmark table: prepared by the batch, or worked out once here."""
    if ctx.benchmark_table is None:
        ctx.benchmark_table = benchmark.borough_benchmark(
            ctx.obs, ctx.la_code, ctx.period, ctx.authorities, ctx.neighbours
        )
    return ctx.benchmark_table.reset_index(drop=True)


@needs_returns
def section_benchmark(ctx: Context) -> Section:
    """The borough's figures with intervals, against London, neighbours and the pilot."""
    if ctx.is_london:
        return Section().add(
            "Each pilot borough's own report benchmarks its figures, with confidence "
            "intervals, against the London pilot average, inner and outer London, its "
            "statistical neighbours and its own figures a year earlier, with funnel plots and "
            "a spine chart. This London report looks at the pilot as a whole."
        )
    bb = borough_benchmark(ctx)
    if bb.empty:
        return nothing_to_show(f"{ctx.la_name} supplied no usable figures for {ctx.period}.")
    hidden = _suppressed_counts(bb["count"], ctx.threshold)
    n_near = len(set(ctx.neighbours) & set(ctx.pilots))
    rows = []
    for i, r in bb.iterrows():
        d = int(r["decimal_places"]) if r["kind"] == "proportion" else 1
        c = hidden.iloc[i]
        val = "c" if c else _fmt(r["value"], d)
        ci = "c" if c else f"{_fmt(r['lower'], d)} to {_fmt(r['upper'], d)}"
        rows.append(
            {
                "Item": r["item_id"],
                "Title": r["title"],
                "Measure": "%" if r["kind"] == "proportion" else "per 10,000",
                "Value": val,
                "95% CI": ci,
                "London pilot": _fmt(r["London pilot average"], d),
                "Neighbours (median)": _fmt(r["Statistical neighbours (median)"], d),
                "vs London": "c" if c else r["vs_london"],
                "Better/worse": "c" if c else r["rag"],
                "Rank": "c" if c or pd.isna(r["rank"]) else f"{int(r['rank'])} of {r['ranked_of']}",
                "Quartile": "c" if c else r["quartile_band"],
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
    return Section().add(
        f"Each of {esc(ctx.la_name)}'s figures for {esc(ctx.period)}, with its 95% confidence "
        "interval, against the London pilot average (all pilot boroughs pooled) and the median "
        f"of its DfE statistical neighbours that took part ({n_near} of 10). A figure is "
        "called higher or lower only when its interval excludes the London figure: "
        f"{higher} were higher and {lower} lower. 'Better/worse' applies the item's polarity; "
        "items where neither direction is better are not judged. Rank and quartile are among "
        "the pilot boroughs (1 = best).",
        table(shown, caption=f"{ctx.la_name} against London, {ctx.period}"),
    )


def spine_chart(ctx: Context, bb: pd.DataFrame) -> plt.Figure | None:
    """Fingertips-style spine: each item's pilot range, middle half and the borough."""
    now = ctx.obs.loc[ctx.obs["period"] == ctx.period]
    hidden = _suppressed_counts(bb["count"], ctx.threshold).to_numpy()
    bb = bb.loc[~hidden & bb["polarity"].isin(["high", "low", "neutral"])]
    rows = []
    for _, r in bb.iterrows():
        vals = now.loc[now["item_id"] == r["item_id"], "value"].dropna()
        centre = r["London pilot average"]
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
    ax.scatter(
        sp["me"],
        y,
        s=34,
        c=[colours.get(r, "#ffffff") for r in sp["rag"]],
        edgecolors="black",
        zorder=3,
    )
    ax.axvline(0.5, color="#b2182b", lw=1)
    ax.set_yticks(y, sp["label"], fontsize=6)
    ax.set_xticks([0.02, 0.5, 0.98], ["worse / lower", "London pilot average", "better / higher"])
    ax.set_xlim(-0.05, 1.05)
    ax.grid(False)
    ax.set_title(f"{ctx.la_name}, {ctx.period}: spine chart against the pilot")
    fig.tight_layout()
    return fig


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
        "the dark bar the middle half, and the red line the London pilot average. The dot is "
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
        f"{plural(len(outside), 'item')} in {esc(ctx.period)}. Funnel plots for up to three of "
        "them follow: a point outside the dashed lines is very unlikely to be chance alone."
    )
    for item_id in picks:
        sec.add(_funnel_figure(ctx, item_id, ctx.period, ctx.la_code))
    return sec


@needs_returns
def section_standing(ctx: Context) -> Section:
    """Rank among all 33 London boroughs on DfE's latest published figures."""
    if ctx.is_london:
        return Section()
    st = ctx.standing
    if st is None:
        st = benchmark.london_standing(ctx.items, ctx.la_code, ctx.authorities)
    if st.empty:
        return Section()
    st = st.assign(title=[ctx.items.at[i, "title"] for i in st["item_id"]])
    return Section().add(
        f"Where {esc(ctx.la_name)} stands among London's boroughs on DfE's latest published "
        "figures for the items DfE publishes (rates per 10,000 children for counts; 1 = best "
        "where the item has a better direction; quartile A is the best quarter).",
        table(
            st[
                [
                    "item_id",
                    "title",
                    "year",
                    "published",
                    "london_median",
                    "rank",
                    "of",
                    "quartile_band",
                ]
            ].rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "year": "Year to March",
                    "published": "Published",
                    "london_median": "London median",
                    "rank": "Rank",
                    "of": "Of",
                    "quartile_band": "Quartile",
                }
            ),
            decimals={"Published": 1, "London median": 1, "Year to March": 0},
        ),
    )


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
        base = base_datamodel(ctx.root)
        diff = diff_datamodels(base, ctx.refined)
        sec.add(
            f"The refined dataset is written as data-model version {esc(ctx.refined.version)} "
            f"({len(ctx.refined.items)} items), based on {esc(base.version)}. Its change log:",
            format_diff_markdown(diff, f"Changes from {base.version} to {ctx.refined.version}"),
        )
    return sec
