"""The final report's figures, drawn from plain values so they can be redrawn quickly."""

from __future__ import annotations

import logging

import matplotlib.pyplot as plt
import pandas as pd

from lscb_nb.core import display

log = logging.getLogger(__name__)


def plot_items_by_agency(by_agency: pd.Series, version: str) -> plt.Figure:
    """How many items of data-model ``version`` each supplying agency (labelled) supplies."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    by_agency.sort_values().plot.barh(ax=ax, color="#2171b5")
    ax.set_xlabel("Items in the final dataset")
    ax.set_ylabel("")
    ax.set_title(f"Version {version}: items by supplying agency")
    fig.tight_layout()
    return display.describe(
        fig,
        f"Bar chart of the items in version {version} by supplying agency: "
        + ", ".join(f"{a} {n}" for a, n in by_agency.sort_values(ascending=False).items())
        + ".",
    )
