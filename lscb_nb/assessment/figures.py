"""Phase 2's figures, drawn from plain frames so an explorer can redraw them quickly.

Each ``plot_*`` function takes the tables it shows (no report context) and returns a
matplotlib figure; :mod:`lscb_nb.assessment.context` names the area-wide ones drawn
once per batch.
"""

from __future__ import annotations

import logging

import matplotlib.pyplot as plt
import pandas as pd

from lscb_nb.core import display, labelling
from lscb_nb.core.datamodel import AGENCY_LABELS

log = logging.getLogger(__name__)

AGENCY_COLOURS = dict(
    zip(
        AGENCY_LABELS,
        [
            "#1b9e77",
            "#d95f02",
            "#7570b3",
            "#e7298a",
            "#66a61e",
            "#e6ab02",
            "#a6761d",
            "#666666",
            "#1f78b4",
        ],
        strict=False,
    )
)


def plot_priority_matrix(decisions: pd.DataFrame, useful: float, accessible: float) -> plt.Figure:
    """Every item's usefulness against its accessibility, coloured by supplying agency,
    with the thresholds that place it (``decisions`` from :func:`ratings.classify`)."""
    d = decisions
    fig, ax = plt.subplots(figsize=(10, 7.5))
    markers = "osD^vPXh*p"  # a shape as well as a colour for each agency
    for number, (agency, part) in enumerate(d.groupby("agency")):
        ax.scatter(
            part["accessibility"],
            part["usefulness"],
            s=36,
            marker=markers[number % len(markers)],
            color=AGENCY_COLOURS.get(agency, "#333"),
            label=AGENCY_LABELS.get(agency, agency),
            edgecolors="white",
            linewidths=0.5,
        )
    labelling.label_points(
        ax, d["accessibility"], d["usefulness"], list(d.index), fontsize=6, colour="#333"
    )
    ax.axvline(accessible, color="#888", ls="--", lw=1)
    ax.axhline(useful, color="#888", ls="--", lw=1)
    lo_x, hi_x = 1, 4
    for x, y, text in (
        (hi_x - 0.05, 3.95, "core"),
        (lo_x + 0.05, 3.95, "develop"),
        (hi_x - 0.05, lo_x + 0.05, "local option"),
        (lo_x + 0.05, lo_x + 0.05, "drop"),
    ):
        ax.text(
            x,
            y,
            text,
            ha="right" if x > 2 else "left",
            va="top" if y > 2 else "bottom",
            fontsize=11,
            color="#555",
            weight="bold",
        )
    ax.set_xlim(lo_x, hi_x)
    ax.set_ylim(lo_x, hi_x)
    ax.set_xlabel("Accessibility (mean of raters, 1-4)")
    ax.set_ylabel("Usefulness (mean of raters, 1-4)")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), title="Supplying agency")
    ax.set_title("Priority matrix: every item's usefulness against its accessibility")
    fig.tight_layout()
    counts = d["decision"].astype(str).value_counts()
    return display.describe(
        fig,
        f"Scatter plot of {len(d)} items, usefulness against accessibility (mean of raters, "
        f"1 to 4), with lines at usefulness {useful} and accessibility {accessible}: "
        + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("core", "develop", "local option", "drop"))
        + ".",
    )


def plot_accessibility_heatmap(grid: pd.DataFrame) -> plt.Figure:
    """Mean accessibility by supplying agency and criterion (the grid of
    :func:`lscb_nb.assessment.ratings.accessibility_grid`)."""
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(9, 4.6))
    sns.heatmap(
        grid,
        annot=True,
        fmt=".1f",
        cmap="RdYlGn",
        vmin=1,
        vmax=4,
        ax=ax,
        cbar_kws={"label": "mean score (1-4)"},
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("Accessibility by supplying agency and criterion")
    fig.tight_layout()
    cells = grid.stack()
    lo, hi = cells.idxmin(), cells.idxmax()
    return display.describe(
        fig,
        "Grid of mean accessibility scores (1 to 4) by supplying agency and criterion, each "
        f"cell labelled with its score. Lowest: {lo[0]}, {lo[1]} ({cells.min():.1f}); highest: "
        f"{hi[0]}, {hi[1]} ({cells.max():.1f}).",
    )
