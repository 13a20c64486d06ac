"""Rules between rows: the same figure sent twice (R06), and the data model's
cross-item rules between items of one return (XRnn, e.g. plans started <=
conferences held), each checked with one vectorised join per rule."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.core.rules.identity_rules import identity_sound
from lscb_nb.core.rules.issues import Finding
from lscb_nb.core.rules.registry import ERROR, QUERY, rule
from lscb_nb.core.rules.row_context import ReturnContext
from lscb_nb.core.values import REPORTED

log = logging.getLogger(__name__)

_OPS = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater, "==": np.equal}
_KEY = ["la_code_ons", "period", "item_id"]
# What copies of a row are compared on, and where each copy is.
_COMPARED = (
    *_KEY,
    "numerator",
    "numerator_state",
    "numerator_raw",
    "denominator",
    "denominator_state",
    "denominator_raw",
    "submitted_value",
    "submitted_value_state",
    "value_raw",
    "source_file",
    "source_sheet",
    "source_row",
)


@rule(
    "R06",
    ERROR,
    "Duplicate row",
    "This authority, period and item appear more than once ({detail}).",
    fields=("item_id",),
    stage="duplicate",
    summary=(
        "duplicate authority × period × item (later exact copies, or all conflicting "
        "copies; copies compared on text and state; the message names the other file and "
        "row)"
    ),
)
def duplicate_row(df: pd.DataFrame, ctx: ReturnContext) -> Finding | None:
    """Copies that say the same (state and text, see :func:`figure_signature`) keep
    the first; copies that differ are all quarantined. Each message names the
    other copies. Only rows whose identity is sound are compared."""
    keys = df.loc[identity_sound(df), _KEY]
    dup_any = keys.duplicated(keep=False)
    if not dup_any.any():
        return None
    grp = df.loc[dup_any[dup_any].index, [c for c in _COMPARED if c in df.columns]]
    signature = figure_signature(grp)
    conflict = (
        signature.groupby([grp[k] for k in _KEY], dropna=False).transform("nunique") > 1
    ).to_numpy()
    exact_later = ~conflict & grp.duplicated(_KEY, keep="first").to_numpy()
    where = _location(grp).to_numpy()
    detail = np.full(len(grp), "", dtype=object)
    for positions in grp.groupby(_KEY, dropna=False, sort=False).indices.values():
        for pos in positions:
            if conflict[pos]:
                others = [str(where[q]) for q in positions if q != pos]
                shown = "; ".join(others[:5]) + (" and others" if len(others) > 5 else "")
                detail[pos] = f"with different figures at {shown}; none of the copies can be used"
            elif exact_later[pos]:
                detail[pos] = f"an exact copy of {where[positions[0]]}"
    return Finding(
        pd.Series(conflict | exact_later, index=grp.index),
        detail=pd.Series(detail, index=grp.index),
    )


@rule(
    "R08",
    QUERY,
    "Changed by a resubmission",
    "A later return for this authority and period changed this cell: {detail}. "
    "Please check the new figure is the one you meant.",
    fields=("numerator",),
    stage="duplicate",
    summary=(
        "a cell a later return changed (old and new value, the file it replaces; the earlier "
        "row is superseded, see the changes table)"
    ),
)
def changed_by_resubmission(df: pd.DataFrame, ctx: ReturnContext) -> list[Finding]:
    """One query per changed cell of a row that superseded an earlier one: the
    superseding step (:mod:`lscb_nb.pilot.resubmission`) writes what each cell was
    into ``was_<field>``."""
    out = []
    for field in ("numerator", "denominator", "value", "note"):
        was = df.get(f"was_{field}")
        if was is None or not was.notna().any():
            continue
        out.append(Finding(was.notna(), column=field, detail=was.fillna("").astype(object)))
    return out


def figure_signature(df: pd.DataFrame) -> pd.Series:
    """What a row says, for comparing copies: each figure's state and, for a
    number, its value, else its text (so c and x differ, 5 and 5.0 do not)."""
    parts = []
    for col, raw in (
        ("numerator", "numerator_raw"),
        ("denominator", "denominator_raw"),
        ("submitted_value", "value_raw"),
    ):
        state = df[f"{col}_state"].astype(str)
        text = df[raw].astype("string").fillna("").str.lower()
        number = df[col].map(lambda v: "" if pd.isna(v) else f"{v:.15g}").astype("string")
        parts.append(state + ":" + number.where(state == REPORTED, text))
    return parts[0] + "|" + parts[1] + "|" + parts[2]


def _location(df: pd.DataFrame) -> pd.Series:
    sheet = df["source_sheet"].astype("string").fillna("") if "source_sheet" in df else ""
    return (
        df["source_file"].astype("string")
        + sheet.where(sheet == "", ", sheet '" + sheet + "'")
        + " row "
        + df["source_row"].astype("string")
    )


@rule(
    "X",
    QUERY,
    "Cross-item check",
    "{detail}",
    fields=("numerator",),
    stage="cross-item",
    summary="cross-item rules, e.g. plans started ≤ conferences held",
)
def cross_item(df: pd.DataFrame, ctx: ReturnContext) -> list[Finding]:
    """The data model's cross-item rules between rows of the same return (same
    authority and period). The reported numerators are laid out once as a
    return x item table, so each rule compares two of its columns. Each issue
    carries the data model's rule id (XRnn), severity and message."""
    rules = ctx.rules
    if rules is None or rules.empty or df.empty:
        return []
    table = _return_table(df, set(rules["left"]) | set(rules["right"]))
    if table is None:
        return []
    numbers, at, items = table
    column = {item: j for j, item in enumerate(items)}
    out = []
    for xr in rules.itertuples(index=False):
        if xr.left not in column or xr.right not in column:
            continue
        left, right = numbers[:, column[xr.left]], numbers[:, column[xr.right]]
        rows = at[:, column[xr.left]]
        both = (rows >= 0) & (at[:, column[xr.right]] >= 0)
        with np.errstate(invalid="ignore"):
            failed = both & ~_OPS[xr.operator](left, right)
        if not failed.any():
            continue
        where = df.index[rows[failed]]
        message = (
            f"{xr.rule_id}: {xr.message} ({xr.left} = "
            + _shown(left[failed])
            + f", {xr.right} = "
            + _shown(right[failed])
            + ")"
        )
        hit = np.zeros(len(df), dtype=bool)
        hit[rows[failed]] = True
        out.append(
            Finding(
                pd.Series(hit, index=df.index),
                code=xr.rule_id,
                severity=xr.severity,
                message=pd.Series(message, index=where, dtype=object),
            )
        )
    return out


def _return_table(
    df: pd.DataFrame, involved: set[str]
) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """Reported numerators of the items some rule involves, one row per return
    (authority and period) and one column per item: (numerators, the position in
    ``df`` of the row each comes from or -1, the items). A return giving an item
    twice uses its first row, as the duplicate rule keeps the first copy."""
    keep = ((df["numerator_state"] == REPORTED) & df["item_id"].isin(involved)).to_numpy()
    pos = np.flatnonzero(keep)
    if not len(pos):
        return None
    la_codes = pd.factorize(df["la_code_ons"], use_na_sentinel=False)[0][pos]
    period_codes, periods = pd.factorize(df["period"], use_na_sentinel=False)
    period_codes = period_codes[pos]
    item_codes, items = pd.factorize(df["item_id"].iloc[pos], use_na_sentinel=False)
    returns = la_codes.astype(np.int64) * (len(periods) + 1) + period_codes
    return_codes, distinct = pd.factorize(returns)
    key = return_codes.astype(np.int64) * len(items) + item_codes
    _, first = np.unique(key, return_index=True)
    numbers = np.full((len(distinct), len(items)), np.nan)
    at = np.full((len(distinct), len(items)), -1, dtype=np.int64)
    numbers[return_codes[first], item_codes[first]] = df["numerator"].to_numpy(dtype="float64")[
        pos[first]
    ]
    at[return_codes[first], item_codes[first]] = pos[first]
    return numbers, at, [str(i) for i in items]


def _shown(numbers: np.ndarray) -> np.ndarray:
    """Numbers as ``{:g}`` writes them, each distinct number formatted once."""
    uniques, codes = np.unique(numbers, return_inverse=True)
    return np.array([f"{u:g}" for u in uniques.tolist()], dtype=object)[codes]
