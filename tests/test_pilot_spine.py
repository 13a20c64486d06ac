"""The Fingertips-style spine chart: the figures printed beside each spine respect the
item's direction and suppression, the trend line stops at the chosen quarter, and the
table's cells are the benchmark frame's figures, as text, with each row's spine and
trend described for a screen reader."""

from __future__ import annotations

import io

import lxml.html
import numpy as np
import pandas as pd
import pytest

from lscb_nb.core import display
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


def _cells(chart: display.Table) -> pd.DataFrame:
    """The table as a reader's tools read it: every cell as the text shown."""
    frame = pd.read_html(io.StringIO(chart.data), keep_default_na=False, thousands=None)[0]
    return frame.astype(str).set_index("Code")


@pytest.mark.parametrize("la_code", ["C", None])
def test_the_table_shows_the_benchmark_figures_as_text(la_code):
    obs = _obs({"HI": [10, 20, 30, 40, 50], "LO": [5, 6, 7, 8, 9]})
    bb = _bb(obs, "C", QUARTERS[-1], {"HI": "high", "LO": "low"})
    bb.loc[1, "rag"] = "worse"
    england = pd.DataFrame(
        {"item_id": ["HI"], "england": [41.25], "england_year": [2025], "england_unit": ["%"]}
    )
    chart = spine.spine_table(
        obs,
        bb,
        QUARTERS[-1],
        threshold=5,
        area="London",
        la_name="Cee <b>",
        la_code=la_code,
        england=england,
    )
    cells = _cells(chart)
    assert list(cells.index) == ["HI", "LO"]
    for _, r in bb.iterrows():
        row = cells.loc[r["item_id"]]
        assert row["Item"] == r["title"]  # the title in full
        assert row["Period"] == QUARTERS[-1]
        assert row["Cee <b>"] == display.number(r["value"], 1)
        assert row["London pilot average"] == display.number(r[comparators.AREA_AVERAGE], 1)
    assert cells.at["LO", "Worst / lowest pilot authority"] == "11.0"  # low is good
    assert cells.at["LO", "Best / highest pilot authority"] == "7.0"
    assert cells.at["HI", "England (DfE, latest year)"] == "41.2 (%, 2025)"
    assert cells.at["LO", "England (DfE, latest year)"] == "not published"
    assert cells.at["LO", "Against the London pilot average"] == "significantly worse"
    # The caption counts what the rows say; the borough's name is escaped everywhere.
    assert "2 items" in chart.data and "1 significantly worse" in chart.data
    assert "Cee <b>" not in chart.data and "Cee &lt;b&gt;" in chart.data
    assert chart.download["rows"][0][:2] == ["Title of HI", "HI"]


def test_each_rows_spine_and_trend_are_pictures_with_words():
    obs = _obs({"HI": [10, 20, 30, 40, 50], "LO": [5, 6, 7, 8, 9]})
    bb = _bb(obs, "C", QUARTERS[-1], {"HI": "high", "LO": "low"})
    chart = spine.spine_table(
        obs, bb, QUARTERS[-1], threshold=5, area="London", la_name="Cee", la_code="C"
    )
    tree = lxml.html.fromstring(chart.data)
    table = tree if tree.tag == "table" else tree.find(".//table")
    assert table.get("data-lscb") and table.find("caption") is not None
    assert all(th.get("scope") == "row" for th in table.findall(".//tbody/tr/th"))
    pictures = table.findall(".//svg")
    assert len(pictures) == 4  # a spine and a trend per row
    for svg in pictures:
        assert svg.get("role") == "img" and svg.get("aria-label")
    spine_label = pictures[0].get("aria-label")
    assert "Cee 32.0" in spine_label and "from 12.0" in spine_label and "52.0" in spine_label
    trend_label = pictures[1].get("aria-label")
    assert all(q in trend_label for q in QUARTERS) and "32.0" in trend_label


def test_the_marker_sits_right_when_better_and_left_when_worse():
    obs = _obs({"HI": [10, 20, 30, 40, 50], "LO": [10, 20, 30, 40, 50]})
    bb = _bb(obs, "E", QUARTERS[-1], {"HI": "high", "LO": "low"})
    chart = spine.spine_table(
        obs, bb, QUARTERS[-1], threshold=5, area="L", la_name="E", la_code="E"
    )
    tree = lxml.html.fromstring(chart.data)
    centre, width = spine.SPINE_BOX[0] / 2, spine.SPINE_BOX[0]
    xs = []
    for svg in tree.findall(".//svg")[::2]:
        shape = svg.find("polygon")
        if shape is None:
            xs.append(float(svg.find("circle").get("cx")))
        else:
            xs.append(np.mean([float(p.split(",")[0]) for p in shape.get("points").split()]))
    # E has the highest figure: right of centre where high is good, left where low is
    assert centre < xs[0] <= width and 0 <= xs[1] < centre


def test_too_few_boroughs_draw_nothing():
    obs = _obs({"HI": [10, 20, 30, 40, 50]})
    obs = obs.loc[obs["la_code_ons"].isin(["A", "B", "C"])]
    bb = _bb(obs, "C", QUARTERS[-1], {"HI": "high"})
    assert spine.spine_table(obs, bb, QUARTERS[-1], threshold=5, area="L", la_name="C") is None


def test_englands_figure_is_the_latest_published_one_in_the_boroughs_units():
    measures = [[{"source": "dfe_cin_c1", "measure": m}] for m in ("share", "count")]
    items = pd.DataFrame(
        {
            "unit": ["percentage", "rate_per_10k"],
            "measure_type": ["flow", "snapshot"],
            "published_measures": measures,
        },
        index=pd.Index(["P", "R"], name="item_id"),
    )
    published = pd.DataFrame(
        {
            "source": "dfe_cin_c1",
            "measure": ["share", "share", "count", "count"],
            "area_code": ["E92000001", "E92000001", "E92000001", "E09000001"],
            "year": [2024, 2025, 2025, 2025],
            "value": [20.0, 22.5, 1000.0, 5.0],
            "value_state": "reported",
        }
    )
    out = spine.england_figures(items, published).set_index("item_id")
    assert out.at["P", "england"] == 22.5 and out.at["P", "england_year"] == 2025
    assert out.at["P", "england_unit"] == "%"
    assert "31 March" in out.at["R", "england_unit"]
    assert 0 < out.at["R", "england"] < 1000  # a count turned into a rate per 10,000
