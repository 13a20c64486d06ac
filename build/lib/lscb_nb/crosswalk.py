"""The reviewed crosswalk from local item names to data-model items.

The consultant's decisions (confirm a suggestion, re-point it to another item,
or reject it) are saved in ``data/crosswalk/phase1_crosswalk.csv`` and applied
before any automatic match on every later run. Decisions are keyed by authority
and *normalised* local name, so they survive a borough re-sending its file with
rows reordered, columns renamed or items added. In JupyterLab,
:func:`review_panel` walks through the uncertain suggestions and saves each
decision as it is made.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from lscb_nb.fileio import write_atomic

COLUMNS = [
    "la_code_ons",
    "local_name",
    "normalised_name",
    "decision",
    "item_id",
    "reviewer",
    "decided_on",
    "note",
]
DECISIONS = ("confirm", "repoint", "reject")
FILE_NAME = "phase1_crosswalk.csv"


def default_path(project) -> Path:
    """The project's crosswalk file (``data/crosswalk/phase1_crosswalk.csv``)."""
    return project.crosswalk


def load_crosswalk(path: Path | str) -> pd.DataFrame:
    """The saved decisions (an empty table when there are none yet)."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path.name}: the crosswalk lacks columns {', '.join(missing)}.")
    bad = frame.loc[~frame["decision"].isin(DECISIONS)]
    if not bad.empty:
        raise ValueError(
            f"{path.name}: row {bad.index[0] + 2} has decision {bad['decision'].iloc[0]!r}; "
            f"use one of {', '.join(DECISIONS)}."
        )
    return frame[COLUMNS]


def save_crosswalk(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write the decisions atomically, one per authority and normalised name (latest wins)."""
    frame = frame.reindex(columns=COLUMNS)
    frame = frame.drop_duplicates(["la_code_ons", "normalised_name"], keep="last")
    frame = frame.sort_values(["la_code_ons", "normalised_name"])
    return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False, encoding="utf-8"))


def record_decision(
    crosswalk: pd.DataFrame,
    match_row: pd.Series,
    decision: str,
    item_id: str | None = None,
    reviewer: str = "",
    note: str = "",
) -> pd.DataFrame:
    """The crosswalk with one more decision about one local item."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}.")
    if decision == "confirm":
        item_id = match_row["suggested_item"]
    if decision == "repoint" and not item_id:
        raise ValueError("re-pointing needs the item to point to.")
    if decision == "reject":
        item_id = None
    row = {
        "la_code_ons": match_row["la_code_ons"],
        "local_name": match_row["local_name"],
        "normalised_name": match_row["normalised_name"],
        "decision": decision,
        "item_id": item_id,
        "reviewer": reviewer,
        "decided_on": date.today().isoformat(),
        "note": note,
    }
    out = pd.concat([crosswalk, pd.DataFrame([row])], ignore_index=True)
    return out.drop_duplicates(["la_code_ons", "normalised_name"], keep="last").reset_index(
        drop=True
    )


def review_panel(matches: pd.DataFrame, items: pd.DataFrame, path: Path | str, reviewer: str = ""):
    """An ipywidgets panel: one uncertain suggestion at a time, with Confirm, Re-point
    (to the item chosen in the list), Reject and Skip. Each decision is saved at once."""
    import ipywidgets as w

    queue = matches.loc[matches["status"] == "uncertain"].reset_index(drop=True)
    state = {"i": 0, "crosswalk": load_crosswalk(path)}
    title = w.HTML()
    choice = w.Dropdown(description="Item", layout=w.Layout(width="95%"))
    buttons = {n: w.Button(description=n) for n in ("Confirm", "Re-point", "Reject", "Skip")}
    progress = w.HTML()

    def show() -> None:
        from lscb_nb.report import esc

        if state["i"] >= len(queue):
            title.value = "<b>No uncertain suggestions left to review.</b>"
            choice.options, choice.disabled = [], True
            for b in buttons.values():
                b.disabled = True
            progress.value = f"Crosswalk saved to {esc(Path(path).name)}."
            return
        row = queue.iloc[state["i"]]
        title.value = (
            f"<b>{esc(row['la_name'])}</b>: “{esc(row['local_name'])}”"
            f"<br><i>{esc('' if pd.isna(row['local_definition']) else row['local_definition'])}</i>"
            f"<br>Suggested: {esc(row['suggested_item'])} "
            f"{esc(items.at[row['suggested_item'], 'title'])} (score {row['score']:.0f})"
        )
        options = [row["suggested_item"], *row["alternatives"]]
        choice.options = [(f"{i} {items.at[i, 'title']}", i) for i in options] + [
            (f"{i} {t}", i) for i, t in items["title"].items() if i not in options
        ]
        choice.value = row["suggested_item"]
        progress.value = f"{state['i'] + 1} of {len(queue)}"

    def decide(decision: str | None):
        def handler(_button=None) -> None:
            if decision is not None and state["i"] < len(queue):
                row = queue.iloc[state["i"]]
                state["crosswalk"] = record_decision(
                    state["crosswalk"], row, decision, choice.value, reviewer
                )
                save_crosswalk(state["crosswalk"], path)
            state["i"] += 1
            show()

        return handler

    buttons["Confirm"].on_click(decide("confirm"))
    buttons["Re-point"].on_click(decide("repoint"))
    buttons["Reject"].on_click(decide("reject"))
    buttons["Skip"].on_click(decide(None))
    show()
    panel = w.VBox([title, choice, w.HBox(list(buttons.values())), progress])
    panel.buttons, panel.choice, panel.state = buttons, choice, state  # for tests and scripting
    return panel
