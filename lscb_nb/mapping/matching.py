"""Deciding which data-model item each borough's local item is, with the reviewed crosswalk.

:func:`match` uses the best-scoring item (``scoring``) in batch runs only when its score
reaches ``confident`` *and* beats the second-best item by ``margin``; otherwise a score
from ``suggest_from`` goes to the consultant for review, and anything lower matches
nothing. A reviewed crosswalk (see ``crosswalk``) is applied first and always wins for
its borough; a decision made for another borough about the same normalised name becomes
a marked suggestion in the review band, never a silent match. The thresholds are chosen
by leave-one-source-out cross-validation on real published indicator names
(``thresholds``, ``scripts/matching_accuracy.py``).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.mapping.names import normalise
from lscb_nb.mapping.scoring import Catalogue, build_catalogue, score_matrix

log = logging.getLogger(__name__)

# Thresholds chosen by leave-one-source-out cross-validation on the real-names set
# (evaluation/real_names/, scripts/matching_accuracy.py prints how).
CONFIDENT: float = 82.0
MARGIN: float = 1.0
SUGGEST: float = 61.0


def suggest(
    local_names: pd.Series,
    items: pd.DataFrame | Catalogue,
    alternatives: int = 3,
    definitions: pd.Series | None = None,
    units: pd.Series | None = None,
) -> pd.DataFrame:
    """For each local name: the best item, its score, the margin over the second-best
    item and the next best candidates."""
    columns = ["normalised_name", "suggested_item", "score", "margin", "alternatives"]
    if local_names.empty:
        return pd.DataFrame(columns=columns)
    cat = items if isinstance(items, Catalogue) else build_catalogue(items)
    defs = None if definitions is None else definitions.tolist()
    scores = score_matrix(
        local_names.tolist(), cat, defs, None if units is None else units.tolist()
    )
    order = np.argsort(-scores, axis=1, kind="stable")[:, : alternatives + 1]
    rows = np.arange(len(scores))
    best = scores[rows, order[:, 0]]
    second = scores[rows, order[:, 1]] if scores.shape[1] > 1 else np.zeros(len(scores))
    return pd.DataFrame(
        {
            # The review key is the name alone (the definition may change between
            # returns; the crosswalk keys decisions by the name).
            "normalised_name": [normalise(n) for n in local_names],
            "suggested_item": cat.item_ids[order[:, 0]],
            "score": best.round(1),
            "margin": (best - second).round(1),
            "alternatives": [list(cat.item_ids[row[1:]]) for row in order],
        },
        index=local_names.index,
    )


def decide(
    score: np.ndarray | pd.Series,
    margin: np.ndarray | pd.Series,
    confident: float = CONFIDENT,
    suggest_from: float = SUGGEST,
    min_margin: float = MARGIN,
) -> np.ndarray:
    """confident (score and margin both high enough), uncertain (to review) or unmatched."""
    score, margin = np.asarray(score, float), np.asarray(margin, float)
    sure = (score >= confident) & (margin >= min_margin)
    return np.select([sure, score >= suggest_from], ["confident", "uncertain"], "unmatched")


# --------------------------------------------------------------------------------------
# Matching with the reviewed crosswalk
# --------------------------------------------------------------------------------------


def match(
    local: pd.DataFrame,
    items: pd.DataFrame,
    crosswalk: pd.DataFrame | None = None,
    confident: float = CONFIDENT,
    suggest_from: float = SUGGEST,
    margin: float = MARGIN,
) -> pd.DataFrame:
    """Every local item with its suggestion, status and the item used in batch runs.

    ``status``: confirmed, repointed or rejected (the reviewed crosswalk decided for
    this borough), confident (score at or above ``confident`` and ``margin`` clear of
    the second-best item), uncertain (waiting for review, not used) or unmatched.
    ``reviewed_elsewhere`` says when another borough's decision about the same
    normalised name made or changed the suggestion; such a row is always uncertain
    unless the score alone was confident for the same item.
    """
    out = local.copy()
    definitions = out.get("local_definition")
    units = out.get("local_unit")
    found = suggest(out["local_name"], items, definitions=definitions, units=units)
    for col in found.columns:
        out[col] = found[col]
    out["status"] = decide(out["score"], out["margin"], confident, suggest_from, margin)
    out["item_id"] = out["suggested_item"].where(out["status"] == "confident")
    out["reviewed_elsewhere"] = None
    if crosswalk is not None and not crosswalk.empty:
        out = _apply_crosswalk(out, crosswalk)
    out["item_id"] = out["item_id"].astype(object).where(out["item_id"].notna(), None)
    return out


def _crosswalk_keys(crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Decisions keyed by the name as normalised now (so a better normaliser never
    orphans an old decision), latest first."""
    walk = crosswalk.copy()
    walk["key"] = walk["local_name"].map(normalise)
    order = walk["decided_at"] if "decided_at" in walk else pd.Series(None, index=walk.index)
    walk["_order"] = order.fillna("").astype(str)
    return walk.sort_values("_order", kind="stable")


def _apply_crosswalk(out: pd.DataFrame, crosswalk: pd.DataFrame) -> pd.DataFrame:
    walk = _crosswalk_keys(crosswalk)
    own = walk.drop_duplicates(["la_code_ons", "key"], keep="last").set_index(
        ["la_code_ons", "key"]
    )
    idx = pd.MultiIndex.from_frame(out[["la_code_ons", "normalised_name"]])
    decision = own["decision"].reindex(idx).to_numpy()
    chosen = own["item_id"].reindex(idx).to_numpy()
    reviewed = pd.notna(decision)
    status = {"confirm": "confirmed", "repoint": "repointed", "reject": "rejected"}
    out.loc[reviewed, "status"] = [status[d] for d in decision[reviewed]]
    out.loc[reviewed, "item_id"] = [
        None if d == "reject" else c
        for d, c in zip(decision[reviewed], chosen[reviewed], strict=True)
    ]
    # Decisions about the same name for other boroughs: strong suggestions, never matches.
    for pos in np.flatnonzero(~reviewed):
        row = out.iloc[pos]
        others = walk.loc[
            (walk["key"] == row["normalised_name"]) & (walk["la_code_ons"] != row["la_code_ons"])
        ]
        if others.empty or not row["normalised_name"]:
            continue
        latest = others.iloc[-1]
        label = out.index[pos]
        where = ", ".join(sorted(others["la_code_ons"].astype(str).unique()))
        if latest["decision"] == "reject":
            out.at[label, "reviewed_elsewhere"] = f"rejected for {where}"
            if row["status"] == "confident":
                out.at[label, "status"] = "uncertain"
                out.at[label, "item_id"] = None
            continue
        item = latest["item_id"]
        out.at[label, "reviewed_elsewhere"] = f"{item} decided for {where}"
        if row["status"] == "confident" and row["suggested_item"] == item:
            continue
        if row["suggested_item"] != item:
            rest = [a for a in [row["suggested_item"], *row["alternatives"]] if a != item]
            out.at[label, "alternatives"] = rest[: len(row["alternatives"])]
            out.at[label, "suggested_item"] = item
        out.at[label, "status"] = "uncertain"
        out.at[label, "item_id"] = None
    return out


def accuracy(matches: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Precision and recall of the items used in batch runs against the truth.

    Precision: of the local items given an item, the share given the right one.
    Recall: of the local items that really are a data-model item, the share found.
    """
    both = matches.merge(
        truth.rename(columns={"item_id": "true_item"}),
        on=["la_code_ons", "local_name"],
        how="inner",
    )
    given = both["item_id"].notna()
    real = both["true_item"].notna()
    right = given & (both["item_id"] == both["true_item"])
    precision = right.sum() / given.sum() if given.any() else float("nan")
    recall = right.sum() / real.sum() if real.any() else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else float("nan")
    return {
        "local_items": len(both),
        "matched": int(given.sum()),
        "correct": int(right.sum()),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
    }
