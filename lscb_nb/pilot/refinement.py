"""Refining the dataset from the pilot's evidence.

For every item one evidence line (completeness, timeliness, quality issues,
definitional inconsistency, whether it discriminated between boroughs, and
phase 2's accessibility and usefulness where rated) and a recommended
disposition with its reasons: keep, amend the definition, move to local option,
or drop. The refined dataset is written as a new data-model version with a
change log against the version the pilot used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lscb_nb.core import periods, stats
from lscb_nb.core.datamodel import (
    DataModel,
    diff_datamodels,
    format_diff_markdown,
    from_dict,
    keep_items,
    save_datamodel,
    to_dict,
)
from lscb_nb.core.fileio import write_text_atomic
from lscb_nb.core.labels import counted

log = logging.getLogger(__name__)

KEEP, AMEND, LOCAL, DROP = "keep", "amend definition", "local option", "drop"
DISPOSITIONS: tuple[str, ...] = (KEEP, AMEND, LOCAL, DROP)


@dataclass(frozen=True)
class Thresholds:
    """When an item is kept, amended, moved to local option or dropped."""

    drop_below_supplied: float = 50.0  # % of expected figures supplied across the pilot
    local_below_supplied: float = 75.0
    min_discriminating: float = 0.1  # share of boroughs different from the pilot average
    amend_flags: int = 1  # boroughs flagged as counting it differently
    amend_issues: int = 2  # value errors (text, numerator above denominator) found


def discrimination(obs: pd.DataFrame, quarters: int = 4) -> pd.Series:
    """Share of boroughs whose interval excludes the pilot average, per item, over
    each item's latest ``quarters`` quarters pooled: does the item tell boroughs
    apart, or is everyone the same within chance?"""
    from lscb_nb.pilot.observations import pooled, with_intervals

    start_quarter = obs["period"].map(periods.parse_period)
    order = start_quarter.map(lambda sq: sq[0] * 10 + sq[1]).astype(int)
    ranked = order.groupby(obs["item_id"]).rank(method="dense", ascending=False)
    recent = obs.loc[ranked <= quarters]
    per_la = pooled(recent, ["item_id", "la_code_ons"])
    per_la["kind"] = per_la["item_id"].map(recent.groupby("item_id")["kind"].first())
    ci = with_intervals(per_la)
    london = pooled(recent, ["item_id"]).set_index("item_id")["value"]
    found = stats.compare_to_benchmark(
        ci["lower"].to_numpy(), ci["upper"].to_numpy(), ci["item_id"].map(london).to_numpy()
    )
    differs = pd.Series(np.isin(np.asarray(found), ["higher", "lower"]), index=ci.index)
    return differs.groupby(ci["item_id"]).mean()


def evidence(
    items: pd.DataFrame,
    completeness_by_item: pd.DataFrame,
    issues: pd.DataFrame,
    flags: pd.DataFrame,
    discriminating: pd.Series,
    assessment: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per item with everything the pilot learnt about it."""
    out = items[["title", "agency", "essential"]].copy()
    comp = completeness_by_item.reindex(out.index)
    out["supplied_pct"] = comp["supplied_pct"]
    out["on_time_pct"] = comp["on_time_pct"]
    value_issues = issues.loc[issues["rule_code"].astype(str).str.startswith(("V", "X"))]
    out["quality_issues"] = value_issues.groupby("item_id").size().reindex(out.index).fillna(0)
    out["quality_issues"] = out["quality_issues"].astype(int)
    out["boroughs_flagged"] = (
        flags.groupby("item_id")["la_code_ons"].nunique().reindex(out.index).fillna(0).astype(int)
    )
    out["discriminating"] = discriminating.reindex(out.index)
    for col in ("accessibility", "usefulness", "phase2_decision"):
        out[col] = np.nan if col != "phase2_decision" else None
    if assessment is not None and not assessment.empty:
        a = assessment.set_index("item_id")
        for col in ("accessibility", "usefulness", "phase2_decision"):
            if col in a:
                out[col] = a[col].reindex(out.index)
    return out


def recommend(ev: pd.DataFrame, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """A disposition and the reasons for it, per item. Essential items (statute or
    Working Together) are never dropped: at worst they go forward to be developed."""
    t = thresholds
    dispositions, reasons = [], []
    for _item_id, row in ev.iterrows():
        why: list[str] = []
        supplied = row["supplied_pct"]
        if pd.isna(supplied):
            dispositions.append(DROP if not row["essential"] else KEEP)
            reasons.append("no pilot authority was asked for it")
            continue
        why.append(
            f"{supplied:.0f}% of expected figures supplied, {row['on_time_pct']:.0f}% on time"
        )
        if row["boroughs_flagged"] >= t.amend_flags:
            why.append(
                f"{counted(row['boroughs_flagged'], 'authority')} "
                f"{'appears' if row['boroughs_flagged'] == 1 else 'appear'} to count it under a "
                "different definition"
            )
        if row["quality_issues"] >= t.amend_issues:
            why.append(f"{row['quality_issues']} value errors in returns")
        disc = row["discriminating"]
        if pd.notna(disc):
            why.append(f"{disc:.0%} of authorities differ significantly from the pilot average")
        if pd.notna(row.get("usefulness")):
            why.append(
                f"phase 2 rated usefulness {row['usefulness']:.1f}, accessibility "
                f"{row['accessibility']:.1f}"
            )

        if supplied < t.drop_below_supplied and not row["essential"]:
            decision = DROP
            why.insert(0, "too few authorities could supply it")
        elif row["boroughs_flagged"] >= t.amend_flags or row["quality_issues"] >= t.amend_issues:
            decision = AMEND
        elif supplied < t.local_below_supplied and not row["essential"]:
            decision = LOCAL
            why.insert(0, "only some authorities can supply it")
        elif pd.notna(disc) and disc < t.min_discriminating and not row["essential"]:
            decision = LOCAL
            why.insert(0, "it hardly tells authorities apart, so it is of more use locally")
        else:
            decision = KEEP
        dispositions.append(decision)
        reasons.append("; ".join(why))
    out = ev.copy()
    out["disposition"] = pd.Categorical(dispositions, categories=list(DISPOSITIONS))
    out["reasons"] = reasons
    return out


def refined_datamodel(
    base: DataModel,
    recommendations: pd.DataFrame,
    flags: pd.DataFrame,
    released: str,
    version: str,
) -> DataModel:
    """The refined version: dropped items removed (and their rules), local options
    tiered as such, amended definitions carrying the pilot's note of what to settle."""
    raw = to_dict(base)
    rec = recommendations["disposition"].astype(str)
    for item in raw["items"]:
        decision = rec.get(item["item_id"], KEEP)
        if decision == LOCAL:
            item["tier"] = "local_option"
        if decision == AMEND:
            who = flags.loc[flags["item_id"] == item["item_id"], "la_code_ons"].nunique()
            note = (
                f" Pilot note: {counted(who, 'pilot authority')} counted this differently from the "
                "definition above, or returned values that failed validation; agree the "
                "counting rules with each agency's system owner before reporting."
            )
            item["definition"] = item["definition"].rstrip() + note
    raw = keep_items(raw, [i["item_id"] for i in raw["items"] if rec.get(i["item_id"]) != DROP])
    counts = rec.value_counts()
    raw.update(
        version=version,
        status="refined",
        based_on=base.version,
        released=released,
        description=(
            f"The dataset refined from the pilot's quarterly returns: {counts.get(KEEP, 0)} items "
            f"kept, {counts.get(AMEND, 0)} with definitions to amend, {counts.get(LOCAL, 0)} "
            f"moved to local option and {counts.get(DROP, 0)} dropped, each for the reasons in "
            "the change log."
        ),
    )
    return from_dict(raw)


def write_refined(
    base: DataModel, refined: DataModel, recommendations: pd.DataFrame, folder: Path
) -> dict[str, Path]:
    """Save the refined version and its change log (Markdown) atomically."""
    path = save_datamodel(refined, folder)
    diff = diff_datamodels(base, refined)
    lines = [
        format_diff_markdown(diff, f"Changes from {base.version} to {refined.version}"),
        "",
        "## Why: the evidence behind each disposition",
        "",
        "| item | title | disposition | reasons |",
        "|---|---|---|---|",
    ]
    for item_id, row in recommendations.iterrows():
        title = str(row["title"]).replace("|", "/")
        lines.append(f"| {item_id} | {title} | {row['disposition']} | {row['reasons']} |")
    log = folder / f"{refined.version}-changelog.md"
    write_text_atomic(log, "\n".join(lines) + "\n")
    return {"datamodel": path, "changelog": log}
