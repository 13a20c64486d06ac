"""The decision record: every item's path candidate → draft → pilot → refined, in one table.

Each stage that writes a data-model version (phase 1's draft, phase 2's pilot, phase
3's refined) decides something about every item of the version it starts from: the
rule it applied, the evidence figures the rule read (named, so a reader or a test can
recompute the decision), what the rule proposed, what was decided in the end, and why
the two differ where they do (a board overrule, or the partner guard below). Each
stage replaces its own rows of ``data/processed/decisions.parquet``; reports read the
record and never work a decision out again, so what they say about decisions cannot
disagree with the versions written.

The partner guard (:func:`guard_partners`) is why no version drops every item of a
partner agency, or the denominator (or named total) of an item it keeps, without the
board being asked: the project exists to give boards a *multi-agency* dataset.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from lscb_nb.core.board import Finding, listed
from lscb_nb.core.datamodel import AGENCY_LABELS
from lscb_nb.core.display import Section, esc, table
from lscb_nb.core.fileio import write_parquet_atomic

log = logging.getLogger(__name__)

RECORD_FILE = "decisions.parquet"
STAGES: tuple[str, ...] = ("draft", "pilot", "refined")

# Each stage's decisions, as its rule names them. The last of pilot's and refined's
# leave the item as it was: the evidence is not strong enough to decide.
STAGE_DECISIONS: dict[str, tuple[str, ...]] = {
    "draft": ("core", "develop", "drop"),
    "pilot": ("core", "develop", "local option", "drop", "for discussion"),
    "refined": ("keep", "amend definition", "local option", "drop", "not enough evidence yet"),
}
UNDECIDED: dict[str, str] = {"pilot": "for discussion", "refined": "not enough evidence yet"}
DROP = "drop"

# What the guard records when it keeps an item the rule would have dropped.
KEPT_FOR_PARTNER = "kept so no partner is lost: the board must decide"
KEPT_AS_TOTAL = "kept as the denominator or total of an item kept"
GUARD_DECISIONS: tuple[str, ...] = (KEPT_FOR_PARTNER, KEPT_AS_TOTAL)

# The record's columns, declared once: name -> what it holds.
COLUMNS: dict[str, str] = {
    "item_id": "the data-model item",
    "title": "the item's title",
    "agency": "the partner agency that supplies it (code)",
    "stage": "draft, pilot or refined: the step of the item's path",
    "based_on": "the version the stage started from",
    "version": "the version the stage wrote",
    "rule": "the rule the stage applied, in words with its thresholds",
    "evidence": "the figures the rule read, as JSON (name: value)",
    "proposed": "what the rule decided from the evidence",
    "decision": "what was decided in the end (the rule, an overrule or the partner guard)",
    "reason": "why, in words",
    "guard": "why the partner guard kept an item the rule dropped (empty where it did not)",
    "overruled_by": "'board' where the board's overrule file set the decision",
    "overrule_reason": "the board's reason",
    "overrule_who": "who recorded the overrule",
    "overrule_date": "when (ISO date)",
}
IN_VERSION = "in_version"  # derived on reading: the item is in the version written


def blank_table(items: pd.DataFrame) -> pd.DataFrame:
    """The per-stage working table a stage fills in before :func:`guard_partners`,
    :func:`lscb_nb.core.overrules.apply_overrules` and :func:`stage_rows`."""
    out = pd.DataFrame(index=items.index.copy())
    out["title"] = items["title"].astype(str)
    out["agency"] = items["agency"].astype(str)
    for col in ("rule", "proposed", "decision", "reason", "guard", "overruled_by"):
        out[col] = ""
    for col in ("overrule_reason", "overrule_who", "overrule_date"):
        out[col] = ""
    out["evidence"] = [{} for _ in range(len(out))]
    out["support"] = 0.0
    return out


def kept(decision: pd.Series) -> pd.Series:
    """True where the decision leaves the item in the version written."""
    return decision.astype(str) != DROP


# ---- the partner guard ---------------------------------------------------------------

_CODE = re.compile(r"\b[A-Z]{2,5}\d{2,3}\b")


def totals_needed(items: pd.DataFrame, item_id: str) -> list[str]:
    """The items a kept item needs: its ``denominator_item``, and any item its
    denominator text names (a share of a total the model holds, "Referrals (CSC01)")."""
    row = items.loc[item_id]
    found: list[str] = []
    denominator = row.get("denominator_item") if "denominator_item" in items else None
    if isinstance(denominator, str) and denominator:
        found.append(denominator)
    text = row.get("denominator") if "denominator" in items else None
    if isinstance(text, str):
        found += [c for c in _CODE.findall(text) if c in items.index and c != item_id]
    return list(dict.fromkeys(f for f in found if f in items.index))


def guard_partners(table: pd.DataFrame, items: pd.DataFrame, stage: str) -> pd.DataFrame:
    """Keep every partner and every total a kept item needs.

    ``table`` is the stage's working table (:func:`blank_table`) after its rule and any
    overrule: ``decision`` set, ``support`` the stage's evidence for the item (higher
    is better supported). For each agency that had items in ``items`` (the version the
    stage started from) and would have none, its best-supported item is kept and marked
    :data:`KEPT_FOR_PARTNER`, unless the board's overrule file dropped one of that
    agency's items (the board has decided). Then every denominator or named total of a
    kept item is kept (:data:`KEPT_AS_TOTAL`), following chains. ``guard`` says why.
    """
    out = table.copy()
    board_dropped = out["overruled_by"].eq("board") & out["decision"].eq(DROP)
    for agency in dict.fromkeys(items.loc[out.index, "agency"].astype(str)):
        mine = out.loc[out["agency"] == agency]
        if kept(mine["decision"]).any() or board_dropped.loc[mine.index].any():
            continue
        best = mine["support"].astype(float).fillna(float("-inf")).idxmax()
        label = AGENCY_LABELS.get(agency, agency)
        out.loc[best, "decision"] = KEPT_FOR_PARTNER
        out.loc[best, "guard"] = (
            f"the rule would have removed every {label} item ({len(mine)}); this is its "
            "best-supported one"
        )
    while True:
        added = False
        for item_id in out.index[kept(out["decision"])]:
            for total in totals_needed(items, item_id):
                if total in out.index and not kept(out.loc[[total], "decision"]).iloc[0]:
                    out.loc[total, "decision"] = KEPT_AS_TOTAL
                    out.loc[total, "guard"] = (
                        f"the denominator or total of {item_id} ({items.at[item_id, 'title']}), "
                        "which is kept"
                    )
                    added = True
        if not added:
            return out


# ---- writing and reading the record --------------------------------------------------


def stage_rows(table: pd.DataFrame, stage: str, based_on: str, version: str) -> pd.DataFrame:
    """The record's rows for one stage, in the declared columns."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}, not {stage!r}")
    rows = table.reset_index(names="item_id").assign(
        stage=stage, based_on=based_on, version=version
    )
    rows["evidence"] = rows["evidence"].map(lambda e: json.dumps(_plain(e), sort_keys=True))
    return rows[list(COLUMNS)].astype(str)


def _plain(evidence: Mapping) -> dict:
    """Evidence with numpy and missing values made JSON-safe (missing is null)."""
    out = {}
    for key, value in dict(evidence).items():
        if value is None or (isinstance(value, float) and value != value):
            out[key] = None
        elif hasattr(value, "item"):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def record_path(processed: Path) -> Path:
    return Path(processed) / RECORD_FILE


def write_stage(processed: Path, rows: pd.DataFrame) -> Path:
    """Replace the record's rows of the stage ``rows`` belong to, atomically."""
    stages = set(rows["stage"])
    if len(stages) != 1:
        raise ValueError(f"write one stage's rows at a time, not {sorted(stages)}")
    path = record_path(processed)
    old = read_record(processed)
    keep = old.loc[~old["stage"].isin(stages), list(COLUMNS)] if not old.empty else old
    record = pd.concat([keep, rows[list(COLUMNS)]], ignore_index=True)
    order = {s: i for i, s in enumerate(STAGES)}
    record = record.sort_values(
        ["stage", "item_id"], key=lambda s: s.map(order) if s.name == "stage" else s
    ).reset_index(drop=True)
    write_parquet_atomic(path, record)
    return path


def read_record(processed: Path, stage: str | None = None) -> pd.DataFrame:
    """The record (or one stage's rows), with ``in_version``; empty before any stage ran."""
    path = record_path(processed)
    if not path.exists():
        return pd.DataFrame(columns=[*COLUMNS, IN_VERSION])
    record = pd.read_parquet(path)
    record[IN_VERSION] = kept(record["decision"])
    return record if stage is None else record.loc[record["stage"] == stage].copy()


def evidence_of(row: pd.Series) -> dict:
    """One row's evidence figures, by name."""
    return json.loads(row["evidence"]) if row["evidence"] else {}


# ---- what the first screen says ------------------------------------------------------


def partner_spread(rows: pd.DataFrame) -> pd.DataFrame:
    """Items per partner agency before the stage and in the version it wrote, with how
    many of those the guard kept: how the dataset is spread across the partners."""
    if rows.empty:
        return pd.DataFrame(columns=["agency", "before", "after", "guarded"])
    g = rows.assign(
        after=kept(rows["decision"]), guarded=rows["decision"].eq(KEPT_FOR_PARTNER)
    ).groupby("agency", sort=False)
    out = pd.DataFrame(
        {"before": g.size(), "after": g["after"].sum(), "guarded": g["guarded"].sum()}
    )
    out = out.astype(int).reset_index()
    return out.sort_values(["after", "agency"], ascending=[False, True]).reset_index(drop=True)


def spread_words(spread: pd.DataFrame) -> str:
    """'Children's social care 36 → 20, Police 6 → 3 and Probation 4 → 1'."""
    return listed(
        [
            f"{AGENCY_LABELS.get(r.agency, r.agency)} {r.before} → {r.after}"
            for r in spread.itertuples()
        ],
        limit=12,
    )


def partners_finding(rows: pd.DataFrame, version: str, evidence: str) -> Finding | None:
    """The first screen's line on the partners: how the stage's version is spread across
    them and, where its rule would have removed an agency, which, why, and the ask."""
    if rows.empty:
        return None
    spread = partner_spread(rows)
    text = f"Items per partner agency, before → in {version}: {spread_words(spread)}."
    guarded = rows.loc[rows["decision"] == KEPT_FOR_PARTNER]
    gone = spread.loc[spread["after"] == 0, "agency"].tolist()
    if gone:
        names = listed([AGENCY_LABELS.get(a, a) for a in gone])
        text += f" The board's overrules removed every item of {names}."
    if guarded.empty:
        return Finding(text, evidence)
    names = listed([AGENCY_LABELS.get(a, a) for a in dict.fromkeys(guarded["agency"])])
    kept_titles = listed(
        [f"{t} ({i})" for i, t in zip(guarded["item_id"], guarded["title"], strict=True)]
    )
    text += (
        f" The evidence would have removed every item of {names}: "
        f"{'its' if len(guarded) == 1 else 'their'} best-supported "
        f"{'item is' if len(guarded) == 1 else 'items are'} kept for now ({kept_titles})."
    )
    ask = (
        f"Decide whether {names} stay in the dataset (record the decision in the project's "
        "overrule file)."
    )
    return Finding(text, evidence, ask=ask)


def item_paths(record: pd.DataFrame) -> pd.DataFrame:
    """One row per item: its decision at each stage that decided about it (blank where
    an earlier stage had already dropped it), with a mark where the board overruled the
    rule or the partner guard kept it."""
    if record.empty:
        return pd.DataFrame(columns=["item_id", "title", "agency", *STAGES])
    board = record["overruled_by"].eq("board")
    marked = record.assign(shown=record["decision"].where(~board, record["decision"] + " (board)"))
    wide = marked.pivot_table(index="item_id", columns="stage", values="shown", aggfunc="first")
    wide = wide.reindex(columns=[s for s in STAGES if s in set(record["stage"])])
    names = record.drop_duplicates("item_id").set_index("item_id")[["title", "agency"]]
    out = names.join(wide).fillna("")
    return out.reset_index()


def with_partners(found: Finding | None, rows: pd.DataFrame, version: str) -> Finding | None:
    """The stage's decision finding with the partner line after it (one bullet, so the
    first screen stays short); the ask to decide about a partner comes first."""
    partners = partners_finding(rows, version, found.evidence if found else "")
    if found is None or partners is None:
        return found or partners
    ask = " ".join(a for a in (partners.ask, found.ask) if a)
    return Finding(f"{found.text} {partners.text}", found.evidence, ask=ask)


# ---- the record in a report -----------------------------------------------------------

_SHOWN = {
    "item_id": "Item",
    "title": "Title",
    "agency": "Agency",
    "evidence": "Evidence",
    "proposed": "The rule proposed",
    "decision": "Decision",
    "reason": "Why",
    "guard": "Kept by the partner guard because",
    "overrule_reason": "The board's reason",
    "overrule_who": "Overruled by",
    "overrule_date": "Overruled on",
}


def _words(key: str) -> str:
    """An evidence figure's name in a reader's words, whatever the region
    ('boroughs_flagged' -> 'authorities flagged')."""
    return key.replace("_", " ").replace("boroughs", "authorities").replace("borough", "authority")


def _evidence_text(text: str) -> str:
    """The evidence figures in words a reader reads ('at least 3'), not field names."""
    figures = json.loads(text) if text else {}
    return "; ".join(
        f"{_words(k)} {'–' if v is None else f'{v:.2f}' if isinstance(v, float) else v}"
        for k, v in figures.items()
    )


def record_section(rows: pd.DataFrame, version: str) -> Section:
    """The stage's rows of the decision record as a table (and so a CSV download): the
    rule, each item's evidence figures, what the rule proposed and what was decided."""
    if rows.empty:
        return Section()
    shown = rows[list(_SHOWN)].copy()
    shown["agency"] = shown["agency"].map(lambda a: AGENCY_LABELS.get(a, a))
    shown["evidence"] = shown["evidence"].map(_evidence_text)
    changed = int((rows["decision"] != rows["proposed"]).sum())
    return Section().add(
        f"The decision record for {esc(version)}: the rule ({esc(rows['rule'].iloc[0])}), each "
        "item's evidence figures, what the rule proposed and what was decided; "
        f"{changed} decision{'s differ' if changed != 1 else ' differs'} from the rule's, by "
        "the board's overrule or the partner guard. Download it as CSV to check any decision.",
        table(shown.rename(columns=_SHOWN), caption=f"Decision record, {version}", max_rows=10),
    )
