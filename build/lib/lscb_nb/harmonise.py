"""Harmonising boroughs' local item names to the data model.

"No. of refs to CSC", "Referrals - Childrens Social Care" and "NI68 refs to IA"
need to land on the right item. Names are normalised first (case, punctuation,
the shorthand of the field: CSC, CP, CPP, LAC, ICPC, YOT, A&E, NI codes...), then
scored against every item's title with rapidfuzz; an NI code that the item
carries adds weight. Scores at or above ``confident`` are used in batch runs;
scores between ``suggest`` and ``confident`` go to the consultant for review;
anything lower matches nothing. A reviewed crosswalk (see ``crosswalk``) is
applied first and always wins.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

# Shorthand boroughs use, expanded to the data model's wording (whole words only).
ABBREVIATIONS: dict[str, str] = {
    "csc": "childrens social care",
    "cpp": "child protection plan",
    "cpps": "child protection plans",
    "cp": "child protection",
    "icpc": "initial child protection conference",
    "icpcs": "initial child protection conferences",
    "rcpc": "review child protection conference",
    "lac": "looked after children",
    "cla": "children looked after",
    "yot": "youth offending",
    "yos": "youth offending",
    "yjs": "youth justice system",
    "a e": "accident and emergency hospital admissions",
    "neet": "not in education employment or training",
    "scr": "serious case review",
    "scrs": "serious case reviews",
    "cdop": "child death overview panel",
    "dv": "domestic violence",
    "caf": "common assessment",
    "cafs": "common assessments",
    "ia": "initial assessment",
    "ias": "initial assessments",
    "ca": "core assessment",
    "s47": "section 47",
    "s 47": "section 47",
    "refs": "referrals",
    "ref": "referral",
    "w in": "within",
    "no": "number",
    "qtr": "quarter",
    "yp": "young people",
    "cyp": "children and young people",
    "misper": "missing person",
    "cse": "child sexual exploitation",
    "fte": "first time entrants",
    "ppo": "prolific offenders",
    "mappa": "mappa",
    "marac": "marac",
    "camhs": "camhs",
}
# Words that say nothing about which item it is.
STOPWORDS = frozenset({"number", "of", "the", "total", "no", "count", "percentage", "pct", "a"})
_NI = re.compile(r"\bni\s*0*(\d{1,3})\b")


def normalise(text: object) -> str:
    """Lower case, no punctuation, shorthand expanded, NI codes as ``ni 68``."""
    s = str(text).lower()
    s = s.replace("&", " and ").replace("'", "").replace("’", "")
    s = s.replace("a and e", "a e").replace("w/in", "w in")
    s = _NI.sub(lambda m: f" ni{m.group(1)} ", s)
    s = re.sub(r"[^a-z0-9]+", " ", s)
    for short, full in sorted(ABBREVIATIONS.items(), key=lambda kv: -len(kv[0])):
        s = re.sub(rf"\b{short}\b", full, s)
    words = [w for w in s.split() if w not in STOPWORDS]
    return " ".join(words)


def ni_codes(text: str) -> set[str]:
    """NI codes in a normalised name, as ``ni68``."""
    return set(re.findall(r"\bni\d{1,3}\b", text))


def item_texts(items: pd.DataFrame) -> pd.Series:
    """The normalised text each item is matched against: its title."""
    return items["title"].map(normalise)


def score_matrix(local: pd.Series, items: pd.DataFrame) -> np.ndarray:
    """Scores (0-100), local names × items: the mean of token-sort and token-set
    ratios (one rewards the same words, the other a name that is a shortened
    title), plus 15 when the local name carries an NI code the item has."""
    targets = item_texts(items).tolist()
    names = local.tolist()
    sort = process.cdist(names, targets, scorer=fuzz.token_sort_ratio, workers=1)
    tset = process.cdist(names, targets, scorer=fuzz.token_set_ratio, workers=1)
    scores = (sort + tset) / 2
    item_ni = [
        {n.replace(" ", "").lower() for n in codes} for codes in items["national_indicators"]
    ]
    for i, name in enumerate(names):
        codes = ni_codes(name)
        if codes:
            bonus = np.array([15.0 if codes & ni else 0.0 for ni in item_ni])
            scores[i] = scores[i] + bonus
    return np.clip(scores, 0, 100)


def suggest(local_names: pd.Series, items: pd.DataFrame, alternatives: int = 3) -> pd.DataFrame:
    """For each local name: the best item, its score, and the next best candidates."""
    normalised = local_names.map(normalise)
    if normalised.empty:
        return pd.DataFrame(columns=["normalised_name", "suggested_item", "score", "alternatives"])
    scores = score_matrix(normalised, items)
    order = np.argsort(-scores, axis=1)[:, : alternatives + 1]
    ids = items.index.to_numpy()
    return pd.DataFrame(
        {
            "normalised_name": normalised.to_numpy(),
            "suggested_item": ids[order[:, 0]],
            "score": scores[np.arange(len(scores)), order[:, 0]].round(1),
            "alternatives": [list(ids[row[1:]]) for row in order],
        },
        index=local_names.index,
    )


def match(
    local: pd.DataFrame,
    items: pd.DataFrame,
    crosswalk: pd.DataFrame | None = None,
    confident: float = 90,
    suggest_from: float = 70,
) -> pd.DataFrame:
    """Every local item with its suggestion, status and the item used in batch runs.

    ``status``: confirmed, repointed or rejected (the reviewed crosswalk decided),
    confident (score at or above ``confident``), uncertain (between ``suggest_from``
    and ``confident``: waiting for review, not used) or unmatched.
    """
    out = local.copy()
    out[["normalised_name", "suggested_item", "score", "alternatives"]] = suggest(
        local["local_name"], items
    )
    out["status"] = np.select(
        [out["score"] >= confident, out["score"] >= suggest_from],
        ["confident", "uncertain"],
        default="unmatched",
    )
    out["item_id"] = out["suggested_item"].where(out["status"] == "confident")
    if crosswalk is not None and not crosswalk.empty:
        key = crosswalk.drop_duplicates(["la_code_ons", "normalised_name"], keep="last").set_index(
            ["la_code_ons", "normalised_name"]
        )
        idx = pd.MultiIndex.from_frame(out[["la_code_ons", "normalised_name"]])
        decision = key["decision"].reindex(idx).to_numpy()
        chosen = key["item_id"].reindex(idx).to_numpy()
        reviewed = pd.notna(decision)
        status = {"confirm": "confirmed", "repoint": "repointed", "reject": "rejected"}
        out.loc[reviewed, "status"] = [status[d] for d in decision[reviewed]]
        out.loc[reviewed, "item_id"] = [
            None if d == "reject" else c
            for d, c in zip(decision[reviewed], chosen[reviewed], strict=True)
        ]
    out["item_id"] = out["item_id"].astype(object).where(out["item_id"].notna(), None)
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
