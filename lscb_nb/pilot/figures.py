"""Phase 3's figures, drawn from plain frames so an explorer can redraw them quickly.

Each ``plot_*`` function takes the tables it shows (no report context) and returns a
matplotlib figure. Counts below the suppression threshold are never drawn.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lscb_nb.core import disclosure, display, periods
from lscb_nb.pilot import comparators, completeness, funnels, observations

log = logging.getLogger(__name__)

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
    """Counts shown as c (1 to ``threshold``): left off every figure."""
    return disclosure.primary_suppress(counts.fillna(0), threshold)


def plot_supplied_heatmap(share: pd.DataFrame) -> plt.Figure:
    """% of expected figures supplied, boroughs (rows) × quarters (columns)."""
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(9, 0.45 * len(share) + 1.6))
    sns.heatmap(
        share,
        annot=True,
        fmt=".0f",
        cmap="RdYlGn",
        vmin=50,
        vmax=100,
        cbar_kws={"label": "% of expected figures supplied"},
        ax=ax,
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("Figures supplied, % of those expected")
    fig.tight_layout()
    cells = share.stack()
    worst = cells.idxmin() if len(cells) else ("", "")
    return display.describe(
        fig,
        f"Grid of {len(share)} boroughs by {share.shape[1]} quarters, each cell labelled "
        f"with the % of expected figures supplied. Lowest: {worst[0]} in {worst[1]} "
        f"({cells.min():.0f}%); {int((cells >= 100).sum())} cells are complete.",
    )


def plot_status_heatmap(cells: pd.DataFrame, la_name: str) -> plt.Figure:
    """One borough's expected figures, items × quarters, coloured by status."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    order = list(completeness.STATUSES)
    codes = cells.assign(code=cells["status"].map({s: i for i, s in enumerate(order)}))
    grid = codes.pivot_table(index="item_id", columns="period", values="code", aggfunc="first")
    grid = grid[sorted(grid.columns, key=periods.parse_period)]
    cmap = ListedColormap([completeness.STATUS_COLOURS[s] for s in order])
    fig, ax = plt.subplots(figsize=(9, 0.16 * len(grid) + 1.8))
    ax.imshow(grid.to_numpy(float), aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(order) - 0.5)
    ax.set_yticks(range(len(grid)), grid.index, fontsize=6)
    ax.set_xticks(range(len(grid.columns)), grid.columns, fontsize=8)
    ax.grid(False)
    ax.legend(
        handles=[Patch(color=completeness.STATUS_COLOURS[s], label=s) for s in order],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.03),
        ncol=5,
        frameon=False,
    )
    ax.set_title(f"{la_name}: every expected figure, by quarter")
    fig.tight_layout()
    counts = cells["status"].value_counts()
    return display.describe(
        fig,
        f"Grid of {len(grid)} items by {grid.shape[1]} quarters for {la_name}, each cell "
        "coloured by the figure's status: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in order)
        + ".",
    )


def plot_timeliness(by_agency: pd.DataFrame) -> plt.Figure:
    """Supplied and on-time shares by agency (``completeness.summarise`` by agency)."""
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(by_agency) + 1.4))
    ax.barh(by_agency.index, by_agency["supplied_pct"], color="#c6dbef", label="supplied")
    ax.barh(by_agency.index, by_agency["on_time_pct"], color="#2171b5", label="supplied on time")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of expected figures")
    ax.legend(loc="lower right")
    ax.set_title("Supplied and on time, by agency")
    fig.tight_layout()
    return display.describe(
        fig,
        "Bar chart, by agency, of the % of expected figures supplied and supplied on time: "
        + "; ".join(
            f"{a} {r.supplied_pct:.0f}% supplied, {r.on_time_pct:.0f}% on time"
            for a, r in by_agency.iterrows()
        )
        + ".",
    )


def plot_funnel(
    obs: pd.DataFrame,
    item: pd.Series,
    period: str,
    *,
    threshold: int,
    adjustment: str = "additive",
    flags: pd.DataFrame | None = None,
    highlight: str | None = None,
    name: Callable[[str], str] = str,
) -> plt.Figure:
    """Funnel plot of one item (``item``: its row of the data model's items, named by
    its id) in one quarter: every pilot borough against the pilot average with 95% and
    99.8% limits, figures counted to a different definition hollow, ``highlight`` (a
    borough code) in colour; ``name`` turns a code into a borough's name."""
    item_id = item.name
    f = funnels.funnel(obs, item_id, period, adjustment, flags)
    pts, lim = f["points"], f["limits"]
    how = f.get("dispersion")
    widened = how is not None and how.applied != "none"
    fig, ax = plt.subplots(figsize=(8, 4.2))
    if not lim.empty:
        tag = " (widened for over-dispersion)" if widened else ""
        ax.plot(
            lim["base"],
            lim["upper_998"],
            color="#b2182b",
            lw=1,
            ls="--",
            label="99.8% limits" + tag,
        )
        ax.plot(lim["base"], lim["lower_998"], color="#b2182b", lw=1, ls="--")
        ax.plot(lim["base"], lim["upper_95"], color="#ef8a62", lw=1, label="95% limits" + tag)
        ax.plot(lim["base"], lim["lower_95"], color="#ef8a62", lw=1)
        ax.axhline(f["target"], color="#444", lw=1, label="pilot average")
    hidden = _hidden(pts["count"], threshold).to_numpy()
    shown = pts.loc[~hidden]
    kept = shown.loc[~shown["excluded"]]
    ax.scatter(kept["base"], kept["value"], color="#4d4d4d", s=28, zorder=3, label="pilot boroughs")
    other = shown.loc[shown["excluded"]]
    if not other.empty:
        ax.scatter(
            other["base"],
            other["value"],
            facecolors="none",
            edgecolors="#4d4d4d",
            marker="D",
            s=40,
            zorder=3,
            label="different definition (not in the average)",
        )
    if highlight is not None:
        mine = shown.loc[shown["la_code_ons"] == highlight]
        ax.scatter(
            mine["base"],
            mine["value"],
            color="#d6604d",
            marker="D" if mine["excluded"].any() else "o",
            s=80,
            zorder=4,
            label=name(highlight),
        )
    for row in shown.itertuples():
        ax.annotate(
            name(row.la_code_ons),
            (row.base, row.value),
            fontsize=7,
            xytext=(4, 3),
            textcoords="offset points",
        )
    unit = observations.unit_label(item["unit"], item.get("measure_type"), item.get("frequency"))
    ax.set_xlabel("Denominator" if f.get("kind") == "proportion" else "Children aged 0-17")
    ax.set_ylabel("%" if f.get("kind") == "proportion" else unit.replace(" children", ""))
    title = f"{item_id} {item['title']} ({period})"
    ax.set_title(title if how is None else f"{title}\n{how.short()}", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    outside = [
        name(row.la_code_ons)
        for row in shown.itertuples()
        if str(getattr(row, "funnel", "")).startswith(("above 99", "below 99"))
    ]
    return display.describe(
        fig,
        f"Funnel plot of {title}: {len(shown)} pilot boroughs' figures against their size, "
        f"with 95% and 99.8% limits around the pilot average ({f['target']:.1f}). "
        + (
            f"Outside the 99.8% limits: {', '.join(outside)}."
            if outside
            else "No borough is outside the 99.8% limits."
        ),
    )


def plot_pilot_vs_published(check: pd.DataFrame, far: pd.DataFrame) -> plt.Figure:
    """Pilot figures against DfE's published ones on log scales, with the line of
    agreement; ``far`` (rows of ``check`` well away from DfE's) marked and labelled by
    their ``Borough`` and ``item_id``."""
    fig, ax = plt.subplots(figsize=(7, 5))
    ok = check.loc[check["published_value"] > 0]
    ax.scatter(ok["published_value"], ok["pilot_value"], s=14, color="#4d4d4d", alpha=0.7)
    lim = float(max(ok["published_value"].max(), ok["pilot_value"].max())) * 1.05
    ax.plot([0.1, lim], [0.1, lim], color="#888", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    bad = far.loc[far["published_value"] > 0]
    ax.scatter(bad["published_value"], bad["pilot_value"], s=40, color="#d6604d")
    for row in bad.itertuples():
        ax.annotate(
            f"{row.Borough} {row.item_id}", (row.published_value, row.pilot_value), fontsize=7
        )
    ax.set_xlabel("DfE published figure")
    ax.set_ylabel("Pilot figure, same authority and year")
    ax.set_title("Pilot against published (log scales; the line is agreement)")
    fig.tight_layout()
    return display.describe(
        fig,
        f"Scatter plot of {len(ok)} pilot figures against DfE's published figure for the "
        f"same authority and year, on log scales. {len(bad)} lie well away from agreement"
        + (
            ": " + ", ".join(f"{r.Borough} {r.item_id}" for r in bad.itertuples()) + "."
            if len(bad)
            else "."
        ),
    )


def _short(text: str, width: int) -> str:
    """The text whole if it fits, else cut at a word with an ellipsis (never mid-word)."""
    if len(text) <= width:
        return text
    return text[: width - 1].rsplit(" ", 1)[0] + "…"


def plot_spine(
    obs: pd.DataFrame,
    bb: pd.DataFrame,
    period: str,
    *,
    threshold: int,
    area: str,
    la_name: str,
) -> plt.Figure | None:
    """Fingertips-style spine: each item's pilot range, middle half and the borough
    (``bb``: its benchmark table), right always better; None when too few reported."""
    now = obs.loc[obs["period"] == period]
    hidden = _hidden(bb["count"], threshold).to_numpy()
    bb = bb.loc[~hidden & bb["polarity"].isin(["high", "low", "neutral"])]
    rows = []
    for _, r in bb.iterrows():
        vals = now.loc[now["item_id"] == r["item_id"], "value"].dropna()
        centre = r[comparators.AREA_AVERAGE]
        if len(vals) < 4 or not np.isfinite(centre):
            continue
        lo, hi = vals.min(), vals.max()
        half = max(centre - lo, hi - centre) or 1.0
        flip = -1 if r["polarity"] == "low" else 1

        def pos(v: float, flip: int = flip, centre: float = centre, half: float = half) -> float:
            return 0.5 + flip * (v - centre) / (2 * half)

        rows.append(
            {
                "label": f"{r['item_id']} {_short(r['title'], 58)}",
                "min": pos(lo),
                "max": pos(hi),
                "q1": pos(vals.quantile(0.25)),
                "q3": pos(vals.quantile(0.75)),
                "me": pos(r["value"]),
                "rag": r["rag"] if r["polarity"] != "neutral" else r["vs_london"],
            }
        )
    if not rows:
        return None
    sp = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(9, 0.2 * len(sp) + 1.6))
    y = np.arange(len(sp))[::-1]
    lo, hi = np.minimum(sp["min"], sp["max"]), np.maximum(sp["min"], sp["max"])
    ax.barh(y, hi - lo, left=lo, color="#d9d9d9", height=0.6)
    lo, hi = np.minimum(sp["q1"], sp["q3"]), np.maximum(sp["q1"], sp["q3"])
    ax.barh(y, hi - lo, left=lo, color="#969696", height=0.6)
    # A shape as well as a colour: better points right, worse left, similar is round.
    shapes = {"better": ">", "worse": "<", "similar": "o", "higher": "^", "lower": "v"}
    for rag, part in sp.assign(y=y).groupby("rag"):
        ax.scatter(
            part["me"],
            part["y"],
            s=40,
            marker=shapes.get(rag, "s"),
            c=SPINE_COLOURS.get(rag, "#ffffff"),
            edgecolors="black",
            zorder=3,
            label=rag,
        )
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=6, frameon=False)
    ax.axvline(0.5, color="#b2182b", lw=1)
    ax.set_yticks(y, sp["label"], fontsize=6)
    ax.set_xticks([0.02, 0.5, 0.98], ["worse / lower", f"{area} pilot average", "better / higher"])
    ax.set_xlim(-0.05, 1.05)
    ax.grid(False)
    ax.set_title(f"{la_name}, {period}: spine chart against the pilot")
    # Margins in inches rather than tight_layout, which measures every one of the
    # many item labels and costs more than drawing the chart (the explorer redraws it).
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.4, right=0.98, top=1 - 0.45 / height, bottom=0.85 / height)
    counts = sp["rag"].value_counts()
    worse = sp.loc[sp["rag"] == "worse", "label"].tolist()
    return display.describe(
        fig,
        f"Spine chart of {len(sp)} items for {la_name} in {period} against the {area} pilot: "
        + ", ".join(f"{n} {rag}" for rag, n in counts.items())
        + "."
        + (f" Significantly worse: {'; '.join(worse)}." if worse else ""),
    )


def plot_trend(
    obs: pd.DataFrame, item: pd.Series, la_code: str, *, threshold: int, la_name: str
) -> plt.Figure | None:
    """One item over the pilot's quarters: the borough's figure against the middle of
    the pilot boroughs (median, with the range of the middle half shaded); a figure
    resting on a suppressed count is left off, never drawn as zero. None when the
    borough has no figure to draw."""
    mine = obs.loc[obs["item_id"] == item.name].copy()
    mine = mine.loc[~_hidden(mine["count"], threshold).to_numpy()]
    order = sorted(set(mine["period"]), key=periods.parse_period)
    spread = mine.groupby("period")["value"].quantile([0.25, 0.5, 0.75]).unstack().reindex(order)
    own = mine.loc[mine["la_code_ons"] == la_code].set_index("period")["value"].reindex(order)
    if own.dropna().empty:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.2))
    x = range(len(order))
    ax.fill_between(x, spread[0.25], spread[0.75], color="#d9d9d9", label="middle half of pilot")
    ax.plot(x, spread[0.5], color="#636363", lw=1.2, ls="--", label="pilot median")
    ax.plot(x, own, color="#d6604d", marker="o", lw=2, label=la_name)
    ax.set_xticks(list(x), order, rotation=45, ha="right", fontsize=8)
    unit = observations.unit_label(item["unit"], item.get("measure_type"), item.get("frequency"))
    ax.set_ylabel(unit, fontsize=8)
    ax.set_title(f"{item['title']}: {la_name} over time", fontsize=10)
    # beside the axes: below, it would collide with the slanted quarter labels
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    first, last = own.dropna().iloc[0], own.dropna().iloc[-1]
    return display.describe(
        fig,
        f"Line chart of {item['title']} for {la_name} over {len(own.dropna())} quarters, from "
        f"{first:.1f} in {own.dropna().index[0]} to {last:.1f} in {own.dropna().index[-1]}, "
        f"against the pilot median ({spread[0.5].iloc[-1]:.1f} in {order[-1]}).",
    )
