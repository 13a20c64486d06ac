"""Refining the dataset from the pilot's evidence.

For every item one evidence line (completeness, timeliness, quality issues,
definitional inconsistency, whether it discriminated between authorities, and
phase 2's accessibility and usefulness where rated) and a recommended
disposition with its reasons: keep, amend the definition, move to local option,
drop, or *not enough evidence yet*. An item is judged only on the figures of
returns that arrived: a quarter not yet due or a return not yet sent says nothing
about whether an authority can supply it, and an item with returns for fewer
quarters or pilots than the project sets (``refinement`` in project.yaml) is not
decided at all. The refined dataset is written as a new data-model version with a
change log against the version the pilot used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lscb_nb.core import decisions, overrules, periods, states, stats
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
from lscb_nb.pilot import completeness

log = logging.getLogger(__name__)

KEEP, AMEND, LOCAL, DROP = "keep", "amend definition", "local option", "drop"
NOT_ENOUGH = "not enough evidence yet"
DISPOSITIONS: tuple[str, ...] = (KEEP, AMEND, LOCAL, DROP, NOT_ENOUGH)


@dataclass(frozen=True)
class Thresholds:
    """When an item is kept, amended, moved to local option or dropped."""

    drop_below_supplied: float = 50.0  # % of expected figures supplied across the pilot
    local_below_supplied: float = 75.0
    min_discriminating: float = 0.1  # share of boroughs different from the pilot average
    amend_flags: int = 1  # boroughs flagged as counting it differently
    amend_issues: int = 2  # value errors (text, numerator above denominator) found
    min_quarters: int = 2  # quarters whose returns carry the item, before deciding
    min_pilots: int = 1  # pilot authorities whose returns carry it, before deciding

    @classmethod
    def for_project(cls, project) -> Thresholds:
        """The thresholds with the evidence the project asks for (project.yaml)."""
        return cls(min_quarters=project.min_quarters, min_pilots=project.min_pilots)


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
    cells: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per item with everything the pilot learnt about it. The share supplied
    is of the figures whose return arrived (``supplied_received_pct``); with ``cells``
    (:func:`lscb_nb.pilot.completeness.cell_status`), how many quarters and pilots'
    returns carried the item so far. Value errors count error-severity issues only:
    a query (0 of 0, a figure to check) is not an error."""
    out = items[["title", "agency", "essential"]].copy()
    comp = completeness_by_item.reindex(out.index)
    received = "supplied_received_pct" if "supplied_received_pct" in comp else "supplied_pct"
    out["supplied_pct"] = comp[received]
    out["on_time_pct"] = comp["on_time_pct"]
    out["expected"] = comp["expected"].fillna(0).astype(int) if "expected" in comp else 0
    out["received"] = (
        comp["received"].fillna(0).astype(int) if "received" in comp else out["expected"]
    )
    codes = issues["rule_code"].astype(str)
    errors = issues.loc[codes.str.startswith(("V", "X")) & (issues["severity"] == "error")]
    out["quality_issues"] = errors.groupby("item_id").size().reindex(out.index).fillna(0)
    out["quality_issues"] = out["quality_issues"].astype(int)
    out["boroughs_flagged"] = (
        flags.groupby("item_id")["la_code_ons"].nunique().reindex(out.index).fillna(0).astype(int)
    )
    out["discriminating"] = discriminating.reindex(out.index)
    if cells is not None and not cells.empty:
        came = cells.loc[cells["status"].isin(_RECEIVED)]
        out["quarters"] = came.groupby("item_id")["period"].nunique().reindex(out.index)
        out["pilots"] = came.groupby("item_id")["la_code_ons"].nunique().reindex(out.index)
        out["quarters"] = out["quarters"].fillna(0).astype(int)
        out["pilots"] = out["pilots"].fillna(0).astype(int)
        due = cells.loc[cells["status"] != completeness.NOT_DUE]
        out["not_yet_due"] = ~out.index.isin(due["item_id"]) & out.index.isin(cells["item_id"])
    else:
        out["quarters"], out["pilots"] = np.nan, np.nan
        out["not_yet_due"] = False
    for col in ("accessibility", "usefulness", "phase2_decision"):
        out[col] = np.nan if col != "phase2_decision" else None
    if assessment is not None and not assessment.empty:
        a = assessment.set_index("item_id")
        for col in ("accessibility", "usefulness", "phase2_decision"):
            if col in a:
                out[col] = a[col].reindex(out.index)
    return out


# Statuses of a figure whose return arrived: the evidence an item is judged on.
_RECEIVED = states.figure_statuses(expected=True, received=True)


def _too_little(row: pd.Series, t: Thresholds) -> str | None:
    """Why the item cannot be decided yet, or None when there is evidence enough."""
    quarters, pilots = row.get("quarters"), row.get("pilots")
    if pd.isna(row["supplied_pct"]) and not row.get("received"):
        if row.get("not_yet_due") or pd.notna(quarters):
            return "no return carrying it has fallen due yet"
        return "the collection has not yet reached a quarter it is due in"
    if pd.notna(quarters) and quarters < t.min_quarters:
        return (
            f"returns for {counted(int(quarters), 'quarter')} so far; the project decides "
            f"from {t.min_quarters}"
        )
    if pd.notna(pilots) and pilots < t.min_pilots:
        return (
            f"returns from {counted(int(pilots), 'pilot authority', 'pilot authorities')} so "
            f"far; the project decides from {t.min_pilots}"
        )
    return None


def recommend(ev: pd.DataFrame, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """A disposition and the reasons for it, per item. Essential items (statute or
    Working Together) are never dropped: at worst they go forward to be developed. An
    item with too little evidence (see :class:`Thresholds`) is not decided: it goes
    forward as it is, "not enough evidence yet"."""
    t = thresholds
    dispositions, reasons = [], []
    for _item_id, row in ev.iterrows():
        why: list[str] = []
        supplied = row["supplied_pct"]
        wait = _too_little(row, t)
        if wait is not None:
            dispositions.append(NOT_ENOUGH)
            reasons.append(f"not enough evidence yet: {wait}")
            continue
        why.append(
            f"{supplied:.0f}% of the expected figures in the returns received supplied, "
            f"{row['on_time_pct']:.0f}% of all expected figures on time"
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


# The evidence figures the rule reads, as the decision record names them.
EVIDENCE_FIGURES: tuple[str, ...] = (
    "supplied_pct",
    "on_time_pct",
    "received",
    "quarters",
    "pilots",
    "boroughs_flagged",
    "quality_issues",
    "discriminating",
)


def refined_rule(t: Thresholds) -> str:
    """Phase 3's rule in words, with its thresholds (the decision record's ``rule``)."""
    return (
        f"not enough evidence yet with returns for fewer than {t.min_quarters} quarters or "
        f"{t.min_pilots} pilots; else drop below {t.drop_below_supplied:g}% supplied (not if "
        f"essential), amend the definition with {t.amend_flags}+ authorities flagged or "
        f"{t.amend_issues}+ value errors, local option below {t.local_below_supplied:g}% "
        f"supplied or where under {t.min_discriminating:.0%} of authorities differ from the "
        "pilot average (not if essential), else keep"
    )


def _number(value: object) -> float | int | bool | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def decide_refined(
    recs: pd.DataFrame,
    items: pd.DataFrame,
    thresholds: Thresholds = Thresholds(),
    board: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Phase 3's decisions: :func:`recommend`'s dispositions, the board's overrules,
    then the partner guard. Returns (the recommendations with the final
    ``disposition``, what the rule proposed in ``proposed``; the decision table)."""
    t = thresholds
    scoped = recs.loc[recs.index.intersection(items.index)]
    table = decisions.blank_table(items.loc[scoped.index])
    table["rule"] = refined_rule(t)
    table["proposed"] = table["decision"] = scoped["disposition"].astype(str)
    table["reason"] = scoped["reasons"].astype(str)
    table["support"] = scoped["supplied_pct"].astype(float)
    limits = {
        k: getattr(t, k)
        for k in (
            "drop_below_supplied",
            "local_below_supplied",
            "min_discriminating",
            "amend_flags",
            "amend_issues",
            "min_quarters",
            "min_pilots",
        )
    }
    table["evidence"] = [
        {
            **{f: _number(row.get(f)) for f in EVIDENCE_FIGURES},
            "not_yet_due": bool(row.get("not_yet_due", False)),
            "essential": bool(row["essential"]),
            **limits,
        }
        for _, row in scoped.iterrows()
    ]
    if board is not None:
        table = overrules.apply_overrules(table, board, "refined")
    table = decisions.guard_partners(table, items.loc[scoped.index], "refined")
    out = recs.copy()
    final = table["decision"].reindex(out.index).fillna(out["disposition"].astype(str))
    out["proposed"] = out["disposition"].astype(str)
    out["disposition"] = pd.Categorical(
        final, categories=[*DISPOSITIONS, *decisions.GUARD_DECISIONS]
    )
    for item_id, row in table.iterrows():
        if row["overruled_by"] == "board":
            out.loc[item_id, "reasons"] = (
                f"the board decided {row['decision']} ({row['overrule_who']}, "
                f"{row['overrule_date']}): {row['overrule_reason']}; the evidence: "
                f"{row['reason']}"
            )
        elif row["guard"]:
            out.loc[item_id, "reasons"] = f"{row['decision']}: {row['guard']}; {row['reason']}"
    return out, table


def refined_datamodel(
    base: DataModel,
    recommendations: pd.DataFrame,
    flags: pd.DataFrame,
    released: str,
    version: str,
    note: str = "",
) -> DataModel:
    """The refined version: dropped items removed (and their rules), local options
    tiered as such, amended definitions carrying the pilot's note of what to settle;
    any other disposition (not enough evidence yet, kept by the partner guard) carries
    the item forward unchanged. ``note`` ends the description (overrules, guard)."""
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
            f"moved to local option, {counts.get(DROP, 0)} dropped and "
            f"{counts.get(NOT_ENOUGH, 0)} carried forward unchanged with not enough evidence "
            "yet, each for the reasons in the change log." + note
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
