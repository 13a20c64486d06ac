"""The Fingertips rug (lscb_nb/pilot/rug.py and figures.plot_rug): each pilot borough
against the area on every item, by significance and each item's better direction."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from lscb_nb.core import display, stats
from lscb_nb.pilot import figures, rug

ITEMS = pd.DataFrame(
    {
        "title": ["Re-referrals within 12 months", "Plans reviewed on time", "Referrals"],
        "polarity": ["low", "high", "neutral"],
    },
    index=pd.Index(["CSC02", "CSC15", "CSC01"], name="item_id"),
)


def _bench(rows: list[tuple[str, str, float, float, float, float]]) -> pd.DataFrame:
    """Benchmark rows as the stage writes them, the comparison made from the interval
    and the area figure as comparators.borough_benchmark makes it."""
    frame = pd.DataFrame(
        rows, columns=["la_code_ons", "item_id", "lower", "upper", "area", "count"]
    )
    frame["vs_london"] = stats.compare_to_benchmark(frame["lower"], frame["upper"], frame["area"])
    return frame


@pytest.mark.parametrize(
    ("comparison", "polarity", "expected"),
    [
        ("lower", "low", "better"),  # lower is better, significantly below the area
        ("higher", "low", "worse"),
        ("higher", "high", "better"),
        ("lower", "high", "worse"),
        ("similar", "low", "similar"),
        ("higher", "neutral", "higher"),  # no judgement: only higher or lower
        ("lower", "neutral", "lower"),
        ("not compared", "high", "not compared"),
        (None, "high", "no data"),
        (float("nan"), "low", "no data"),
    ],
)
def test_a_cell_follows_the_items_direction(comparison, polarity, expected):
    assert rug.category(comparison, polarity) == expected


def test_cells_from_benchmarks_missing_and_suppressed_are_no_data():
    bench = _bench(
        [
            ("A", "CSC02", 10.0, 12.0, 20.0, 50),  # interval below the area: lower
            ("B", "CSC02", 25.0, 30.0, 20.0, 60),  # above: higher
            ("A", "CSC15", 70.0, 90.0, 80.0, 40),  # straddles: similar
            ("B", "CSC15", 10.0, 20.0, 80.0, 3),  # significantly lower, but a count of 3
            ("A", "CSC01", 300.0, 320.0, 250.0, 900),  # neutral and higher
        ]  # B sent nothing for CSC01
    )
    cells = rug.rug_cells(bench, ITEMS, ["A", "B"], threshold=5).set_index(
        ["item_id", "la_code_ons"]
    )
    assert cells.at[("CSC02", "A"), "category"] == "better"
    assert cells.at[("CSC02", "B"), "category"] == "worse"
    assert cells.at[("CSC15", "A"), "category"] == "similar"
    # Suppressed: no data shown as c, never the worse its interval said.
    assert cells.at[("CSC15", "B"), "category"] == "no data"
    assert cells.at[("CSC15", "B"), "symbol"] == "c"
    assert cells.at[("CSC01", "A"), "category"] == "higher"
    assert cells.at[("CSC01", "B"), "category"] == "no data"
    assert cells.at[("CSC01", "B"), "symbol"] == "x"
    # Every cell carries a symbol, so colour is never the only signal.
    assert cells["symbol"].str.len().gt(0).all()
    # No data is never coloured as similar.
    assert rug.COLOURS["no data"] != rug.COLOURS["similar"]


def test_the_figure_colours_each_cell_by_its_category_and_says_so_in_words():
    bench = _bench(
        [
            ("A", "CSC02", 10.0, 12.0, 20.0, 50),
            ("B", "CSC02", 25.0, 30.0, 20.0, 60),
            ("A", "CSC15", 70.0, 90.0, 80.0, 40),
            ("B", "CSC15", 50.0, 60.0, 80.0, 30),
        ]
    )
    cells = rug.rug_cells(bench, ITEMS, ["A", "B"], threshold=5)
    names = {"A": "Camden", "B": "Croydon"}
    fig = figures.plot_rug(
        cells, ITEMS["title"], area="London", period="2024-25 Q4", name=names.get
    )
    ax = fig.axes[0]
    grid = np.asarray(ax.images[0].get_array())
    cmap, norm = ax.images[0].get_cmap(), ax.images[0].norm
    colour = {c: rug.COLOURS[c].lower() for c in rug.CATEGORIES}
    from matplotlib.colors import to_hex

    drawn = [[to_hex(cmap(norm(v))) for v in row] for row in grid]
    # Rows are items in the data model's order, columns the boroughs.
    assert drawn == [
        [colour["better"], colour["worse"]],  # CSC02, lower is better
        [colour["similar"], colour["worse"]],  # CSC15, higher is better
    ]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Re-referrals within 12 months", "Plans reviewed on time"]
    symbols = sorted(t.get_text() for t in ax.texts)
    assert symbols == sorted(["✓", "✗", "●", "✗"])
    alt = display.figure_alt(fig)
    assert "Croydon is worse than London on 2 of 2 items and better on 0" in alt
    assert "Camden is worse than London on 0 of 2 items and better on 1" in alt
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(t.startswith("✗ significantly worse than London") for t in legend)
    plt.close(fig)


def test_the_table_download_says_each_cell_in_words():
    bench = _bench([("A", "CSC02", 10.0, 12.0, 20.0, 50)])
    cells = rug.rug_cells(bench, ITEMS, ["A", "B"], threshold=5)
    shown = rug.rug_table(cells, ITEMS["title"], {"A": "Camden", "B": "Croydon"}.get)
    assert list(shown.columns) == ["Item", "Title", "Camden", "Croydon"]
    assert shown.iloc[0].tolist() == [
        "CSC02",
        "Re-referrals within 12 months",
        "✓ better",
        "x (no data)",
    ]
