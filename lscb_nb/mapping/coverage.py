"""Who already collects what (phase 1), and the draft dataset that follows from it.

Works on the matched local items: one row per borough and local item, with the
data-model item it was matched to (or none). The draft dataset keeps the items
enough boroughs already collect, plus those required whatever boroughs collect
today (``essential``: statute or Working Together), which go forward to be
developed.
"""

from __future__ import annotations

import logging
import math

import pandas as pd

from lscb_nb.core import decisions, overrules
from lscb_nb.core.datamodel import (
    AGENCY_LABELS,
    THEME_LABELS,
    DataModel,
    from_dict,
    keep_items,
    to_dict,
)
from lscb_nb.core.labels import counted

log = logging.getLogger(__name__)


def coverage_matrix(
    matches: pd.DataFrame, items: pd.DataFrame, boroughs: list[str]
) -> pd.DataFrame:
    """Boroughs × items: True where the borough already collects the item."""
    used = matches.dropna(subset=["item_id"])
    pairs = used.groupby(["la_code_ons", "item_id"]).size() > 0
    matrix = pairs.unstack(fill_value=False).reindex(
        index=boroughs, columns=items.index, fill_value=False
    )
    return matrix.fillna(False).astype(bool)


def boroughs_collecting(matrix: pd.DataFrame) -> pd.Series:
    return matrix.sum(axis=0).astype(int)


def coverage_by(matrix: pd.DataFrame, items: pd.DataFrame, field: str) -> pd.DataFrame:
    """For each agency or theme: its items, and the average share of replying
    boroughs that collect one of them (the gaps show as low shares)."""
    share = matrix.mean(axis=0) * 100
    frame = pd.DataFrame({field: items.loc[share.index, field], "share": share})
    out = frame.groupby(field).agg(items=("share", "size"), share=("share", "mean"))
    out["never_collected"] = (
        (matrix.sum(axis=0) == 0).groupby(items.loc[matrix.columns, field]).sum().astype(int)
    )
    return out.sort_values("share")


def coverage_tables(matrix: pd.DataFrame, items: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`coverage_by` agency and by theme, indexed by their labels for a reader."""
    by_agency = coverage_by(matrix, items, "agency")
    by_theme = coverage_by(matrix, items, "theme")
    by_agency.index = [AGENCY_LABELS.get(a, a) for a in by_agency.index]
    by_theme.index = [THEME_LABELS.get(t, t) for t in by_theme.index]
    return by_agency, by_theme


def never_collected(matrix: pd.DataFrame) -> list[str]:
    return [i for i, n in boroughs_collecting(matrix).items() if n == 0]


def unmatched_local_items(matches: pd.DataFrame) -> pd.DataFrame:
    """Local measures that match no item, grouped by name: candidates the model lacks."""
    none = matches.loc[
        matches["item_id"].isna() & matches["status"].isin(["unmatched", "rejected"])
    ]
    if none.empty:
        return pd.DataFrame(columns=["local_name", "boroughs", "agency_words"])
    grouped = none.groupby("normalised_name").agg(
        local_name=("local_name", "first"),
        boroughs=("la_code_ons", "nunique"),
        agency_words=("source_agency", lambda s: ", ".join(sorted({str(x) for x in s.dropna()}))),
    )
    return grouped.sort_values(["boroughs", "local_name"], ascending=[False, True]).reset_index(
        drop=True
    )


def default_min_boroughs(replied: int) -> int:
    """A third of the boroughs that replied: common enough to agree on."""
    return max(1, math.ceil(replied / 3))


# Themes the steering group asked the dataset to cover even where few boroughs
# measure them yet: children's views were the thinnest part of what boards knew.
PRIORITY_THEMES: tuple[str, ...] = ("children_views_and_participation",)


def draft_selection(
    items: pd.DataFrame,
    counts: pd.Series,
    min_boroughs: int,
    priority_themes: tuple[str, ...] = PRIORITY_THEMES,
    word: str = "authority",
) -> pd.DataFrame:
    """Which candidate items go into the draft, and the rule that chose each: common
    enough to agree on, or essential by statute, or in a theme the steering group
    asked to cover (the last two go forward to be developed). The reasons count
    authorities in the project's ``word`` ('borough' in London)."""
    n = counts.reindex(items.index).fillna(0).astype(int)
    common = n >= min_boroughs
    essential = items["essential"].astype(bool) | items["theme"].isin(priority_themes)
    by_statute = items["essential"].astype(bool)

    def boroughs(k: int) -> str:
        return counted(k, word)

    reason = [
        f"collected by {boroughs(k)} (at least {min_boroughs})"
        if c
        else f"essential by statute or Working Together, though collected by {boroughs(k)}"
        if st
        else f"a theme the steering group asked to cover, though collected by {boroughs(k)}"
        if e
        else f"collected by only {boroughs(k)}"
        for k, c, e, st in zip(n, common, essential, by_statute, strict=True)
    ]
    selection = pd.DataFrame(
        {
            "title": items["title"],
            "agency": items["agency"],
            "boroughs": n,
            "in_draft": common | essential,
            "tier": ["core" if c else "develop" for c in common],
            "reason": reason,
        },
        index=items.index,
    )
    return _with_denominators(selection, items, word)


def _with_denominators(
    selection: pd.DataFrame, items: pd.DataFrame, word: str = "authority"
) -> pd.DataFrame:
    """A kept rate needs its denominator: an item that is the denominator of a kept
    item goes into the draft too (following chains), saying which item needs it."""
    if "denominator_item" not in items:
        return selection
    denominators = items["denominator_item"].dropna()
    while True:
        kept = selection.index[selection["in_draft"]]
        needed = denominators.reindex(kept).dropna()
        missing = needed[
            needed.isin(selection.index) & ~selection["in_draft"].reindex(needed.values).to_numpy()
        ]
        if missing.empty:
            return selection
        for needing, item_id in missing.items():
            if selection.at[item_id, "in_draft"]:  # needed by two kept items
                continue
            selection.loc[item_id, "in_draft"] = True
            k = int(selection.at[item_id, "boroughs"])
            selection.loc[item_id, "reason"] = (
                f"the denominator of {needing} ({selection.at[needing, 'title']}), which the "
                f"draft keeps; collected by {counted(k, word)}"
            )


def draft_rule(min_boroughs: int) -> str:
    """The draft rule in words, with its threshold (the decision record's ``rule``)."""
    return (
        f"core where collected by at least {min_boroughs} authorities; develop where "
        "essential by statute or Working Together, in a priority theme, or the denominator "
        "of a kept item; else drop"
    )


def draft_decisions(
    selection: pd.DataFrame,
    items: pd.DataFrame,
    min_boroughs: int,
    board: pd.DataFrame | None = None,
    priority_themes: tuple[str, ...] = PRIORITY_THEMES,
) -> pd.DataFrame:
    """The draft's decision table (:func:`lscb_nb.core.decisions.blank_table`): the rule's
    proposal from its evidence, the board's overrules (``board``, from
    :func:`lscb_nb.core.overrules.read_overrules`), then the partner guard."""
    table = decisions.blank_table(items)
    needs = {}
    if "denominator_item" in items:
        for needing, total in items["denominator_item"].dropna().items():
            if selection.at[needing, "in_draft"] and total in items.index:
                needs.setdefault(total, needing)
    table["rule"] = draft_rule(min_boroughs)
    table["proposed"] = [
        str(selection.at[i, "tier"]) if selection.at[i, "in_draft"] else decisions.DROP
        for i in table.index
    ]
    table["decision"] = table["proposed"]
    table["reason"] = selection["reason"].reindex(table.index).astype(str)
    table["support"] = selection["boroughs"].reindex(table.index).astype(float)
    table["evidence"] = [
        {
            "authorities_collecting": int(selection.at[i, "boroughs"]),
            "at_least": int(min_boroughs),
            "essential": bool(items.at[i, "essential"]),
            "priority_theme": bool(items.at[i, "theme"] in priority_themes),
            "denominator_of": needs.get(i),
        }
        for i in table.index
    ]
    if board is not None:
        table = overrules.apply_overrules(table, board, "draft")
    return decisions.guard_partners(table, items, "draft")


def selection_from_decisions(selection: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The selection as decided: overrules and the partner guard applied, with why."""
    out = selection.copy()
    decided = table["decision"].reindex(out.index).astype(str)
    out["in_draft"] = decisions.kept(decided)
    out["tier"] = [d if d in ("core", "develop") else "develop" for d in decided]
    for item_id, row in table.iterrows():
        if row["overruled_by"] == "board":
            out.loc[item_id, "reason"] = (
                f"the board decided {row['decision']} ({row['overrule_who']}, "
                f"{row['overrule_date']}): {row['overrule_reason']}"
            )
        elif row["guard"]:
            out.loc[item_id, "reason"] = f"{row['decision']}: {row['guard']}"
    return out


def decide_draft(
    items: pd.DataFrame,
    counts: pd.Series,
    min_boroughs: int,
    board: pd.DataFrame | None = None,
    word: str = "authority",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The draft rule, the board's overrules and the partner guard: (selection, table)."""
    proposed = draft_selection(items, counts, min_boroughs, word=word)
    table = draft_decisions(proposed, items, min_boroughs, board)
    return selection_from_decisions(proposed, table), table


def draft_datamodel(
    candidate: DataModel,
    selection: pd.DataFrame,
    min_boroughs: int,
    replied: int,
    released: str,
    version: str,
    table: pd.DataFrame | None = None,
) -> DataModel:
    """The draft dataset as a data-model version, with the rule that chose it."""
    raw = to_dict(candidate)
    keep = set(selection.index[selection["in_draft"]])
    for item in raw["items"]:
        if item["item_id"] in keep:
            item["tier"] = str(selection.at[item["item_id"], "tier"])
    raw = keep_items(raw, keep)
    raw.update(
        version=version,
        status="draft",
        based_on=candidate.version,
        released=released,
        description=(
            f"The draft dataset collated from what the authorities already collect: the "
            f"candidate items collected by at least {min_boroughs} of the {replied} "
            f"{'authority' if replied == 1 else 'authorities'} that sent their current dataset "
            "(core), plus items required by statute or Working Together, and items on "
            "children's views and participation, whatever the authorities collect today (to "
            "develop)."
        )
        + (
            overrules.guard_note(table) + overrules.overrule_note(table)
            if table is not None
            else ""
        ),
    )
    return from_dict(raw)


def borough_profile(
    matrix: pd.DataFrame, la_code: str, draft_ids: list[str], rare_below: float = 1 / 3
) -> dict[str, list[str]]:
    """One borough against London: what it collects that few others do, and which
    draft items it already has and which it would have to start collecting."""
    mine = matrix.loc[la_code]
    share = matrix.mean(axis=0)
    return {
        "collects": list(mine.index[mine]),
        "rare": [i for i in mine.index[mine] if share[i] < rare_below],
        "has_draft": [i for i in draft_ids if mine.get(i, False)],
        "to_start": [i for i in draft_ids if not mine.get(i, False)],
    }
