"""Phase 1's figures, drawn from plain frames so an explorer can redraw them quickly.

Each ``plot_*`` function takes the tables it shows (no report context) and returns a
matplotlib figure; :mod:`lscb_nb.mapping.context` names the area-wide ones drawn once
per batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import pairwise

import matplotlib.pyplot as plt
import pandas as pd

from lscb_nb.core import display
from lscb_nb.core.datamodel import AGENCY_LABELS

log = logging.getLogger(__name__)


def plot_coverage_heatmap(
    matrix: pd.DataFrame, items: pd.DataFrame, name: Callable[[str], str] = str
) -> plt.Figure:
    """Boroughs × items, dark where the borough already collects the item, grouped by
    supplying agency (``name`` turns a borough code into its name)."""
    order = items.sort_values(["agency", "theme"]).index
    shown = matrix[order].astype(int)
    shown.index = [name(c) for c in shown.index]
    fig, ax = plt.subplots(figsize=(13, 0.22 * len(shown) + 2.4))
    ax.imshow(shown.to_numpy(), aspect="auto", cmap="Blues", vmin=0, vmax=1.4)
    ax.set_yticks(range(len(shown)), shown.index, fontsize=7)
    ax.set_xticks(range(len(order)), order, fontsize=5.5, rotation=90)
    ax.grid(False)
    agencies = items.loc[order, "agency"].to_numpy()
    edges = [0, *[i for i in range(1, len(agencies)) if agencies[i] != agencies[i - 1]], len(order)]
    for start, end in pairwise(edges):
        ax.axvline(start - 0.5, color="#444", lw=0.8)
        ax.text(
            (start + end - 1) / 2,
            -1.2,
            AGENCY_LABELS.get(agencies[start], agencies[start]),
            ha="center",
            va="bottom",
            fontsize=7,
            rotation=30,
        )
    ax.set_title("Who already collects what (dark = collected)", pad=40)
    fig.tight_layout()
    collected = int(shown.to_numpy().sum())
    share = shown.mean(axis=0)
    return display.describe(
        fig,
        f"Grid of {len(shown)} boroughs (rows) by {shown.shape[1]} candidate items (columns), "
        "grouped by supplying agency; a dark cell is an item the borough already collects. "
        f"{collected:,} of {shown.size:,} cells ({collected / max(shown.size, 1):.0%}) are "
        f"collected. The most widely collected item is {share.idxmax()} ({share.max():.0%} of "
        f"boroughs); {int((share == 0).sum())} items are collected by no borough.",
    )


def plot_coverage_by(by_agency: pd.DataFrame, by_theme: pd.DataFrame) -> plt.Figure:
    """The average share of boroughs collecting an item, by agency and by theme
    (the frames of :func:`lscb_nb.mapping.coverage.coverage_tables`)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for ax, frame, label in ((axes[0], by_agency, "agency"), (axes[1], by_theme, "theme")):
        ax.barh(frame.index, frame["share"], color="#2171b5")
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of boroughs collecting an item, on average")
        ax.set_title(f"By {label}")
        ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()

    def spread(frame: pd.DataFrame) -> str:
        lo, hi = frame["share"].idxmin(), frame["share"].idxmax()
        return f"from {lo} ({frame.at[lo, 'share']:.0f}%) to {hi} ({frame.at[hi, 'share']:.0f}%)"

    return display.describe(
        fig,
        "Two bar charts of the average share of boroughs collecting an item. By agency, "
        f"{spread(by_agency)}; by theme, {spread(by_theme)}.",
    )
