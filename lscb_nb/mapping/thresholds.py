"""Choosing the matching thresholds by leave-one-source-out cross-validation on labelled names.

Real published indicator names (``evaluation/real_names/``), hand-labelled against the
data model, are ranked (:func:`rank_names`), judged (:func:`figures`) and used to choose
the thresholds ``matching`` ships with (:func:`choose_thresholds`,
:func:`cross_validate`); ``scripts/matching_accuracy.py`` prints how.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from lscb_nb.mapping.matching import CONFIDENT, MARGIN, SUGGEST, decide
from lscb_nb.mapping.names import NI_CODE
from lscb_nb.mapping.scoring import build_catalogue, score_matrix

log = logging.getLogger(__name__)

# Targets the thresholds are chosen to meet (issue 13).
TARGET_PRECISION = 0.95
MAX_REVIEW_SHARE = 0.20
# The review band is chosen to send at most this share of the training names, two
# points under the limit, so that a new set of names stays under it too.
REVIEW_SHARE_AIM = 0.18


@dataclass(frozen=True)
class Thresholds:
    confident: float = CONFIDENT
    margin: float = MARGIN
    suggest_from: float = SUGGEST


def rank_names(
    names: pd.DataFrame, items: pd.DataFrame, drop_alias: Callable[[str, str], bool] | None = None
) -> pd.DataFrame:
    """Labelled names (``local_name``, ``item_id``, optional ``local_definition`` and
    ``local_unit``) with best score, margin, whether the best is right, and whether the
    right item is among the top three."""
    cat = build_catalogue(items, drop_alias)
    defs = names["local_definition"].tolist() if "local_definition" in names else None
    units = names["local_unit"].tolist() if "local_unit" in names else None
    scores = score_matrix(names["local_name"].tolist(), cat, defs, units)
    order = np.argsort(-scores, axis=1, kind="stable")
    rows = np.arange(len(scores))
    top3 = cat.item_ids[order[:, :3]]
    truth = names["item_id"].where(names["item_id"].notna() & (names["item_id"] != ""), None)
    out = names.copy()
    out["best_item"] = cat.item_ids[order[:, 0]]
    out["score"] = scores[rows, order[:, 0]]
    out["margin"] = out["score"] - scores[rows, order[:, 1]]
    out["has_item"] = truth.notna().to_numpy()
    out["best_right"] = (out["best_item"] == truth).to_numpy()
    out["in_top3"] = [t is not None and t in row for t, row in zip(truth, top3, strict=True)]
    return out


def figures(ranked: pd.DataFrame, t: Thresholds) -> dict[str, float]:
    """Precision and recall of confident matches, top-3 hit rate among names that have
    an item, and the share of names sent to review."""
    status = decide(ranked["score"], ranked["margin"], t.confident, t.suggest_from, t.margin)
    sure = status == "confident"
    right = sure & ranked["best_right"].to_numpy()
    has = ranked["has_item"].to_numpy()
    return {
        "names": len(ranked),
        "with_item": int(has.sum()),
        "confident": int(sure.sum()),
        "precision": float(right.sum() / sure.sum()) if sure.any() else float("nan"),
        "recall": float(right.sum() / has.sum()) if has.any() else float("nan"),
        "top3": float(ranked.loc[has, "in_top3"].mean()) if has.any() else float("nan"),
        "review_share": float((status == "uncertain").mean()),
    }


def choose_thresholds(
    ranked: pd.DataFrame,
    precision: float = TARGET_PRECISION,
    review_share: float = REVIEW_SHARE_AIM,
) -> Thresholds:
    """The thresholds that find the most right items with confident matches at the
    target precision, then the widest review band within the review share."""
    score = ranked["score"].to_numpy()
    margin = ranked["margin"].to_numpy()
    right = ranked["best_right"].to_numpy()
    has = max(int(ranked["has_item"].sum()), 1)
    best: tuple | None = None
    for c in np.arange(50.0, 100.01, 1.0):
        for m in np.arange(0.0, 20.01, 1.0):
            sure = (score >= c) & (margin >= m)
            n = int(sure.sum())
            prec = right[sure].mean() if n else 0.0
            found = right[sure].sum() / has
            key = (prec >= precision, found if prec >= precision else prec, prec, m, c)
            if best is None or key > best[0]:
                best = (key, c, m)
    _, c, m = best
    sure = (score >= c) & (margin >= m)
    s = c
    for candidate in np.arange(c, 29.99, -1.0):
        if ((~sure) & (score >= candidate)).mean() <= review_share:
            s = candidate
        else:
            break
    return Thresholds(float(c), float(m), float(s))


def _as_written(text: str) -> str:
    """A name as written, give or take case, punctuation and NI codes."""
    s = NI_CODE.sub(" ", str(text).lower())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", s).split())


def copied_from(names: Iterable[str]) -> Callable[[str, str], bool]:
    """An alias filter that sets aside aliases copying (or nearly copying) any of
    ``names`` as written: what a held-out source could otherwise be matched on by copy.
    Aliases that only normalise to the same words are kept: finding those is the
    matcher's job."""
    written = {_as_written(n) for n in names} - {""}

    def drop(_item_id: str, alias: str) -> bool:
        mine = _as_written(alias)
        return mine in written or any(fuzz.token_sort_ratio(mine, w) >= 90 for w in written)

    return drop


def lait_names() -> list[str]:
    """Every measure name and chart title in DfE's LAIT data dictionary (bundled): the
    published list some aliases were drawn from."""
    path = resources.files("lscb_nb.data").joinpath("reference", "lait_data_dictionary.csv")
    with resources.as_file(path) as file:
        frame = pd.read_csv(file, usecols=["Measure", "Chart_title"], dtype=str)
    return sorted(set(frame["Measure"].dropna()) | set(frame["Chart_title"].dropna()))


def cross_validate(
    names: pd.DataFrame,
    items: pd.DataFrame,
    by: str = "source",
    precision: float = TARGET_PRECISION,
    review_share: float = REVIEW_SHARE_AIM,
    source_lists: dict[str, Iterable[str]] | None = None,
) -> tuple[pd.DataFrame, dict[str, float], dict[str, Thresholds]]:
    """Leave-one-source-out: every name is scored without the aliases that repeat a
    name of its own source (or of the whole published list the source is, given in
    ``source_lists``), and judged with thresholds chosen on the other sources only.

    Returns the ranked names with the status each got, the pooled figures, and the
    thresholds each held-out source was judged with.
    """
    source_lists = source_lists or {}
    parts = []
    for source, part in names.groupby(by, sort=False):
        held_out = [*part["local_name"], *source_lists.get(str(source), [])]
        parts.append(rank_names(part, items, copied_from(held_out)))
    ranked = pd.concat(parts).loc[names.index]
    status = pd.Series(index=ranked.index, dtype=object)
    chosen: dict[str, Thresholds] = {}
    for source, part in ranked.groupby(by, sort=False):
        t = choose_thresholds(ranked.loc[ranked[by] != source], precision, review_share)
        chosen[str(source)] = t
        status.loc[part.index] = decide(
            part["score"], part["margin"], t.confident, t.suggest_from, t.margin
        )
    ranked["status"] = status
    sure = ranked["status"] == "confident"
    right = sure & ranked["best_right"]
    has = ranked["has_item"]
    pooled = {
        "names": len(ranked),
        "sources": int(ranked[by].nunique()),
        "with_item": int(has.sum()),
        "confident": int(sure.sum()),
        "precision": float(right.sum() / sure.sum()) if sure.any() else float("nan"),
        "recall": float(right.sum() / has.sum()) if has.any() else float("nan"),
        "top3": float(ranked.loc[has, "in_top3"].mean()),
        "review_share": float((ranked["status"] == "uncertain").mean()),
    }
    return ranked, pooled, chosen
