"""Small-number suppression for every table and figure that leaves a notebook.

Follows the Department for Education's convention for children's social care
statistics (the methodology notes of "Children in need" and "Children looked
after in England"; GSS guidance on confidentiality): counts of 1 to 5 are shown as
``c`` (the threshold is a parameter), zero is shown, figures derived from a
suppressed count (percentages, rates) are suppressed too, and further cells are
suppressed wherever a published total would let a reader recover a suppressed
one by subtraction ("secondary suppression").

Two auditors check the result the way a reader would attack it: ``can_recover``
subtracts along every margin, and ``feasible_interval`` solves, for each
suppressed cell, the smallest and largest value consistent with everything shown
(a linear programme). A table is protected when no suppressed cell can be pinned
to one value.

Limits: protection is per table. Differencing between two separately published
tables (for example this quarter's table and a year-to-date table) is not
checked; reports should not publish overlapping breakdowns of small counts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from lscb_nb.core.config import DEFAULT_SUPPRESSION_THRESHOLD

log = logging.getLogger(__name__)

CODE = "c"


def primary_suppress(
    counts: pd.Series | pd.DataFrame,
    threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
    suppress_zero: bool = False,
) -> pd.Series | pd.DataFrame:
    """True where a count is small enough to identify children (1..threshold)."""
    low = 0 if suppress_zero else 1
    values = (
        counts.apply(pd.to_numeric, errors="coerce")
        if isinstance(counts, pd.DataFrame)
        else pd.to_numeric(counts, errors="coerce")
    )
    return (values >= low) & (values <= threshold)


def suppress_totals(totals: np.ndarray, threshold: int, grand_known: bool) -> np.ndarray:
    """Which margin totals are hidden: small ones (they are counts too), and, when
    the grand total is known, a second one wherever exactly one is hidden."""
    totals = np.asarray(totals, float)
    hidden = (totals >= 1) & (totals <= threshold)
    if grand_known and hidden.sum() == 1 and len(totals) > 1:
        others = np.where(hidden, np.inf, totals)
        nonzero = np.where(others > 0, others, np.inf)
        hidden[int(np.argmin(nonzero if np.isfinite(nonzero).any() else others))] = True
    return hidden


def _margins(values: np.ndarray, rows: bool, cols: bool, threshold: int):
    """Published-ness of each row and column total (False where not published)."""
    n_rows, n_cols = values.shape
    row_pub = np.zeros(n_rows, bool)
    col_pub = np.zeros(n_cols, bool)
    if rows:
        row_pub = ~suppress_totals(values.sum(axis=1), threshold, grand_known=cols)
    if cols:
        col_pub = ~suppress_totals(values.sum(axis=0), threshold, grand_known=rows)
    return row_pub, col_pub


def _lines(shape, row_pub, col_pub) -> list:
    return [np.s_[i, :] for i in range(shape[0]) if row_pub[i]] + [
        np.s_[:, j] for j in range(shape[1]) if col_pub[j]
    ]


def _secondary(
    values: np.ndarray, mask: np.ndarray, row_pub, col_pub, fixed: np.ndarray | None = None
) -> np.ndarray:
    """Add cells until no line with a published total has exactly one suppressed
    cell, and the LP auditor can pin no suppressed cell. ``fixed`` cells are outside
    the sums (a figure not reported): hiding them protects nothing, so they are
    never picked."""
    mask = mask.copy()
    fixed = np.zeros(values.shape, bool) if fixed is None else fixed

    def add_smallest(line) -> bool:
        cand = np.where(mask[line] | fixed[line], np.inf, values[line])
        nonzero = np.where(cand > 0, cand, np.inf)
        pick = nonzero if np.isfinite(nonzero).any() else cand
        if not np.isfinite(pick).any():
            return False
        view = mask[line]
        view[int(np.argmin(pick))] = True
        mask[line] = view
        return True

    for _ in range(values.size + 1):
        changed = False
        for line in _lines(values.shape, row_pub, col_pub):
            if mask[line].sum() == 1:
                changed |= add_smallest(line)
        if changed:
            continue
        pinned = _pinned_cells(values, mask, row_pub, col_pub)
        if not pinned:
            break
        i, j = pinned[0]
        if not (add_smallest(np.s_[i, :]) or add_smallest(np.s_[:, j])):
            break
    return mask


def _plan(
    frame: pd.DataFrame,
    count_cols: list[str],
    threshold: int,
    margins: str | None,
    suppress_zero: bool = False,
    outside: pd.DataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which cells are hidden and which totals are published, decided together.

    Cells first: primary suppression, then secondary cells until no published line
    has a lone hidden cell and the LP auditor pins nothing. In a sparse table that
    is not always enough (a complementary cell in a line whose published total is 0
    is pinned at 0 by itself), so while the auditor can still pin a small count,
    the totals through it are withdrawn and the cells re-planned.

    ``outside`` marks cells that are not part of the table's sums (figures not
    reported: missing, suppressed by the borough, quarantined): they count as 0 in
    every total, are shown by their state's symbol, and are never used as
    complementary cells. A total over the rest is published when no suppressed
    cell can be recovered from it.
    """
    fixed = (
        np.zeros((len(frame), len(count_cols)), bool)
        if outside is None
        else outside.reindex(index=frame.index, columns=count_cols).fillna(False).to_numpy(bool)
    )
    values = frame[count_cols].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(float)
    values = np.where(fixed, 0.0, values)
    primary = primary_suppress(frame[count_cols], threshold, suppress_zero).to_numpy().copy()
    primary &= ~fixed
    row_pub, col_pub = _margins(
        values, margins in ("rows", "both"), margins in ("columns", "both"), threshold
    )
    if not margins:
        return values, primary, row_pub, col_pub
    mask = _secondary(values, primary, row_pub, col_pub, fixed)
    for _ in range(sum(values.shape)):
        pinned = [c for c in _pinned_cells(values, mask, row_pub, col_pub) if primary[tuple(c)]]
        if not pinned:
            break
        i, j = pinned[0]
        row_pub[i] = col_pub[j] = False
        mask = _secondary(values, mask, row_pub, col_pub, fixed)
    return values, mask, row_pub, col_pub


def suppress_table(
    frame: pd.DataFrame,
    count_cols: Iterable[str],
    derived: Mapping[str, Iterable[str]] | None = None,
    threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
    margins: str | None = "both",
    suppress_zero: bool = False,
    outside: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (display frame with ``c`` in suppressed cells, boolean mask).

    ``margins`` says which totals are published or derivable: ``"rows"`` (each
    row's total over ``count_cols``), ``"columns"`` (each column's total over the
    rows shown), ``"both"`` or ``None`` (no totals: primary suppression only).
    ``derived`` maps a derived column (a rate, a percentage) to the count
    columns it is computed from; it is suppressed wherever any of them is.
    ``outside`` (boolean, like ``frame[count_cols]``) marks figures not reported,
    which are left out of every total (see ``_plan``); the caller shows their state.
    """
    count_cols = list(count_cols)
    _, mask, _, _ = _plan(frame, count_cols, threshold, margins, suppress_zero, outside)
    full = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    full[count_cols] = mask
    for col, inputs in (derived or {}).items():
        full[col] = full[list(inputs)].any(axis=1)
    display = frame.astype(object).where(~full, CODE)
    return display, full


def suppress_long(
    frame: pd.DataFrame,
    value_col: str,
    group_cols: list[str],
    threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
) -> pd.Series:
    """Suppression mask for a tidy table whose groups have a published total
    (e.g. boroughs within an item and period, with London shown): primary
    suppression, then the next smallest cell in any group with exactly one."""
    values = pd.to_numeric(frame[value_col], errors="coerce").fillna(0)
    mask = primary_suppress(values, threshold)
    for _, group in frame.groupby(group_cols, sort=False):
        idx = group.index
        sub = mask.loc[idx]
        if sub.sum() == 1 and len(sub) > 1:
            others = values.loc[idx][~sub]
            nonzero = others[others > 0]
            pick = (nonzero if not nonzero.empty else others).idxmin()
            mask.loc[pick] = True
    return mask


def suppress_rates(
    counts: pd.Series, rates: pd.Series, threshold: int = DEFAULT_SUPPRESSION_THRESHOLD
) -> pd.Series:
    """Rates or percentages with a suppressed count behind them become ``c``."""
    return rates.astype(object).where(~primary_suppress(counts, threshold), CODE)


def can_recover(
    display: pd.DataFrame,
    count_cols: Iterable[str],
    row_totals: pd.Series | None = None,
    col_totals: pd.Series | None = None,
) -> list[tuple[object, str]]:
    """Cells a reader recovers by subtraction from the shown cells and totals.

    Repeats until nothing new is learned (a recovered cell may unlock another).
    """
    count_cols = list(count_cols)
    shown = display[count_cols]
    hidden = shown.eq(CODE).to_numpy().copy()
    known = (
        shown.where(~shown.eq(CODE)).apply(pd.to_numeric, errors="coerce").to_numpy(float).copy()
    )
    recovered = []
    rt = None if row_totals is None else np.asarray(row_totals, float)
    ct = None if col_totals is None else np.asarray(col_totals, float)
    progress = True
    while progress:
        progress = False
        if rt is not None:
            for i in range(hidden.shape[0]):
                if hidden[i].sum() == 1 and not np.isnan(rt[i]):
                    j = int(np.flatnonzero(hidden[i])[0])
                    known[i, j] = rt[i] - np.nansum(known[i])
                    hidden[i, j] = False
                    recovered.append((display.index[i], count_cols[j]))
                    progress = True
        if ct is not None:
            for j in range(hidden.shape[1]):
                if hidden[:, j].sum() == 1 and not np.isnan(ct[j]):
                    i = int(np.flatnonzero(hidden[:, j])[0])
                    known[i, j] = ct[j] - np.nansum(known[:, j])
                    hidden[i, j] = False
                    recovered.append((display.index[i], count_cols[j]))
                    progress = True
    return recovered


def _pinned_cells(values: np.ndarray, mask: np.ndarray, row_pub, col_pub) -> list:
    lo, hi = _intervals(values, mask, row_pub, col_pub)
    return [cell for cell, a, b in zip(np.argwhere(mask), lo, hi, strict=True) if b - a < 0.5]


def _intervals(values: np.ndarray, mask: np.ndarray, row_pub, col_pub):
    """Min and max of each hidden cell given the shown cells, the published
    totals, the grand total (known when either margin is fully derivable) and x >= 0."""
    cells = [tuple(c) for c in np.argwhere(mask)]
    if not cells:
        return [], []
    a_eq, b_eq = [], []

    def constrain(selector: np.ndarray) -> None:
        """Hidden cells inside ``selector`` sum to what the reader can work out."""
        a = np.array([1.0 if selector[r, c] else 0.0 for r, c in cells])
        if a.any():
            a_eq.append(a)
            b_eq.append(values[selector & mask].sum())

    shape = values.shape
    for i in np.flatnonzero(row_pub):
        sel = np.zeros(shape, bool)
        sel[i, :] = True
        constrain(sel)
    for j in np.flatnonzero(col_pub):
        sel = np.zeros(shape, bool)
        sel[:, j] = True
        constrain(sel)
    # The grand total is known from whichever margin is published; then the
    # rows (columns) whose totals are hidden still sum to a known figure.
    if col_pub.any() or row_pub.any():
        if col_pub.all() and row_pub.any() and not row_pub.all():
            sel = np.zeros(shape, bool)
            sel[~row_pub, :] = True
            constrain(sel)
        if row_pub.all() and col_pub.any() and not col_pub.all():
            sel = np.zeros(shape, bool)
            sel[:, ~col_pub] = True
            constrain(sel)
    if not a_eq:
        return [0.0] * len(cells), [np.inf] * len(cells)
    lows, highs = [], []
    a_eq = np.array(a_eq)
    for k in range(len(cells)):
        c = np.zeros(len(cells))
        c[k] = 1
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        lows.append(lo.fun if lo.success else np.nan)
        highs.append(-hi.fun if hi.success else np.inf)
    return lows, highs


def published_totals(
    frame: pd.DataFrame,
    count_cols: Iterable[str],
    margins: str = "both",
    threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
    suppress_zero: bool = False,
    outside: pd.DataFrame | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Row and column totals as a report may show them (NaN where hidden): the same
    plan as :func:`suppress_table` makes for the same table. With ``outside``, the
    totals are over the reported figures only."""
    count_cols = list(count_cols)
    values, _, row_pub, col_pub = _plan(
        frame, count_cols, threshold, margins, suppress_zero, outside
    )
    rows = pd.Series(np.where(row_pub, values.sum(axis=1), np.nan), index=frame.index)
    cols = pd.Series(np.where(col_pub, values.sum(axis=0), np.nan), index=count_cols)
    return rows, cols


def feasible_interval(
    frame: pd.DataFrame,
    count_cols: Iterable[str],
    mask: pd.DataFrame,
    margins: str = "both",
    threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
) -> pd.DataFrame:
    """For each suppressed cell: the range of values consistent with what is
    shown (cells, and totals per ``margins``). Width 0 means it is disclosed."""
    count_cols = list(count_cols)
    values, _, row_pub, col_pub = _plan(frame, count_cols, threshold, margins)
    m = mask[count_cols].to_numpy()
    lo, hi = _intervals(values, m, row_pub, col_pub)
    cells = np.argwhere(m)
    return pd.DataFrame(
        {
            "row": [frame.index[i] for i, _ in cells],
            "column": [count_cols[j] for _, j in cells],
            "lower": lo,
            "upper": hi,
        }
    )
