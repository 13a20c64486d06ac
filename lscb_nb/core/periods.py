"""Reporting periods: financial-year quarters, written the way DfE's Explore
Education Statistics (EES) files write them.

A return covers one quarter of a financial year (April to March). EES writes the
financial year 2024-25 as ``time_period = 202425`` and the quarter as
``time_identifier = "Financial year Q1"``. Inside the toolkit a period is the
readable label ``"2024-25 Q1"``.
"""

from __future__ import annotations

import logging
import re
from datetime import date

import pandas as pd

log = logging.getLogger(__name__)

TIME_IDENTIFIERS = tuple(f"Financial year Q{q}" for q in range(1, 5))
_LABEL = re.compile(r"^(?P<y1>\d{4})-(?P<y2>\d{2}) Q(?P<q>[1-4])$")
_QUARTER_END = {1: (6, 30), 2: (9, 30), 3: (12, 31), 4: (3, 31)}


class PeriodError(ValueError):
    """A period label, EES code or quarter that is not a valid financial-year quarter."""


def period_label(start_year: int, quarter: int) -> str:
    """``period_label(2024, 1) == "2024-25 Q1"``."""
    if quarter not in (1, 2, 3, 4):
        raise PeriodError(f"quarter must be 1-4, not {quarter!r}")
    return f"{start_year}-{(start_year + 1) % 100:02d} Q{quarter}"


def parse_period(label: str) -> tuple[int, int]:
    """Return (start_year, quarter) for a label such as ``"2024-25 Q1"``."""
    m = _LABEL.match(str(label).strip())
    if not m or (int(m["y1"]) + 1) % 100 != int(m["y2"]):
        raise PeriodError(f"{label!r} is not a period such as '2024-25 Q1'")
    return int(m["y1"]), int(m["q"])


def to_ees(label: str) -> tuple[str, str]:
    """``"2024-25 Q1"`` -> ``("202425", "Financial year Q1")``."""
    y, q = parse_period(label)
    return f"{y}{(y + 1) % 100:02d}", f"Financial year Q{q}"


def from_ees(time_period: object, time_identifier: object) -> str:
    """``("202425", "Financial year Q1")`` -> ``"2024-25 Q1"``; PeriodError otherwise."""
    tp = str(time_period).strip()
    if tp.endswith(".0"):
        tp = tp[:-2]
    ti = str(time_identifier).strip()
    if not re.fullmatch(r"\d{6}", tp) or (int(tp[:4]) + 1) % 100 != int(tp[4:]):
        raise PeriodError(f"time_period {time_period!r} is not a financial year such as 202425")
    if ti not in TIME_IDENTIFIERS:
        raise PeriodError(
            f"time_identifier {time_identifier!r} is not one of {', '.join(TIME_IDENTIFIERS)}"
        )
    return period_label(int(tp[:4]), int(ti[-1]))


def period_end(label: str) -> date:
    """Last day of the quarter (Q4 of 2024-25 ends 31 March 2025)."""
    y, q = parse_period(label)
    month, day = _QUARTER_END[q]
    return date(y + 1 if q == 4 else y, month, day)


def period_range(first: str, last: str) -> list[str]:
    """Every quarter from ``first`` to ``last`` inclusive, in order."""
    y, q = parse_period(first)
    y_end, q_end = parse_period(last)
    if (y, q) > (y_end, q_end):
        raise PeriodError(f"{first} comes after {last}")
    out = []
    while (y, q) <= (y_end, q_end):
        out.append(period_label(y, q))
        y, q = (y, q + 1) if q < 4 else (y + 1, 1)
    return out


def shift_period(label: str, quarters: int) -> str:
    """The period ``quarters`` later (negative for earlier): same quarter last year is -4."""
    y, q = parse_period(label)
    n = y * 4 + (q - 1) + quarters
    return period_label(n // 4, n % 4 + 1)


def financial_year(label: str) -> str:
    """``"2024-25 Q3"`` -> ``"2024-25"``."""
    return label.split(" ")[0]


def dfe_year(label: str) -> int:
    """The DfE 'year ending 31 March' a quarter falls in: 2024-25 Q1 -> 2025."""
    return parse_period(label)[0] + 1


def sort_key(labels: pd.Series) -> pd.Series:
    """A sortable integer for a Series of period labels."""
    parsed = labels.map(parse_period)
    return parsed.map(lambda yq: yq[0] * 4 + yq[1])


def span_text(labels: list[str], joiner: str = " to ") -> str:
    """``"2025-26 Q1 to 2025-26 Q4"``, or the one quarter when there is only one."""
    if not labels:
        return "no quarter"
    ordered = sorted(labels, key=parse_period)
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]}{joiner}{ordered[-1]}"
