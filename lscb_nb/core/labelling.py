"""Point labels that do not overlap: each label moved off its neighbours (and off the
points) by adjustText, with a thin leader line back to its point when it moves.

Funnels, scatter plots and the priority matrix name their points; left where
matplotlib puts them, names of boroughs with similar figures print over each other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import matplotlib.pyplot as plt

log = logging.getLogger(__name__)

# Steps adjustText may take to move labels apart (it stops sooner once none overlaps).
ITERATIONS = 150


def label_points(
    ax: plt.Axes,
    xs: Sequence[float],
    ys: Sequence[float],
    labels: Sequence[str],
    *,
    fontsize: float = 7,
    colour: str = "#222",
) -> list:
    """Write ``labels`` beside their points and move them apart until none overlaps
    another label or a point; returns the text artists (in ``labels``' order)."""
    from adjustText import adjust_text

    texts = [
        ax.text(x, y, str(label), fontsize=fontsize, color=colour)
        for x, y, label in zip(xs, ys, labels, strict=True)
    ]
    if len(texts) > 1:
        adjust_text(
            texts,
            x=list(xs),
            y=list(ys),
            ax=ax,
            expand=(1.1, 1.3),
            force_text=(0.2, 0.4),
            # A fixed number of steps, not adjustText's default of one second: the
            # same labels land in the same places on any machine, and a layout that
            # cannot be made perfect costs at most this much.
            iter_lim=ITERATIONS,
            arrowprops={"arrowstyle": "-", "color": "#999", "lw": 0.5},
        )
    return texts
