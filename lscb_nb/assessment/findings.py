"""What phase 2's report tells the steering group first: how many ratings came in,
how far raters agreed (with its uncertainty, in plain words), which items the scores
propose for the pilot, develop or drop, where raters disagreed most, and the asks,
each pointing to the section that holds its evidence.

Each finding is worked out from the report context's frames (small ones in tests)
and returned as a :class:`~lscb_nb.core.board.Finding`; a pilot authority's report
leads with that authority and gives the area after. Names stay plain text here; the
board block escapes them when it is shown.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.assessment import ratings as scoring
from lscb_nb.assessment.context import Context
from lscb_nb.core import board
from lscb_nb.core import decisions as record
from lscb_nb.core.agreement import ALPHA_RELIABLE, ALPHA_TENTATIVE
from lscb_nb.core.board import Finding, listed
from lscb_nb.core.datamodel import AGENCY_LABELS
from lscb_nb.core.display import Section, plural

log = logging.getLogger(__name__)

# The notebook's headings each finding points to (02_assessment.ipynb).
RATERS = "Who rated the items"
MATRIX = "Which items to pilot: the priority matrix"
HARD = "Where the data is hard to get"
AGREE = "Did raters agree?"
DISPUTED = "The items raters disagreed on most"
BOROUGH = "The authority's raters against the whole area's"


def _pilots(n: int) -> str:
    return plural(n, "pilot authority", "pilot authorities")


def _raters(ratings: pd.DataFrame) -> pd.DataFrame:
    return ratings.drop_duplicates("rater_id")


def _usable(ratings: pd.DataFrame) -> int:
    return int(ratings["score"].notna().sum())


def received(
    pilots: list[str], ratings: pd.DataFrame, items: int, names: dict[str, str]
) -> Finding:
    """Ratings received against those expected: which pilot authorities sent completed
    instruments, from how many raters, and what share of the scores asked for came back
    usable; the ask names the authorities still to send."""
    if not pilots:
        return Finding(
            "No pilot authorities have been chosen yet, so no one has rated the items.",
            RATERS,
            ask="Choose the pilot authorities (pilots in project.yaml).",
        )
    came = set(ratings["la_code_ons"]) & set(pilots)
    missing = [names.get(c, c) for c in pilots if c not in came]
    if not came:
        return Finding(
            f"No completed instruments have come in yet from the {_pilots(len(pilots))}.",
            RATERS,
            ask=f"Chase {listed(missing, 12)} for their raters' instruments.",
        )
    mine = ratings.loc[ratings["la_code_ons"].isin(came)]
    raters = _raters(mine)
    criteria = max(mine["criterion"].nunique(), 1)
    expected = len(raters) * items * criteria
    where = (
        f"{len(came)} of the {_pilots(len(pilots))}"
        if missing
        else {1: "the one pilot authority", 2: "both pilot authorities"}.get(
            len(came), f"all {_pilots(len(came))}"
        )
    )
    dont_know = int(mine["dont_know"].astype("boolean").fillna(False).sum())
    text = (
        f"{plural(len(raters), 'rater')} in {where} returned completed instruments"
        + (f"; none came from {listed(missing, 12)}" if missing else "")
        + f". Of the {expected:,} scores they were asked for, {_usable(mine) / expected:.0%} "
        f"came back usable and {dont_know / expected:.0%} as 'don't know'."
    )
    return Finding(
        text,
        RATERS,
        ask=f"Chase {listed(missing, 12)} for their raters' instruments." if missing else "",
    )


def agreement_reading(alpha: float, lower: float, upper: float) -> str:
    """How well raters agreed, in words that carry the interval's uncertainty: 'too
    weakly to rely on: Krippendorff's alpha 0.57 (95% CI 0.55 to 0.58), ...'."""
    rely, tentative = ALPHA_RELIABLE, ALPHA_TENTATIVE
    interval = bool(np.isfinite(lower) and np.isfinite(upper))
    stat = f"Krippendorff's alpha {alpha:.2f}" + (
        f" (95% CI {lower:.2f} to {upper:.2f})"
        if interval
        else " (no interval: too few scores to say how precise it is)"
    )
    if not interval:
        lower = upper = alpha
    if upper < tentative:
        below = "even the top of its interval is" if interval else "it is"
        return (
            f"too weakly to rely on: {stat}; {below} below the {tentative} Krippendorff sets "
            "for tentative conclusions"
        )
    if lower >= rely:
        return f"well enough to rely on: {stat}, at or above Krippendorff's {rely}"
    if lower >= tentative and upper < rely:
        return (
            f"well enough for tentative conclusions only: {stat}, between Krippendorff's "
            f"{tentative} and {rely}"
        )
    if lower >= tentative:
        return (
            f"well enough for tentative conclusions at least: {stat}; the interval spans "
            f"the {rely} from which Krippendorff relies on it"
        )
    return (
        f"perhaps too weakly to rely on: {stat}; the interval spans the {tentative} "
        "Krippendorff sets for tentative conclusions, so it is uncertain whether they agreed "
        "enough even for those"
    )


def agreement(table: pd.DataFrame, level: str, group: str, who: str) -> Finding | None:
    """How far raters agreed (one row of the agreement table: overall, or an authority)."""
    row = table.loc[(table["level"] == level) & (table["group"] == group)]
    if row.empty:
        return None
    row = row.iloc[0]
    alpha = float(row["alpha"])
    if not np.isfinite(alpha):
        return Finding(
            f"How far {who} agreed cannot be measured yet: it needs at least two raters in an "
            "authority scoring the same items.",
            AGREE,
            ask="Ask each pilot authority for a second rater from another agency.",
        )
    lower = float(row.get("alpha_lower", np.nan))
    upper = float(row.get("alpha_upper", np.nan))
    reliable = np.isfinite(lower) and lower >= ALPHA_RELIABLE
    return Finding(
        f"{who} agreed {agreement_reading(alpha, lower, upper)}.",
        AGREE,
        ask=""
        if reliable
        else "Read each item's score with how far its raters agreed, and settle the "
        "definitions they read differently before the pilot.",
    )


def placements(
    decisions: pd.DataFrame, version: str, min_alpha_lower: float = scoring.MIN_ALPHA_LOWER
) -> Finding | None:
    """What the scores propose: core and develop items for the pilot dataset, local
    options, and items to drop; the items raters did not agree on well enough to
    place are for discussion, and the board is asked to decide them first."""
    if decisions.empty:
        return None
    counts = decisions["decision"].astype(str).value_counts()
    core, develop = int(counts.get(scoring.CORE, 0)), int(counts.get(scoring.DEVELOP, 0))
    local, drop = int(counts.get(scoring.LOCAL, 0)), int(counts.get(scoring.DROP, 0))
    discuss = int(counts.get(scoring.DISCUSS, 0))
    placed = len(decisions) - discuss
    lead = f"Of the {plural(len(decisions), 'item')} rated, "
    if discuss:
        lead += (
            f"raters did not agree well enough to place {discuss} (the lower bound of their "
            f"α below {min_alpha_lower}): {'it is' if discuss == 1 else 'they are'} for "
            "discussion and go forward unchanged until the board decides. "
            + (f"Of the other {placed}, " if placed else "")
        )
    text = lead + (
        f"the scores propose {core} for the pilot dataset ({version}) as core, {develop} to "
        f"develop and {local} as {'a local option' if local == 1 else 'local options'}; "
        f"{drop} would be dropped."
        if placed
        else ""
    )
    if discuss:
        ask = (
            f"Discuss the {plural(discuss, 'item')} raters did not agree on and decide each "
            f"(recorded in the project's overrule file) before agreeing the pilot dataset "
            f"({version})."
        )
    elif drop:
        ask = f"Agree the pilot dataset ({version}), including the {plural(drop, 'item')} to drop."
    else:
        ask = f"Agree the pilot dataset ({version})."
    return Finding(text.strip(), MATRIX, ask=ask)


def disputed(disputed: pd.DataFrame, titles: pd.Series, n: int = 3) -> Finding | None:
    """The items whose raters disagreed most, named, with the definitions as the ask."""
    if disputed.empty:
        return None
    top = disputed.sort_values("pairs_two_apart", ascending=False).head(n)
    first = top.iloc[0]
    if not first["pairs_two_apart"] > 0:
        return Finding("No item's raters scored it two or more points apart.", DISPUTED)
    top = top.loc[top["pairs_two_apart"] > 0]
    named = [f"{i} ({titles.get(i, i)})" for i in top["item_id"]]
    return Finding(
        f"Raters disagreed most on {listed(named)}: for {first['item_id']}, "
        f"{first['pairs_two_apart']:.0%} of pairs of raters in the same authority scored it "
        "two or more points apart.",
        DISPUTED,
        ask=f"Settle how {'this item is' if len(top) == 1 else 'these items are'} defined "
        "before the pilot, so every agency counts the same thing.",
    )


def hardest_agency(grid: pd.DataFrame, rater_agencies: set[str] | None = None) -> Finding | None:
    """The supplying agency whose items raters found hardest to get (the accessibility
    grid: agencies by criteria, hardest first)."""
    means = grid.mean(axis=1).dropna().sort_values()
    if len(means) < 2:
        return None
    text = (
        f"{means.index[0]} items are the hardest to get: mean accessibility "
        f"{means.iloc[0]:.1f} of 4, against {means.iloc[-1]:.1f} for {means.index[-1]} items."
    )
    if rater_agencies is not None and means.index[0] not in rater_agencies:
        text += f" None of the raters is from {means.index[0]}: this is how others see its data."
    return Finding(text, HARD)


def authority_raters(
    ratings: pd.DataFrame, issues: pd.DataFrame, la_code: str, name: str, area: str
) -> Finding:
    """Who rated for the authority and what came back; an authority without
    instruments is asked for them."""
    mine = ratings.loc[ratings["la_code_ons"] == la_code]
    if mine.empty:
        return Finding(
            f"No completed instruments from {name} are on file, so this report shows "
            f"{area}'s view only.",
            RATERS,
            ask=f"Chase {name}'s raters for their completed instruments.",
        )
    raters = _raters(mine)
    agencies = [AGENCY_LABELS.get(a, a) for a in dict.fromkeys(raters["rater_agency"])]
    problems = issues.loc[issues["la_code_ons"] == la_code] if "la_code_ons" in issues else issues
    files = problems["file"].nunique() if not problems.empty else 0
    text = (
        f"{name}'s {plural(len(raters), 'rater')} ({listed(agencies)}) gave "
        f"{plural(_usable(mine), 'usable score')}."
    )
    if files:
        text += f" {plural(files, 'instrument')} had problems, listed with their cells."
    return Finding(
        text,
        RATERS,
        ask=f"Ask {name} to correct and resend the {'instrument' if files == 1 else 'instruments'}"
        " with problems."
        if files
        else "",
    )


def authority_differs(
    by_borough: pd.DataFrame,
    scores: pd.DataFrame,
    titles: pd.Series,
    la_code: str,
    name: str,
    area: str,
    n: int = 3,
) -> Finding | None:
    """The items on which the authority's raters differ most from the whole area's."""
    mine = by_borough.loc[by_borough["la_code_ons"] == la_code].set_index("item_id")
    if mine.empty:
        return None
    whole = scores.set_index("item_id").reindex(mine.index)
    gap = (mine["accessibility"] - whole["accessibility"]).abs() + (
        mine["usefulness"] - whole["usefulness"]
    ).abs()
    top = gap.dropna().sort_values(ascending=False).head(n)
    if top.empty:
        return None
    first = top.index[0]
    named = [f"{i} ({titles.get(i, i)})" for i in top.index]
    return Finding(
        f"{name}'s raters differ most from {area}'s on {listed(named)}: {first} scores "
        f"{mine.at[first, 'accessibility']:.1f} for accessibility and "
        f"{mine.at[first, 'usefulness']:.1f} for usefulness here, against "
        f"{whole.at[first, 'accessibility']:.1f} and {whole.at[first, 'usefulness']:.1f}.",
        BOROUGH,
        ask=f"Talk with {name} about {'this item' if len(top) == 1 else 'these items'} before "
        "the pilot: its systems or practice may differ.",
    )


def findings(ctx: Context) -> list[Finding]:
    """Three to five findings: the authority's own first in its report, then the area."""
    pilots = ctx.project.pilots
    names = {c: ctx.name(c) for c in pilots}
    titles = ctx.items["title"]
    area = [
        received(pilots, ctx.ratings, len(ctx.items), names),
        agreement(ctx.agreement, "overall", "all", "Raters in the same authority"),
        record.with_partners(
            placements(ctx.decisions, ctx.pilot.version, ctx.project.min_alpha_lower),
            ctx.record,
            ctx.pilot.version,
        ),
        disputed(ctx.disputed, titles),
    ]
    if ctx.is_london:
        grid = scoring.accessibility_grid(ctx.ratings, ctx.items) if len(ctx.ratings) else None
        who = {AGENCY_LABELS.get(a, a) for a in ctx.ratings.get("rater_agency", [])}
        found = [*area, hardest_agency(grid, who) if grid is not None else None]
    elif not ctx.has_ratings:
        found = [
            authority_raters(ctx.ratings, ctx.issues, ctx.la_code, ctx.la_name, ctx.area),
            *board.as_context(area),
        ]
    else:
        raters = _raters(ctx.ratings.loc[ctx.ratings["la_code_ons"] == ctx.la_code])
        found = [
            authority_raters(ctx.ratings, ctx.issues, ctx.la_code, ctx.la_name, ctx.area),
            agreement(
                ctx.agreement,
                "borough",
                ctx.la_code,
                f"{ctx.la_name}'s {plural(len(raters), 'rater')}",
            ),
            authority_differs(
                ctx.scores_by_borough, ctx.scores, titles, ctx.la_code, ctx.la_name, ctx.area
            ),
            *board.as_context(area[:1] + area[2:3]),
        ]
    return [f for f in found if f is not None][:5]


def section_for_the_board(ctx: Context) -> Section:
    """The findings and the asks, first in the report, each linked to its evidence."""
    return board.section_for_the_board(
        findings(ctx), "No completed instruments have come in yet: there is nothing to report."
    )


def section_next_steps(ctx: Context) -> Section:
    """The report's last block: whether the phase met its milestone in the plan, and
    the recommended next steps drawn from these findings (:mod:`lscb_nb.core.nextsteps`)."""
    from lscb_nb.core import nextsteps

    return nextsteps.section_next_steps(ctx.project, "assessment", findings(ctx))
