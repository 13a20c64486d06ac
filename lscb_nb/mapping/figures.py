"""Phase 1's figures, drawn from plain frames so an explorer can redraw them quickly.

Each ``plot_*`` function takes the tables it shows (no report context) and returns a
matplotlib figure; :mod:`lscb_nb.mapping.context` names the area-wide ones drawn once
per batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lscb_nb.core import display, labels
from lscb_nb.core.datamodel import AGENCY_LABELS
from lscb_nb.core.labels import counted, shorten

log = logging.getLogger(__name__)

# The colour of a collected item in the coverage heatmap (white: not collected).
COLLECTED = "#2171b5"
# Inches: shown at its own size (8 pt labels stay 8 pt) on a page 740 px wide.
FIGURE_WIDTH = 7.7


def plot_coverage_heatmap(
    matrix: pd.DataFrame,
    items: pd.DataFrame,
    name: Callable[[str], str] = str,
    word: str = "authority",
) -> plt.Figure:
    """Items (rows, named by title, one panel per supplying agency) × boroughs
    (columns): dark where the borough already collects the item, white where it does
    not (``name`` turns a borough code into its name; ``word`` is what the project
    calls an authority, for the alt text). Labels are 8 pt at the size the
    report shows the figure: 80-odd items need a tall figure, not small type."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    order = items.sort_values(["agency", "theme"]).index
    agency = items.loc[order, "agency"]
    groups = list(dict.fromkeys(agency))
    shown = matrix[order].astype(int).T
    boroughs = [name(c) for c in matrix.index]
    sizes = [int((agency == a).sum()) for a in groups]
    row, gap, top_margin, bottom_margin = 0.17, 0.4, 2.2, 1.75  # inches
    height = row * len(order) + gap * (len(groups) - 1) + top_margin + bottom_margin
    fig, axes = plt.subplots(
        len(groups),
        1,
        figsize=(FIGURE_WIDTH, height),
        sharex=True,
        # hspace is a share of the mean panel's height
        gridspec_kw={"height_ratios": sizes, "hspace": gap / (row * len(order) / len(groups))},
        squeeze=False,
    )
    cmap = ListedColormap(["#ffffff", COLLECTED])
    for ax, group in zip(axes[:, 0], groups, strict=True):
        part = shown.loc[agency.index[agency == group]]
        ax.imshow(part.to_numpy(), aspect="auto", cmap=cmap, vmin=0, vmax=1)
        titles = [shorten(str(items.at[i, "title"]), 44) for i in part.index]
        ax.set_yticks(range(len(part)), titles, fontsize=8)
        ax.set_xticks(np.arange(len(boroughs) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(part) + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="#d9d9d9", lw=0.5)
        ax.grid(which="major", visible=False)
        ax.tick_params(which="minor", length=0)
        ax.tick_params(axis="x", labelbottom=False)
        ax.text(  # the panel's agency, above its first item's label
            -0.01,
            1.0,
            AGENCY_LABELS.get(group, group),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=9,
            fontweight="bold",
        )
    top, bottom = axes[0, 0], axes[-1, 0]
    # Borough names above the first panel and below the last, read from the side.
    top.tick_params(axis="x", labeltop=True, labelbottom=False)
    top.set_xticks(range(len(boroughs)), boroughs, fontsize=8, rotation=90, va="bottom")
    bottom.tick_params(axis="x", labelbottom=True)
    bottom.set_xticks(range(len(boroughs)), boroughs, fontsize=8, rotation=90, va="top")
    fig.suptitle(
        "Who already collects what", x=0.02, y=1 - 0.12 / height, ha="left", fontweight="bold"
    )
    fig.legend(
        handles=[
            Patch(facecolor=COLLECTED, edgecolor="#737373", label="collected already"),
            Patch(facecolor="#ffffff", edgecolor="#737373", label="not collected"),
        ],
        loc="upper left",
        bbox_to_anchor=(0.01, 1 - 0.42 / height),
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    fig.subplots_adjust(
        left=0.42, right=0.985, top=1 - top_margin / height, bottom=bottom_margin / height
    )
    return display.describe(fig, _coverage_alt(shown, items, agency, word))


def _coverage_alt(
    shown: pd.DataFrame, items: pd.DataFrame, agency: pd.Series, word: str = "authority"
) -> str:
    """The heatmap's alt text, from its grid: how much is collected, the most and least
    collected items by title, and the spread by agency."""
    collected = int(shown.to_numpy().sum())
    share = shown.mean(axis=1).fillna(0.0)  # no borough read yet: nothing collected
    by_agency = share.groupby(agency).mean().sort_values()
    never = [str(items.at[i, "title"]) for i in share.index[share == 0]]
    top = share.idxmax() if len(share) and share.max() > 0 else None
    return (
        f"Grid of {len(shown)} candidate items (rows, in panels by supplying agency) by "
        f"{labels.counted(shown.shape[1], word)} (columns); a dark cell is an item the {word} "
        "already "
        f"collects, a white one an item it does not. {collected:,} of {shown.size:,} cells "
        f"({collected / max(shown.size, 1):.0%}) are collected. "
        + (
            f"The most widely collected item is {items.at[top, 'title']} "
            f"({share.max():.0%} of {labels.plural_of(word)}). "
            if top is not None
            else ""
        )
        + (
            f"By agency, the average share collecting an item runs from "
            f"{AGENCY_LABELS.get(by_agency.index[0], by_agency.index[0])} "
            f"({by_agency.iloc[0]:.0%}) to "
            f"{AGENCY_LABELS.get(by_agency.index[-1], by_agency.index[-1])} "
            f"({by_agency.iloc[-1]:.0%}). "
            if len(by_agency)
            else ""
        )
        + f"{counted(len(never), 'item')} {'is' if len(never) == 1 else 'are'} collected by "
        f"no {word}"
        + (f": {', '.join(never[:8])}" + (f" and {len(never) - 8} more" if len(never) > 8 else ""))
        * bool(never)
        + "."
    )


def plot_coverage_by(
    by_agency: pd.DataFrame, by_theme: pd.DataFrame, word: str = "authority"
) -> plt.Figure:
    """The average share of authorities (``word``: 'borough' in London) collecting an
    item, by agency and by theme (the frames of
    :func:`lscb_nb.mapping.coverage.coverage_tables`)."""
    words = labels.plural_of(word)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for ax, frame, label in ((axes[0], by_agency, "agency"), (axes[1], by_theme, "theme")):
        ax.barh(frame.index, frame["share"], color="#2171b5")
        ax.set_xlim(0, 100)
        ax.set_xlabel(f"% of {words} collecting an item, on average")
        ax.set_title(f"By {label}")
        ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()

    def spread(frame: pd.DataFrame) -> str:
        share = frame["share"].dropna()
        if share.empty:
            return f"no {word}'s dataset has been read yet"
        lo, hi = share.idxmin(), share.idxmax()
        return f"from {lo} ({frame.at[lo, 'share']:.0f}%) to {hi} ({frame.at[hi, 'share']:.0f}%)"

    return display.describe(
        fig,
        f"Two bar charts of the average share of {words} collecting an item. By agency, "
        f"{spread(by_agency)}; by theme, {spread(by_theme)}.",
    )
