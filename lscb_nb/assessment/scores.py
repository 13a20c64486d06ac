"""Turning a completed instrument's score cells into ratings, or quarantined ratings.

Each cell that cannot be used keeps the first reason why: the item, then the rater,
then the score. Reading the workbook around the cells is ``completed``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from lscb_nb.assessment.instrument import (
    HEADER_ROW,
    SHEET,
    Criteria,
)
from lscb_nb.core.rules.instrument_rules import (
    InstrumentContext,
    is_dont_know,
    item_twice,
    not_a_score,
    off_the_scale,
    to_number,
    unknown_item,
)

log = logging.getLogger(__name__)


def cell_text(value: object) -> str | None:
    """A cell as stripped text, or None when it is empty."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def score_cells(
    rows: list[list], col: dict[str, int], ids: list[str], criteria: Criteria, file: str, la
) -> tuple[pd.DataFrame, int]:
    """The Ratings sheet's item table as one row per score cell (the frame the
    instrument rules check), and the number of wholly blank rows."""
    points = {c: ", ".join(map(str, criteria.scores(c))) for c in ids}
    letters = {c: get_column_letter(col[c] + 1) for c in ids}
    records, blank = [], 0
    for r, row in enumerate(rows[HEADER_ROW:], start=HEADER_ROW + 1):

        def get(name: str, row=row) -> object:
            j = col.get(name)
            return row[j] if j is not None and j < len(row) else None

        item_id = cell_text(get("item_id"))
        raw = {c: cell_text(get(c)) for c in ids}
        empty = item_id is None and all(v is None for v in raw.values())
        has_text = any(cell_text(v) for v in row)
        if empty and not has_text:
            blank += 1
            continue
        shared = {
            "source_file": file,
            "source_sheet": SHEET,
            "source_row": r,
            "la_code_ons": la,
            "item_id": item_id,
            "system": cell_text(get("system")),
            "comment": cell_text(get("comment")),
            "empty_row": empty,
            "row_has_text": has_text,
            "row_scored": any(v is not None for v in raw.values()),
        }
        for k, c in enumerate(ids[:1] if empty else ids):
            records.append(
                {
                    **shared,
                    "first_in_row": k == 0,
                    "criterion": c,
                    "column": letters[c],
                    "raw": None if empty else raw[c],
                    "scale_text": f"{c} scale ({points[c]})",
                    "scale_points": points[c],
                }
            )
    columns = [
        "source_file", "source_sheet", "source_row", "la_code_ons", "item_id", "system",
        "comment", "empty_row", "row_has_text", "row_scored", "first_in_row", "criterion",
        "column", "raw", "scale_text", "scale_points",
    ]  # fmt: skip
    frame = pd.DataFrame(records, columns=columns).astype(
        {"empty_row": bool, "row_has_text": bool, "row_scored": bool, "first_in_row": bool}
    )
    frame["raw"] = frame["raw"].astype(object)
    return frame, blank


def ratings_from_cells(
    cells: pd.DataFrame,
    ctx: InstrumentContext,
    criteria: Criteria,
    unattributable: bool,
    base: dict,
) -> tuple[list[dict], list[dict]]:
    """Every score cell as a rating, or a quarantined rating with the first reason
    it cannot be used (the item, then the rater, then the score)."""
    rows_unknown = set(cells.loc[unknown_item(cells, ctx), "source_row"])
    rows_twice = set(cells.loc[item_twice(cells, ctx), "source_row"])
    scored = cells.loc[cells["raw"].notna()].copy()
    if scored.empty:
        return [], []
    dims = criteria.criteria.set_index("id")["dimension"]
    top = {c: max(v) for c, v in ctx.allowed.items()}
    dont_know = is_dont_know(scored, ctx)
    number = to_number(scored["raw"])
    text, raw = scored["item_id"], scored["raw"]
    reason = np.select(
        [
            scored["source_row"].isin(rows_unknown).to_numpy(),
            scored["source_row"].isin(rows_twice).to_numpy(),
            np.full(len(scored), unattributable),
            not_a_score(scored, ctx).to_numpy(),
            off_the_scale(scored, ctx).to_numpy(),
        ],
        [
            "I05: item " + text.map(repr) + " is not in the data model",
            "I09: item " + text.astype(str) + " is rated twice in this instrument",
            "I03: the rater cannot be identified",
            "I07: " + raw.map(repr) + " is not a score",
            "I06: " + raw + " is off the 1-" + scored["criterion"].map(top).astype(str) + " scale",
        ],
        default="",
    )
    valid = ~dont_know & number.notna() & ~off_the_scale(scored, ctx)
    out = pd.DataFrame(
        {
            "la_code_ons": scored["la_code_ons"],
            **{k: v for k, v in base.items()},
            "item_id": text,
            "system": scored["system"],
            "comment": scored["comment"],
            "file": scored["source_file"],
            "row": scored["source_row"],
            "criterion": scored["criterion"],
            "dimension": scored["criterion"].map(dims),
            "score": pd.Series(
                [int(n) if ok else pd.NA for n, ok in zip(number, valid, strict=True)],
                index=scored.index,
                dtype=object,
            ),
            "dont_know": dont_know.to_numpy(),
        }
    )
    records = out.to_dict("records")
    for rec, score in zip(records, out["score"], strict=True):
        rec["score"] = score  # to_dict writes pd.NA as None, which would make scores floats
    good = [rec for rec, why in zip(records, reason, strict=True) if not why]
    bad = [
        {**rec, "raw": r, "reason": why}
        for rec, r, why in zip(records, raw, reason, strict=True)
        if why
    ]
    return good, bad
