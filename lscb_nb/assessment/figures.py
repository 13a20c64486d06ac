"""Phase 2's figures, drawn from plain frames so an explorer can redraw them quickly.

Each ``plot_*`` function takes the tables it shows (no report context) and returns a
matplotlib figure; :mod:`lscb_nb.assessment.context` names the area-wide ones drawn
once per batch.
"""

from __future__ import annotations

import logging

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.patches import Rectangle

from lscb_nb.assessment.instrument import criterion_label
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
        + (
            f"; {counts['for discussion']} for discussion (raters did not agree well enough to "
            "place them)."
            if counts.get("for discussion", 0)
            else "."
        ),
    )


def plot_accessibility_heatmap(grid: pd.DataFrame) -> plt.Figure:
    """Mean accessibility by supplying agency and criterion (the grid of
    :func:`lscb_nb.assessment.ratings.accessibility_grid`)."""
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(9, 4.6))
    grid = grid.rename(columns=criterion_label)
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


def _plain(text: object) -> str:
    """Text as matplotlib should draw it: a ``$`` in a title is a dollar, not mathtext."""
    return str(text).replace("$", r"\$")


def mark_item(
    fig: plt.Figure,
    point: tuple[float, float],
    label: str,
    own: tuple[float, float] | None = None,
    own_label: str = "",
) -> list[Artist]:
    """Marks for the priority matrix (:func:`plot_priority_matrix`) that pick out one
    item: a ring and its label at ``point`` (accessibility, usefulness), and, when
    ``own`` is given, a star where one borough's raters place it, with an arrow from
    the ring; a key under the legend says which is which."""
    ax = fig.axes[0]
    style = {"boxstyle": "round,pad=0.25", "fc": "white", "ec": "black", "lw": 0.8}
    marks: list[Artist] = [
        ax.scatter(
            [point[0]], [point[1]], s=260, facecolors="none", edgecolors="black", linewidths=2.2
        ),
        ax.annotate(_plain(label), point, fontsize=10, weight="bold", bbox=style, **_inward(point)),
    ]
    key = f"\u25cb  {_plain(label)}, all raters"
    if own is not None and all(np.isfinite(own)):
        marks += [
            ax.annotate(
                "", own, xytext=point, arrowprops={"arrowstyle": "->", "color": "black", "lw": 1.4}
            ),
            ax.scatter(
                [own[0]],
                [own[1]],
                s=240,
                marker="*",
                color="black",
                edgecolors="white",
                clip_on=False,
            ),
        ]
        key += f"\n\u2605  {_plain(own_label)}"
    legend = ax.get_legend()
    where = legend.get_window_extent() if legend else None
    x = where.x0 / fig.bbox.width if where else 0.82
    y = where.y0 / fig.bbox.height - 0.03 if where else 0.3
    marks.append(fig.text(x, y, key, fontsize=9, va="top", ha="left", bbox=style))
    return marks


def _inward(point: tuple[float, float]) -> dict:
    """Where a mark's label goes: towards the middle of the 1-4 square, so it stays
    inside the axes."""
    right = point[0] < 2.5
    up = point[1] < 3.4
    return {
        "xytext": (14 if right else -14, 14 if up else -18),
        "textcoords": "offset points",
        "ha": "left" if right else "right",
        "va": "bottom" if up else "top",
    }


def plot_score_grid(
    grid: pd.DataFrame,
    title: str,
    alt: str,
    dimensions: list[str] | None = None,
    total_row: bool = False,
    whole_rows: int = 0,
) -> plt.Figure:
    """A grid of mean scores (1-4) with each cell's score written in it: rows named in
    words, columns criteria (coded; shown in words), a blank cell drawn as a dash.
    ``dimensions`` (one per column) heads each run of columns with its dimension;
    ``total_row`` sets the last row (a mean of all) apart. The first ``whole_rows`` rows
    are single raters' scores, written as whole numbers; means have one decimal.
    Drawn without seaborn, so an explorer can draw one in a tenth of a second."""
    values = grid.to_numpy(dtype=float)
    rows, cols = values.shape
    fig, ax = plt.subplots(figsize=(9, 1.5 + 0.36 * rows))
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#eeeeee")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=1, vmax=4, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        text = "–" if not np.isfinite(v) else f"{v:.{0 if i < whole_rows else 1}f}"
        colour = _ink(image.cmap(image.norm(v))) if np.isfinite(v) else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize=10, color=colour)
    labels = [criterion_label(c).replace(" ", "\n") for c in grid.columns]
    ax.set_xticks(range(cols), labels, fontsize=9)
    ax.set_yticks(range(rows), [_plain(r) for r in grid.index], fontsize=9)
    ax.tick_params(length=0)
    ax.grid(False)
    if total_row and rows > 1:
        ax.axhline(rows - 1.5, color="white", lw=4)
    if dimensions:
        runs = pd.Series(dimensions).ne(pd.Series(dimensions).shift()).cumsum()
        for _, run in pd.Series(range(cols)).groupby(runs.to_numpy()):
            first, last = run.iloc[0], run.iloc[-1]
            ax.text(
                (first + last) / 2,
                -0.75,
                dimensions[first].capitalize(),
                ha="center",
                va="bottom",
                fontsize=9,
                weight="bold",
                color="#333",
            )
            if first:
                ax.axvline(first - 0.5, color="white", lw=4)
    ax.set_title(_plain(title), fontsize=11, pad=22 if dimensions else 8)
    fig.tight_layout()
    return display.describe(fig, alt)


def _ink(rgba) -> str:
    """Black or white, whichever reads better on the cell's colour (WCAG luminance)."""
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "black" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "white"


def mark_column(fig: plt.Figure, column: int) -> list[Artist]:
    """An outline round one column of a :func:`plot_score_grid` (the chosen criterion)."""
    ax = fig.axes[0]
    rows = len(ax.get_yticks())
    box = Rectangle(
        (column - 0.5, -0.5), 1, rows, fill=False, edgecolor="black", lw=3, clip_on=False
    )
    ax.add_patch(box)
    return [box]
