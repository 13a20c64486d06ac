from datetime import date

import pytest

from lscb_nb.core import periods


def test_label_and_ees_round_trip():
    assert periods.to_ees("2024-25 Q1") == ("202425", "Financial year Q1")
    assert periods.from_ees("202425", "Financial year Q4") == "2024-25 Q4"
    assert periods.from_ees(202425.0, "Financial year Q2") == "2024-25 Q2"


@pytest.mark.parametrize(
    ("tp", "ti"),
    [
        ("2024", "Financial year Q1"),
        ("202426", "Financial year Q1"),
        ("202425", "Q1"),
        ("202425", "Financial year Q5"),
        ("", ""),
    ],
)
def test_bad_ees_codes_raise_clear_errors(tp, ti):
    with pytest.raises(periods.PeriodError):
        periods.from_ees(tp, ti)


def test_quarter_end_dates_follow_the_financial_year():
    assert periods.period_end("2024-25 Q1") == date(2024, 6, 30)
    assert periods.period_end("2024-25 Q4") == date(2025, 3, 31)
    assert periods.dfe_year("2024-25 Q1") == 2025


def test_ranges_and_shifts():
    r = periods.period_range("2023-24 Q3", "2024-25 Q2")
    assert r == ["2023-24 Q3", "2023-24 Q4", "2024-25 Q1", "2024-25 Q2"]
    assert periods.shift_period("2024-25 Q1", -4) == "2023-24 Q1"
    assert periods.shift_period("2023-24 Q4", 1) == "2024-25 Q1"
    with pytest.raises(periods.PeriodError):
        periods.period_range("2024-25 Q2", "2024-25 Q1")
    with pytest.raises(periods.PeriodError):
        periods.parse_period("2024-26 Q1")
