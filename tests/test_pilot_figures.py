"""Phase 3 figures a board member reads without the text: letters as well as colours,
every colour in the legend, and point labels that do not print over each other."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import pandas as pd

from lscb_nb.core import labelling
from lscb_nb.pilot import figures


def test_status_heatmap_names_items_in_words_and_marks_cells_by_symbol():
    cells = pd.DataFrame(
        {
            "item_id": ["A1", "A1", "B2", "B2"],
            "period": ["2024-25 Q1", "2024-25 Q2", "2024-25 Q1", "2024-25 Q2"],
            "status": ["on time", "late", "not supplied", "not received"],
        }
    )
    titles = pd.Series({"A1": "Referrals to children's social care", "B2": "Re-referrals"})
    fig = figures.plot_status_heatmap(cells, "Cee", titles)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Referrals to children's social care (A1)", "Re-referrals (B2)"]
    # Each status's own symbol (core/states.py); on time carries none.
    assert sorted(t.get_text() for t in ax.texts) == ["L", "nr", "ns"]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "not expected" in legend and "late (L)" in legend and "on time" in legend
    assert "not supplied (ns)" in legend and "not received (nr)" in legend
    plt.close(fig)


def _overlaps(fig, texts) -> int:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    return sum(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))


def test_point_labels_are_moved_apart():
    fig, ax = plt.subplots(figsize=(4, 3))
    xs = [1.0, 1.01, 1.02, 1.03, 2.0]
    ys = [1.0, 1.0, 1.01, 1.0, 2.0]
    ax.scatter(xs, ys)
    names = ["Tower Hamlets", "Kensington and Chelsea", "Hammersmith", "Enfield", "Ealing"]
    plain = [ax.text(x, y, n, fontsize=7) for x, y, n in zip(xs, ys, names, strict=True)]
    assert _overlaps(fig, plain) > 0  # where matplotlib puts them, they collide
    for t in plain:
        t.remove()
    moved = labelling.label_points(ax, xs, ys, names)
    assert [t.get_text() for t in moved] == names
    assert _overlaps(fig, moved) == 0
    plt.close(fig)


def test_ten_boroughs_bunched_on_a_funnel_keep_their_names_apart():
    import numpy as np

    rng = np.random.default_rng(7)
    xs = list(rng.uniform(40_000, 60_000, 10))
    ys = list(rng.normal(30, 1.5, 10))
    fig, ax = plt.subplots(figsize=(10, 4.4))
    ax.scatter(xs, ys)
    ax.set_xlim(10_000, 150_000)
    ax.set_ylim(0, 70)
    names = [f"Borough number {i}" for i in range(10)]
    assert _overlaps(fig, labelling.label_points(ax, xs, ys, names)) == 0
    plt.close(fig)
