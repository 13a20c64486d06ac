"""The project's final report, organised as the Datasets Project's final report was:
its frame, the dataset (section 1), gaps (7) and recommendations (8); the themed
findings are in :mod:`lscb_nb.final.sections_findings`.

Each section is filled from what the phases produced: the data-model versions,
phase 1's mapping of what boroughs collect, phase 2's ratings of accessibility
and usefulness, and phase 3's evaluation of the pilot returns. Where a phase has
not been run, the section says so rather than filling the gap with boilerplate.
The notebook calls :func:`lscb_nb.final.context.load_context` and then these.
"""

from __future__ import annotations

import logging

import pandas as pd

from lscb_nb.core import decisions, labels, periods, phases, regional
from lscb_nb.core.datamodel import AGENCY_LABELS
from lscb_nb.core.display import Section, esc, listing, plural, table
from lscb_nb.final import figures, findings
from lscb_nb.final.context import Context, collected_by
from lscb_nb.pilot import completeness, refinement

log = logging.getLogger(__name__)


def header(ctx: Context) -> Section:
    from lscb_nb.core import display

    p = ctx.pilot
    facts = {
        "Report": ctx.project.title,
        "Area": f"{ctx.area} ({plural(len(ctx.project.authorities), 'authority', 'authorities')})",
        "Pilot": (
            f"{plural(len(p.pilots), 'authority', 'authorities')}, "
            f"{periods.span_text(p.period_labels)}"
            if p is not None
            else "not run yet"
        ),
        "Dataset versions": ", ".join([ctx.candidate.version, *ctx.versions]),
        "Phases run": ", ".join(
            ph.title
            for ph in phases.all_phases()
            if ph.writes and phases.is_prepared(ctx.project, ph)
        )
        or "none yet",
    }
    if p is not None:
        facts["Data snapshot"] = str(p.ingest.get("input_snapshot_sha256", ""))[:12]
    return display.header("Final report", facts, ctx.synthetic)


def _labels(codes: pd.Series, labels: dict[str, str]) -> pd.Series:
    return codes.map(lambda c: labels.get(c, c))


# --------------------------------------------------------------------------------------
# 1. The dataset
# --------------------------------------------------------------------------------------


def section_dataset(ctx: Context) -> Section:
    """The dataset, its profile and why: each item's source and how to implement it."""
    final = ctx.final
    items = final.items
    by_agency = items.groupby("agency").size().rename("items")
    by_agency.index = _labels(by_agency.index.to_series(), AGENCY_LABELS)
    tiers = items["tier"].value_counts()
    sec = Section().add(
        f"The project began with a candidate dataset of {len(ctx.candidate.items)} items drawn "
        "from the statutory returns, the National Indicators and Working Together. It "
        f"{'ends' if ctx.pilot is not None else 'stands so far'} "
        f"with version {esc(final.version)}: {plural(len(items), 'item')}, of which "
        f"{tiers.get('core', 0)} core, {tiers.get('develop', 0)} to develop and "
        f"{tiers.get('local_option', 0)} local options."
    )
    if ctx.pilot is not None:
        recs = ctx.pilot.recommendations_in_scope["disposition"].astype(str).value_counts()
        sec.add(
            f"The pilot's evidence kept {recs.get(refinement.KEEP, 0)} items as they were, asked "
            f"for {recs.get(refinement.AMEND, 0)} definitions to be amended, moved "
            f"{recs.get(refinement.LOCAL, 0)} to local option and dropped "
            f"{recs.get(refinement.DROP, 0)}"
            + (
                f"; {plural(recs[refinement.NOT_ENOUGH], 'item')} had not enough evidence yet "
                "(returns for too few quarters or pilots, or not yet due) and go forward "
                "unchanged until the pilot's returns are in."
                if recs.get(refinement.NOT_ENOUGH, 0)
                else "."
            )
        )
    sec.add(esc(findings.rated(ctx.assessment).text))
    versions = [("candidate", ctx.candidate)] + [
        (v.meta.get("status", ""), v) for v in ctx.versions.values()
    ]
    sec.add(
        table(
            pd.DataFrame(
                {
                    "Version": [v.version for _, v in versions],
                    "Stage": [s for s, _ in versions],
                    "Items": [len(v.items) for _, v in versions],
                    "Based on": [v.meta.get("based_on") or "–" for _, v in versions],
                }
            ),
            caption="How the dataset was refined, phase by phase",
        )
    )
    if ctx.record is not None and not ctx.record.empty:
        paths = decisions.item_paths(ctx.record)
        paths["agency"] = paths["agency"].map(lambda a: AGENCY_LABELS.get(a, a))
        spread = decisions.partner_spread(
            ctx.candidate.items.assign(
                decision=[
                    "keep" if i in items.index else decisions.DROP
                    for i in ctx.candidate.items.index
                ]
            )
        )
        sec.add(
            "How the dataset is spread across the partners, candidate → "
            f"{esc(final.version)}: {esc(decisions.spread_words(spread))}. Each item's path "
            "through the phases, from the decision record (data/processed/decisions.parquet; "
            "'(board)' marks a board overrule, and the record says why the partner guard kept "
            "an item):",
            table(
                labels.relabel(paths, {s: s.capitalize() for s in decisions.STAGES}),
                caption="Each item's path: candidate → draft → pilot → refined",
                max_rows=10,
            ),
        )
    fig = figures.plot_items_by_agency(by_agency, final.version)
    sec.add(
        "Children's social care supplies most items because its statutory returns already "
        "define them; the other agencies' items are fewer and newer.",
        fig,
    )
    collected = collected_by(ctx)
    rows = items.reset_index()[
        ["item_id", "title", "agency", "tier", "statutory_return", "frequency", "source_systems"]
    ].copy()
    regions = ctx.project.regions
    rows["source_systems"] = rows["source_systems"].map(
        lambda s: ", ".join(regional.source_systems(s, regions))
    )
    if collected is not None:
        rows[f"{ctx.word(plural=True, capital=True)} collecting (phase 1)"] = (
            rows["item_id"].map(collected).fillna(0)
        )
    if ctx.pilot is not None:
        rows["Pilot recommendation"] = rows["item_id"].map(
            ctx.pilot.recommendations["disposition"].astype(str)
        )
    command = f"lscb-nb datamodel dictionary --version {final.version}".replace("`", "")
    sec.add(
        f"Every item, where it comes from and how often {ctx.word(plural=True)} return it. The "
        "full "
        "definitions, numerators and denominators are in the data dictionary of the version "
        f"(`{command}`, run in the project's folder).",
        table(
            labels.relabel(
                rows,
                {"statutory_return": "Statutory return", "source_systems": "Source systems"},
                ctx.word(),
            ),
            caption=f"The dataset, version {final.version}",
        ),
    )
    return sec


# --------------------------------------------------------------------------------------
# 7. Gaps and challenges
# --------------------------------------------------------------------------------------


def section_gaps(ctx: Context) -> Section:
    """What the dataset could not yet cover, and why: phase 1's items no authority
    collected, and the pilot's late agencies and definitional queries."""
    p = ctx.pilot
    sec = Section()
    collected = collected_by(ctx)
    if collected is not None:
        none = ctx.candidate.items.index.difference(collected.index[collected > 0])
        sec.add(
            f"{plural(len(none), 'candidate item')} were collected by no {ctx.word()} before the "
            f"project ({listing(none)}): the dataset asks for them because statute or the "
            "board's functions need them, and they need building from scratch."
        )
    else:
        sec.add(
            "Phase 1 (mapping) has not been run, so which items authorities already collect, "
            "and which none of them does, is not known yet."
        )
    if p is None:
        return sec.add(findings.PILOT_NOT_RUN)
    by_agency = completeness.summarise(p.cells, "agency")
    late = by_agency.sort_values("on_time_pct").head(3)
    sec.add(
        "The least timely agencies in the pilot were "
        + listing(
            [
                f"{AGENCY_LABELS.get(a, a)} ({v:.0f}% on time)"
                for a, v in late["on_time_pct"].items()
            ]
        )
        + "."
        + (
            " Health figures come from several trusts' systems with no common definition."
            if late.index[0] == "health"
            else ""
        )
    )
    if not p.flags.empty:
        sec.add(
            f"{plural(len(p.flags), 'figure')} suggested a {ctx.word()} was counting to its own "
            "definition: "
            + listing(
                [f"{p.name(r.la_code_ons)} {r.item_id} ({r.signal})" for r in p.flags.itertuples()]
            )
            + "."
        )
    return sec


# --------------------------------------------------------------------------------------
# 8. Recommendations
# --------------------------------------------------------------------------------------


def section_recommendations(ctx: Context) -> Section:
    """The recommendations in full (the board block at the top lists the same ones)."""
    found = findings.recommendations(ctx)
    return Section().add("\n".join(f"{i}. {esc(r.text)}" for i, r in enumerate(found, 1)))


def section_intro(ctx: Context) -> Section:
    """What the project set out to do and how far it has come, from the data."""
    ran = [ph for ph in phases.all_phases() if ph.writes and phases.is_prepared(ctx.project, ph)]
    n = len(ctx.project.authorities)
    sentence = (
        f"{esc(ctx.project.name)} set out to give the {plural(n, 'authority', 'authorities')} "
        f"of {esc(ctx.area)} one practical, multi-agency dataset for monitoring how well "
        "children are safeguarded. "
    )
    if ctx.pilot is not None:
        sentence += (
            f"The pilot ran in {plural(len(ctx.pilot.pilots), 'authority', 'authorities')} "
            f"for {periods.span_text(ctx.pilot.period_labels)}. "
        )
    sentence += (
        "This report brings together "
        + (listing(ph.title for ph in ran) if ran else "no phase yet")
        + "; every figure in it comes from their data."
    )
    return Section().add(sentence)
