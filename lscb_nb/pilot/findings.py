"""What phase 3's report tells the steering group first: a few findings and the
asks, worked out from the prepared data, each pointing to the section that holds
its evidence.

A finding is data (:class:`~lscb_nb.core.board.Finding`), so it can be tested on
small frames and shown the same way in every report (:mod:`lscb_nb.core.board`); the
section heading it points to is the notebook's own heading. For an authority's
report, the findings are about that authority first.
"""

from __future__ import annotations

import logging

import pandas as pd

from lscb_nb.core import board, decisions
from lscb_nb.core.board import Finding
from lscb_nb.core.datamodel import AGENCY_LABELS
from lscb_nb.core.display import Section, plural
from lscb_nb.pilot import completeness
from lscb_nb.pilot.context import Context

log = logging.getLogger(__name__)

# The notebook's headings each finding points to (03_pilot_evaluation.ipynb).
SUPPLY = "Could authorities supply the figures?"
TIMELY = "Which agencies were on time?"
QUALITY = "How good were the returns?"
DEFINITIONS = "Figures that suggest a different definition"
COMPARES = "How the authority compares"
REFINE = "What the pilot recommends for the dataset"


def _cells(ctx: Context) -> pd.DataFrame:
    if ctx.is_london:
        return ctx.cells
    return ctx.cells.loc[ctx.cells["la_code_ons"] == ctx.la_code]


def supply(cells: pd.DataFrame, who: str) -> Finding | None:
    """How much of what the dataset expects was supplied, and on time."""
    if cells.empty:
        return None
    overall = completeness.summarise(cells.assign(all="all"), "all").iloc[0]
    return Finding(
        f"{who} supplied {overall['supplied_pct']:.0f}% of the figures the dataset expects, "
        f"{overall['on_time_pct']:.0f}% by the deadline.",
        SUPPLY,
    )


def least_timely(cells: pd.DataFrame) -> Finding | None:
    """The agency whose figures arrive least often on time, as an ask."""
    if cells.empty:
        return None
    by_agency = completeness.summarise(cells, "agency").sort_values("on_time_pct")
    if len(by_agency) < 2:
        return None
    worst, best = by_agency.iloc[0], by_agency.iloc[-1]
    name = AGENCY_LABELS.get(by_agency.index[0], by_agency.index[0])
    return Finding(
        f"{name} was the least timely agency: {worst['on_time_pct']:.0f}% of its figures "
        f"on time, against {best['on_time_pct']:.0f}% for the most timely.",
        TIMELY,
        ask=f"Agree with {name} partners how their figures can reach the board by the deadline.",
    )


def held_back(ingest: dict) -> Finding | None:
    """Rows held back for checking and files that could not be read."""
    rows = int(ingest.get("rows_quarantined", 0) or 0)
    files = int(ingest.get("files_failed", 0) or 0)
    if not rows and not files:
        return Finding("Every row of every return passed its checks.", QUALITY)
    parts = []
    if rows:
        parts.append(f"{plural(rows, 'row')} held back for checking")
    if files:
        parts.append(f"{plural(files, 'file')} that could not be read")
    return Finding(
        f"The returns had {' and '.join(parts)}; none is lost, each is listed with its reason.",
        QUALITY,
        ask="Ask the authorities concerned to correct and resend what was held back.",
    )


def definitions(flags: pd.DataFrame, la_code: str | None) -> Finding | None:
    """Items whose figures suggest an authority counts them another way."""
    if la_code is not None:
        flags = flags.loc[flags["la_code_ons"] == la_code]
    if flags.empty:
        return None
    items = flags["item_id"].nunique()
    places = flags["la_code_ons"].nunique()
    where = "" if la_code is not None else f" across {plural(places, 'authority', 'authorities')}"
    return Finding(
        f"{plural(items, 'item')} {'looks' if items == 1 else 'look'} counted to a different "
        f"definition{where}.",
        DEFINITIONS,
        ask=f"Settle the definition of {'this item' if items == 1 else 'these items'} "
        "with the authorities before the dataset is agreed.",
    )


def outside_limits(positions: pd.DataFrame, period: str, la_code: str, name: str) -> Finding:
    """Where an authority is far from the pilot (outside the 99.8% funnel limits)."""
    now = positions.loc[(positions["period"] == period) & (positions["la_code_ons"] == la_code)]
    if now.empty:
        return Finding(
            f"{name} has no figures on a funnel for {period}, the quarter benchmarked, so it "
            "is not judged on it.",
            COMPARES,
        )
    far = now.loc[now["funnel"].astype(str).str.contains("99.8", regex=False)]
    if far.empty:
        return Finding(
            f"In {period} {name} was within the pilot's 99.8% limits on every item.", COMPARES
        )
    return Finding(
        f"In {period} {name} was outside the pilot's 99.8% limits on "
        f"{plural(far['item_id'].nunique(), 'item')}: very unlikely to be chance alone.",
        COMPARES,
        ask=f"Ask {name} whether these reflect practice or recording.",
    )


def dispositions(recommendations: pd.DataFrame) -> Finding | None:
    """What the pilot's evidence recommends for the dataset."""
    if recommendations.empty or "disposition" not in recommendations:
        return None
    counts = recommendations["disposition"].value_counts()
    order = ["keep", "amend definition", "local option", "drop", "not enough evidence yet"]
    words = ", ".join(f"{counts[k]} {k}" for k in order if counts.get(k, 0))
    return Finding(
        f"The pilot's evidence recommends, for {plural(len(recommendations), 'item')}: {words}.",
        REFINE,
        ask="Agree the refined dataset, item by item, from these recommendations"
        + (
            "; items with not enough evidence yet wait for more returns."
            if counts.get("not enough evidence yet", 0)
            else "."
        ),
    )


def findings(ctx: Context) -> list[Finding]:
    """Three to five findings for the report's area, most local first."""
    if not ctx.has_returns:
        return []
    cells = _cells(ctx)
    who = "The pilot authorities" if ctx.is_london else ctx.la_name
    found = [supply(cells, who)]
    if not ctx.is_london:
        found.append(outside_limits(ctx.positions, ctx.period, ctx.la_code, ctx.la_name))
        found.append(definitions(ctx.flags, ctx.la_code))
        found.append(least_timely(cells))
        found += board.as_context([partners(ctx)])
    else:
        found.append(least_timely(cells))
        found.append(held_back(ctx.ingest))
        found.append(definitions(ctx.flags, None))
        found.append(partners(ctx, dispositions(ctx.recommendations_in_scope)))
    return [f for f in found if f is not None][:5]


def partners(ctx: Context, found: Finding | None = None) -> Finding | None:
    """How the refined dataset is spread across the partners, and the ask where the
    evidence would have removed one (:func:`lscb_nb.core.decisions.partners_finding`),
    after ``found`` where given (the dispositions)."""
    recs = ctx.recommendations_in_scope
    if recs.empty or "disposition" not in recs:
        return found
    rows = recs.reset_index().assign(decision=recs["disposition"].astype(str).to_numpy())
    version = ctx.refined.version if ctx.refined is not None else "the refined dataset"
    if found is None:
        return decisions.partners_finding(rows, version, REFINE)
    return decisions.with_partners(found, rows, version)


def section_for_the_board(ctx: Context) -> Section:
    """The findings and the asks, first in the report, each linked to its evidence."""
    return board.section_for_the_board(
        findings(ctx), "No returns have arrived yet: there is nothing to report."
    )


def section_next_steps(ctx: Context) -> Section:
    """The report's last block: whether the phase met its milestone in the plan, and
    the recommended next steps drawn from these findings (:mod:`lscb_nb.core.nextsteps`)."""
    from lscb_nb.core import nextsteps

    return nextsteps.section_next_steps(ctx.project, "pilot", findings(ctx))
