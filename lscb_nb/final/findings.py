"""What the final report tells the board first: the key findings of every phase run
so far and the report's recommendations, each pointing to the section that holds its
evidence; the full sections follow.

A phase that has not been run is a finding in words, never a gap or a crash. The
recommendations are worked out here too, so the board block and section 8 list the
same ones.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd

from lscb_nb.assessment import findings as assessment_findings
from lscb_nb.core import board
from lscb_nb.core.board import Finding, listed
from lscb_nb.core.datamodel import AGENCY_LABELS, DataModel
from lscb_nb.core.display import Section, plural
from lscb_nb.final.context import Context, collected_by
from lscb_nb.pilot import completeness, refinement
from lscb_nb.pilot import findings as pilot_findings

log = logging.getLogger(__name__)

# The notebook's headings each finding points to (04_final_report.ipynb).
DATASET = "1. The dataset and why it looks as it does"
SHARING = "3. Information sharing between agencies"
GOOD_PRACTICE = "4. Good practice found in the pilots"
GAPS = "7. Gaps and challenges"

PILOT_NOT_RUN = (
    "The pilot (phase 3) has not been run yet, so whether authorities can supply the "
    "dataset, on time and to its definitions, is untested."
)


def dataset(candidate: DataModel, final: DataModel, piloted: bool) -> Finding:
    """Where the dataset started and where it stands, by tier."""
    tiers = final.items["tier"].astype(str).value_counts()
    local = int(tiers.get("local_option", 0))
    return Finding(
        f"The project began with a candidate dataset of {plural(len(candidate.items), 'item')} "
        f"and {'ends' if piloted else 'stands so far'} with version {final.version}: "
        f"{plural(len(final.items), 'item')}, of which {int(tiers.get('core', 0))} core, "
        f"{int(tiers.get('develop', 0))} to develop and {local} "
        f"{'local option' if local == 1 else 'local options'}.",
        DATASET,
    )


def mapped(
    collected: pd.Series | None, candidate_items: int, summary: dict | None, authorities: int
) -> Finding:
    """What phase 1 found authorities already collect: the items none of them did."""
    if collected is None or summary is None:
        return Finding(
            "Phase 1 (mapping) has not been run, so what authorities already collect is not known.",
            GAPS,
        )
    readable = int(summary.get("readable", 0))
    none = candidate_items - int((collected > 0).sum())
    return Finding(
        f"Before the project, {none} of the {plural(candidate_items, 'candidate item')} "
        f"{'was' if none == 1 else 'were'} collected by none of the "
        f"{plural(readable, 'authority', 'authorities')} whose current dataset could be read "
        f"(of {authorities}).",
        GAPS,
    )


def rated(assessment: dict | None) -> Finding:
    """How many raters scored the draft, how far they agreed, and what they kept."""
    if assessment is None:
        return Finding(
            "Phase 2 (assessment) has not been run, so no item has been rated for "
            "accessibility or usefulness yet.",
            DATASET,
        )
    summary = assessment["summary"]
    ratings = assessment.get("ratings")
    places = 0 if ratings is None or ratings.empty else ratings["la_code_ons"].nunique()
    decisions = summary.get("decisions") or {}
    kept = sum(n for d, n in decisions.items() if d != "drop")
    text = (
        f"Phase 2's {plural(int(summary.get('raters', 0)), 'rater')} in "
        f"{plural(places, 'pilot authority', 'pilot authorities')} kept {kept} of the "
        f"{plural(sum(decisions.values()), 'item')} they rated for the pilot."
    )
    agreement = assessment.get("agreement")
    overall = None
    if agreement is not None and not agreement.empty:
        overall = agreement.loc[agreement["level"] == "overall"]
    if overall is not None and not overall.empty and np.isfinite(overall["alpha"].iloc[0]):
        row = overall.iloc[0]
        reading = assessment_findings.agreement_reading(
            float(row["alpha"]),
            float(row.get("alpha_lower", np.nan)),
            float(row.get("alpha_upper", np.nan)),
        )
        text += f" They agreed {reading}."
    return Finding(text, DATASET)


def findings(ctx: Context) -> list[Finding]:
    """The key findings of every phase, in the project's order; a phase not run says so."""
    p = ctx.pilot
    found = [
        dataset(ctx.candidate, ctx.final, p is not None),
        mapped(
            collected_by(ctx),
            len(ctx.candidate.items),
            None if ctx.mapping is None else ctx.mapping["summary"],
            len(ctx.project.authorities),
        ),
        rated(ctx.assessment),
    ]
    if p is None:
        found.append(Finding(PILOT_NOT_RUN, SHARING))
    else:
        supplied = pilot_findings.supply(p.cells, "The pilot authorities")
        flagged = pilot_findings.definitions(p.flags, None)
        found += [
            replace(f, evidence=evidence, ask="")
            for f, evidence in ((supplied, SHARING), (flagged, GAPS))
            if f is not None
        ]
    return found[:5]


def _before_the_pilot(ctx: Context) -> list[Finding]:
    """What a project that has not piloted its dataset yet is recommended to do next."""
    out = []
    collected = collected_by(ctx)
    if collected is not None:
        none = ctx.candidate.items.index.difference(collected.index[collected > 0])
        if len(none):
            out.append(
                Finding(
                    f"Decide which of the {plural(len(none), 'item')} no authority collected "
                    f"before the project ({listed(none)}) are worth building.",
                    GAPS,
                )
            )
    if ctx.assessment is None:
        out.append(
            Finding(
                "Ask the pilot authorities' raters to score the draft's items for accessibility "
                "and usefulness (phase 2) before the pilot.",
                DATASET,
            )
        )
    out.append(
        Finding(
            f"Pilot version {ctx.final.version} ({plural(len(ctx.final.items), 'item')}) "
            "before adopting it: phase 3 has not been run yet.",
            DATASET,
        )
    )
    return out


def recommendations(ctx: Context) -> list[Finding]:
    """The report's recommendations, each following from the evidence it points to."""
    p = ctx.pilot
    final = ctx.final
    if p is None:
        return _before_the_pilot(ctx)
    out = [
        Finding(
            f"Adopt version {final.version} ({plural(len(final.items), 'item')}) as the "
            f"{ctx.area} dataset, with local options left to each board.",
            DATASET,
        )
    ]
    recs = p.recommendations_in_scope
    disposition = recs["disposition"].astype(str)
    amend = list(recs.index[disposition == refinement.AMEND])
    if amend:
        out.append(
            Finding(
                f"Agree the counting rules for {listed(amend, 12)} with the "
                f"{ctx.word(plural=True)} flagged, "
                f"before any figure for them is compared across {ctx.area}.",
                GAPS,
            )
        )
    if not p.cells.empty:
        by_agency = completeness.summarise(p.cells, "agency")
        worst = by_agency["on_time_pct"].idxmin()
        out.append(
            Finding(
                f"Agree a data-sharing protocol and deadline with "
                f"{AGENCY_LABELS.get(worst, worst)} partners: only "
                f"{by_agency.loc[worst, 'on_time_pct']:.0f}% of their figures arrived on time.",
                GAPS,
            )
        )
    waiting = int((disposition == refinement.NOT_ENOUGH).sum())
    if waiting:
        out.append(
            Finding(
                f"Decide on {plural(waiting, 'item')} only when the pilot's returns for them are "
                "in: their quarters are not yet due, or too few quarters or pilots have sent "
                "them, so the pilot's evidence does not yet support keeping, changing or "
                "dropping them.",
                DATASET,
            )
        )
    local = int((disposition == refinement.LOCAL).sum())
    if local:
        out.append(
            Finding(
                f"Leave {plural(local, 'item')} to local choice: they did not tell "
                f"{ctx.word(plural=True)} "
                f"apart or only some {ctx.word(plural=True)} can supply them.",
                DATASET,
            )
        )
    out.append(
        Finding(
            "Return the dataset in the toolkit's template each quarter, validate it on "
            "arrival, and publish figures with small-number suppression and confidence "
            "intervals, as this pilot did.",
            GOOD_PRACTICE,
        )
    )
    return out


def section_for_the_board(ctx: Context) -> Section:
    """The key findings and the recommendations, first in the report, each linked to
    its evidence."""
    return board.section_for_the_board(
        findings(ctx),
        "No phase has been run yet: there is nothing to report.",
        recommendations=recommendations(ctx),
        asks_title="Recommendations:",
    )


def section_next_steps(ctx: Context) -> Section:
    """The report's last block: whether the phase met its milestone in the plan, and
    the recommended next steps drawn from these findings (:mod:`lscb_nb.core.nextsteps`)."""
    from lscb_nb.core import nextsteps

    return nextsteps.section_next_steps(ctx.project, "final", findings(ctx))
