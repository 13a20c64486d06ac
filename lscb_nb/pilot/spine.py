"""Phase 3's spine chart, as Fingertips draws it: one row per item with the borough's
value, the area's, the worst and best pilot boroughs' beside the spine, and a small
trend line of the borough's quarters.

Its own module because it is the report's densest figure, with its own layout
constants; the explorer pre-draws it for every borough.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lscb_nb.core import disclosure, display, periods
from lscb_nb.core.labels import shorten
from lscb_nb.core.textcolumns import TextColumn
from lscb_nb.pilot import comparators

# Spine-chart dot colours: significance against the pilot average, respecting the
# item's direction; items with no better direction are blue, higher or lower.
SPINE_COLOURS = {
    "better": "#1a9850",
    "worse": "#d73027",
    "similar": "#fee08b",
    "higher": "#4575b4",
    "lower": "#91bfdb",
    "not compared": "#ffffff",
}


def _hidden(counts: pd.Series, threshold: int) -> pd.Series:
    """Counts shown as c (1 to ``threshold``): left off the chart."""
    return disclosure.primary_suppress(counts.fillna(0), threshold)


# Spine chart columns, in inches from the left edge (the figure is drawn on one axes
# spanning the whole figure, so data units are inches): the item, the borough's value,
# the area's, the worst (or lowest), the spine, the best (or highest) and the trend.
_SPINE_X = {"item": 0.1, "value": 5.55, "area": 6.35, "worst": 7.15, "best": 11.15}
_SPINE_BAR = (7.3, 10.45)
_SPINE_TREND = (11.35, 12.35)
_SPINE_WIDTH = 12.5
_SPINE_ROW = 0.25  # inches per item


def _bars(ax: plt.Axes, y: np.ndarray, x0, x1, height: float, colour: str) -> None:
    """Horizontal bars from ``x0`` to ``x1`` centred on ``y``, as one collection (a
    patch per bar costs more to make than the chart costs to draw)."""
    from matplotlib.collections import PolyCollection

    x0, x1, h = np.asarray(x0, float), np.asarray(x1, float), height / 2
    boxes = np.stack(
        [
            np.column_stack([x0, y - h]),
            np.column_stack([x1, y - h]),
            np.column_stack([x1, y + h]),
            np.column_stack([x0, y + h]),
        ],
        axis=1,
    )
    ax.add_collection(PolyCollection(boxes, facecolors=colour, edgecolors="none"), autolim=False)


_LABEL_WIDTH = 5.2  # inches: the longest item label
_NUMBER_WIDTH = 0.8  # inches: the widest figure beside the spine


def _spine_rows(
    obs: pd.DataFrame, bb: pd.DataFrame, period: str, threshold: int, la_code: str | None
) -> pd.DataFrame:
    """One row per item the chart can show: positions on the spine (0 worst or lowest,
    1 best or highest, 0.5 the area average) and the figures printed beside it. Figures
    resting on suppressed counts are left out of the ranges as well as the dots."""
    shown = obs.loc[~_hidden(obs["count"], threshold).to_numpy()]
    now = shown.loc[shown["period"] == period]
    hidden = _hidden(bb["count"], threshold).to_numpy()
    bb = bb.loc[~hidden & bb["polarity"].isin(["high", "low", "neutral"])]
    order = sorted(set(obs["period"]), key=periods.parse_period)
    past = order[: order.index(period) + 1] if period in order else order
    own = (
        shown.loc[(shown["la_code_ons"] == la_code) & shown["period"].isin(past)]
        if la_code is not None
        else shown.iloc[0:0]
    )
    grouped = now.dropna(subset=["value"]).groupby("item_id", observed=True)["value"]
    spread = grouped.agg(["min", "max", "size"]).join(
        grouped.quantile([0.25, 0.75]).unstack().rename(columns={0.25: "q1", 0.75: "q3"})
    )
    trends = own.drop_duplicates(["item_id", "period"]).pivot(
        index="item_id", columns="period", values="value"
    )
    trends = trends.reindex(columns=past)
    none = np.full(len(past), np.nan)
    table = bb.join(spread, on="item_id", how="inner")
    centre = table[comparators.AREA_AVERAGE].astype(float)
    table = table.loc[(table["size"] >= 4) & np.isfinite(centre)]
    centre = centre.loc[table.index]
    half = np.maximum(centre - table["min"], table["max"] - centre).replace(0, 1.0)
    flip = np.where(table["polarity"] == "low", -1, 1)

    def pos(v: pd.Series) -> pd.Series:
        return 0.5 + flip * (v.astype(float) - centre) / (2 * half)

    rows = []
    for i, (_, r) in enumerate(table.iterrows()):
        places = int(r["decimal_places"]) if pd.notna(r.get("decimal_places")) else 1
        low_first = flip[i] == 1
        rows.append(
            {
                "item_id": r["item_id"],
                "label": f"{shorten(str(r['title']), 64)} ({r['item_id']})",
                "rag": r["rag"] if r["polarity"] != "neutral" else r["vs_london"],
                "value": display.number(r["value"], places),
                "area": display.number(centre.iloc[i], places),
                "worst": display.number(r["min"] if low_first else r["max"], places),
                "best": display.number(r["max"] if low_first else r["min"], places),
                "trend": trends.loc[r["item_id"]].to_numpy(float)
                if r["item_id"] in trends.index
                else none,
            }
        )
    out = pd.DataFrame(rows, index=table.index)
    for key in ("min", "max", "q1", "q3"):
        out[key] = pos(table[key])
    out["me"] = pos(table["value"])
    return out.reset_index(drop=True)


def plot_spine(
    obs: pd.DataFrame,
    bb: pd.DataFrame,
    period: str,
    *,
    threshold: int,
    area: str,
    la_name: str,
    la_code: str | None = None,
) -> plt.Figure | None:
    """Fingertips-style spine chart: one row per item with the borough's value, the
    area's, the worst and best pilot boroughs' (lowest and highest where no direction
    is better) beside the spine of the pilot's range, middle half and the borough
    (right always better), and a small line of the borough's figures up to ``period``
    (``la_code``). ``bb`` is the borough's benchmark table. None when too few reported."""
    from matplotlib.collections import LineCollection

    sp = _spine_rows(obs, bb, period, threshold, la_code)
    if sp.empty:
        return None
    n = len(sp)
    height = _SPINE_ROW * n + 1.7
    fig = plt.figure(figsize=(_SPINE_WIDTH, height))
    ax = fig.add_axes((0, 0.7 / height, 1, (height - 0.7) / height))
    ax.set_axis_off()
    ax.set_xlim(0, _SPINE_WIDTH)
    # one unit of y to a row's height exactly, so every chart puts its rows on the
    # same pixel grid and the text columns' kept pixels serve all of them
    ax.set_ylim(-0.7, -0.7 + (height - 0.7) / _SPINE_ROW)
    y = np.arange(n)[::-1].astype(float)
    left, width = _SPINE_BAR[0], _SPINE_BAR[1] - _SPINE_BAR[0]

    def at(p: pd.Series) -> np.ndarray:
        return left + np.clip(p.to_numpy(float), -0.02, 1.02) * width

    _bars(ax, y, np.full(n, left), np.full(n, left + width), 0.9, "#f4f4f4")  # row bands
    lo, hi = np.minimum(sp["min"], sp["max"]), np.maximum(sp["min"], sp["max"])
    _bars(ax, y, at(lo), at(hi), 0.55, "#d0d0d0")
    lo, hi = np.minimum(sp["q1"], sp["q3"]), np.maximum(sp["q1"], sp["q3"])
    _bars(ax, y, at(lo), at(hi), 0.55, "#8c8c8c")
    ax.vlines(left + 0.5 * width, -0.5, n - 0.5, color="#b2182b", lw=1.2)
    # A shape as well as a colour: better points right, worse left, similar is round.
    shapes = {"better": ">", "worse": "<", "similar": "o", "higher": "^", "lower": "v"}
    for rag, part in sp.assign(y=y).groupby("rag"):
        ax.scatter(
            at(part["me"]),
            part["y"],
            s=46,
            marker=shapes.get(rag, "s"),
            c=SPINE_COLOURS.get(rag, "#ffffff"),
            edgecolors="black",
            linewidths=0.8,
            zorder=3,
            label=rag,
        )
    # the names and figures down the rows, drawn from pixels kept between charts
    ax.add_artist(
        TextColumn(_SPINE_X["item"], y, sp["label"], width=_LABEL_WIDTH, row_height=_SPINE_ROW)
    )
    for key in ("value", "area", "worst", "best"):
        ax.add_artist(
            TextColumn(
                _SPINE_X[key],
                y,
                sp[key],
                width=_NUMBER_WIDTH,
                row_height=_SPINE_ROW,
                ha="right",
                weight="bold" if key == "value" else "normal",
            )
        )
    lines, ends = [], []
    t0, t1 = _SPINE_TREND
    for row, yy in zip(sp.itertuples(), y, strict=True):
        values = row.trend[np.isfinite(row.trend)]
        if len(values) >= 2:
            span = float(values.max() - values.min()) or 1.0
            xs = np.linspace(t0, t1, len(row.trend))[np.isfinite(row.trend)]
            ys = yy - 0.32 + 0.64 * (values - values.min()) / span
            lines.append(np.column_stack([xs, ys]))
            ends.append((xs[-1], ys[-1]))
    if lines:
        ax.add_collection(LineCollection(lines, colors="#4d4d4d", linewidths=1))
        ax.scatter([e[0] for e in ends], [e[1] for e in ends], s=8, color="#4d4d4d", zorder=3)
    top = n - 0.1
    heads = {
        "item": ("Item", "left"),
        "value": (shorten(la_name, 14), "right"),
        "area": (shorten(area, 14), "right"),
        "worst": ("Worst /\nlowest", "right"),
        "best": ("Best /\nhighest", "right"),
    }
    for key, (text, ha) in heads.items():
        ax.text(_SPINE_X[key], top, text, ha=ha, va="bottom", fontsize=8, fontweight="bold")
    ax.text(left, top, "worse / lower", ha="left", va="bottom", fontsize=8)
    ax.text(left + width, top, "better / higher", ha="right", va="bottom", fontsize=8)
    ax.text(
        left + width / 2,
        top,
        f"{area} pilot\naverage",
        ha="center",
        va="bottom",
        fontsize=8,
        color="#b2182b",
    )
    ax.text(
        (t0 + t1) / 2,
        top,
        "Trend\n(quarters)",
        ha="center",
        va="bottom",
        fontsize=8,
        fontweight="bold",
    )
    ax.text(
        0.1,
        n + 0.9,
        f"{la_name}, {period}: spine chart against the {area} pilot",
        fontsize=11,
        fontweight="bold",
        va="bottom",
    )
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=6, frameon=False)
    counts = sp["rag"].value_counts()
    worse = sp.loc[sp["rag"] == "worse", "label"].tolist()
    return display.describe(
        fig,
        f"Spine chart of {n} items for {la_name} in {period} against the {area} pilot, with "
        f"{la_name}'s value, the area average, the worst and best pilot figures and a "
        f"trend line of {la_name}'s quarters beside each item: "
        + ", ".join(f"{k} {rag}" for rag, k in counts.items())
        + "."
        + (f" Significantly worse: {'; '.join(worse)}." if worse else ""),
    )
