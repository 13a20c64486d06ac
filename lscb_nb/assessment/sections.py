"""Phase 2's report, one ``section_*`` function per part of the story.

The notebook calls :func:`lscb_nb.assessment.context.load_context` and then these, in
order; each returns a :class:`~lscb_nb.core.display.Section`.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.assessment import ratings
from lscb_nb.assessment.context import Context, shared_figure
from lscb_nb.core import changelog, decisions, display, labels
from lscb_nb.core.datamodel import AGENCY_LABELS
from lscb_nb.core.display import Section, esc, listing, nothing_to_show, plural, table
from lscb_nb.core.textdiff import code

log = logging.getLogger(__name__)


def header(ctx: Context) -> Section:
    facts = {
        "Report": "Phase 2: how accessible and useful each item is",
        "Area": ctx.la_name if ctx.is_london else f"{ctx.la_name} ({ctx.la_code})",
        "Instruments": f"{len(ctx.files)} from "
        f"{ctx.ratings['la_code_ons'].nunique()} pilot {ctx.word(plural=True)}",
        "Dataset assessed": f"{ctx.base.version} ({len(ctx.base.items)} items)",
        "Thresholds": f"useful from {ctx.useful}, accessible from {ctx.accessible} (scales 1-4)",
    }
    sec = display.header("Phase 2", facts, ctx.synthetic)
    note = (ctx.prepared or {}).get("basis_note")
    set_aside = (ctx.prepared or {}).get("items_set_aside") or []
    return sec.add(
        note or None,
        f"Ratings of {plural(len(set_aside), 'item')} outside {ctx.base.version} were read but "
        f"set aside, since phase 1 did not carry them forward: {listing(set_aside)}."
        if set_aside
        else None,
    )


def _agency(code: str) -> str:
    return AGENCY_LABELS.get(code, code)


def section_no_ratings(ctx: Context) -> Section:
    if ctx.has_ratings:
        return Section()
    return nothing_to_show(
        f"No completed instruments from {ctx.la_name} are on file, so the report shows "
        f"{esc(ctx.area)}'s view only."
    )


def section_returns(ctx: Context) -> Section:
    """Who rated, and what was wrong with the instruments."""
    raters = ctx.ratings.drop_duplicates("rater_id")
    roles = raters.groupby("rater_agency").size().rename("Raters").reset_index()
    roles["rater_agency"] = roles["rater_agency"].map(_agency)
    sec = Section().add(
        f"{plural(raters['rater_id'].nunique(), 'rater')} in "
        f"{raters['la_code_ons'].nunique()} pilot {ctx.word(plural=True)} returned "
        f"{len(ctx.files)} instruments "
        f"with {len(ctx.ratings):,} usable scores. {len(ctx.quarantined):,} scores were held "
        "back because of a problem below; none was dropped silently.",
        table(roles.rename(columns={"rater_agency": "Rater's agency"}), caption="Raters by agency"),
    )
    issues = (
        ctx.issues if ctx.is_london else ctx.issues.loc[ctx.issues["la_code_ons"] == ctx.la_code]
    )
    if not issues.empty:
        shown = issues[["file", "row", "column", "rule_code", "severity", "message"]].assign(
            file=[code(f) if isinstance(f, str) else f for f in issues["file"]],
            column=issues["column"].map(labels.file_column),
            severity=issues["severity"].astype(str).str.capitalize(),
        )
        sec.add(
            table(
                labels.relabel(shown, {"rule_code": "Code"}, ctx.word()),
                caption="Problems found in the instruments",
            )
        )
    return sec


def alpha_text(alpha: float, lower: float, upper: float) -> str:
    """'α = 0.61 (95% CI 0.58 to 0.64)': an alpha always with its precision."""
    if not np.isfinite(alpha):
        return "α cannot be measured"
    if not (np.isfinite(lower) and np.isfinite(upper)):
        return f"α = {alpha:.2f} (no interval: too few units)"
    return f"α = {alpha:.2f} (95% CI {lower:.2f} to {upper:.2f})"


def section_agreement(ctx: Context) -> Section:
    a = ctx.agreement
    if "alpha_lower" not in a.columns:
        a = a.assign(alpha_lower=np.nan, alpha_upper=np.nan)
    top = a.loc[a["level"] == "overall"].iloc[0]
    overall = float(top["alpha"])
    shown = a.loc[a["level"].isin(["overall", "dimension", "criterion"])].copy()
    if ctx.is_london:
        shown = pd.concat([shown, a.loc[a["level"] == "borough"]])
    else:
        shown = pd.concat([shown, a.loc[(a["level"] == "borough") & (a["group"] == ctx.la_code)]])
    shown["group"] = [
        _scores_compared(ctx, lvl, g) for lvl, g in zip(shown["level"], shown["group"], strict=True)
    ]
    shown["interval"] = [
        "–" if not (np.isfinite(lo) and np.isfinite(hi)) else f"{lo:.2f} to {hi:.2f}"
        for lo, hi in zip(shown["alpha_lower"], shown["alpha_upper"], strict=True)
    ]
    return Section().add(
        f"How far raters in the same {ctx.word()} agreed, measured by Krippendorff's alpha for "
        "ordinal "
        "scores (1 is perfect agreement, 0 no better than chance), each with a 95% interval "
        "from 1,000 bootstrap resamples of the units rated. Overall "
        f"{alpha_text(overall, top['alpha_lower'], top['alpha_upper'])}: "
        f"{esc(interpret(overall))}. Krippendorff advises relying on alpha of "
        "0.8 or more and drawing only tentative conclusions from 0.667; below that, an item's "
        "score reflects who rated it as much as the item, so the decisions below should be "
        "read alongside the disputed items.",
        table(
            labels.relabel(
                shown[
                    [
                        "group",
                        "alpha",
                        "interval",
                        "interpretation",
                        "n_raters",
                        "n_units",
                        "n_pairable_values",
                    ]
                ],
                {
                    "group": "Scores compared",
                    "alpha": "Agreement (alpha)",
                    "interval": "95% confidence interval",
                    "interpretation": "Reading",
                },
            ),
            caption="Agreement between raters (Krippendorff's alpha)",
            decimals={"Agreement (alpha)": 2},
        ),
    )


def _scores_compared(ctx: Context, level: str, group: str) -> str:
    """Which scores an agreement figure covers, in words."""
    if level == "overall":
        return "All scores"
    if level == "dimension":
        return f"{labels.humanise(group)} questions"
    if level == "criterion":
        return f"Question: {_questions(ctx).get(group, labels.humanise(group))}"
    return (
        f"{ctx.word(capital=True)}: {ctx.name(group)}"
        if level == "borough"
        else labels.humanise(group)
    )


def _questions(ctx: Context) -> dict[str, str]:
    """Each criterion's question, as the project's instrument asks it."""
    from lscb_nb.assessment.instrument import shipped_criteria

    criteria = shipped_criteria(ctx.word(plural=True)).criteria
    return dict(zip(criteria["id"], criteria["question"], strict=True))


def interpret(alpha: float) -> str:
    from lscb_nb.core.agreement import interpret_alpha

    return interpret_alpha(alpha)


def section_disputed(ctx: Context) -> Section:
    d = ctx.disputed.head(10).copy()
    d["title"] = d["item_id"].map(ctx.items["title"])
    share = labels.field_label("pairs_two_apart")
    if "pairs" in d.columns:
        d["interval"] = [
            f"{100 * lo:.0f}% to {100 * hi:.0f}%" if np.isfinite(lo) and np.isfinite(hi) else "–"
            for lo, hi in zip(d["pairs_lower"], d["pairs_upper"], strict=True)
        ]
    else:  # prepared before pairs were counted: the share alone
        d["interval"], d["pairs"] = "–", pd.NA
    d["pairs_two_apart"] = d["pairs_two_apart"] * 100
    top = d.iloc[0] if not d.empty else None
    return Section().add(
        f"The items raters disagreed on most: the share of pairs of raters (same {ctx.word()}, "
        "same "
        "question) whose scores were two or more points apart, with its 95% interval (a "
        "rough guide: pairs that share a rater are not independent). Disagreement usually "
        "means the definition is read differently by different agencies."
        + (
            f" Most disputed: {esc(top['title'])}, with {top['pairs_two_apart']:.0f}% of "
            f"rater pairs two or more points apart (95% interval {esc(top['interval'])})."
            if top is not None
            else ""
        ),
        table(
            labels.relabel(
                d[["item_id", "title", "pairs_two_apart", "interval", "pairs", "sd"]],
                {"interval": "95% interval"},
            ),
            caption="Items raters disagreed on most",
            decimals={share: 0, labels.field_label("sd"): 2},
            percent=[share],
        ),
    )


def section_priority_matrix(ctx: Context) -> Section:
    counts = ctx.decisions["decision"].astype(str).value_counts()
    return Section().add(
        "Each dot is an item, coloured by the agency that would supply it. Items above the "
        f"horizontal line (usefulness {ctx.useful} or more) tell the board something it can act "
        f"on; items right of the vertical line (accessibility {ctx.accessible} or more) "
        f"{ctx.word(plural=True)} "
        f"can get. {counts.get('core', 0)} items are core, {counts.get('develop', 0)} useful but "
        f"hard to get (develop), {counts.get('local option', 0)} accessible but less useful "
        f"(local option) and {counts.get('drop', 0)} neither (drop)"
        + (
            f"; {counts.get(ratings.DISCUSS, 0)} are for discussion: their raters did not "
            "agree well enough to place them, so they are not placed on their scores."
            if counts.get(ratings.DISCUSS, 0)
            else "."
        ),
        shared_figure(ctx, "priority_matrix.png"),
    )


def section_by_agency_system(ctx: Context) -> Section:
    r = ctx.ratings.dropna(subset=["score"]).astype({"score": float})
    grid = ratings.accessibility_grid(ctx.ratings, ctx.items)
    fig = shared_figure(ctx, "accessibility_by_agency.png")
    by_system = ratings.system_accessibility(r)[["system", "mean", "count"]]
    worst = grid.index[0]
    return Section().add(
        f"Mean accessibility scores by the agency that supplies the item. {esc(worst)} items are "
        f"the hardest to get (mean {grid.loc[worst].mean():.1f} of 4), mostly because the data "
        "is held across systems not built to report it.",
        fig,
        "The systems raters named as the source, by mean accessibility score:",
        table(
            by_system.rename(
                columns={"system": "System", "mean": "Mean accessibility", "count": "Scores"}
            ),
            caption="Source systems by mean accessibility score",
            decimals={"Mean accessibility": 2},
            meta=ratings.SYSTEMS_META,
        ),
    )


def section_decisions(ctx: Context) -> Section:
    d = ctx.decisions.reset_index()
    d["agency"] = d["agency"].map(_agency)
    d["decision"] = d["decision"].astype(str)
    d = d.sort_values(["decision", "usefulness"], ascending=[True, False])
    cols = ["item_id", "title", "agency", "usefulness", "accessibility"]
    agreed = [c for c in ("alpha_lower", "alpha_upper", "own_agency_raters") if c in d]
    return Section().add(
        "Every item's place, with the scores behind it and how far its raters agreed (the "
        "95% interval of their alpha, and how many of them are from the agency that supplies "
        f"it): an item whose interval starts below {ctx.project.min_alpha_lower} is for "
        "discussion, not placed. Thresholds are parameters of this report: the steering "
        "group can see how the picture changes if it asks more of an item.",
        table(
            d[[*cols, *agreed, "decision", "reason"]].rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "agency": "Agency",
                    "usefulness": "Usefulness",
                    "accessibility": "Accessibility",
                    "alpha_lower": "α from",
                    "alpha_upper": "α to",
                    "own_agency_raters": "Raters from its agency",
                    "decision": "Decision",
                    "reason": "Why",
                }
            ),
            caption="Every item's decision, with its scores",
            decimals={"Usefulness": 2, "Accessibility": 2, "α from": 2, "α to": 2},
        ),
    )


def section_pilot_dataset(ctx: Context) -> Section:
    return Section().add(
        f"The pilot dataset is written as data-model version {esc(ctx.pilot.version)} "
        f"({len(ctx.pilot.items)} items), based on {esc(ctx.base.version)}; items placed as "
        "drop are removed and the rest carry their tier (items for discussion, or kept so no "
        "partner is lost, go forward unchanged).",
        changelog.show_changes(ctx.base, ctx.pilot),
        decisions.record_section(ctx.record, ctx.pilot.version),
    )


def section_borough(ctx: Context) -> Section:
    """The borough's raters against the whole area's."""
    if ctx.is_london:
        return Section().add(
            f"Each pilot {ctx.word()}'s report compares its raters' view with {esc(ctx.area)}'s."
        )
    if not ctx.has_ratings:
        return Section()
    mine = ctx.scores_by_borough.loc[ctx.scores_by_borough["la_code_ons"] == ctx.la_code].set_index(
        "item_id"
    )
    london = ctx.scores.set_index("item_id")
    diff = pd.DataFrame(
        {
            "title": ctx.items.loc[mine.index, "title"],
            "borough_access": mine["accessibility"],
            "london_access": london.loc[mine.index, "accessibility"],
            "borough_useful": mine["usefulness"],
            "london_useful": london.loc[mine.index, "usefulness"],
        }
    )
    diff["gap"] = (diff["borough_access"] - diff["london_access"]).abs() + (
        diff["borough_useful"] - diff["london_useful"]
    ).abs()
    top = diff.sort_values("gap", ascending=False).head(12).reset_index()
    raters = ctx.ratings.loc[ctx.ratings["la_code_ons"] == ctx.la_code].drop_duplicates("rater_id")
    return Section().add(
        f"{esc(ctx.la_name)}'s {plural(len(raters), 'rater')} "
        f"({listing(raters['rater_role'].fillna('role not given'))}) against all pilot raters. "
        f"The items where its view differs most from {esc(ctx.area)}'s are where its systems "
        "or practice differ: worth a conversation before the pilot.",
        table(
            top.rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "borough_access": "Accessibility here",
                    "london_access": f"Accessibility, {ctx.area}",
                    "borough_useful": "Usefulness here",
                    "london_useful": f"Usefulness, {ctx.area}",
                    "gap": "Difference",
                }
            ),
            caption=f"Items where {ctx.la_name}'s raters differ most from {ctx.area}'s",
            decimals={
                "Accessibility here": 2,
                f"Accessibility, {ctx.area}": 2,
                "Usefulness here": 2,
                f"Usefulness, {ctx.area}": 2,
                "Difference": 2,
            },
        ),
    )
