"""Completeness and timeliness of the pilot returns.

For every authority × item × quarter the data model expects (quarterly items each
quarter, annual items in Q4), one status (:data:`lscb_nb.core.states.FIGURE_STATUSES`):
supplied on time or late (a zero and 0 of 0 are figures), suppressed, not
available, not collected, quarantined (sent but unusable), not supplied (the return
came, the cell was blank), not received (the return is overdue, by so many days),
not applicable, or not yet due (its deadline has not passed and nothing came). A
figure not yet due is not expected; one whose return has not arrived says so and is
never read as a figure the authority cannot supply. The steering group's question
is which items authorities could actually supply, on time, and whether that
improved over the pilot.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, timedelta

import numpy as np
import pandas as pd

from lscb_nb.core import periods, states, stats

log = logging.getLogger(__name__)

ON_TIME, LATE, SUPPRESSED = "on time", "late", "suppressed"
NOT_AVAILABLE, NOT_COLLECTED, QUARANTINED = "not available", "not collected", "quarantined"
NOT_SUPPLIED, NOT_RECEIVED = "not supplied", "not received"
NOT_APPLICABLE, NOT_DUE = "not applicable", "not yet due"
STATUSES: tuple[str, ...] = tuple(s.name for s in states.FIGURE_STATUSES)
# The figures expected so far (not yet due and not applicable are not).
EXPECTED: tuple[str, ...] = states.figure_statuses(expected=True)
# A figure the board can use: sent and readable, whether on time or not.
SUPPLIED: tuple[str, ...] = states.figure_statuses(supplied=True)
STATUS_COLOURS: dict[str, str] = {s.name: s.colour for s in states.FIGURE_STATUSES}
# The value state of a figure on file and the status it gives (a supplied state is
# on time or late, by its receipt date).
_STATUS_OF_STATE: dict[str, str] = {
    states.SUPPRESSED: SUPPRESSED,
    states.NOT_AVAILABLE: NOT_AVAILABLE,
    states.NOT_COLLECTED: NOT_COLLECTED,
    states.NOT_APPLICABLE: NOT_APPLICABLE,
    states.MISSING: NOT_SUPPLIED,
}


def expected_cells(items: pd.DataFrame, authorities: list[str], labels: list[str]) -> pd.DataFrame:
    """Every authority × period × item the data model expects a figure for."""
    grid = pd.MultiIndex.from_product(
        [authorities, labels, items.index], names=["la_code_ons", "period", "item_id"]
    ).to_frame(index=False)
    grid = grid.merge(items[["agency", "frequency"]], left_on="item_id", right_index=True)
    due = (grid["frequency"] != "annual") | grid["period"].str.endswith("Q4")
    return grid.loc[due].drop(columns="frequency").reset_index(drop=True)


def due_date(label: str, deadline_days: int) -> pd.Timestamp:
    """When a quarter's return is due: the deadline's days after the quarter ends."""
    return pd.Timestamp(periods.period_end(label) + timedelta(days=int(deadline_days)))


def received_returns(*frames: pd.DataFrame) -> set[tuple[str, str]]:
    """The (authority, period) pairs some return has arrived for: any row read from a
    return file, accepted, quarantined or superseded, says it came."""
    found: set[tuple[str, str]] = set()
    for frame in frames:
        if frame is None or frame.empty or not {"la_code_ons", "period"} <= set(frame):
            continue
        pairs = frame[["la_code_ons", "period"]].dropna().drop_duplicates().astype(str)
        found |= set(map(tuple, pairs.itertuples(index=False)))
    return found


def cell_status(
    expected: pd.DataFrame,
    accepted: pd.DataFrame,
    quarantined: pd.DataFrame,
    receipts: pd.DataFrame | None,
    deadline_days: int | Mapping[str, int],
    as_of: date | None = None,
    received: set[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """One status per expected cell, with the days late where a return came late or
    has not come.

    Timeliness is per agency return: the date the authority's receipt log records for
    that agency's part of the quarter's return, against the quarter end plus
    ``deadline_days``. A figure with no recorded receipt date counts as on time (the
    file itself is the evidence it arrived) and ``received`` is left blank. A cell with
    no figure is *not supplied* when its return arrived (``received``: the authority
    and period pairs with a return, by default those with any row), *not yet due* when
    its deadline is after ``as_of`` (today by default), else *not received*, late by
    the days since its deadline.
    """
    keys = ["la_code_ons", "period", "item_id"]
    as_of_ts = pd.Timestamp(as_of or date.today())
    if received is None:
        received = received_returns(accepted, quarantined)
    cells = expected.copy()
    state = accepted.drop_duplicates(keys).set_index(keys)["value_state"].astype(str)
    cells["value_state"] = state.reindex(pd.MultiIndex.from_frame(cells[keys])).to_numpy()
    q_keys = set(map(tuple, quarantined[keys].astype(str).itertuples(index=False)))
    in_quarantine = np.array([k in q_keys for k in map(tuple, cells[keys].to_numpy())], bool)

    if isinstance(deadline_days, Mapping):  # per-agency deadlines
        pairs = cells[["period", "agency"]].drop_duplicates()
        due = {
            (p, a): due_date(p, deadline_days.get(a, deadline_days.get("default", 30)))
            for p, a in pairs.itertuples(index=False)
        }
        cells["due"] = [due[k] for k in zip(cells["period"], cells["agency"], strict=True)]
        cells["due"] = pd.to_datetime(cells["due"])
    else:
        cells["due"] = cells["period"].map(
            {p: due_date(p, deadline_days) for p in cells["period"].unique()}
        )
    cells["received"] = pd.NaT
    came = np.array(
        [(a, p) in received for a, p in zip(cells["la_code_ons"], cells["period"], strict=True)],
        dtype=bool,
    )
    if receipts is not None and not receipts.empty:
        rec = receipts.assign(received=pd.to_datetime(receipts["received_date"], errors="coerce"))
        rec = rec.groupby(["la_code_ons", "period", "agency"])["received"].max()
        idx = pd.MultiIndex.from_frame(cells[["la_code_ons", "period", "agency"]])
        cells["received"] = rec.reindex(idx).to_numpy()
        came |= cells["received"].notna().to_numpy()
    cells["days_late"] = (cells["received"] - cells["due"]).dt.days.clip(lower=0)

    value_state = cells["value_state"].fillna("")
    supplied = value_state.isin(states.SUPPLIED_STATES).to_numpy()
    late = supplied & (cells["days_late"] > 0).to_numpy()
    on_file = value_state.map(_STATUS_OF_STATE).to_numpy(dtype=object)
    nothing = ~supplied & pd.isna(on_file)
    overdue = (cells["due"] <= as_of_ts).to_numpy()
    status = np.select(
        [
            late,
            supplied,
            in_quarantine & ~supplied,
            ~pd.isna(on_file),
            nothing & came,
            nothing & overdue,
        ],
        [LATE, ON_TIME, QUARANTINED, on_file, NOT_SUPPLIED, NOT_RECEIVED],
        default=NOT_DUE,
    )
    cells["status"] = status
    waited = (as_of_ts - cells["due"]).dt.days
    cells["days_late"] = cells["days_late"].where(cells["status"] == LATE)
    cells["days_late"] = cells["days_late"].where(cells["status"] != NOT_RECEIVED, waited)
    return cells


def summarise(cells: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Counts of each status, the figures expected so far (not yet due and not
    applicable left out), and the shares supplied and on time, by a grouping.
    ``received`` counts the expected figures whose return arrived, and
    ``supplied_received_pct`` the share of those supplied: what an item's fitness is
    judged on, since a return not yet sent says nothing about the item."""
    counts = pd.crosstab(
        [cells[c] for c in ([by] if isinstance(by, str) else by)], cells["status"]
    ).reindex(columns=list(STATUSES), fill_value=0)
    counts.columns.name = None
    counts["expected"] = counts[list(EXPECTED)].sum(axis=1)
    counts["received"] = counts["expected"] - counts[NOT_RECEIVED]
    supplied = counts[list(SUPPLIED)].sum(axis=1)
    expected = counts["expected"].where(counts["expected"] > 0)
    counts["supplied_pct"] = 100 * supplied / expected
    counts["on_time_pct"] = 100 * counts[ON_TIME] / expected
    counts["supplied_received_pct"] = (
        100 * supplied / counts["received"].where(counts["received"] > 0)
    )
    return counts


# How a table heads each status's count column.
STATUS_HEADERS: dict[str, str] = {s: s.capitalize() for s in STATUSES}


def status_headers(shown: pd.DataFrame) -> dict[str, str]:
    """The statuses a :func:`status_counts_table` shows, and their columns (for
    :func:`table_meta`): the figures audit recomputes each of them."""
    return {
        **{s: h for s, h in STATUS_HEADERS.items() if h in shown.columns},
        "expected": "Expected",
    }


def status_counts_table(summary: pd.DataFrame, row_header: str) -> pd.DataFrame:
    """A :func:`summarise` table as a report shows it: the row label, Expected, one
    column per expected status (they add up to Expected), then the figures not yet
    due and not applicable where there are any (outside the sum), and % supplied."""
    extra = [s for s in STATUSES if s not in EXPECTED and summary[s].sum() > 0]
    shown = summary.reset_index()
    shown = shown.rename(columns={shown.columns[0]: row_header})
    cols = [row_header, "expected", *EXPECTED, *extra]
    out = shown[cols].rename(columns={"expected": "Expected", **STATUS_HEADERS})
    return out.assign(**{"% supplied": summary["supplied_pct"].to_numpy()})


def trend(cells: pd.DataFrame, min_points: int = stats.TREND_MIN_POINTS) -> dict:
    """Did returns improve over the pilot? The share supplied each quarter, with
    the chi-square test for trend in proportions (Fingertips' method) from
    ``min_points`` quarters (5 by default; the test is valid from 3). When every
    quarter has the same share (all supplied, say) there is nothing to test and the
    direction is ``not computable``."""
    by_quarter = summarise(cells, "period")
    by_quarter = by_quarter.loc[by_quarter["expected"] > 0]  # quarters not yet due
    by_quarter = by_quarter.loc[sorted(by_quarter.index, key=periods.parse_period)]
    supplied = by_quarter[list(SUPPLIED)].sum(axis=1)
    result: dict = {"by_quarter": by_quarter}
    if len(by_quarter) >= min_points:
        test = stats.chi_square_trend(
            supplied.to_numpy(), by_quarter["expected"].to_numpy(), min_points=min_points
        )
        result.update(test)
    shares = by_quarter["supplied_pct"]
    result["first_pct"] = float(shares.iloc[0]) if len(shares) else float("nan")
    result["last_pct"] = float(shares.iloc[-1]) if len(shares) else float("nan")
    return result


def worst(summary: pd.DataFrame, n: int = 10, min_expected: int = 1) -> pd.DataFrame:
    """The groups with the lowest share supplied (ties broken by fewest on time)."""
    rows = summary.loc[summary["expected"] >= min_expected]
    return rows.sort_values(["supplied_pct", "on_time_pct"]).head(n)


def table_meta(
    by: str,
    row_column: str,
    headers: dict[str, str],
    percents: dict[str, tuple[str, ...]] | None = None,
    where: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> dict:
    """What a status-count table shows, for its ``data-lscb`` attribute: the table's
    rows are ``cells`` grouped by ``by`` (row labels in ``row_column``, mapped back by
    ``labels``), ``headers`` maps each status (and ``expected``) to its column, and
    ``percents`` maps a % column to the statuses it counts. The figures audit
    recomputes all of it from ``data/processed/pilot/cells.parquet``, and checks that
    the statuses add up to the figures expected."""
    return {
        "kind": "status_counts",
        "source": "pilot/cells",
        "group_by": by,
        "row_column": row_column,
        "headers": headers,
        "percents": {k: list(v) for k, v in (percents or {}).items()},
        "where": where or {},
        "labels": labels or {},
    }
