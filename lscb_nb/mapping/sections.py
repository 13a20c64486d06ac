"""Phase 1's report, one ``section_*`` function per part of the story.

The notebook calls :func:`lscb_nb.mapping.context.load_context` and then these, in
order; each returns a :class:`~lscb_nb.core.display.Section`.
"""

from __future__ import annotations

import logging

import pandas as pd

from lscb_nb.core import changelog, decisions, display, labels
from lscb_nb.core.datamodel import AGENCY_LABELS
from lscb_nb.core.display import Section, esc, listing, nothing_to_show, plural, table
from lscb_nb.core.textdiff import code
from lscb_nb.mapping import coverage, crosswalk
from lscb_nb.mapping.context import Context, shared_figure

log = logging.getLogger(__name__)


def header(ctx: Context) -> Section:
    facts = {
        "Report": f"Phase 1: mapping what {ctx.word(plural=True)} already collect",
        "Area": ctx.la_name if ctx.is_london else f"{ctx.la_name} ({ctx.la_code})",
        "Authorities that replied": (
            f"{ctx.files['la_code_ons'].nunique()} of {len(ctx.authorities)}"
        ),
        "Matching": f"confident at {ctx.confident:.0f}, suggested from {ctx.suggest:.0f}",
        "Dataset mapped": f"{ctx.candidate.version} ({len(ctx.candidate.items)} items)",
        "Draft rule": (f"collected by at least {ctx.word(ctx.min_boroughs)}, or essential"),
    }
    return display.header("Phase 1", facts, ctx.synthetic)


def _agency(code: str) -> str:
    return AGENCY_LABELS.get(code, code)


# --------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------


def section_replies(ctx: Context) -> Section:
    """Who replied, who did not, and whose file could not be read."""
    all_codes = ctx.authorities["la_code_ons"].tolist()
    sent = set(ctx.files["la_code_ons"].dropna())
    silent = [c for c in all_codes if c not in sent]
    unreadable = ctx.files.loc[ctx.files["status"] == "unreadable"]
    sec = Section().add(
        f"{len(sent)} of the {len(all_codes)} authorities in {esc(ctx.area)} sent the dataset "
        "they keep today; "
        f"{len(ctx.readable)} could be read. "
        + (
            f"No reply came from {listing(ctx.name(c) for c in silent)}: the steering group may "
            "wish to follow these up, since the draft dataset cannot reflect what they collect."
            if silent
            else "Every board replied."
        )
    )
    if not unreadable.empty or not ctx.problems.empty:
        shown = ctx.problems.assign(
            who=[
                ctx.name(c) if isinstance(c, str) else "not identified"
                for c in ctx.problems["la_code_ons"]
            ],
            file=[code(f) if isinstance(f, str) else f for f in ctx.problems["file"]],
        )
        sec.add(
            f"{plural(len(unreadable), 'file')} could not be read at all, and "
            f"{plural(int(shown['sheet'].notna().sum()), 'sheet')} could not be interpreted. "
            f"Each is listed so the {ctx.word()} can be asked for a readable copy; every other "
            f"{ctx.word()}'s file was read as normal.",
            table(
                shown[["who", "file", "sheet", "rule_code", "message"]].rename(
                    columns={
                        "who": ctx.word(capital=True),
                        "file": "File",
                        "sheet": "Sheet",
                        "rule_code": "Code",
                        "message": "Problem",
                    }
                ),
                caption="Files and sheets that could not be read",
            ),
        )
    if not ctx.is_london and ctx.la_code not in sent:
        sec.add(
            nothing_to_show(
                f"{ctx.la_name} did not send its current dataset, so this report can only show "
                f"the {esc(ctx.area)} picture and what the draft dataset would ask of it."
            )
        )
    elif not ctx.is_london and ctx.la_code not in ctx.readable:
        sec.add(
            nothing_to_show(
                f"{ctx.la_name}'s file could not be read (see the table above), so its own "
                "items are not in the comparison below."
            )
        )
    return sec


def section_matching(ctx: Context) -> Section:
    """How local names were matched, and how many still wait for review."""
    status = ctx.matches["status"].value_counts()
    order = ["confirmed", "repointed", "rejected", "confident", "uncertain", "unmatched"]
    counts = pd.DataFrame({"Status": order, "Local items": [int(status.get(s, 0)) for s in order]})
    meaning = {
        "confirmed": "the consultant confirmed the suggested item",
        "repointed": "the consultant chose a different item",
        "rejected": "the consultant ruled the suggestion out",
        "confident": f"automatic match, score {ctx.confident:.0f} or more",
        "uncertain": "a suggestion waiting for review: not used yet",
        "unmatched": "nothing close in the data model",
    }
    counts["Meaning"] = counts["Status"].map(meaning)
    waiting = int(status.get("uncertain", 0))
    return Section().add(
        f"{ctx.word(plural=True, capital=True)} named the same measure in many ways. The toolkit "
        "normalised every one of "
        f"the {len(ctx.matches):,} local names (case, punctuation, shorthand such as CSC, CPP, "
        "LAC, ICPC, YOT and NI codes) and scored it against each data-model item. "
        f"{labels.counted(waiting, 'suggestion')} "
        f"{'still waits' if waiting == 1 else 'still wait'} for the consultant's review and "
        f"{'is' if waiting == 1 else 'are'} not counted below; reviewed decisions are kept in "
        "the crosswalk file and applied first on every run.",
        table(counts, caption="Matching of local names to data-model items"),
    )


def panel_contrast(by_agency: pd.DataFrame, authorities: str = "authorities") -> str:
    """Which agency's panel of the coverage heatmap is darkest and which lightest, from
    :func:`coverage.coverage_tables` (sorted by share); empty when they do not differ.
    ``authorities`` is what the project calls them ('boroughs' in London)."""
    shares = by_agency["share"]
    if len(by_agency) < 2 or shares.iloc[-1] <= shares.iloc[0]:
        return ""
    return (
        f"The darkest panel is {esc(by_agency.index[-1])} (each item collected by "
        f"{shares.iloc[-1]:.0f}% of these {authorities} on average), the lightest "
        f"{esc(by_agency.index[0])} ({shares.iloc[0]:.0f}%). "
    )


def section_coverage_matrix(ctx: Context) -> Section:
    if ctx.matrix.empty:
        return nothing_to_show(f"No {ctx.word()}'s dataset could be read.")
    contrast = panel_contrast(
        coverage.coverage_tables(ctx.matrix, ctx.items)[0], ctx.word(plural=True)
    )
    return Section().add(
        "Each row is a candidate item, named by its title and grouped in panels by the "
        f"agency that supplies it; each column is a {ctx.word()} that sent a readable dataset. "
        f"Dark cells are items the {ctx.word()} already collects, white cells items it does not. "
        f"{contrast}White blocks are where boards know little today.",
        shared_figure(ctx, "coverage_matrix.png"),
    )


def section_coverage_by_agency_theme(ctx: Context) -> Section:
    by_agency, by_theme = coverage.coverage_tables(ctx.matrix, ctx.items)
    fig = shared_figure(ctx, "coverage_by_agency_theme.png")
    low_a, low_t = by_agency.index[0], by_theme.index[0]
    return Section().add(
        f"The share of replying {ctx.word(plural=True)} that already collect an item, on average, "
        "by supplying "
        f"agency and by theme. The gaps are plain: {esc(low_a)} items are collected by "
        f"{by_agency['share'].iloc[0]:.0f}% of {ctx.word(plural=True)} and {esc(low_t).lower()} "
        "items by "
        f"{by_theme['share'].iloc[0]:.0f}%, against {by_agency['share'].iloc[-1]:.0f}% for "
        f"{esc(by_agency.index[-1])}. These are where the dataset asks for something new.",
        fig,
        table(
            by_agency.reset_index()
            .rename(columns={"index": "Agency"})
            .rename(
                columns={
                    "items": "Items",
                    "share": f"% of {ctx.word(plural=True)}",
                    "never_collected": "Collected by none",
                }
            ),
            caption="Candidate items already collected, by supplying agency",
            decimals={f"% of {ctx.word(plural=True)}": 0},
        ),
    )


def section_never_collected(ctx: Context) -> Section:
    none = coverage.never_collected(ctx.matrix)
    if not none:
        return Section().add(
            f"Every candidate item is already collected by at least one {ctx.word()}."
        )
    frame = ctx.items.loc[none, ["title", "agency", "essential"]].reset_index()
    frame["agency"] = frame["agency"].map(_agency)
    return Section().add(
        f"{plural(len(none), 'candidate item')} no {ctx.word()} collects today. Those required by "
        "statute or Working Together stay in the draft to be developed; the rest would need "
        "a case made for them.",
        table(
            frame.rename(
                columns={
                    "item_id": "Item",
                    "title": "Title",
                    "agency": "Agency",
                    "essential": "Essential",
                }
            ),
            caption=f"Candidate items no {ctx.word()} collects",
        ),
    )


def section_unmatched(ctx: Context) -> Section:
    local = coverage.unmatched_local_items(ctx.matches)
    if local.empty:
        return Section().add("Every local item matched a data-model item.")
    shared = int((local["boroughs"] >= 2).sum())
    verb = "matches" if len(local) == 1 else "match"
    lead = f"{plural(len(local), 'local measure')} {verb} nothing in the data model. " + (
        f"The {plural(shared, 'measure')} kept by two or more {ctx.word(plural=True)}, first in "
        "the table, "
        f"{'is a candidate' if shared == 1 else 'are candidates'} the model lacks, worth the "
        "steering group's consideration"
        + (f"; the rest are each one {ctx.word()}'s own." if shared < len(local) else ".")
        if shared
        else f"None is kept by more than one {ctx.word()}: each is one {ctx.word()}'s own measure, "
        f"listed so the steering group sees what {ctx.word(plural=True)} count that the model "
        "does not."
    )
    return Section().add(
        lead,
        table(
            local.rename(
                columns={
                    "local_name": "Local name (example)",
                    "boroughs": ctx.word(plural=True, capital=True),
                    "agency_words": "Source named",
                }
            ),
            caption="Local measures with no data-model item, those most "
            f"{ctx.word(plural=True)} keep first",
            max_rows=25,
        ),
    )


def section_draft_dataset(ctx: Context) -> Section:
    sel = ctx.selection
    chosen = sel.loc[sel["in_draft"]]
    shown = chosen.reset_index()[["item_id", "title", "agency", "boroughs", "tier", "reason"]]
    core = int((chosen["tier"] == "core").sum())
    denominators = int(chosen["reason"].str.startswith("the denominator of").sum())
    guarded = int(chosen["reason"].str.startswith(decisions.GUARD_DECISIONS).sum())
    develop = len(chosen) - core - denominators - guarded
    readable = len(ctx.readable)
    share = (
        "a third, so there is a common base to agree on"
        if ctx.min_boroughs == coverage.default_min_boroughs(readable)
        else "the project's threshold"
    )
    return Section().add(
        f"The draft dataset keeps the {plural(core, 'item')} collected by at least "
        f"{ctx.min_boroughs} of the {ctx.word(readable)} ({share}), plus "
        f"{plural(develop, 'item')} that fewer {ctx.word(plural=True)} collect but that statute "
        "or Working "
        "Together requires, or that cover children's views and participation (a theme the "
        "steering group asked for), marked to develop"
        + (
            f", and the {plural(denominators, 'item')} a kept rate needs as its denominator"
            if denominators
            else ""
        )
        + (
            f", and {plural(guarded, 'item')} kept so that no partner or total is lost, for "
            "the board to decide"
            if guarded
            else ""
        )
        + f". It is written out as data-model version {esc(ctx.draft.version)} "
        f"({len(ctx.draft.items)} items) for phase 2 to assess.",
        table(
            labels.relabel(
                shown,
                {
                    "boroughs": f"{ctx.word(plural=True, capital=True)} collecting",
                    "reason": "Why it is in",
                },
            ),
            caption=f"Draft dataset {ctx.draft.version}",
        ),
        changelog.show_changes(ctx.candidate, ctx.draft),
        decisions.record_section(ctx.decisions, ctx.draft.version),
    )


def section_borough(ctx: Context) -> Section:
    """One borough against the whole area."""
    if ctx.is_london:
        return Section().add(
            f"Each {ctx.word()}'s own report compares what it collects with {esc(ctx.area)} and "
            "lists what "
            "the draft dataset would ask it to start collecting."
        )
    draft_ids = list(ctx.draft.items.index)
    if ctx.la_code not in ctx.readable:
        return Section().add(
            f"Without a readable dataset from {esc(ctx.la_name)}, all "
            f"{len(draft_ids)} draft items are listed as ones to confirm it can supply."
        )
    prof = coverage.borough_profile(ctx.matrix, ctx.la_code, draft_ids)
    share = ctx.matrix.mean(axis=0) * 100
    mine = ctx.matches.loc[ctx.matches["la_code_ons"] == ctx.la_code]
    own = mine.loc[mine["item_id"].isna(), "local_name"]
    start = ctx.items.loc[prof["to_start"], ["title", "agency"]].reset_index()
    start["agency"] = start["agency"].map(_agency)
    start[f"% of {ctx.word(plural=True)} collecting"] = [share[i] for i in prof["to_start"]]
    rare = ctx.items.loc[prof["rare"], ["title"]].reset_index()
    rare[f"% of {ctx.word(plural=True)} collecting"] = [share[i] for i in prof["rare"]]
    return Section().add(
        f"{esc(ctx.la_name)} collects {len(prof['collects'])} of the candidate items (the "
        f"{esc(ctx.area)} median is {int(ctx.matrix.sum(axis=1).median())}) and already has "
        f"{len(prof['has_draft'])} of the {len(draft_ids)} draft items. It would have to start "
        f"collecting {len(prof['to_start'])}:",
        table(
            start.rename(columns={"item_id": "Item", "title": "Title", "agency": "Agency"}),
            caption=f"Draft items {ctx.la_name} would have to start collecting",
            decimals={f"% of {ctx.word(plural=True)} collecting": 0},
        ),
        f"It collects {plural(len(prof['rare']), 'item')} that fewer than a third of "
        f"{ctx.word(plural=True)} "
        "do: practice others could learn from.",
        table(
            rare.rename(columns={"item_id": "Item", "title": "Title"}),
            caption=f"Items {ctx.la_name} collects that fewer than a third of "
            f"{ctx.word(plural=True)} do",
            decimals={f"% of {ctx.word(plural=True)} collecting": 0},
        )
        if not rare.empty
        else None,
        f"Its own measures with no match in the data model: {listing(own)}." if len(own) else None,
    )


def section_review(ctx: Context, review: bool = False):
    """The ipywidgets review panel in JupyterLab (``review=True``); nothing in batch runs."""
    if not review:
        return None
    return crosswalk.review_panel(
        ctx.matches,
        ctx.items,
        crosswalk.default_path(ctx.project),
    )
