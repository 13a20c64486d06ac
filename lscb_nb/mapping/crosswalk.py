"""The reviewed crosswalk from local item names to data-model items.

The consultant's decisions (confirm a suggestion, re-point it to another item, or
reject it) are saved in ``data/crosswalk/phase1_crosswalk.csv`` with who decided and
when, and applied before any automatic match on every later run. Decisions are keyed
by authority and *normalised* local name, so they survive a borough re-sending its
file with rows reordered, columns renamed or items added; a decision about a name is
also offered (marked, in the review band, never applied silently) when another
borough uses the same normalised name (see :func:`lscb_nb.mapping.matching.match`).

In JupyterLab, :func:`review_panel` walks through the uncertain suggestions, shows the
top three candidates with their definitions beside the borough's own definition, saves
each decision as it is made and can undo the last one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from lscb_nb.core.fileio import write_atomic
from lscb_nb.mapping import names, scoring

log = logging.getLogger(__name__)

COLUMNS = [
    "la_code_ons",
    "local_name",
    "normalised_name",
    "decision",
    "item_id",
    "reviewer",
    "decided_at",
    "note",
]
# Columns a crosswalk must have; older files may lack the rest (they load with blanks).
REQUIRED = ["la_code_ons", "local_name", "decision"]
# Older files called the decision time ``decided_on`` (a date).
RENAMED = {"decided_on": "decided_at"}
DECISIONS = ("confirm", "repoint", "reject")
FILE_NAME = "phase1_crosswalk.csv"


def default_path(project) -> Path:
    """The project's crosswalk file (``data/crosswalk/phase1_crosswalk.csv``)."""
    return project.crosswalk


def load_crosswalk(path: Path | str) -> pd.DataFrame:
    """The saved decisions (an empty table when there are none yet).

    Files written before reviewers and times were recorded still load: missing
    ``reviewer``, ``decided_at``, ``note`` or ``normalised_name`` columns are filled
    (the normalised name from the local name).
    """
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
    frame = frame.rename(columns={k: v for k, v in RENAMED.items() if v not in frame})
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"{path.name}: the crosswalk lacks columns {', '.join(missing)}.")
    bad = frame.loc[~frame["decision"].isin(DECISIONS)]
    if not bad.empty:
        raise ValueError(
            f"{path.name}: row {bad.index[0] + 2} has decision {bad['decision'].iloc[0]!r}; "
            f"use one of {', '.join(DECISIONS)}."
        )
    if "normalised_name" not in frame:
        frame["normalised_name"] = frame["local_name"].map(names.normalise)
    return frame.reindex(columns=COLUMNS).astype(object).where(lambda f: f.notna(), None)


def save_crosswalk(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write the decisions atomically, one per authority and normalised name (latest wins)."""
    frame = frame.reindex(columns=COLUMNS)
    frame = frame.drop_duplicates(["la_code_ons", "normalised_name"], keep="last")
    frame = frame.sort_values(["la_code_ons", "normalised_name"])
    return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False, encoding="utf-8"))


def now() -> str:
    """The time a decision is recorded: UTC, to the second, ISO 8601."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def record_decision(
    crosswalk: pd.DataFrame,
    match_row: pd.Series,
    decision: str,
    item_id: str | None = None,
    reviewer: str = "",
    note: str = "",
    decided_at: str | None = None,
) -> pd.DataFrame:
    """The crosswalk with one more decision about one local item, stamped with who
    decided and when (``decided_at`` defaults to now). A decision without a
    reviewer's name is refused: the crosswalk is the record of who decided."""
    if not str(reviewer or "").strip():
        raise ValueError("a decision needs the reviewer's name: nothing was recorded.")
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
        "reviewer": str(reviewer).strip(),
        "decided_at": decided_at or now(),
        "note": note or None,
    }
    new = pd.DataFrame([row], columns=COLUMNS)
    out = pd.concat([crosswalk.reindex(columns=COLUMNS), new], ignore_index=True)
    return out.drop_duplicates(["la_code_ons", "normalised_name"], keep="last").reset_index(
        drop=True
    )


KEY = ["la_code_ons", "normalised_name"]


def decision_for(crosswalk: pd.DataFrame, la_code: str, normalised_name: str) -> dict | None:
    """The saved decision about one local name of one authority, if there is one."""
    found = crosswalk.loc[
        (crosswalk["la_code_ons"] == la_code) & (crosswalk["normalised_name"] == normalised_name)
    ]
    return None if found.empty else found.iloc[-1].to_dict()


def undo_decision(path: Path | str, decided: dict, before: dict | None) -> pd.DataFrame:
    """Take back one decision in the saved file: the decision about its name goes, and
    the one it replaced (``before``) comes back. Decisions saved meanwhile about
    other names are kept. Written atomically; returns the crosswalk now saved."""
    walk = load_crosswalk(path)
    mine = (walk["la_code_ons"] == decided["la_code_ons"]) & (
        walk["normalised_name"] == decided["normalised_name"]
    )
    walk = walk.loc[~mine]
    if before is not None:
        walk = pd.concat([walk, pd.DataFrame([before], columns=COLUMNS)], ignore_index=True)
    save_crosswalk(walk, path)
    return load_crosswalk(path)


def candidates(row: pd.Series, items: pd.DataFrame, scores: np.ndarray | None = None, n: int = 3):
    """The top ``n`` candidates for one match row: item id, title, definition, score."""
    ids = [row["suggested_item"], *list(row["alternatives"])][:n]
    out = pd.DataFrame(
        {
            "item_id": ids,
            "title": [items.at[i, "title"] for i in ids],
            "definition": [" ".join(str(items.at[i, "definition"]).split()) for i in ids],
        }
    )
    if scores is not None:
        where = {item: k for k, item in enumerate(items.index)}
        out["score"] = [round(float(scores[where[i]]), 1) for i in ids]
    return out


def _candidates_html(row: pd.Series, table: pd.DataFrame) -> str:
    from lscb_nb.core.display import esc

    definition = row.get("local_definition")
    own = (
        esc(definition)
        if isinstance(definition, str) and definition.strip()
        else ("<i>The borough gave no definition.</i>")
    )
    elsewhere = row.get("reviewed_elsewhere")
    flag = (
        f"<p style='border-left:4px solid #b35900;padding-left:6px'><b>Suggested from a "
        f"review for another borough</b>: {esc(elsewhere)}. Check it fits this borough's "
        "definition before confirming.</p>"
        if isinstance(elsewhere, str) and elsewhere
        else ""
    )
    cells = "".join(
        f"<tr style='vertical-align:top'><td>{k + 1}</td>"
        f"<td><b>{esc(r.item_id)}</b> {esc(r.title)}</td>"
        f"<td>{esc(r.definition)}</td><td>{'' if 'score' not in r._fields else r.score}</td></tr>"
        for k, r in enumerate(table.itertuples(index=False))
    )
    return (
        # side by side when there is room, else the candidates go below the name
        f"<div style='display:flex;flex-wrap:wrap;gap:16px;line-height:1.45'>"
        f"<div style='flex:1 1 16em'><h4>{esc(row.get('la_name', row['la_code_ons']))}: "
        f"“{esc(row['local_name'])}”</h4><p><b>The borough's definition</b><br>{own}</p>"
        f"{flag}</div>"
        f"<div style='flex:2 1 28em'><table><caption>Top three candidates</caption>"
        f"<tr><th>#</th><th>Item</th><th>Definition</th><th>Score</th></tr>{cells}</table>"
        f"</div></div>"
    )


VERBS = {"confirm": "confirmed", "repoint": "re-pointed", "reject": "rejected"}


def decision_sentence(decided: dict, where: str = "") -> str:
    """One saved decision in words, with who and when (HTML, escaped): 'confirmed
    “Kids on plans” (Barnet) as CSC17, by A. Reviewer at 2025-06-30T10:00:00+00:00'."""
    from lscb_nb.core.display import esc

    what = VERBS.get(decided["decision"], decided["decision"])
    target = f" as {esc(decided['item_id'])}" if decided.get("item_id") else ""
    return (
        f"{what} “{esc(decided['local_name'])}” ({esc(where or decided['la_code_ons'])})"
        f"{target}, by {esc(decided['reviewer'])} at {esc(decided['decided_at'])}"
    )


def _note(text: str, colour: str, alert: bool = False) -> str:
    role = ' role="alert"' if alert else ""
    return f"<p{role} style='border-left:4px solid {colour};padding-left:6px'>{text}</p>"


def _unsaved(path: Path | str, error: OSError) -> str:
    from lscb_nb.core.display import esc

    return _note(
        f"<b>Could not write {esc(Path(path).name)}</b> ({esc(error)}): the file is as it "
        "was, and nothing changed here. Try again.",
        "#b00020",
        alert=True,
    )


def review_panel(matches: pd.DataFrame, items: pd.DataFrame, path: Path | str, reviewer: str = ""):
    """An ipywidgets panel: one uncertain suggestion at a time, the borough's definition
    beside the top three candidates' definitions, with Confirm, Re-point (to the item
    chosen in the list), Reject, Skip and Undo. Each decision is saved at once, with
    the reviewer's name and the time, and said back; none is recorded until a reviewer
    name is given. Undo takes the last decision back out of the saved file (the one it
    replaced, if any, returns) and shows its suggestion again."""
    import ipywidgets as w

    from lscb_nb.core.display import esc

    queue = matches.loc[matches["status"] == "uncertain"].reset_index(drop=True)
    catalogue = scoring.build_catalogue(items)
    state: dict = {"i": 0, "history": []}  # history: (queue position, decided, replaced)
    wide = {"description_width": "initial"}
    who = w.Text(
        value=reviewer,
        description="Reviewer (saved with each decision)",
        placeholder="your name",
        style=wide,
        layout=w.Layout(width="95%", max_width="34em"),
    )
    body = w.HTML()
    choice = w.Dropdown(description="Item to re-point to", style=wide, layout=w.Layout(width="95%"))
    tips = {
        "Confirm": "Use the top suggestion",
        "Re-point": "Use the item chosen in the list",
        "Reject": "This local item is none of the data model's",
        "Skip": "Decide later: nothing is saved",
        "Undo": "Take the last decision back out of the crosswalk file",
    }
    buttons = {n: w.Button(description=n, tooltip=t) for n, t in tips.items()}
    message = w.HTML()
    done = w.HTML()

    def where(row: pd.Series) -> str:
        return str(row.get("la_name") or row["la_code_ons"])

    def show(note: str = "") -> None:
        buttons["Undo"].disabled = not state["history"]
        message.value = note
        done.value = (
            "<details open><summary>Decisions saved in this session (latest first)</summary><ol>"
            + "".join(
                f"<li>{decision_sentence(d, where(queue.iloc[i]))}</li>"
                for i, d, _ in reversed(state["history"])
            )
            + "</ol></details>"
            if state["history"]
            else ""
        )
        left = state["i"] >= len(queue)
        for name in ("Confirm", "Re-point", "Reject", "Skip"):
            buttons[name].disabled = left
        choice.disabled = left
        if left:
            body.value = (
                "<b>No uncertain suggestions left to review.</b> "
                f"Crosswalk saved to {esc(Path(path).name)}."
            )
            choice.options = []
            return
        row = queue.iloc[state["i"]]
        definition = row.get("local_definition")
        scores = scoring.score_matrix([row["local_name"]], catalogue, [definition])[0]
        table = candidates(row, items, scores)
        body.value = f"<p>Suggestion {state['i'] + 1} of {len(queue)}</p>" + _candidates_html(
            row, table
        )
        top = list(table["item_id"])
        choice.options = [(f"{i} {items.at[i, 'title']}", i) for i in top] + [
            (f"{i} {t}", i) for i, t in items["title"].items() if i not in top
        ]
        choice.value = row["suggested_item"]

    def decide(decision: str | None):
        def handler(_button=None) -> None:
            note = ""
            if decision is not None and state["i"] < len(queue):
                name = who.value.strip()
                if not name:
                    show(
                        _note(
                            "<b>Type your name as reviewer first</b>: every decision is saved "
                            "with who made it and when, so nothing was recorded.",
                            "#b00020",
                            alert=True,
                        )
                    )
                    return
                row = queue.iloc[state["i"]]
                walk = load_crosswalk(path)
                before = decision_for(walk, row["la_code_ons"], row["normalised_name"])
                walk = record_decision(walk, row, decision, choice.value, name)
                try:
                    save_crosswalk(walk, path)
                except OSError as error:
                    show(_unsaved(path, error))
                    return
                decided = decision_for(walk, row["la_code_ons"], row["normalised_name"])
                state["history"].append((state["i"], decided, before))
                note = _note(f"Saved: {decision_sentence(decided, where(row))}.", "#1b7837")
            state["i"] += 1
            show(note)

        return handler

    def undo(_button=None) -> None:
        if not state["history"]:
            return
        i, decided, before = state["history"][-1]
        try:
            undo_decision(path, decided, before)
        except OSError as error:
            show(_unsaved(path, error))
            return
        state["history"].pop()
        state["i"] = i
        back = " The decision it replaced is back." if before else ""
        show(
            _note(
                f"Undone: {decision_sentence(decided, where(queue.iloc[i]))}; it is no longer "
                f"in {esc(Path(path).name)}.{back}",
                "#b35900",
            )
        )

    buttons["Confirm"].on_click(decide("confirm"))
    buttons["Re-point"].on_click(decide("repoint"))
    buttons["Reject"].on_click(decide("reject"))
    buttons["Skip"].on_click(decide(None))
    buttons["Undo"].on_click(undo)
    show()
    panel = w.VBox([who, body, choice, w.HBox(list(buttons.values())), message, done])
    # for tests and scripting
    panel.buttons, panel.choice, panel.state, panel.reviewer = buttons, choice, state, who
    panel.body, panel.message, panel.done = body, message, done
    return panel
