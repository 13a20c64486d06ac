"""The board's overrules: a declared file in the project that sets an item's decision.

Every automatic decision a stage makes (phase 1's draft, phase 2's placements, phase
3's dispositions) can be overruled by the board: a row of the project's overrule file
(``decisions.overrules`` in project.yaml, ``overrules.csv`` beside it by default)
names the item, the stage, the decision, the reason, who recorded it and when. The
stage applies it and the decision record (:mod:`lscb_nb.core.decisions`) and the
version's description say so. A file that cannot be read or a row that is wrong
stops the stage with every error at once, each naming the file, row and column: a
board decision is never dropped silently.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pandas as pd

from lscb_nb.core.decisions import STAGE_DECISIONS, STAGES, UNDECIDED

log = logging.getLogger(__name__)

OVERRULE_COLUMNS: tuple[str, ...] = ("item_id", "stage", "decision", "reason", "who", "date")
DEFAULT_FILE = "overrules.csv"


class OverruleError(ValueError):
    """The overrule file cannot be used as it stands."""


def choices(stage: str) -> tuple[str, ...]:
    """The decisions the board can set at ``stage`` (not the 'undecided' one)."""
    return tuple(d for d in STAGE_DECISIONS[stage] if d != UNDECIDED.get(stage))


def read_overrules(path: Path | str) -> pd.DataFrame:
    """The board's overrules (an empty table when the file does not exist), checked.

    Rows are numbered as a spreadsheet shows them (the header is row 1). Raises
    :class:`OverruleError` listing every problem found.
    """
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=[*OVERRULE_COLUMNS, "row"])
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise OverruleError(f"{path}: the overrule file cannot be read as CSV ({exc})") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in OVERRULE_COLUMNS if c not in frame.columns]
    if missing:
        raise OverruleError(
            f"{path}: the overrule file lacks the column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (it needs {', '.join(OVERRULE_COLUMNS)})"
        )
    frame = frame[list(OVERRULE_COLUMNS)].apply(lambda s: s.str.strip())
    frame["item_id"] = frame["item_id"].str.upper()
    frame["stage"] = frame["stage"].str.lower()
    frame["decision"] = frame["decision"].str.lower()
    frame["row"] = range(2, len(frame) + 2)
    errors = [_where(path, r, col, why) for r, col, why in _problems(frame)]
    if errors:
        raise OverruleError("\n".join(errors))
    return frame.reset_index(drop=True)


def _where(path: Path, row: int, column: str, why: str) -> str:
    return f"{path}, row {row}, column {column}: {why}"


def _problems(frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    found = []
    for r in frame.itertuples(index=False):
        for col in ("item_id", "reason", "who"):
            if not getattr(r, col):
                found.append((r.row, col, f"{col} is empty; every overrule needs one"))
        if r.stage not in STAGES:
            found.append((r.row, "stage", f"{r.stage!r} is not a stage: use {', '.join(STAGES)}"))
        elif r.decision not in choices(r.stage):
            found.append(
                (
                    r.row,
                    "decision",
                    f"{r.decision!r} is not a decision at stage {r.stage}: use "
                    f"{', '.join(choices(r.stage))}",
                )
            )
        try:
            date.fromisoformat(r.date)
        except ValueError:
            found.append((r.row, "date", f"{r.date!r} is not a date (write it as 2026-03-31)"))
    dup = frame.duplicated(["item_id", "stage"], keep="first")
    for r in frame.loc[dup].itertuples(index=False):
        found.append(
            (r.row, "item_id", f"{r.item_id} is overruled twice at stage {r.stage}: keep one row")
        )
    return sorted(found)


def apply_overrules(
    table: pd.DataFrame, overrules: pd.DataFrame, stage: str, path: Path | str = DEFAULT_FILE
) -> pd.DataFrame:
    """Set the board's decisions at ``stage`` in the stage's working table
    (:func:`lscb_nb.core.decisions.blank_table`), recording each. An overrule of an item
    the stage does not decide about (not in the version it starts from) is an error."""
    mine = overrules.loc[overrules["stage"] == stage]
    unknown = mine.loc[~mine["item_id"].isin(table.index)]
    if not unknown.empty:
        raise OverruleError(
            "\n".join(
                _where(
                    Path(path),
                    int(r.row),
                    "item_id",
                    f"{r.item_id} is not in the version stage {stage} decides about",
                )
                for r in unknown.itertuples(index=False)
            )
        )
    out = table.copy()
    for r in mine.itertuples(index=False):
        out.loc[r.item_id, "decision"] = r.decision
        out.loc[r.item_id, "overruled_by"] = "board"
        out.loc[r.item_id, "overrule_reason"] = r.reason
        out.loc[r.item_id, "overrule_who"] = r.who
        out.loc[r.item_id, "overrule_date"] = r.date
    return out


def overrule_note(table: pd.DataFrame) -> str:
    """A sentence for a version's description naming the items the board overruled."""
    board = table.loc[table["overruled_by"] == "board"]
    if board.empty:
        return ""
    parts = [
        f"{i} {r['proposed']} → {r['decision']} ({r['overrule_who']}, {r['overrule_date']}: "
        f"{r['overrule_reason']})"
        for i, r in board.iterrows()
    ]
    return " Overruled by the board: " + "; ".join(parts) + "."


def guard_note(table: pd.DataFrame) -> str:
    """A sentence for a version's description naming the items the partner guard kept."""
    guarded = table.loc[table["guard"] != ""]
    if guarded.empty:
        return ""
    parts = [f"{i} ({r['guard']})" for i, r in guarded.iterrows()]
    lead = " Kept so no partner or total is lost, for the board to decide: "
    return lead + "; ".join(parts) + "."
