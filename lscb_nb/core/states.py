"""How each value state is shown: one place for tables, charts and downloads.

A figure is *reported* (a number, zero included), or it is in a state that has
no number the board can use: 0 of 0 (``0/0``: supplied, a percentage or rate whose
denominator is zero, so none is defined), suppressed (``c``), not available
(``x``: the authority said so), not collected by the agency (``nc``), not
applicable (``z``), low reliability (``u``), rounds to zero (``low``), quarantined
(``q``: sent, but it failed validation and awaits correction) or not supplied
(``ns``: left blank). Where a figure was expected of a return, two more: not yet
due (``nd``: the item's frequency or the collection's calendar has not reached it)
and not received (``nr``: the return is overdue). Every report shows these the same
way, with :func:`key` explaining the symbols a table uses, and a missing figure is
never a zero.

:data:`FIGURE_STATUSES` declares, once, what happened to each figure a return was
expected to carry, with its symbol and whether it counts as expected, supplied and
received: completeness, timeliness and refinement all count from it.

Totals add up reported figures only (:func:`total`) and say what they leave out
(:func:`total_note`), so a reader never takes a partial sum for the whole.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lscb_nb.core import values

log = logging.getLogger(__name__)

REPORTED = values.REPORTED
SUPPRESSED = values.SUPPRESSED
NOT_AVAILABLE = values.NOT_AVAILABLE
LOW_RELIABILITY = values.LOW_RELIABILITY
NOT_APPLICABLE = values.NOT_APPLICABLE
ROUNDS_TO_ZERO = values.ROUNDS_TO_ZERO
MISSING = values.MISSING
ZERO_DENOMINATOR = values.ZERO_DENOMINATOR
NOT_COLLECTED = values.NOT_COLLECTED
QUARANTINED = "quarantined"
# A figure expected of a return that is not due yet, or whose return is overdue.
NOT_DUE = "not_due"
NOT_RECEIVED = "not_received"
# Hidden by this report's small-number suppression (shown like the borough's own c).
WITHHELD = "withheld"

# The order states are listed in a key.
ORDER: tuple[str, ...] = (
    REPORTED,
    LOW_RELIABILITY,
    ROUNDS_TO_ZERO,
    ZERO_DENOMINATOR,
    SUPPRESSED,
    WITHHELD,
    NOT_AVAILABLE,
    NOT_COLLECTED,
    MISSING,
    NOT_APPLICABLE,
    QUARANTINED,
    NOT_RECEIVED,
    NOT_DUE,
)

# What a table shows instead of a number (DfE/GSS codes where one exists).
SYMBOL: dict[str, str] = {
    ZERO_DENOMINATOR: "0/0",
    SUPPRESSED: "c",
    WITHHELD: "c",
    NOT_AVAILABLE: "x",
    NOT_COLLECTED: "nc",
    MISSING: "ns",
    NOT_APPLICABLE: "z",
    LOW_RELIABILITY: "u",
    ROUNDS_TO_ZERO: "low",
    QUARANTINED: "q",
    NOT_RECEIVED: "nr",
    NOT_DUE: "nd",
}

# What each symbol means, in the key.
MEANING: dict[str, str] = {
    "0/0": "0 of 0: supplied, but the denominator is zero, so no rate or percentage is "
    "defined (not a gap)",
    "c": "suppressed: a small number, or a figure that would reveal one (by the authority "
    "or in this report)",
    "x": "not available: the return says the figure cannot be given",
    "nc": "not collected: the return says the agency does not collect it",
    "ns": "not supplied: the return came but the cell was left blank",
    "z": "not applicable",
    "u": "low reliability (the figure follows the u)",
    "low": "rounds to zero",
    "q": "quarantined: the figure failed validation and awaits correction",
    "nr": "not received: the return is overdue",
    "nd": "not yet due: the item's frequency or the collection's calendar has not reached it",
}

# Colours for charts, one per state; reported figures are drawn in the chart's own colours.
COLOUR: dict[str, str] = {
    REPORTED: "#1b7837",
    LOW_RELIABILITY: "#7fbf7b",
    ROUNDS_TO_ZERO: "#a6dba0",
    ZERO_DENOMINATOR: "#5aae61",
    SUPPRESSED: "#8073ac",
    WITHHELD: "#8073ac",
    NOT_AVAILABLE: "#969696",
    NOT_COLLECTED: "#737373",
    MISSING: "#bdbdbd",
    NOT_APPLICABLE: "#f0f0f0",
    QUARANTINED: "#d73027",
    NOT_RECEIVED: "#fdae61",
    NOT_DUE: "#ffffff",
}

# States whose number goes into totals and comparisons.
USABLE: frozenset[str] = frozenset({REPORTED, LOW_RELIABILITY, ROUNDS_TO_ZERO})
# States of a figure that was supplied: a number (zero included), or 0 of 0.
SUPPLIED_STATES: frozenset[str] = USABLE | {ZERO_DENOMINATOR}


@dataclass(frozen=True)
class FigureStatus:
    """What happened to one figure a return was expected to carry."""

    name: str  # as ``cells.parquet``'s ``status`` column holds it
    mark: str  # the mark a status grid prints in its cell ('' for on time)
    colour: str
    expected: bool  # counts among the figures expected so far
    supplied: bool  # a figure the board can use (on time or late)
    received: bool  # the return it belongs to has arrived
    meaning: str


# Every status, in the order tables and keys list them. Completeness counts the
# expected ones; refinement judges an item only on figures whose return arrived.
FIGURE_STATUSES: tuple[FigureStatus, ...] = (
    FigureStatus("on time", "", COLOUR[REPORTED], True, True, True, "supplied by the deadline"),
    FigureStatus("late", "L", "#f1a340", True, True, True, "supplied after the deadline"),
    FigureStatus(
        "suppressed", "c", COLOUR[SUPPRESSED], True, False, True, "suppressed by the authority"
    ),
    FigureStatus("not available", "x", COLOUR[NOT_AVAILABLE], True, False, True, MEANING["x"]),
    FigureStatus("not collected", "nc", COLOUR[NOT_COLLECTED], True, False, True, MEANING["nc"]),
    FigureStatus("quarantined", "q", COLOUR[QUARANTINED], True, False, True, MEANING["q"]),
    FigureStatus("not supplied", "ns", COLOUR[MISSING], True, False, True, MEANING["ns"]),
    FigureStatus("not received", "nr", COLOUR[NOT_RECEIVED], True, False, False, MEANING["nr"]),
    FigureStatus("not applicable", "z", COLOUR[NOT_APPLICABLE], False, False, True, MEANING["z"]),
    FigureStatus("not yet due", "nd", COLOUR[NOT_DUE], False, False, False, MEANING["nd"]),
)
FIGURE_STATUS: dict[str, FigureStatus] = {s.name: s for s in FIGURE_STATUSES}


def figure_statuses(**flags: bool) -> tuple[str, ...]:
    """The status names with the given flags, e.g. ``figure_statuses(expected=True)``."""
    return tuple(
        s.name for s in FIGURE_STATUSES if all(getattr(s, k) == v for k, v in flags.items())
    )


# Plain words for a total's note ("excludes 2 not returned").
_WORDS: dict[str, str] = {
    ZERO_DENOMINATOR: "0 of 0",
    SUPPRESSED: "suppressed by the authority",
    NOT_AVAILABLE: "not available",
    NOT_COLLECTED: "not collected",
    MISSING: "not supplied",
    NOT_APPLICABLE: "not applicable",
    QUARANTINED: "quarantined by validation",
    NOT_RECEIVED: "not received",
    NOT_DUE: "not yet due",
}


def _check(state: str) -> str:
    if state not in SYMBOL and state != REPORTED:
        raise ValueError(f"unknown value state {state!r}; use one of {', '.join(ORDER)}")
    return state


def usable(state: str) -> bool:
    """The state carries a number that totals and comparisons may use."""
    return _check(state) in USABLE


def symbol(state: str) -> str:
    """The symbol shown for a state ('' for a reported figure, which shows its number)."""
    return SYMBOL.get(_check(state), "")


def render(value: object, state: str, decimals: int = 0, suffix: str = "") -> str:
    """One cell as every report shows it: the number for a usable figure (with ``u``
    before a low-reliability one, ``low`` for one that rounds to zero), else its symbol."""
    state = _check(state)
    if state == ROUNDS_TO_ZERO:
        return SYMBOL[state]
    if state not in USABLE:
        return SYMBOL[state]
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = float("nan")
    if not np.isfinite(number):
        return SYMBOL[MISSING]
    text = f"{number:,.{decimals}f}{suffix}"
    return f"u {text}" if state == LOW_RELIABILITY else text


def render_frame(
    numbers: pd.DataFrame, states: pd.DataFrame, decimals: int | Mapping[str, int] = 0
) -> pd.DataFrame:
    """A table of cells rendered with :func:`render` (``states`` aligned with ``numbers``;
    a cell with no state is missing)."""
    states = states.reindex(index=numbers.index, columns=numbers.columns).fillna(MISSING)
    out = pd.DataFrame(index=numbers.index, columns=numbers.columns, dtype=object)
    for col in numbers.columns:
        d = decimals.get(col, 0) if isinstance(decimals, Mapping) else decimals
        out[col] = [
            render(v, s, d) for v, s in zip(numbers[col], states[col].astype(str), strict=True)
        ]
    return out


def total(numbers: Iterable[float], states: Iterable[str]) -> tuple[float, dict[str, int]]:
    """The sum of the usable figures, and how many of each other state it leaves out."""
    sum_, left_out = 0.0, {}
    for value, state in zip(numbers, states, strict=True):
        state = _check(str(state))
        if state in USABLE:
            sum_ += 0.0 if state == ROUNDS_TO_ZERO or pd.isna(value) else float(value)
        else:
            left_out[state] = left_out.get(state, 0) + 1
    return sum_, left_out


def total_note(left_out: Mapping[str, int]) -> str:
    """'' when a total has every figure, else 'excludes 1 suppressed by the authority and
    2 not returned'."""
    parts = [
        f"{n} {_WORDS.get(state, state.replace('_', ' '))}"
        for state in ORDER
        if (n := left_out.get(state, 0))
    ]
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return "excludes " + listed


def key(symbols: Iterable[str] | None = None, total_excludes: bool = False) -> str:
    """The key to the symbols used (all of them when ``symbols`` is None), as one
    Markdown line every report shows beside its tables."""
    wanted = list(MEANING) if symbols is None else [s for s in MEANING if s in set(symbols)]
    parts = [f"**{s}** {MEANING[s]}" for s in wanted]
    if total_excludes:
        parts.append("totals add up reported figures only and say what they leave out")
    if not parts:
        return ""
    return "Key: " + "; ".join(parts) + ". A figure not returned is never shown as 0."


def key_plain() -> str:
    """Every symbol and its meaning in one plain line, for every report's header."""
    short = {s: MEANING[s].split(":")[0].split(" (")[0] for s in MEANING}
    return "; ".join(f"{s} {short[s]}" for s in MEANING) + (
        "; – nothing to show. A figure not returned is never shown as 0."
    )


def symbols_in(frame: pd.DataFrame) -> set[str]:
    """The state symbols a rendered table shows (to build its key)."""
    cells = frame.astype(str).to_numpy().ravel()
    found = {c for c in cells if c in MEANING}
    if any(c.startswith("u ") for c in cells):
        found.add("u")
    return found


def for_download(frame: pd.DataFrame, value: str, state: str) -> pd.DataFrame:
    """A tidy table for a CSV download: the number only where usable (blank otherwise),
    the state, and the symbol a report shows, so a download says what a table says."""
    out = frame.copy()
    ok = out[state].astype(str).isin(USABLE)
    out[value] = out[value].where(ok)
    out["symbol"] = [symbol(str(s)) for s in out[state]]
    return out


def of_cells(
    accepted: pd.DataFrame,
    quarantined: pd.DataFrame | None,
    grid: pd.DataFrame,
    keys: list[str],
    value: str = "numerator",
) -> pd.DataFrame:
    """Every cell of ``grid`` (one row per ``keys``) with its number and state: the
    accepted row's state, ``quarantined`` where only a quarantined row exists, and
    ``missing`` where nothing was returned."""
    acc = accepted.drop_duplicates(keys).set_index(keys)
    index = pd.MultiIndex.from_frame(grid[keys])
    out = grid.copy()
    out["number"] = acc[value].reindex(index).to_numpy(dtype=float, na_value=np.nan)
    state = acc["value_state"].astype(str).reindex(index).to_numpy(dtype=object)
    held = np.zeros(len(grid), bool)
    if quarantined is not None and not quarantined.empty:
        q = set(map(tuple, quarantined[keys].astype(str).itertuples(index=False)))
        held = np.array([tuple(map(str, k)) in q for k in grid[keys].itertuples(index=False)])
    state = np.where(pd.isna(state), np.where(held, QUARANTINED, MISSING), state)
    state = np.where((state == MISSING) & held, QUARANTINED, state)
    out["state"] = state
    out.loc[~out["state"].isin(USABLE), "number"] = np.nan
    return out
