"""The Fingertips-style spine chart: the figures printed beside each spine respect the
item's direction and suppression, and the trend line stops at the chosen quarter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lscb_nb.core import display
from lscb_nb.core.textcolumns import TextColumn
from lscb_nb.pilot import comparators, spine

BOROUGHS = ["A", "B", "C", "D", "E"]
QUARTERS = ["2024-25 Q1", "2024-25 Q2", "2024-25 Q3"]


def _obs(values: dict[str, list[float]], counts: dict[str, int] | None = None) -> pd.DataFrame:
    rows = []
    for item, per_borough in values.items():
        for q, quarter in enumerate(QUARTERS):
            for b, la in enumerate(BOROUGHS):
                rows.append(
                    {
                        "la_code_ons": la,
                        "item_id": item,
                        "period": quarter,
                        "value": per_borough[b] + q,
                        "count": (counts or {}).get(la, 50),
                    }
                )
    return pd.DataFrame(rows)


def _bb(obs: pd.DataFrame, la: str, period: str, polarity: dict[str, str]) -> pd.DataFrame:
    now = obs.loc[(obs["period"] == period)]
    rows = []
    for item, pol in polarity.items():
        mine = now.loc[(now["item_id"] == item) & (now["la_code_ons"] == la)].iloc[0]
        rows.append(
            {
                "item_id": item,
                "title": f"Title of {item}",
                "polarity": pol,
                "rag": "similar",
                "vs_london": "similar",
                "count": mine["count"],
                "value": mine["value"],
                "decimal_places": 1,
                comparators.AREA_AVERAGE: now.loc[now["item_id"] == item, "value"].mean(),
            }
        )
    return pd.DataFrame(rows)


def test_worst_and_best_follow_the_items_direction():
    obs = _obs({"HI": [10, 20, 30, 40, 50], "LO": [10, 20, 30, 40, 50]})
    bb = _bb(obs, "C", QUARTERS[-1], {"HI": "high", "LO": "low"})
    rows = spine._spine_rows(obs, bb, QUARTERS[-1], threshold=5, la_code="C").set_index("item_id")
    assert (rows.at["HI", "worst"], rows.at["HI", "best"]) == ("12.0", "52.0")
    assert (rows.at["LO", "worst"], rows.at["LO", "best"]) == ("52.0", "12.0")
    # Right is better: the lowest figure sits left on a high-is-good item, right on a low one.
    assert rows.at["HI", "min"] < 0.5 < rows.at["HI", "max"]
    assert rows.at["LO", "min"] > 0.5 > rows.at["LO", "max"]


def test_suppressed_figures_are_left_out_of_the_range_and_the_rows():
    obs = _obs({"HI": [10, 20, 30, 40, 99]}, counts={"E": 3})
    bb = _bb(obs, "C", QUARTERS[-1], {"HI": "high"})
    rows = spine._spine_rows(obs, bb, QUARTERS[-1], threshold=5, la_code="C")
    assert rows.loc[0, "best"] == "42.0"  # E's 101 rests on a count of 3: never shown
    bb_e = _bb(obs, "E", QUARTERS[-1], {"HI": "high"})
    assert spine._spine_rows(obs, bb_e, QUARTERS[-1], threshold=5, la_code="E").empty


def test_the_trend_runs_up_to_the_chosen_quarter_with_gaps_kept():
    obs = _obs({"HI": [10, 20, 30, 40, 50]})
    obs = obs.loc[~((obs["la_code_ons"] == "C") & (obs["period"] == QUARTERS[0]))]
    bb = _bb(obs, "C", QUARTERS[1], {"HI": "high"})
    trend = spine._spine_rows(obs, bb, QUARTERS[1], threshold=5, la_code="C").loc[0, "trend"]
    assert len(trend) == 2 and np.isnan(trend[0]) and trend[1] == 31.0


@pytest.mark.parametrize("la_code", ["C", None])
def test_the_chart_is_drawn_and_described_from_its_data(la_code):
    obs = _obs({"HI": [10, 20, 30, 40, 50], "LO": [5, 6, 7, 8, 9]})
    bb = _bb(obs, "C", QUARTERS[-1], {"HI": "high", "LO": "low"})
    bb.loc[1, "rag"] = "worse"
    fig = spine.plot_spine(
        obs, bb, QUARTERS[-1], threshold=5, area="London", la_name="Cee", la_code=la_code
    )
    alt = display.figure_alt(fig)
    assert "2 items for Cee" in alt and "1 worse" in alt and "Title of LO" in alt
    ax = fig.axes[0]
    columns = [a for a in ax.artists if isinstance(a, TextColumn)]
    printed = {t.get_text() for t in ax.texts} | {t for c in columns for t in c.texts}
    assert {"Cee", "London", "32.0", "Title of HI (HI)", "Title of LO (LO)"} <= printed
    # each row: the item's name, the borough's figure, the area's, the worst and best
    assert [len(c.texts) for c in columns] == [2] * 5


def test_too_few_boroughs_draw_nothing():
    obs = _obs({"HI": [10, 20, 30, 40, 50]})
    obs = obs.loc[obs["la_code_ons"].isin(["A", "B", "C"])]
    bb = _bb(obs, "C", QUARTERS[-1], {"HI": "high"})
    assert spine.plot_spine(obs, bb, QUARTERS[-1], threshold=5, area="L", la_name="C") is None
