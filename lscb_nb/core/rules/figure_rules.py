"""Rules over a return row's figures as written (V codes), each a vectorised check.

The cell rules :func:`lscb_nb.core.values.parse_values` attached (V09-V13) are raised
here too, against the cell they came from.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.core.rules.issues import Finding
from lscb_nb.core.rules.registry import ERROR, QUERY, rule
from lscb_nb.core.rules.row_context import ReturnContext, text_column
from lscb_nb.core.values import INVALID, REPORTED

log = logging.getLogger(__name__)

# Submitted values within this of the computed one are the same figure, rounded.
VALUE_TOLERANCE = 0.05
# The three figures of a row: (raw column, prepared prefix).
FIGURES = (("numerator", "numerator"), ("denominator", "denominator"), ("value", "submitted_value"))


# ---------------------------------------------------------------------------
# Figures as written
# ---------------------------------------------------------------------------


def _cell_rule(df: pd.DataFrame, code: str) -> list[Finding]:
    return [
        Finding(
            df[f"{prefix}_rule"] == code,
            raw,
            value=df[f"{raw}_raw"],
            detail=df[f"{prefix}_read_as"],
        )
        for raw, prefix in FIGURES
    ]


@rule(
    "V01",
    ERROR,
    "Text in a number",
    "'{value}' is not a number or a recognised code (c, x, u, z, low, *, <5, .., n/a).",
    fields=("numerator", "denominator", "value"),
    stage="row",
    summary="text in a numeric cell that is not a recognised code",
)
def text_in_a_number(df: pd.DataFrame, ctx: ReturnContext) -> list[Finding]:
    return [
        Finding(
            (df[f"{prefix}_state"] == INVALID) & (df[f"{prefix}_rule"] == ""),
            raw,
            value=df[f"{raw}_raw"],
        )
        for raw, prefix in FIGURES
    ]


@rule(
    "V02",
    ERROR,
    "Negative count",
    "Counts cannot be negative ({value}).",
    fields=("numerator", "denominator", "value"),
    stage="row",
    summary="negative count",
)
def negative_count(df: pd.DataFrame, ctx: ReturnContext) -> list[Finding]:
    return [Finding(df[prefix] < 0, raw, value=df[f"{raw}_raw"]) for raw, prefix in FIGURES]


def numerator_over_denominator(df: pd.DataFrame) -> pd.Series:
    """A percentage item's reported numerator above its reported denominator."""
    return (
        (df["unit"] == "percentage")
        & (df["numerator_state"] == REPORTED)
        & (df["denominator_state"] == REPORTED)
        & (df["numerator"] > df["denominator"])
    )


@rule(
    "V03",
    ERROR,
    "Numerator above denominator",
    "The numerator ({value}) is larger than the denominator ({detail}).",
    fields=("numerator", "denominator"),
    stage="row",
    summary="numerator above denominator",
)
def numerator_above_denominator(df: pd.DataFrame, ctx: ReturnContext) -> Finding:
    return Finding(numerator_over_denominator(df), value=df["numerator"], detail=df["denominator"])


def outside_range(df: pd.DataFrame) -> pd.Series:
    """Values outside the item's valid range (a numerator above its denominator is V03's)."""
    lo, hi = df["valid_min"], df["valid_max"]
    return (
        df["value"].notna()
        & ((df["value"] < lo) | (df["value"] > hi))
        & ~numerator_over_denominator(df)
    )


@rule(
    "V04",
    ERROR,
    "Outside valid range",
    "The value {value} is outside the valid range for this item ({detail}).",
    fields=("numerator",),
    stage="row",
    summary="outside the item's valid range",
)
def outside_valid_range(df: pd.DataFrame, ctx: ReturnContext) -> Finding:
    outside = outside_range(df)
    hit = df.loc[outside]
    detail = (
        "min "
        + hit["valid_min"].astype("string").fillna("none")
        + ", max "
        + hit["valid_max"].astype("string").fillna("none")
    )
    return Finding(outside, value=hit["value"].round(2), detail=detail)


@rule(
    "V05",
    ERROR,
    "Denominator missing",
    "This item is a percentage: give the denominator as well as the numerator.",
    fields=("denominator",),
    stage="row",
    summary="percentage without a denominator",
)
def denominator_missing(df: pd.DataFrame, ctx: ReturnContext) -> pd.Series:
    return (
        (df["unit"] == "percentage")
        & (df["numerator_state"] == REPORTED)
        & (df["denominator_state"] == "missing")
    )


@rule(
    "V06",
    QUERY,
    "Submitted value differs",
    "The value you gave ({value}) differs from numerator/denominator ({detail}).",
    fields=("value",),
    stage="row",
    summary="submitted value differs from numerator/denominator",
)
def submitted_value_differs(df: pd.DataFrame, ctx: ReturnContext) -> Finding:
    differs = (
        (df["submitted_value_state"] == REPORTED)
        & df["value"].notna()
        & ((df["submitted_value"] - df["value"]).abs() > VALUE_TOLERANCE)
    )
    return Finding(differs, value=df["submitted_value"], detail=df["value"].round(2))


@rule(
    "V07",
    QUERY,
    "Not a whole number",
    "Counts are whole numbers; {value} was given.",
    fields=("numerator",),
    stage="row",
    summary="a count that is not a whole number",
)
def not_a_whole_number(df: pd.DataFrame, ctx: ReturnContext) -> Finding:
    # Events are whole numbers; a percentage's numerator may not be (FTE posts).
    fractional = (df["unit"] != "percentage") & (
        (df["numerator"] - np.floor(df["numerator"])).abs() > 1e-9
    )
    return Finding(fractional, value=df["numerator"])


@rule(
    "V08",
    ERROR,
    "Formula with no saved value",
    "The cell holds a formula ({value}) but no value saved with it; open the file in "
    "Excel, let it calculate, save and send it again.",
    fields=("numerator", "denominator"),
    stage="row",
    summary="formula with no saved value",
)
def formula_without_value(df: pd.DataFrame, ctx: ReturnContext) -> list[Finding]:
    out = []
    for field in ("numerator", "denominator"):
        formula = text_column(df, f"{field}_formula")
        out.append(Finding(formula != "", field, value=formula))
    return out


@rule(
    "V09",
    ERROR,
    "Decimal comma",
    "'{value}' has a comma where a decimal point may be meant; write it with a point "
    "(1.5) or without separators.",
    fields=("numerator", "denominator", "value"),
    stage="row",
    summary="decimal comma (`1,5`)",
)
def decimal_comma(df: pd.DataFrame, ctx: ReturnContext) -> list[Finding]:
    return _cell_rule(df, "V09")


@rule(
    "V10",
    QUERY,
    "Thousands separator",
    "'{value}' was read as {detail}; please check the separators mean thousands.",
    fields=("numerator", "denominator", "value"),
    stage="row",
    summary="thousands separator (`1,234` read as 1234)",
)
def thousands_separator(df: pd.DataFrame, ctx: ReturnContext) -> list[Finding]:
    return _cell_rule(df, "V10")


@rule(
    "V11",
    ERROR,
    "Percent sign in a figure",
    "'{value}' has a percent sign; give the count (numerator and denominator), not the percentage.",
    fields=("numerator", "denominator", "value"),
    stage="row",
    summary="percent sign in a figure (`12%`)",
)
def percent_sign(df: pd.DataFrame, ctx: ReturnContext) -> list[Finding]:
    return _cell_rule(df, "V11")


@rule(
    "V12",
    ERROR,
    "Not a finite number",
    "'{value}' is not a finite number (infinity or not-a-number).",
    fields=("numerator", "denominator", "value"),
    stage="row",
    summary="`inf` or `nan` (not a finite number)",
)
def not_finite(df: pd.DataFrame, ctx: ReturnContext) -> list[Finding]:
    return _cell_rule(df, "V12")


@rule(
    "V13",
    ERROR,
    "Number too long",
    "'{value}' has more digits than can be stored exactly (integers up to 2^53).",
    fields=("numerator", "denominator", "value"),
    stage="row",
    summary="integer too long to store exactly (beyond 2^53)",
)
def number_too_long(df: pd.DataFrame, ctx: ReturnContext) -> list[Finding]:
    return _cell_rule(df, "V13")


@rule(
    "V14",
    ERROR,
    "Implausibly large figure",
    "{value} is above the largest plausible figure for this item ({detail}).",
    fields=("numerator", "denominator"),
    stage="row",
    summary="figure above the plausible maximum (a count item's valid maximum, else 1,000,000)",
)
def implausibly_large(df: pd.DataFrame, ctx: ReturnContext) -> list[Finding]:
    """A count item's own valid maximum when it has one, else the context's limit."""
    hi = df["valid_max"]
    own_max = (df["unit"] == "count") & hi.notna()
    cap = pd.Series(float(ctx.plausible_count), index=df.index).where(~own_max, hi)
    checked = ~outside_range(df).fillna(False).astype(bool)  # V04 reports a count above its max
    out = []
    for col in ("numerator", "denominator"):
        over = (df[col] > cap) & (df[f"{col}_state"] == REPORTED)
        if col == "numerator":
            over &= checked
        if not over.any():
            continue
        out.append(
            Finding(
                over,
                col,
                value=df.loc[over, col].map("{:,.15g}".format),
                detail="at most " + cap[over].map("{:,.15g}".format),
            )
        )
    return out


@rule(
    "V15",
    QUERY,
    "Percentage of zero cases",
    "Numerator and denominator are both 0: the figure is supplied, but there is no "
    "percentage (recorded as 0 of 0).",
    fields=("denominator",),
    stage="row",
    summary="percentage of 0 out of 0 (kept, recorded as 0 of 0)",
    retired="2.0",
)
def percentage_of_nothing(df: pd.DataFrame, ctx: ReturnContext) -> pd.Series:
    return zero_of_zero(df)


def zero_of_zero(df: pd.DataFrame) -> pd.Series:
    """A percentage of 0 out of 0: there is no percentage."""
    return (
        (df["unit"] == "percentage")
        & (df["numerator_state"] == REPORTED)
        & (df["denominator_state"] == REPORTED)
        & (df["denominator"] == 0)
        & (df["numerator"] == 0)
    )


_DATE = r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b"


@rule(
    "V16",
    QUERY,
    "Note may identify a child",
    "The note holds a date ('{value}'); notes must never identify a child, so please "
    "check it is not a date of birth and remove it if it is.",
    fields=("note",),
    stage="row",
    summary="a note holding a date, which may identify a child",
    since="2.0",
)
def note_with_a_date(df: pd.DataFrame, ctx: ReturnContext) -> Finding:
    found = df["note"].astype("string").fillna("").str.extract(f"({_DATE})", expand=False)
    return Finding(found.notna(), value=found)
