"""Phase 3's report on the returns themselves: complete, on time, valid, to the definition."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.core import labels, periods
from lscb_nb.core.datamodel import AGENCY_LABELS
from lscb_nb.core.display import Attachments, Section, esc, nothing_to_show, plural, table
from lscb_nb.core.textdiff import code
from lscb_nb.pilot import completeness, feedback, figures, quality, stage
from lscb_nb.pilot.context import Context, needs_returns

log = logging.getLogger(__name__)


def _agency(code: str) -> str:
    return AGENCY_LABELS.get(code, code)


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
        fig = figures.plot_supplied_heatmap(share, ctx.word())
        worst = share.stack().idxmin()
        sec.add(
            f"The heatmap shows, for each {ctx.word()} and quarter, what share of the figures the "
            "dataset expects were actually supplied (on time or late). Red cells are the gaps "
            f"to chase: the lowest was {esc(worst[0])} in {esc(worst[1])} at "
            f"{share.stack().min():.0f}%.",
            fig,
        )
    else:
        sec.add(figures.plot_status_heatmap(cells, ctx.la_name, ctx.items["title"]))

    tr = completeness.trend(cells)
    by_q = tr["by_quarter"]
    shown = completeness.status_counts_table(by_q, "Quarter")
    where = "Across the pilot" if ctx.is_london else f"In {esc(ctx.la_name)}"
    sec.add(
        f"{where}, {tr['first_pct']:.0f}% of expected figures were supplied in "
        f"{esc(by_q.index[0])}: one quarter, so no trend can be tested yet."
        if len(by_q) == 1
        else f"{where}, {tr['first_pct']:.0f}% of expected figures were supplied in "
        f"{esc(by_q.index[0])} and {tr['last_pct']:.0f}% in {esc(by_q.index[-1])}: "
        f"{completeness_verdict(tr)}",
        table(
            shown,
            caption="Expected figures by status, each quarter",
            decimals={"% supplied": 1},
            meta=completeness.table_meta(
                "period",
                "Quarter",
                completeness.status_headers(shown),
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


@needs_returns
def section_timeliness(ctx: Context) -> Section:
    """On-time and supplied shares by agency; health is expected to be worst."""
    cells = ctx.cells if ctx.is_london else ctx.cells.loc[ctx.cells["la_code_ons"] == ctx.la_code]
    if cells.empty:
        return Section()
    by_agency = completeness.summarise(cells, "agency")
    by_agency.index = [_agency(a) for a in by_agency.index]
    by_agency = by_agency.sort_values("on_time_pct")
    fig = figures.plot_timeliness(by_agency)
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
        "The items least often supplied are where the dataset asks for something "
        f"{ctx.word(plural=True)} "
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
        errors = int((issues["severity"] == "error").sum())
        queries = len(issues) - errors
        sec.add(
            f"Ingestion raised {plural(errors, 'error')} and "
            f"{plural(queries, 'query', 'queries')}. "
            + (
                f"Each error quarantined the row concerned until the {ctx.word()} corrects it; "
                if errors
                else ""
            )
            + (
                f"a query keeps its figure and asks the {ctx.word()} to check or explain it; "
                if queries
                else ""
            )
            + "no row was silently dropped.",
            table(by_rule.rename(columns=str.capitalize), caption="Issues by rule"),
        )
        if ctx.is_london:
            by_la = quality.issue_summary(issues, ctx.items, "borough").reset_index()
            by_la["la_code_ons"] = [ctx.name(c) for c in by_la["la_code_ons"]]
            by_agency = quality.issue_summary(issues, ctx.items, "agency").reset_index()
            by_agency["agency"] = [_agency(a) for a in by_agency["agency"]]
            sec.add(
                table(
                    by_la.rename(columns=str.capitalize).rename(
                        columns={"La_code_ons": ctx.word(capital=True)}
                    ),
                    caption=f"Issues by {ctx.word()}",
                ),
                table(by_agency.rename(columns=str.capitalize), caption="Issues by agency"),
            )
        listing_cols = ["file", "sheet", "row", "column", "rule_code", "message"]
        shown = issues[listing_cols].assign(
            file=[code(f) if isinstance(f, str) else f for f in issues["file"]],
            column=issues["column"].map(labels.file_column),
        )
        sec.add(
            f"Every issue, as the {ctx.word()}'s data officer needs it to find and fix the cell "
            "(a column is named as the file heads it):",
            table(labels.relabel(shown, word=ctx.word()), caption="Issue list", max_rows=40),
        )
    checks = quality.cross_item_checks(ctx.returns.issues, ctx.rules, ctx.items)
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
        sec.add(
            table(
                labels.relabel(broken[["rule", "returns_breaking_it"]]),
                caption="Cross-item rules that failed",
            )
        )
    return sec


@needs_returns
def section_definitions(ctx: Context) -> Section:
    """Boroughs that appear to count an item differently: for a conversation."""
    flags = ctx.flags if ctx.is_london else ctx.flags.loc[ctx.flags["la_code_ons"] == ctx.la_code]
    sec = Section()
    if flags.empty:
        sec.add(
            f"No figure looked like a different definition: no {ctx.word()} sat persistently far "
            "outside the funnel or shifted level suddenly on its own."
        )
        return sec
    shown = flags.assign(
        who=[ctx.name(c) for c in flags["la_code_ons"]],
        Item=flags["item_id"],
        Title=[ctx.items.at[i, "title"] for i in flags["item_id"]],
        Signal=flags["signal"],
        Detail=flags["detail"],
    )[["who", "Item", "Title", "Signal", "Detail"]].rename(columns={"who": ctx.word(capital=True)})
    sec.add(
        f"{plural(len(flags), 'figure')} look as if the {ctx.word()} is counting something other "
        f"than the definition: far outside what the other pilot {ctx.word(plural=True)} report, "
        "or a sudden "
        f"change that nobody else shows. These are questions to raise with the {ctx.word()}'s data "
        "officer, not findings about its performance.",
        table(shown, caption="Figures that suggest a different definition"),
    )
    for row in flags.drop_duplicates(["item_id", "la_code_ons"]).head(4).itertuples():
        sec.add(
            f"The funnel plot for {esc(row.item_id)} shows each pilot {ctx.word()} against the "
            "pilot average (without figures counted to a different definition, drawn as "
            "hollow diamonds), with 95% and 99.8% limits; its title says whether they are "
            f"widened because the {ctx.word(plural=True)} vary more than chance predicts. "
            f"{esc(ctx.name(row.la_code_ons))} is highlighted.",
            figures.plot_funnel(
                ctx.obs,
                ctx.items.loc[row.item_id],
                ctx.period,
                threshold=ctx.threshold,
                adjustment=ctx.funnel_adjustment,
                flags=ctx.flags,
                highlight=row.la_code_ons,
                name=ctx.name,
                word=ctx.word(),
            ),
        )
    return sec


@needs_returns
def section_feedback(ctx: Context) -> Section:
    """The lists to send back: per authority and period, the figures missing, rejected
    or queried and the agency sheets left empty, linked as a workbook and a CSV."""
    folder = stage.feedback_dir(ctx.project)
    codes = ctx.pilots if ctx.is_london else [ctx.la_code]
    rows, files = [], []
    for la in codes:
        for period in ctx.period_labels:
            base = folder / feedback.feedback_name(la, period)
            if not base.with_suffix(".csv").exists():
                continue
            lines = pd.read_csv(base.with_suffix(".csv"), dtype=str, keep_default_na=False)
            counts = lines[feedback.HEADINGS["kind"]].value_counts()
            rows.append(
                {
                    "Authority": ctx.name(la),
                    "Period": period,
                    **{k.capitalize(): int(counts.get(k, 0)) for k in feedback.KINDS},
                }
            )
            what = f"{ctx.name(la)}, {period}"
            files += [
                (base.with_suffix(".xlsx"), f"{what} (Excel, {plural(len(lines), 'line')})"),
                (base.with_suffix(".csv"), f"{what} (CSV)"),
            ]
    if not rows:
        return nothing_to_show("No list to send back has been prepared for these quarters.")
    return Section().add(
        "For each authority and quarter, every figure to chase: missing (a blank cell, an "
        "item left out, or no return), rejected (it cannot be used as sent), queried (please "
        "check), and agency sheets left empty. Each line names the file, sheet and cell; "
        "the rejected and queried lines are this report's issue list, one for one.",
        table(pd.DataFrame(rows), caption="Figures to send back, by authority and quarter"),
        Attachments("The lists, to send to each authority's lead:", files),
    )
