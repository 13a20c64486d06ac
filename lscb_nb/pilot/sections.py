"""Phase 3's report: its frame (header, what came in), the counts table and the refinement.

The notebook calls :func:`lscb_nb.pilot.context.load_context` and then one
``section_*`` function per part of the story, from this module,
:mod:`lscb_nb.pilot.sections_quality` (could authorities supply the figures) and
:mod:`lscb_nb.pilot.sections_benchmark` (how do they compare). Every table that
leaves here passes small-number suppression.
"""

from __future__ import annotations

import logging

import pandas as pd

from lscb_nb.core import changelog, decisions, disclosure, display, periods, states
from lscb_nb.core.display import Section, esc, listing, nothing_to_show, number, plural, table
from lscb_nb.core.textdiff import code
from lscb_nb.pilot import refinement
from lscb_nb.pilot.context import Context, needs_returns

log = logging.getLogger(__name__)


def header(ctx: Context) -> Section:
    facts = {
        "Report": "Phase 3: evaluation of the pilot returns",
        "Area": ctx.la_name if ctx.is_london else f"{ctx.la_name} ({ctx.la_code})",
        "Dataset piloted": f"{ctx.base.version} ({len(ctx.items)} items)",
        "Periods": periods.span_text(ctx.period_labels),
        "Benchmark quarter": ctx.period
        + (
            f" ({ctx.benchmark['pilots_with_returns']} of {ctx.benchmark['pilots']} pilots sent it)"
            if ctx.benchmark.get("period") == ctx.period
            else ""
        ),
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


def section_no_returns(ctx: Context) -> Section:
    """For a borough that sent nothing: say so plainly, and nothing else."""
    if ctx.has_returns:
        return Section()
    return nothing_to_show(
        f"{ctx.la_name} has no pilot returns on file for {periods.span_text(ctx.period_labels)}"
        f", so there is nothing to evaluate or benchmark. {ctx.word(plural=True, capital=True)} in "
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
        f"{plural(len(ctx.pilots), f'pilot {ctx.word()}')} sent "
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
            f"{plural(len(failed), 'file')} could not be read in full; the {ctx.word()} has been "
            "asked to send it again:",
            table(
                failed[["file", "error"]]
                .assign(file=failed["file"].map(code))
                .rename(columns={"file": "File", "error": "Problem"}),
                caption="Return files that could not be read in full",
            ),
        )
    return sec


TOTAL = "Pilot total"


def in_total(ctx: Context) -> str:
    """The heading of the column saying how many authorities a total covers
    ('Boroughs in total' in London, 'Authorities in total' elsewhere)."""
    return f"{ctx.word(plural=True, capital=True)} in total"


def count_table(ctx: Context, period: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts per item (rows) and pilot borough (columns) with the pilot total, for the
    benchmark quarter, each cell shown by its state (:mod:`lscb_nb.core.states`).

    The total adds up the reported figures only; figures not reported (not returned,
    suppressed by the borough, held back by validation) are outside it, shown by
    their symbol, and counted in :func:`in_total`'s column. Small counts are suppressed
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
    shown[in_total(ctx)] = [f"{n} of {len(boroughs)}" for n in included]
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
    boroughs = [c for c in shown.columns if c not in ("Item", "Title", TOTAL, in_total(ctx))]
    meta = {
        "kind": "grid",
        "source": "returns/accepted",
        "filter": {"period": ctx.period, "unit": "count"},
        "value": "numerator",
        "row_key": "item_id",
        "row_column": "Item",
        "column_key": "la_name",
        "columns": boroughs,
        "total": {"column": TOTAL, "of": "reported", "count_column": in_total(ctx)},
    }
    return Section().add(
        f"The count items for each pilot {ctx.word()} in {esc(ctx.period)}. Counts of 1 to "
        f"{ctx.threshold} are shown as c, and where a total would reveal one, another cell "
        "is hidden too (secondary suppression), following DfE's convention. The pilot "
        f"total adds up the figures {ctx.word(plural=True)} reported; figures not returned or "
        "suppressed "
        f"by the {ctx.word()} are left out of it, and '{in_total(ctx)}' says how many it covers.",
        table(shown, caption=f"Counts by pilot {ctx.word()}, {ctx.period}", meta=meta),
        display.state_key(shown[boroughs], total_excludes=True),
    )


@needs_returns
def section_refinement(ctx: Context) -> Section:
    """What the pilot recommends for each item, and the refined dataset."""
    recs = ctx.recommendations_in_scope
    counts = recs["disposition"].astype(str).value_counts()
    sec = Section().add(
        "Each item's evidence from the pilot (how often it was supplied and on time, value "
        f"errors, {ctx.word(plural=True)} that counted it differently, whether it told "
        f"{ctx.word(plural=True)} apart, and "
        "phase 2's ratings where they exist) leads to a recommendation: "
        + ", ".join(f"{counts.get(d, 0)} {d}" for d in refinement.DISPOSITIONS)
        + "".join(f"; {counts[d]} {d}" for d in decisions.GUARD_DECISIONS if counts.get(d, 0))
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
        sec.add(
            f"The refined dataset is written as data-model version {esc(ctx.refined.version)} "
            f"({len(ctx.refined.items)} items), based on {esc(base.version)}. Its change log:",
            changelog.show_changes(base, ctx.refined),
        )
        rows = decisions.read_record(ctx.project.processed, "refined")
        prepared = rows.set_index("item_id")["decision"] if not rows.empty else None
        if prepared is not None and prepared.to_dict() == recs["disposition"].astype(str).to_dict():
            sec.add(decisions.record_section(rows, ctx.refined.version))
    return sec
