"""A corrected return replaces the earlier one: which rows a later return supersedes.

A borough that finds a mistake sends the return again, and the corrected file sits
beside the original in the returns folder. Without this step the two would be
*copies* of each other (R06) and the corrected figures would be quarantined. Here
each return is dated (its own ``submission_date``: the template's "Date sent" cell
or the long CSV's optional column; else the file's modification time, to the
second), and for each authority, period and item the figure of the strictly latest
return that *supplies* one is used:

- an Excel agency sheet supplies its items if any of its figure cells is filled
  (a blank sheet supplies nothing and supersedes nothing); a CSV row supplies its
  item if it has a figure;
- rows of earlier returns are *superseded*: kept in their own table, neither
  accepted nor lost; a blank row where another file supplies the figure gives way;
- returns that cannot be ordered (the same date, or copies within one file) are not
  a correction: their copies are left to R06;
- every cell that differs between the used row and the row it supersedes is one row
  of the changes table and one query (R08) on the used row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lscb_nb.core.rules.identity_rules import identity_sound, submission_dates
from lscb_nb.core.values import REPORTED
from lscb_nb.pilot.rawrows import cell_address

log = logging.getLogger(__name__)

KEY = ["la_code_ons", "period", "item_id"]
# The cells a borough fills, and the raw text each is compared on.
CHANGED_FIELDS = {
    "numerator": "numerator_raw",
    "denominator": "denominator_raw",
    "value": "value_raw",
    "note": "note",
}
_STATE = {"numerator": "numerator", "denominator": "denominator", "value": "submitted_value"}
CHANGE_COLUMNS = [
    "la_code_ons",
    "period",
    "item_id",
    "field",
    "sheet",
    "cell",
    "old_value",
    "old_state",
    "new_value",
    "new_state",
    "old_file",
    "old_cell",
    "new_file",
]
WAS = "was_"  # prefix of the columns the R08 check reads on the used rows


@dataclass
class Superseding:
    """Which rows a later return superseded: ``superseded`` maps a row's index to
    the file(s) whose figure is used and why; ``changes`` lists the changed cells."""

    superseded_by: pd.Series  # index of superseded rows -> file(s) used instead
    reason: pd.Series  # same index -> why
    changes: pd.DataFrame  # CHANGE_COLUMNS, and new_index: the used row's index


def empty_changes() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS})


def sent_times(df: pd.DataFrame, file_times: dict[str, float] | None) -> pd.Series:
    """When each row's return was sent: its own submission date (ISO, or day first
    as in 14/07/2025), else its file's modification time (to the second), else NaT
    (a row that cannot be ordered)."""
    text = df.get("submission_date", pd.Series("", index=df.index))
    out = submission_dates(text)  # a date not understood is queried (R09)
    if file_times and out.isna().any():  # each file's time looked up once
        codes, names = pd.factorize(df["source_file"].astype("string").fillna(""))
        times = pd.to_datetime(
            pd.Series([file_times.get(n, np.nan) for n in names], dtype="float64"),
            unit="s",
            errors="coerce",
        )
        mtime = times.dt.floor("s").astype("datetime64[s]").to_numpy()[codes]
        out = out.fillna(pd.Series(mtime, index=df.index))
    return out


def _supplies(df: pd.DataFrame) -> pd.Series:
    """Whether each row supplies its item: a CSV row with a figure; an Excel row of
    an agency sheet any of whose figure cells is filled."""
    figure = pd.Series(False, index=df.index)
    for raw in ("numerator_raw", "denominator_raw", "value_raw"):
        figure |= df[raw].astype("string").fillna("").ne("").to_numpy()
    sheet = df["source_sheet"].astype("string")
    on_sheet = sheet.notna().to_numpy()
    if on_sheet.any():
        grouped = figure[on_sheet].groupby(
            [df["source_file"][on_sheet].astype(str), sheet[on_sheet].astype(str)]
        )
        figure[on_sheet] = grouped.transform("any").to_numpy()
    return figure


def find_superseded(df: pd.DataFrame, file_times: dict[str, float] | None) -> Superseding:
    """The rows of prepared rows ``df`` that a later return supersedes (see the
    module docstring; ``file_times`` are each file's modification time). Only rows
    whose identity is sound, given in more than one file, are compared."""
    none = Superseding(pd.Series(dtype=object), pd.Series(dtype=object), empty_changes())
    sound = identity_sound(df)
    keys = df.loc[sound, KEY]
    twice = keys.duplicated(keep=False)
    if not twice.any():
        return none
    cand = df.loc[twice[twice].index, [*KEY, "source_file"]]
    files = cand.groupby(KEY, dropna=False, observed=True)["source_file"].transform("nunique")
    cand = cand.loc[files.to_numpy() > 1]
    if cand.empty:
        return none
    supplies = _supplies(df.loc[df["source_file"].isin(set(cand["source_file"]))])
    sent = sent_times(df.loc[cand.index], file_times)
    by, why, changes = {}, {}, []
    for positions in cand.groupby(KEY, sort=False, observed=True).indices.values():
        idx = cand.index[positions]
        sup, when = supplies.loc[idx].to_numpy(), sent.loc[idx]
        ordered = sup & when.notna().to_numpy()
        if not ordered.any():
            continue
        latest = when[ordered].max()
        used = idx[ordered & (when == latest).to_numpy()]
        used_files = sorted(set(df.loc[used, "source_file"].astype(str)))
        shown = ", ".join(used_files)
        earlier = []
        for i, s, t in zip(idx, sup, when, strict=True):
            if i in used or str(df.at[i, "source_file"]) in used_files:
                continue  # the used return itself: copies within it are R06's
            if s and pd.notna(t) and t < latest:
                by[i], why[i] = shown, f"superseded by {shown}, sent later ({latest:%Y-%m-%d})"
            elif not s:
                by[i], why[i] = shown, f"supplied nothing; the figure of {shown} is used"
            if i in by and pd.notna(t) and t < latest:  # a blank filled in is a change too
                earlier.append((t, i))
        if earlier and len(used) == 1:
            changes += _changed_cells(df, max(earlier)[1], used[0])
    changed = (
        pd.DataFrame(changes, columns=[*CHANGE_COLUMNS, "new_index"])
        if changes
        else empty_changes().assign(new_index=pd.Series(dtype="int64"))
    )
    return Superseding(pd.Series(by, dtype=object), pd.Series(why, dtype=object), changed)


def _changed_cells(df: pd.DataFrame, old: int, new: int) -> list[dict]:
    """The cells that differ between row ``old`` and the row ``new`` replacing it:
    a figure by its state and, for a number, its value; a note by its text."""
    out = []
    for field, raw in CHANGED_FIELDS.items():
        before, after = _said(df, old, field, raw), _said(df, new, field, raw)
        if before == after:
            continue
        out.append(
            {
                "la_code_ons": df.at[new, "la_code_ons"],
                "period": df.at[new, "period"],
                "item_id": df.at[new, "item_id"],
                "field": field,
                "sheet": _text(df.at[new, "source_sheet"]),
                "cell": _cell(df, new, field),
                "old_value": _text(df.at[old, raw]),
                "old_state": before[0],
                "new_value": _text(df.at[new, raw]),
                "new_state": after[0],
                "old_file": str(df.at[old, "source_file"]),
                "old_cell": _cell(df, old, field),
                "new_file": str(df.at[new, "source_file"]),
                "new_index": new,
            }
        )
    return out


def _said(df: pd.DataFrame, i: int, field: str, raw: str) -> tuple[str, str]:
    if field == "note":
        text = _text(df.at[i, raw]).strip()
        return ("text" if text else "blank", text)
    state = str(df.at[i, f"{_STATE[field]}_state"])
    number = df.at[i, _STATE[field]]
    if state == REPORTED and pd.notna(number):
        return state, f"{float(number):.15g}"
    return state, _text(df.at[i, raw]).strip().lower()


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v)


def _cell(df: pd.DataFrame, i: int, field: str) -> str:
    columns = df.at[i, "source_columns"] if "source_columns" in df.columns else ""
    return cell_address(df.at[i, "source_sheet"], df.at[i, "source_row"], field, columns)


def mark_changes(df: pd.DataFrame, changes: pd.DataFrame) -> None:
    """Put on each used row what its changed cells were (``was_<field>``), for R08."""
    if changes.empty:
        return
    for field in CHANGED_FIELDS:
        part = changes.loc[changes["field"] == field]
        col = pd.Series(None, index=df.index, dtype=object)
        for c in part.itertuples(index=False):
            old = f"'{c.old_value}'" if c.old_value else "blank"
            new = f"'{c.new_value}'" if c.new_value else "blank"
            col[c.new_index] = f"{field} {new}, was {old} in {c.old_file} ({c.old_cell})"
        df[f"{WAS}{field}"] = col
