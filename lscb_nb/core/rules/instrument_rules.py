"""Rules for phase 2's completed rating instruments (I codes).

The instrument reader (:mod:`lscb_nb.assessment.completed`) turns the Ratings
sheet into one row per score cell (``source_row``, ``item_id``, ``criterion``,
``column``, ``raw``, with ``first_in_row``, ``empty_row``, ``row_has_text`` and
``row_scored`` saying what the sheet row holds); the checks here run over that
frame. Rules about the whole file (I01, I02), the rater (I03) and files against
each other (I04) are raised by the reader.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lscb_nb.core.rules.issues import Finding
from lscb_nb.core.rules.registry import ERROR, QUERY, declare, rule

log = logging.getLogger(__name__)


@dataclass
class InstrumentContext:
    """What an instrument's cells are checked against."""

    items: pd.DataFrame  # the data model's items, indexed by item_id
    allowed: dict[str, set[int]]  # criterion -> the points of its scale
    dont_know: str  # the code for "don't know", e.g. DK


def to_number(raw: pd.Series) -> pd.Series:
    """Each cell as a float (NaN where it is blank or not a number)."""

    def one(text: object) -> float:
        try:
            return float(text)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return np.nan

    return raw.map(one).astype("float64")


def is_dont_know(df: pd.DataFrame, ctx: InstrumentContext) -> pd.Series:
    return df["raw"].astype("string").str.upper().fillna("") == ctx.dont_know.upper()


def unknown_item(df: pd.DataFrame, ctx: InstrumentContext) -> pd.Series:
    """Rows (their first cell) whose item is not in the data model."""
    return df["first_in_row"] & ~df["empty_row"] & ~df["item_id"].isin(ctx.items.index)


def item_twice(df: pd.DataFrame, ctx: InstrumentContext) -> pd.Series:
    """Rows (their first cell) repeating an item an earlier row rated."""
    rows = df["first_in_row"] & ~df["empty_row"]
    again = df["item_id"].where(rows).duplicated(keep="first") & rows
    return again & ~unknown_item(df, ctx)


def not_a_score(df: pd.DataFrame, ctx: InstrumentContext) -> pd.Series:
    return df["raw"].notna() & ~is_dont_know(df, ctx) & to_number(df["raw"]).isna()


def off_the_scale(df: pd.DataFrame, ctx: InstrumentContext) -> pd.Series:
    number = to_number(df["raw"])
    allowed = pd.Series(
        [n in ctx.allowed.get(c, ()) for n, c in zip(number, df["criterion"], strict=True)],
        index=df.index,
    )
    return df["raw"].notna() & ~is_dont_know(df, ctx) & number.notna() & ~allowed


declare(
    "I01",
    ERROR,
    "Unreadable instrument",
    "The instrument could not be read: {detail}",
    stage="instrument",
    summary="instrument that could not be read (not `.xlsx`, password-protected, damaged)",
)
declare(
    "I02",
    ERROR,
    "No ratings sheet",
    "The instrument has no Ratings sheet, or its header row lacks columns: {detail}",
    fields=("item_id",),
    stage="instrument",
    summary="no `Ratings` sheet, or its header lacks the item or criterion columns",
)
declare(
    "I03",
    ERROR,
    "Rater details missing",
    "The rater's details are missing or not recognised, so the ratings cannot be "
    "attributed: {detail}",
    fields=("rater_name", "rater_role", "rater_agency"),
    stage="instrument",
    summary="rater's name or agency missing or unknown (role missing: a query)",
)
declare(
    "I04",
    ERROR,
    "Duplicate rater",
    "This rater's ratings were already read from {detail}; this file is held back.",
    fields=("rater_name",),
    stage="instrument",
    summary="the same file, or the same rater, sent twice",
)


@rule(
    "I05",
    ERROR,
    "Unknown item",
    "Item {value} is not in the data model; its ratings are held back.",
    fields=("item_id",),
    stage="instrument",
    summary="item not in the data model",
)
def unknown_item_rows(df: pd.DataFrame, ctx: InstrumentContext) -> Finding:
    return Finding(unknown_item(df, ctx), "item_id", value=df["item_id"].map(repr))


@rule(
    "I06",
    ERROR,
    "Score out of range",
    "Score {value} is not on the {detail}.",
    fields=("score",),
    stage="instrument",
    summary="score off the criterion's scale",
)
def score_off_the_scale(df: pd.DataFrame, ctx: InstrumentContext) -> Finding:
    return Finding(off_the_scale(df, ctx), df["column"], value=df["raw"], detail=df["scale_text"])


@rule(
    "I07",
    ERROR,
    "Score is not a number",
    "{value} is not a score; use {detail}.",
    fields=("score",),
    stage="instrument",
    summary="score that is not a number or don't know",
)
def score_not_a_number(df: pd.DataFrame, ctx: InstrumentContext) -> Finding:
    use = df["scale_points"] + " or " + ctx.dont_know
    return Finding(not_a_score(df, ctx), df["column"], value=df["raw"].map(repr), detail=use)


@rule(
    "I08",
    QUERY,
    "Blank row",
    "A row with no item id, or an item with no scores at all: {detail}",
    fields=("item_id",),
    stage="instrument",
    summary="row with text but no item id, or an item with no scores",
)
def blank_row(df: pd.DataFrame, ctx: InstrumentContext) -> list[Finding]:
    first = df["first_in_row"]
    stray = first & df["empty_row"] & df["row_has_text"]
    held = unknown_item(df, ctx) | item_twice(df, ctx)
    unscored = first & ~df["empty_row"] & ~df["row_scored"] & ~held
    return [
        Finding(stray, None, message="A row with no item id: it was not read."),
        Finding(
            unscored, None, message="Item " + df["item_id"].astype(str) + " has no scores at all."
        ),
    ]


@rule(
    "I09",
    ERROR,
    "Item rated twice",
    "Item {value} appears more than once; this row is held back.",
    fields=("item_id",),
    stage="instrument",
    summary="item rated twice in one instrument",
)
def item_rated_twice(df: pd.DataFrame, ctx: InstrumentContext) -> Finding:
    return Finding(item_twice(df, ctx), "item_id", value=df["item_id"])
