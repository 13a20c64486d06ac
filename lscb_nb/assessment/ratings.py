"""Scoring the phase 2 ratings: item scores, agreement between raters, decisions.

An item's accessibility (or usefulness) for one rater is the mean of that rater's
scores on the dimension's criteria; the item's score is the mean over raters,
with the standard deviation and a t-based 95% confidence interval so a score
resting on two raters who disagree is not read like one resting on thirty who
agree. Agreement is Krippendorff's alpha for ordinal data (the ``krippendorff``
package, through ``lscb_nb.core.agreement``). Each item is then placed as core,
develop, local option or drop, with the thresholds as parameters and a reason.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import stats as st

from lscb_nb.core import agreement, stats
from lscb_nb.core.datamodel import AGENCY_LABELS, DataModel, from_dict, keep_items, to_dict

log = logging.getLogger(__name__)

CORE, DEVELOP, LOCAL, DROP = "core", "develop", "local option", "drop"
DECISIONS: tuple[str, ...] = (CORE, DEVELOP, LOCAL, DROP)
USEFUL, ACCESSIBLE = 2.75, 2.5  # default thresholds on the 1-4 scales


def rater_dimension_scores(ratings: pd.DataFrame) -> pd.DataFrame:
    """One score per rater, item and dimension: the mean of the rater's criteria."""
    scored = ratings.dropna(subset=["score"])
    keys = ["la_code_ons", "rater_id", "rater_agency", "item_id", "dimension"]
    return scored.groupby(keys, as_index=False)["score"].mean()


def item_scores(ratings: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Mean, SD, rater count and 95% CI per item and dimension (optionally per
    borough or agency): one row per item (and group), dimensions side by side."""
    per_rater = rater_dimension_scores(ratings)
    keys = [*(by or []), "item_id", "dimension"]
    g = per_rater.groupby(keys)["score"]
    out = g.agg(mean="mean", sd="std", n="size").reset_index()
    half = st.t.ppf(0.975, np.maximum(out["n"] - 1, 1)) * out["sd"] / np.sqrt(out["n"])
    out["lower"] = np.where(out["n"] >= 2, out["mean"] - half, np.nan)
    out["upper"] = np.where(out["n"] >= 2, out["mean"] + half, np.nan)
    wide = out.pivot_table(
        index=[*(by or []), "item_id"],
        columns="dimension",
        values=["mean", "sd", "n", "lower", "upper"],
    )
    wide.columns = [f"{dim}_{stat}" if stat != "mean" else dim for stat, dim in wide.columns]
    return wide.reset_index()


def agreement_table(ratings: pd.DataFrame) -> pd.DataFrame:
    """Krippendorff's ordinal alpha overall, per criterion and per borough.

    The units are (borough, item, criterion) triples rated by that borough's raters;
    raters in different boroughs never rate the same unit, which alpha allows.
    """
    frame = ratings.dropna(subset=["score"]).assign(
        unit=lambda f: f["la_code_ons"] + "|" + f["item_id"] + "|" + f["criterion"],
        score=lambda f: f["score"].astype(float),
    )
    overall = agreement.agreement_summary(frame, [], unit="unit").assign(
        level="overall", group="all"
    )
    by_dim = agreement.agreement_summary(frame, ["dimension"], unit="unit").rename(
        columns={"dimension": "group"}
    )
    by_crit = agreement.agreement_summary(frame, ["criterion"], unit="unit").rename(
        columns={"criterion": "group"}
    )
    by_la = agreement.agreement_summary(frame, ["la_code_ons"], unit="unit").rename(
        columns={"la_code_ons": "group"}
    )
    parts = [
        overall,
        by_dim.assign(level="dimension"),
        by_crit.assign(level="criterion"),
        by_la.assign(level="borough"),
    ]
    cols = ["level", "group", "alpha", "alpha_lower", "alpha_upper", "interpretation"]
    cols += ["n_raters", "n_units", "n_pairable_values"]
    return pd.concat(parts, ignore_index=True)[cols]


def most_disputed(ratings: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """Items whose raters disagree most: the share of rater pairs (within a borough
    and criterion) two or more points apart, out of ``pairs`` pairs, with its Wilson
    95% interval (``pairs_lower``, ``pairs_upper``; treating pairs as independent,
    which they are not quite, since a rater is in several) and the spread of scores."""
    frame = ratings.dropna(subset=["score"]).assign(
        unit=lambda f: f["item_id"] + "|" + f["la_code_ons"] + "|" + f["criterion"],
        score=lambda f: f["score"].astype(float),
    )
    per_unit = agreement.disagreement_by_unit(frame, unit="unit")
    per_unit["item_id"] = per_unit["unit"].str.split("|").str[0]
    out = per_unit.groupby("item_id").agg(
        pairs=("n_pairs", "sum"),
        apart=("n_pairs_2_apart", "sum"),
        sd=("sd", "mean"),
        units=("unit", "size"),
    )
    out = out.loc[out["pairs"] > 0]
    out["pairs_two_apart"] = out["apart"] / out["pairs"]
    out["pairs_lower"], out["pairs_upper"] = stats.wilson_ci(out["apart"], out["pairs"])
    out = out.sort_values(["pairs_two_apart", "sd"], ascending=False).head(n)
    return out.drop(columns="apart").reset_index()


def classify(
    scores: pd.DataFrame,
    items: pd.DataFrame,
    useful: float = USEFUL,
    accessible: float = ACCESSIBLE,
) -> pd.DataFrame:
    """Core (useful and accessible), develop (useful, hard to get), local option
    (accessible, less useful) or drop (neither), with the reason in words. Items
    required by statute or Working Together are never dropped: they go to develop."""
    s = scores.set_index("item_id")
    out = pd.DataFrame(index=s.index)
    out["title"] = items.loc[s.index, "title"]
    out["agency"] = items.loc[s.index, "agency"]
    out["usefulness"] = s["usefulness"]
    out["accessibility"] = s["accessibility"]
    is_useful = out["usefulness"] >= useful
    is_accessible = out["accessibility"] >= accessible
    essential = items.loc[s.index, "essential"].astype(bool)
    decision = np.select(
        [is_useful & is_accessible, is_useful, is_accessible, essential],
        [CORE, DEVELOP, LOCAL, DEVELOP],
        default=DROP,
    )
    out["decision"] = pd.Categorical(decision, categories=list(DECISIONS))
    reasons = []
    for item_id, row in out.iterrows():
        u = f"usefulness {row['usefulness']:.2f} {'≥' if is_useful[item_id] else '<'} {useful}"
        a = (
            f"accessibility {row['accessibility']:.2f} "
            f"{'≥' if is_accessible[item_id] else '<'} {accessible}"
        )
        extra = (
            "; kept to develop because statute or Working Together requires it"
            if essential[item_id] and not is_useful[item_id] and not is_accessible[item_id]
            else ""
        )
        reasons.append(f"{u}; {a}{extra}")
    out["reason"] = reasons
    return out


def pilot_datamodel(
    base: DataModel, decisions: pd.DataFrame, released: str, version: str
) -> DataModel:
    """The pilot dataset: the base version's items less those dropped, each tiered
    by its decision (core, develop, local option)."""
    raw = to_dict(base)
    decided = decisions["decision"].astype(str)
    tier = {CORE: "core", DEVELOP: "develop", LOCAL: "local_option"}
    for item in raw["items"]:
        d = decided.get(item["item_id"])
        if d in tier:
            item["tier"] = tier[d]
    raw = keep_items(raw, [i["item_id"] for i in raw["items"] if decided.get(i["item_id"]) != DROP])
    counts = decided.value_counts()
    raw.update(
        version=version,
        status="pilot",
        based_on=base.version,
        released=released,
        description=(
            f"The dataset to pilot, from phase 2's ratings of accessibility and usefulness: "
            f"{counts.get(CORE, 0)} core items, {counts.get(DEVELOP, 0)} to develop, "
            f"{counts.get(LOCAL, 0)} local options; {counts.get(DROP, 0)} dropped as neither "
            "useful nor accessible."
        ),
    )
    return from_dict(raw)


SYSTEMS_META = {
    "kind": "system_accessibility",
    "source": "assessment/ratings",
    "row_column": "System",
    "mean_column": "Mean accessibility",
    "count_column": "Scores",
}


def system_accessibility(ratings: pd.DataFrame) -> pd.DataFrame:
    """Mean accessibility score per source system raters named, lowest first.

    Only the accessibility criteria count (how easily the figure comes out of the
    system): usefulness says nothing about a system. Phase 2's report and the final
    report's IT section both use this, so they cannot disagree. Columns: system,
    mean, count (scores), items.
    """
    rated = ratings.dropna(subset=["score", "system"])
    rated = rated.loc[
        (rated["dimension"] == "accessibility") & (rated["system"].astype(str).str.strip() != "")
    ].astype({"score": float})
    g = rated.groupby("system")
    out = g["score"].agg(["mean", "count"]).join(g["item_id"].nunique().rename("items"))
    return out.sort_values("mean").reset_index()


def accessibility_grid(ratings: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Mean accessibility score by supplying agency (rows, labelled, hardest first) and
    criterion (columns)."""
    return score_grid(ratings, items, "accessibility")


def score_grid(ratings: pd.DataFrame, items: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Mean score on one dimension's criteria by supplying agency (rows, labelled,
    lowest first) and criterion (columns, as coded)."""
    r = ratings.dropna(subset=["score"]).astype({"score": float})
    scored = r.loc[r["dimension"] == dimension].copy()
    scored["agency"] = scored["item_id"].map(items["agency"]).map(lambda a: AGENCY_LABELS.get(a, a))
    grid = scored.pivot_table(index="agency", columns="criterion", values="score", aggfunc="mean")
    return grid.loc[grid.mean(axis=1).sort_values().index]
