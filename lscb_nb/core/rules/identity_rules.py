"""Rules over a return row's identity (R codes): its period, authority and item."""

from __future__ import annotations

import logging

import pandas as pd

from lscb_nb.core.rules.issues import Finding
from lscb_nb.core.rules.registry import ERROR, QUERY, rule
from lscb_nb.core.rules.row_context import ReturnContext, text_column

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# Identity: period, authority, item
# ---------------------------------------------------------------------------


@rule(
    "R01",
    ERROR,
    "Unknown item",
    "Item id '{value}' is not in data model {version}.",
    fields=("item_id",),
    stage="row",
    summary="unknown item id",
)
def unknown_item(df: pd.DataFrame, ctx: ReturnContext) -> Finding:
    return Finding(~df["item_known"] & (df["item_id"] != ""), value=df["item_id"])


@rule(
    "R02",
    ERROR,
    "Unknown authority",
    "Authority code '{value}' is not one of the project's authorities (`authorities` in "
    "project.yaml).",
    fields=("new_la_code",),
    stage="row",
    summary="unknown authority code",
)
def unknown_authority(df: pd.DataFrame, ctx: ReturnContext) -> Finding:
    return Finding(~df["la_known"], value=df["new_la_code"])


def authority_clash(df: pd.DataFrame) -> pd.Series:
    """Rows whose DfE code or name is not that of their ONS code's authority (the
    ``la_clash`` column where the rows were prepared with it: R03 and the duplicate
    rule both ask)."""
    if "la_clash" in df.columns:
        return df["la_clash"]
    known = df["la_known"]
    dfe = known & (df["old_la_code"] != "") & _differ(df["old_la_code"], df["la_expected_dfe"])
    name = (
        known
        & (df["la_name_raw"] != "")
        & _differ(df["la_name_raw"], df["la_expected_name"], _norm_names)
    )
    return dfe | name


def sheet_disagrees(df: pd.DataFrame) -> tuple[pd.Series, pd.Series | str]:
    """Rows of a template whose visible sheet names another authority or period
    than the hidden ``_meta`` sheet the rows are filed under."""
    if "sheet_la_code" not in df.columns and "sheet_period" not in df.columns:
        return pd.Series(False, index=df.index), ""
    sheet_la = text_column(df, "sheet_la_code").str.upper()
    sheet_period = text_column(df, "sheet_period")
    period = df["period"].astype("string").fillna("")
    la_bad = (sheet_la != "") & (sheet_la != df["la_code_ons"])
    period_bad = (sheet_period != "") & (period != "") & (sheet_period != period)
    detail = (
        "the hidden _meta sheet files it under "
        + df["la_code_ons"].astype("string").fillna("")
        + " "
        + period
        + ", but sheet '"
        + text_column(df, "source_sheet")
        + "' says "
        + sheet_la.where(sheet_la != "", df["la_code_ons"])
        + " "
        + sheet_period.where(sheet_period != "", period)
    )
    return la_bad | period_bad, detail


@rule(
    "R03",
    ERROR,
    "Authority codes disagree",
    "The authority codes, name or period on this row do not match each other: {detail}.",
    fields=("old_la_code", "new_la_code", "la_name"),
    stage="row",
    summary=(
        "authority codes/name on a row disagree, or a template's hidden `_meta` sheet and "
        "a visible sheet name different authorities or periods"
    ),
)
def authority_codes_disagree(df: pd.DataFrame, ctx: ReturnContext) -> list[Finding]:
    clash = authority_clash(df)
    hit = df.loc[clash]  # the message is built for the rows that need one
    detail = (
        "the ONS code "
        + hit["la_code_ons"]
        + " is "
        + hit["la_expected_name"]
        + " (DfE "
        + hit["la_expected_dfe"]
        + "), but the row says "
        + hit["la_name_raw"]
        + " (DfE "
        + hit["old_la_code"]
        + ")"
    )
    meta, meta_detail = sheet_disagrees(df)
    return [
        Finding(clash, "old_la_code", detail=detail),
        Finding(meta, "new_la_code", detail=meta_detail),
    ]


@rule(
    "R04",
    ERROR,
    "Unknown period",
    "The period is not valid: {detail}.",
    fields=("time_period",),
    stage="row",
    summary="invalid period",
)
def unknown_period(df: pd.DataFrame, ctx: ReturnContext) -> Finding:
    return Finding(df["period"].isna(), detail=df["period_error"])


@rule(
    "R05",
    ERROR,
    "Period not expected",
    "Period {value} is outside the periods being collected ({detail}).",
    fields=("time_period",),
    stage="row",
    summary="period outside those being collected",
)
def period_not_expected(df: pd.DataFrame, ctx: ReturnContext) -> Finding | None:
    expected = ctx.expected_periods
    if expected is None:
        return None
    span = f"{expected[0]} to {expected[-1]}" if expected else "none"
    unexpected = df["period"].notna() & ~df["period"].isin(expected)
    return Finding(unexpected, value=df["period"], detail=span)


@rule(
    "R07",
    ERROR,
    "Missing item id",
    "The row has figures but no item id.",
    fields=("item_id",),
    stage="row",
    summary="figures with no item id",
)
def missing_item_id(df: pd.DataFrame, ctx: ReturnContext) -> pd.Series:
    has_figures = (df["numerator_raw"] != "") | (df["denominator_raw"] != "")
    return (df["item_id"] == "") & has_figures


def identity_sound(df: pd.DataFrame) -> pd.Series:
    """Rows whose period, authority and item are known and agree: only these can be
    duplicates of each other (a row carrying another borough's code must not knock
    out that borough's own figure)."""
    return (
        df["period"].notna()
        & df["la_known"]
        & ~authority_clash(df)
        & ~sheet_disagrees(df)[0]
        & df["item_known"]
    )


def _norm_names(names: pd.Series) -> pd.Series:
    """Names compared without case, spacing or punctuation ('&' is 'and')."""
    return (
        names.str.lower()
        .str.replace("&", "and", regex=False)
        .str.replace(r"[^a-z]", "", regex=True)
    )


def _differ(left: pd.Series, right: pd.Series, normalise=None) -> pd.Series:
    """Where two text columns differ (once ``normalise`` is applied to both). Each
    distinct text is normalised once, and the rows compare integer codes, not text."""
    sides = [pd.factorize(s, use_na_sentinel=False) for s in (left, right)]
    texts = [pd.Series(uniques).astype("string").fillna("") for _, uniques in sides]
    if normalise is not None:
        texts = [normalise(t) for t in texts]
    ids = pd.factorize(pd.concat(texts, ignore_index=True))[0]
    left_ids = ids[: len(texts[0])][sides[0][0]]
    right_ids = ids[len(texts[0]) :][sides[1][0]]
    return pd.Series(left_ids != right_ids, index=left.index)


def submission_dates(text: pd.Series) -> pd.Series:
    """Each text as the day a return was sent: ISO (``2025-07-14``, with or without a
    time) or day first (``14/07/2025``, ``14 July 2025``); NaT where blank or not a
    date. Each distinct text is read once."""
    codes, uniques = pd.factorize(text.astype("string").fillna(""))
    distinct = pd.Series(uniques, dtype="string").str.strip()
    read = pd.to_datetime(distinct, format="ISO8601", errors="coerce")
    other = read.isna() & (distinct != "")
    if other.any():
        read[other] = pd.to_datetime(
            distinct[other], format="mixed", dayfirst=True, errors="coerce"
        )
    return pd.Series(read.to_numpy()[codes], index=text.index).astype("datetime64[s]")


@rule(
    "R09",
    QUERY,
    "Submission date not understood",
    "The date this return was sent, '{detail}', is not a date (write it as 14/07/2025 or "
    "2025-07-14); until it is, the file's own time orders a resubmission.",
    fields=("submission_date",),
    stage="row",
    summary=(
        "a submission date (the template's *Date sent* cell, or the CSV's `submission_date`) "
        "that is not a date; the file's time is used instead"
    ),
)
def submission_date_unreadable(df: pd.DataFrame, ctx: ReturnContext) -> Finding | None:
    """Long CSV rows only: a workbook's one Date sent cell is checked by its reader."""
    if "submission_date" not in df.columns:
        return None
    text = df["submission_date"].astype("string").fillna("")
    csv_rows = df["source_sheet"].isna() if "source_sheet" in df.columns else True
    bad = csv_rows & (text.str.strip() != "") & submission_dates(text).isna()
    return Finding(bad, detail=text)
