"""Completeness and timeliness of the pilot returns.

For every borough × item × quarter the data model expects (quarterly items each
quarter, annual items in Q4), one status: supplied on time, supplied late,
suppressed by the borough, quarantined (sent but unusable), or missing. The
steering group's question is which items boroughs could actually supply, on time,
and whether that improved over the pilot.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

import numpy as np
import pandas as pd

from lscb_nb.core import periods, states, stats

log = logging.getLogger(__name__)

ON_TIME, LATE, SUPPRESSED, QUARANTINED, MISSING = (
    "on time",
    "late",
    "suppressed",
    "quarantined",
    "missing",
)
STATUSES: tuple[str, ...] = (ON_TIME, LATE, SUPPRESSED, QUARANTINED, MISSING)
# A figure the board can use: sent and readable, whether on time or not.
SUPPLIED: tuple[str, ...] = (ON_TIME, LATE)
# Charts colour the states as every report does (lscb_nb.core.states); late is timeliness's own.
STATUS_COLOURS: dict[str, str] = {
    ON_TIME: states.COLOUR[states.REPORTED],
    LATE: "#f1a340",
    SUPPRESSED: states.COLOUR[states.SUPPRESSED],
    QUARANTINED: states.COLOUR[states.QUARANTINED],
    MISSING: states.COLOUR[states.MISSING],
}
_USABLE_STATES = {"reported", "low_reliability", "rounds_to_zero"}


def expected_cells(items: pd.DataFrame, authorities: list[str], labels: list[str]) -> pd.DataFrame:
    """Every borough × period × item the data model expects a figure for."""
    grid = pd.MultiIndex.from_product(
        [authorities, labels, items.index], names=["la_code_ons", "period", "item_id"]
    ).to_frame(index=False)
    grid = grid.merge(items[["agency", "frequency"]], left_on="item_id", right_index=True)
    due = (grid["frequency"] != "annual") | grid["period"].str.endswith("Q4")
    return grid.loc[due].drop(columns="frequency").reset_index(drop=True)


def due_date(label: str, deadline_days: int) -> pd.Timestamp:
    """When a quarter's return is due: the deadline's days after the quarter ends."""
    return pd.Timestamp(periods.period_end(label) + timedelta(days=int(deadline_days)))


def cell_status(
    expected: pd.DataFrame,
    accepted: pd.DataFrame,
    quarantined: pd.DataFrame,
    receipts: pd.DataFrame | None,
    deadline_days: int | Mapping[str, int],
) -> pd.DataFrame:
    """One status per expected cell, with the days late where a return arrived late.

    Timeliness is per agency return: the date the borough's receipt log records for
    that agency's part of the quarter's return, against the quarter end plus
    ``deadline_days``. A figure with no recorded receipt date counts as on time (the
    file itself is the evidence it arrived) and ``received`` is left blank.
    """
    keys = ["la_code_ons", "period", "item_id"]
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
    if receipts is not None and not receipts.empty:
        rec = receipts.assign(received=pd.to_datetime(receipts["received_date"], errors="coerce"))
        rec = rec.groupby(["la_code_ons", "period", "agency"])["received"].max()
        idx = pd.MultiIndex.from_frame(cells[["la_code_ons", "period", "agency"]])
        cells["received"] = rec.reindex(idx).to_numpy()
    cells["days_late"] = (cells["received"] - cells["due"]).dt.days.clip(lower=0)

    usable = cells["value_state"].isin(_USABLE_STATES)
    late = usable & (cells["days_late"] > 0)
    cells["status"] = np.select(
        [
            late.to_numpy(),
            usable.to_numpy(),
            (cells["value_state"] == "suppressed").to_numpy(),
            in_quarantine & ~usable.to_numpy(),
        ],
        [LATE, ON_TIME, SUPPRESSED, QUARANTINED],
        default=MISSING,
    )
    cells["days_late"] = cells["days_late"].where(cells["status"] == LATE)
    return cells.drop(columns="value_state")


def summarise(cells: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Counts of each status and the shares supplied and on time, by a grouping."""
    counts = pd.crosstab(
        [cells[c] for c in ([by] if isinstance(by, str) else by)], cells["status"]
    ).reindex(columns=list(STATUSES), fill_value=0)
    counts.columns.name = None
    counts["expected"] = counts[list(STATUSES)].sum(axis=1)
    supplied = counts[list(SUPPLIED)].sum(axis=1)
    counts["supplied_pct"] = 100 * supplied / counts["expected"]
    counts["on_time_pct"] = 100 * counts[ON_TIME] / counts["expected"]
    return counts


def trend(cells: pd.DataFrame, min_points: int = stats.TREND_MIN_POINTS) -> dict:
    """Did returns improve over the pilot? The share supplied each quarter, with
    the chi-square test for trend in proportions (Fingertips' method) from
    ``min_points`` quarters (5 by default; the test is valid from 3). When every
    quarter has the same share (all supplied, say) there is nothing to test and the
    direction is ``not computable``."""
    by_quarter = summarise(cells, "period")
    by_quarter = by_quarter.loc[sorted(by_quarter.index, key=periods.parse_period)]
    supplied = by_quarter[list(SUPPLIED)].sum(axis=1)
    result: dict = {"by_quarter": by_quarter}
    if len(by_quarter) >= min_points:
        test = stats.chi_square_trend(
            supplied.to_numpy(), by_quarter["expected"].to_numpy(), min_points=min_points
        )
        result.update(test)
    first, last = by_quarter["supplied_pct"].iloc[0], by_quarter["supplied_pct"].iloc[-1]
    result["first_pct"], result["last_pct"] = float(first), float(last)
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
