"""What phase 1's report tells the steering group first: who sent their dataset, how
well local measures matched the data model, the gaps and the draft, and the asks,
each pointing to the section that holds its evidence.

Each finding is worked out from the report context's frames (small ones in tests)
and returned as a :class:`~lscb_nb.core.board.Finding`; an authority's report leads
with that authority (its coverage, its unmatched names) and gives the area after.
Names stay plain text here; the board block escapes them when it is shown.
"""

from __future__ import annotations

import logging

import pandas as pd

from lscb_nb.core import board, decisions
from lscb_nb.core.board import Finding, listed
from lscb_nb.core.display import Section, plural
from lscb_nb.mapping import coverage
from lscb_nb.mapping.context import Context

log = logging.getLogger(__name__)

# The notebook's headings each finding points to (01_mapping.ipynb).
REPLIES = "Who replied"
MATCHING = "Matching local names to the data model"
GAPS = "Where the gaps are: agencies and themes"
NEVER = "Items no authority collects"
BOROUGH = "The authority against the whole area"
DRAFT = "The draft dataset"

# How each match status counts for the board (mapping.matching, mapping.crosswalk).
USED = ("confident", "confirmed", "repointed")
WAITING = "uncertain"
NO_MATCH = ("unmatched", "rejected")
READABLE_COPY = "an unprotected .xlsx or a CSV"


def _names(authorities: pd.DataFrame, codes) -> list[str]:
    lookup = dict(zip(authorities["la_code_ons"], authorities["la_name"], strict=True))
    return [lookup.get(c, c) for c in codes]


def _codes(files: pd.DataFrame, status: str) -> set[str]:
    return set(files.loc[files["status"] == status, "la_code_ons"].dropna())


def _authorities(n: int) -> str:
    return plural(n, "authority", "authorities")


def replies(authorities: pd.DataFrame, files: pd.DataFrame, readable: list[str]) -> Finding:
    """How many authorities sent the dataset they keep today, which did not, and whose
    file could not be read; the ask names them."""
    codes = authorities["la_code_ons"].tolist()
    sent_any = set(files["la_code_ons"].dropna()) if "la_code_ons" in files else set()
    sent = [c for c in codes if c in sent_any]
    silent = [c for c in codes if c not in sent_any]
    unreadable = [c for c in sent if c not in set(readable)]
    if not sent:
        text = f"None of the {_authorities(len(codes))} has sent its current dataset yet."
    elif not silent:
        text = (
            f"All {_authorities(len(codes))} sent their current dataset."
            if len(codes) > 1
            else "The one authority sent its current dataset."
        )
    else:
        text = (
            f"{len(sent)} of the {_authorities(len(codes))} sent their current dataset; "
            f"{listed(_names(authorities, silent), 12)} did not."
        )
    if unreadable:
        files_word = "file" if len(unreadable) == 1 else "files"
        text += (
            f" The {files_word} of {listed(_names(authorities, unreadable), 12)} could not be read."
        )
    partly = [c for c in sent if c in _codes(files, "partly read")]
    if sent and not unreadable and not partly:
        text += " Every file that came could be read."
    if partly:
        who = listed(_names(authorities, partly), 12)
        text += (
            f" Part of {who}'s file could not be read."
            if len(partly) == 1
            else f" Parts of the files of {who} could not be read."
        )
    asks = []
    if silent:
        asks.append(f"chase {listed(_names(authorities, silent), 12)} for the dataset they keep")
    if unreadable:
        asks.append(
            f"ask {listed(_names(authorities, unreadable), 12)} for a readable copy "
            f"({READABLE_COPY})"
        )
    ask = " and ".join(asks)
    return Finding(text, REPLIES, ask=(ask[:1].upper() + ask[1:] + ".") if ask else "")


def _statuses(matches: pd.DataFrame) -> tuple[int, int, int]:
    """Local measures matched (used), waiting for review, and matching nothing."""
    status = matches["status"].astype(str)
    return (
        int(status.isin(USED).sum()),
        int((status == WAITING).sum()),
        int(status.isin(NO_MATCH).sum()),
    )


def _review_ask(waiting: int, whose: str = "") -> str:
    if not waiting:
        return ""
    what = plural(waiting, "suggested match", "suggested matches")
    return (
        f"Review {whose}{what} in the crosswalk review panel (this notebook in JupyterLab, "
        "with review=True) before the draft is agreed."
    )


def matching(matches: pd.DataFrame) -> Finding | None:
    """How the local measures matched the data model, and how many wait for review."""
    if matches.empty:
        return None
    used, waiting, none = _statuses(matches)
    text = (
        f"Of the {plural(len(matches), 'local measure')} read, {used:,} matched a data-model "
        f"item, {waiting:,} {'waits' if waiting == 1 else 'wait'} for review as a suggestion "
        f"and {none:,} matched nothing."
    )
    return Finding(text, MATCHING, ask=_review_ask(waiting))


def never_collected(matrix: pd.DataFrame, selection: pd.DataFrame) -> Finding | None:
    """Candidate items no authority that replied collects, and what the draft does
    with them; the board decides which are worth building."""
    if matrix.empty:
        return None
    none = coverage.never_collected(matrix)
    if not none:
        return Finding(
            "Every candidate item is already collected by at least one authority.", NEVER
        )
    kept = int(selection.loc[none, "in_draft"].sum())
    verb = "is" if len(none) == 1 else "are"
    draft_keeps = (
        f"the draft keeps {'it' if len(none) == 1 else f'{kept} of them'} to develop, as "
        "statute or Working Together requires or on children's views"
        if kept
        else f"none {verb} in the draft"
    )
    return Finding(
        f"{plural(len(none), 'candidate item')} {verb} collected by no authority that sent a "
        f"readable dataset; {draft_keeps}.",
        NEVER,
        ask=f"Decide which of the {plural(len(none), 'item')} no authority collects "
        f"({listed(none)}) are worth building.",
    )


def weakest_agency(matrix: pd.DataFrame, items: pd.DataFrame) -> Finding | None:
    """The supplying agency whose items the fewest authorities collect today."""
    if matrix.empty:
        return None
    by_agency, _ = coverage.coverage_tables(matrix, items)
    by_agency = by_agency.dropna(subset=["share"])
    if len(by_agency) < 2:
        return None
    low, high = by_agency.index[0], by_agency.index[-1]
    return Finding(
        f"{low} items are the least collected today: on average each by "
        f"{by_agency['share'].iloc[0]:.0f}% of the authorities that replied, against "
        f"{by_agency['share'].iloc[-1]:.0f}% for {high} items.",
        GAPS,
        ask=f"Ask {low} partners what they hold that the board could use.",
    )


def draft(selection: pd.DataFrame, min_boroughs: int, replied: int, version: str) -> Finding:
    """The draft dataset the mapping leads to, for phase 2 to assess."""
    chosen = selection.loc[selection["in_draft"].astype(bool)]
    core = int((chosen["tier"] == "core").sum())
    develop = len(chosen) - core
    if not replied:
        text = (
            f"No authority's dataset could be read yet, so the draft dataset ({version}) holds "
            "only the "
            f"{plural(len(chosen), 'item')} statute or Working Together requires or that cover "
            "children's views, all to develop."
        )
    else:
        text = (
            f"The draft dataset ({version}) keeps {plural(len(chosen), 'item')}: {core} "
            f"collected by at least {min_boroughs} of the {_authorities(replied)} with a "
            f"readable dataset, and {develop} to develop."
        )
    return Finding(
        text, DRAFT, ask=f"Agree the draft dataset ({version}) as the one phase 2 assesses."
    )


def authority_coverage(
    matrix: pd.DataFrame,
    files: pd.DataFrame,
    draft_ids: list[str],
    la_code: str,
    name: str,
    area: str,
) -> Finding:
    """What the report's authority collects against the area, and what the draft would
    ask it to start collecting; an authority without a readable file is asked for one."""
    if la_code not in set(files["la_code_ons"].dropna()):
        return Finding(
            f"{name} has not sent its current dataset, so what it collects is not known; the "
            f"draft would ask it for all {plural(len(draft_ids), 'item')}.",
            REPLIES,
            ask=f"Chase {name} for the dataset it keeps today.",
        )
    if la_code not in matrix.index:
        return Finding(
            f"{name}'s file could not be read, so what it collects is not known yet.",
            REPLIES,
            ask=f"Ask {name} for a readable copy of its dataset ({READABLE_COPY}).",
        )
    profile = coverage.borough_profile(matrix, la_code, draft_ids)
    median = matrix.sum(axis=1).median()
    start = len(profile["to_start"])
    return Finding(
        f"{name} already collects {len(profile['collects'])} of the "
        f"{plural(matrix.shape[1], 'candidate item')} (the {area} median is {median:.0f}) "
        f"and {len(profile['has_draft'])} of the {len(draft_ids)} draft items; it would start "
        f"collecting {start}.",
        BOROUGH,
        ask=f"Ask {name} whether it can supply the {plural(start, 'draft item')} it does not "
        "collect yet."
        if start
        else "",
    )


def authority_unmatched(matches: pd.DataFrame, la_code: str, name: str) -> Finding | None:
    """The authority's own measures the data model lacks, by name, and its suggestions
    waiting for review."""
    mine = matches.loc[matches["la_code_ons"] == la_code]
    if mine.empty:
        return None
    _, waiting, _ = _statuses(mine)
    own = list(dict.fromkeys(mine.loc[mine["status"].astype(str).isin(NO_MATCH), "local_name"]))
    if not own and not waiting:
        return Finding(
            f"Every one of {name}'s {plural(len(mine), 'local measure')} matched a data-model "
            "item.",
            BOROUGH,
        )
    text = (
        f"{len(own)} of {name}'s {plural(len(mine), 'local measure')} "
        f"{'matches' if len(own) == 1 else 'match'} nothing in the data model"
        + (f": {listed(own, 4)}." if own else ".")
    )
    if waiting:
        verb = "waits" if waiting == 1 else "wait"
        text += f" {plural(waiting, 'suggestion')} {verb} for review."
    ask = _review_ask(waiting, f"{name}'s ") or (
        f"Decide whether {name}'s measures the data model lacks belong in the dataset."
    )
    return Finding(text, BOROUGH, ask=ask)


def findings(ctx: Context) -> list[Finding]:
    """Three to five findings: the authority's own first in its report, then the area."""
    replied = len(ctx.readable)
    area = [
        replies(ctx.authorities, ctx.files, ctx.readable),
        never_collected(ctx.matrix, ctx.selection),
        decisions.with_partners(
            draft(ctx.selection, ctx.min_boroughs, replied, ctx.draft.version),
            ctx.decisions,
            ctx.draft.version,
        ),
    ]
    if ctx.is_london:
        found = [area[0], matching(ctx.matches), area[1], weakest_agency(ctx.matrix, ctx.items)]
        found.append(area[2])
    else:
        found = [
            authority_coverage(
                ctx.matrix,
                ctx.files,
                list(ctx.draft.items.index),
                ctx.la_code,
                ctx.la_name,
                ctx.area,
            ),
            authority_unmatched(ctx.matches, ctx.la_code, ctx.la_name),
            *board.as_context(area),
        ]
    return [f for f in found if f is not None][:5]


def section_for_the_board(ctx: Context) -> Section:
    """The findings and the asks, first in the report, each linked to its evidence."""
    return board.section_for_the_board(
        findings(ctx), "No authority has sent its dataset yet: there is nothing to report."
    )


def section_next_steps(ctx: Context) -> Section:
    """The report's last block: whether the phase met its milestone in the plan, and
    the recommended next steps drawn from these findings (:mod:`lscb_nb.core.nextsteps`)."""
    from lscb_nb.core import nextsteps

    return nextsteps.section_next_steps(ctx.project, "mapping", findings(ctx))
