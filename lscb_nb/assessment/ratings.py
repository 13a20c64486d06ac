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

from lscb_nb.core import agreement, decisions, overrules, stats
from lscb_nb.core.datamodel import AGENCY_LABELS, DataModel, from_dict, keep_items, to_dict

log = logging.getLogger(__name__)

CORE, DEVELOP, LOCAL, DROP = "core", "develop", "local option", "drop"
DISCUSS = "for discussion"  # raters did not agree well enough to place the item
DECISIONS: tuple[str, ...] = (CORE, DEVELOP, LOCAL, DROP, DISCUSS)
# Krippendorff (2004), Content Analysis, 2nd ed., p. 241: tentative conclusions from 0.667.
MIN_ALPHA_LOWER = 0.667
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


def item_agreement(ratings: pd.DataFrame, items: pd.DataFrame, n_boot: int = 1000) -> pd.DataFrame:
    """Per item: Krippendorff's ordinal alpha over its ratings with its 95% bootstrap
    interval (units: the item's (borough, criterion) pairs, as :func:`agreement_table`),
    and how many of its raters are from the agency that supplies it
    (``own_agency_raters``): a score from no one who holds the data is marked."""
    cols = ["item_id", "alpha", "alpha_lower", "alpha_upper", "n_raters", "own_agency_raters"]
    frame = ratings.dropna(subset=["score"])
    if frame.empty:
        return pd.DataFrame(columns=cols)
    frame = frame.assign(
        unit=lambda f: f["la_code_ons"] + "|" + f["criterion"],
        score=lambda f: f["score"].astype(float),
    )
    out = agreement.agreement_summary(frame, ["item_id"], unit="unit", n_boot=n_boot)
    agency = frame["item_id"].map(items["agency"])
    own = frame.loc[frame["rater_agency"].astype(str) == agency.astype(str)]
    counts = own.groupby("item_id")["rater_id"].nunique()
    out["own_agency_raters"] = out["item_id"].map(counts).fillna(0).astype(int)
    return out[cols]


def classify(
    scores: pd.DataFrame,
    items: pd.DataFrame,
    useful: float = USEFUL,
    accessible: float = ACCESSIBLE,
    agreed: pd.DataFrame | None = None,
    min_alpha_lower: float = MIN_ALPHA_LOWER,
) -> pd.DataFrame:
    """Core (useful and accessible), develop (useful, hard to get), local option
    (accessible, less useful) or drop (neither), with the reason in words. Items
    required by statute or Working Together are never dropped: they go to develop.

    With ``agreed`` (:func:`item_agreement`), an item is placed only where the lower
    bound of its raters' alpha interval is at least ``min_alpha_lower``; otherwise it
    is :data:`DISCUSS` (what the scores alone suggest stays in ``scores_suggest``), and
    an item none of whose raters is from its own agency says so."""
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
    out["scores_suggest"] = out["decision"].astype(str)
    if agreed is not None:
        out = _with_agreement(out, agreed.set_index("item_id"), min_alpha_lower)
    return out


def _with_agreement(out: pd.DataFrame, agreed: pd.DataFrame, floor: float) -> pd.DataFrame:
    """For discussion where raters do not agree well enough; marked where no rater is
    from the item's own agency."""
    for col in ("alpha", "alpha_lower", "alpha_upper"):
        out[col] = agreed[col].reindex(out.index).astype(float)
    out["own_agency_raters"] = agreed["own_agency_raters"].reindex(out.index).fillna(0)
    out["own_agency_raters"] = out["own_agency_raters"].astype(int)
    weak = ~(out["alpha_lower"] >= floor)  # NaN (not measurable) is weak too
    decision = out["decision"].astype(str).where(~weak, DISCUSS)
    out["decision"] = pd.Categorical(decision, categories=list(DECISIONS))
    reasons = []
    for item_id, row in out.iterrows():
        why = row["reason"]
        if weak[item_id]:
            measured = (
                f"raters' agreement α {row['alpha']:.2f} (95% interval {row['alpha_lower']:.2f}"
                f" to {row['alpha_upper']:.2f}), lower bound below {floor}"
                if pd.notna(row["alpha_lower"])
                else "raters' agreement on this item cannot be measured"
            )
            why = f"for discussion: {measured}; the scores alone suggest {row['scores_suggest']}"
            why += f" ({row['reason']})"
        if row["own_agency_raters"] == 0:
            why += f"; no rater is from {AGENCY_LABELS.get(row['agency'], row['agency'])}"
        reasons.append(why)
    out["reason"] = reasons
    return out


def pilot_datamodel(
    base: DataModel, decisions: pd.DataFrame, released: str, version: str, note: str = ""
) -> DataModel:
    """The pilot dataset: the base version's items less those dropped, each tiered
    by its decision (core, develop, local option; any other decision, such as for
    discussion, carries the item forward unchanged). ``note`` ends the description
    (the board's overrules, the items the partner guard kept)."""
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
            "useful nor accessible"
            + (
                f"; {counts.get(DISCUSS, 0)} for discussion, carried forward unchanged, where "
                "raters did not agree well enough to place them."
                if counts.get(DISCUSS, 0)
                else "."
            )
            + note
        ),
    )
    return from_dict(raw)


def pilot_rule(useful: float, accessible: float, min_alpha_lower: float) -> str:
    """Phase 2's rule in words, with its thresholds (the decision record's ``rule``)."""
    return (
        f"for discussion where the lower bound of the raters' alpha is below {min_alpha_lower}"
        f" (or alpha cannot be measured); else core where usefulness ≥ {useful} and "
        f"accessibility ≥ {accessible}, develop where only useful, local option where only "
        "accessible, drop where neither (develop if essential)"
    )


def decide_pilot(
    scores: pd.DataFrame,
    items: pd.DataFrame,
    agreed: pd.DataFrame | None,
    useful: float = USEFUL,
    accessible: float = ACCESSIBLE,
    min_alpha_lower: float = MIN_ALPHA_LOWER,
    board: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Phase 2's decisions: :func:`classify`, the board's overrules, then the partner
    guard. Returns (the classified items with the final ``decision`` and ``reason``,
    the decision table of every item of ``items``; an item no one rated is for
    discussion)."""
    rated = scores.loc[scores["item_id"].isin(items.index)]
    placed = classify(rated, items, useful, accessible, agreed, min_alpha_lower)
    table = decisions.blank_table(items)
    table["rule"] = pilot_rule(useful, accessible, min_alpha_lower)
    proposed = placed["decision"].astype(str).reindex(table.index).fillna(DISCUSS)
    table["proposed"] = table["decision"] = proposed
    table["reason"] = (
        placed["reason"].reindex(table.index).fillna("for discussion: no rater scored it")
    )
    table["support"] = placed[["usefulness", "accessibility"]].mean(axis=1).reindex(table.index)
    figures = ("usefulness", "accessibility", "alpha", "alpha_lower", "alpha_upper")
    table["evidence"] = [
        {
            **{c: _figure(placed, i, c) for c in figures},
            "own_agency_raters": _figure(placed, i, "own_agency_raters"),
            "useful": useful,
            "accessible": accessible,
            "min_alpha_lower": min_alpha_lower if agreed is not None else None,
            "essential": bool(items.at[i, "essential"]),
        }
        for i in table.index
    ]
    if board is not None:
        table = overrules.apply_overrules(table, board, "pilot")
    table = decisions.guard_partners(table, items, "pilot")
    final = placed.copy()
    final["decision"] = table.loc[final.index, "decision"]
    for item_id, row in table.loc[final.index].iterrows():
        if row["overruled_by"] == "board":
            final.loc[item_id, "reason"] = (
                f"the board decided {row['decision']} ({row['overrule_who']}, "
                f"{row['overrule_date']}): {row['overrule_reason']}; {row['reason']}"
            )
        elif row["guard"]:
            final.loc[item_id, "reason"] = f"{row['decision']}: {row['guard']}; {row['reason']}"
    return final, table


def _figure(frame: pd.DataFrame, item_id: str, col: str) -> float | None:
    if col not in frame or item_id not in frame.index or pd.isna(frame.at[item_id, col]):
        return None
    return float(frame.at[item_id, col])


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
