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
from matplotlib.ticker import StrMethodFormatter

from lscb_nb.core import disclosure, display, labelling, periods, states
from lscb_nb.core.labels import counted, plural_of, shorten
from lscb_nb.pilot import completeness, funnels, observations, rug

log = logging.getLogger(__name__)


def _hidden(counts: pd.Series, threshold: int) -> pd.Series:
    """Counts shown as c (1 to ``threshold``): left off every figure."""
    return disclosure.primary_suppress(counts.fillna(0), threshold)


def plot_supplied_heatmap(share: pd.DataFrame, word: str = "authority") -> plt.Figure:
    """% of expected figures supplied, authorities (rows; ``word`` is what the project
    calls one) × quarters (columns)."""
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
        f"Grid of {counted(len(share), word)} by {share.shape[1]} quarters, each cell labelled "
        f"with the % of expected figures supplied. Lowest: {worst[0]} in {worst[1]} "
        f"({cells.min():.0f}%); {int((cells >= 100).sum())} cells are complete.",
    )


def plot_status_heatmap(
    cells: pd.DataFrame, la_name: str, titles: pd.Series | None = None
) -> plt.Figure:
    """One borough's expected figures, items × quarters, coloured by status; items
    named in words from ``titles`` (item id -> title) where given. A white cell is a
    figure the dataset did not expect that quarter, and says so in the legend."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    order = list(completeness.STATUSES)
    codes = cells.assign(code=cells["status"].map({s: i for i, s in enumerate(order)}))
    grid = codes.pivot_table(index="item_id", columns="period", values="code", aggfunc="first")
    grid = grid[sorted(grid.columns, key=periods.parse_period)]
    cmap = ListedColormap([completeness.STATUS_COLOURS[s] for s in order])
    labels = [
        f"{shorten(str(titles.get(i, i)), 48)} ({i})" if titles is not None else i
        for i in grid.index
    ]
    fig, ax = plt.subplots(figsize=(11, 0.2 * len(grid) + 2.0))
    ax.imshow(grid.to_numpy(float), aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(order) - 0.5)
    ax.set_yticks(range(len(grid)), labels, fontsize=8)
    ax.set_xticks(range(len(grid.columns)), grid.columns, fontsize=8)
    ax.grid(False)
    # A mark as well as a colour in every cell that is not on time (WCAG 1.4.1): the
    # status's own symbol (lscb_nb.core.states.FIGURE_STATUSES).
    marks = {s.name: s.mark for s in states.FIGURE_STATUSES if s.mark}
    values = grid.to_numpy(float)
    for (r, c), code in np.ndenumerate(values):
        if np.isfinite(code) and order[int(code)] in marks:
            status = order[int(code)]
            ink = "white" if status in ("suppressed", "quarantined", "not collected") else "black"
            ax.text(c, r, marks[status], ha="center", va="center", fontsize=7, color=ink)
    handles = [
        Patch(
            color=completeness.STATUS_COLOURS[s],
            label=f"{s} ({marks[s]})" if s in marks else s,
        )
        for s in order
    ]
    handles.append(Patch(facecolor="white", edgecolor="#767676", label="not expected"))
    fig.legend(handles=handles, loc="lower center", ncol=6, frameon=False, fontsize=8)
    ax.set_title(f"{la_name}: every expected figure, by quarter")
    fig.tight_layout(rect=(0, 0.55 / fig.get_figheight(), 1, 1))
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
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(by_agency) + 1.9))
    ax.barh(by_agency.index, by_agency["supplied_pct"], color="#c6dbef", label="supplied")
    ax.barh(by_agency.index, by_agency["on_time_pct"], color="#2171b5", label="supplied on time")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of expected figures")
    # Below the bars, so the legend never covers the bar the text is about.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
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


# Outside the plot, so the legend never covers a borough's point.
_FUNNEL_LEGEND = {
    "fontsize": 7,
    "loc": "upper left",
    "bbox_to_anchor": (1.01, 1.0),
    "frameon": False,
}


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
    word: str = "authority",
) -> plt.Figure:
    """Funnel plot of one item (``item``: its row of the data model's items, named by
    its id) in one quarter: every pilot borough against the pilot average with 95% and
    99.8% limits, figures counted to a different definition hollow, ``highlight`` (a
    borough code) in colour; ``name`` turns a code into a borough's name; ``word`` is
    what the project calls an authority."""
    f = funnels.funnel(obs, item.name, period, adjustment, flags)
    return draw_funnel(
        f, item, period, threshold=threshold, highlight=highlight, name=name, word=word
    )


def shown_points(f: dict, threshold: int) -> pd.DataFrame:
    """The funnel's points a figure may show: none resting on a suppressed count."""
    pts = f["points"]
    return pts.loc[~_hidden(pts["count"], threshold).to_numpy()]


def draw_funnel(
    f: dict,
    item: pd.Series,
    period: str,
    *,
    threshold: int,
    highlight: str | None = None,
    name: Callable[[str], str] = str,
    room_for: str | None = None,
    word: str = "authority",
) -> plt.Figure:
    """:func:`plot_funnel` from the funnel already worked out (``funnels.funnel``).
    With ``room_for`` (a borough's name) and no ``highlight``, the legend keeps an
    entry of that name in the highlight's place, so that :func:`mark_funnel` can
    later show any borough no longer than it without moving the plot."""
    item_id = item.name
    lim = f["limits"]
    how = f.get("dispersion")
    widened = how is not None and how.applied != "none"
    fig, ax = plt.subplots(figsize=(10, 4.4))
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
    shown = shown_points(f, threshold)
    kept = shown.loc[~shown["excluded"]]
    ax.scatter(
        kept["base"],
        kept["value"],
        color="#4d4d4d",
        s=28,
        zorder=3,
        label=f"pilot {plural_of(word)}",
    )
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
        _highlight(ax, shown.loc[shown["la_code_ons"] == highlight], name(highlight))
    elif room_for is not None:
        _highlight(ax, shown.iloc[0:0], room_for)
    labelling.label_points(
        ax, shown["base"], shown["value"], [name(c) for c in shown["la_code_ons"]]
    )
    unit = observations.unit_label(item["unit"], item.get("measure_type"), item.get("frequency"))
    ax.set_xlabel("Denominator" if f.get("kind") == "proportion" else "Children aged 0-17")
    ax.set_ylabel("%" if f.get("kind") == "proportion" else unit.replace(" children", ""))
    title = f"{item_id} {item['title']} ({period})"
    ax.set_title(title if how is None else f"{title}\n{how.short()}", fontsize=10)
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.legend(**_FUNNEL_LEGEND)
    fig.tight_layout()
    outside = [
        name(row.la_code_ons)
        for row in shown.itertuples()
        if str(getattr(row, "funnel", "")).startswith(("above 99", "below 99"))
    ]
    return display.describe(
        fig,
        f"Funnel plot of {title}: {len(shown)} pilot {plural_of(word)}' figures against their "
        "size, "
        f"with 95% and 99.8% limits around the pilot average ({f['target']:.1f}). "
        + (
            f"Outside the 99.8% limits: {', '.join(outside)}."
            if outside
            else f"No {word} is outside the 99.8% limits."
        ),
    )


def _highlight(ax: plt.Axes, mine: pd.DataFrame, label: str):
    return ax.scatter(
        mine["base"],
        mine["value"],
        color="#d6604d",
        marker="D" if mine["excluded"].any() else "o",
        s=80,
        zorder=4,
        label=label,
    )


def mark_funnel(fig: plt.Figure, mine: pd.DataFrame, label: str) -> list:
    """The artists that show one borough on a funnel drawn with ``room_for`` (for
    :func:`lscb_nb.core.overlays.png_with`): its point in colour (``mine``: its row
    of :func:`shown_points`, if any), and the legend again with its name, over a
    blank where the kept legend was."""
    from matplotlib.legend import Legend
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import IdentityTransform

    ax = fig.axes[0]
    old = ax.get_legend()
    box = old.get_window_extent()
    blank = Rectangle(
        (box.x0, box.y0),
        box.width,
        box.height,
        transform=IdentityTransform(),
        facecolor=fig.get_facecolor(),
        edgecolor="none",
    )
    fig.add_artist(blank)
    handles, labels = ax.get_legend_handles_labels()
    dot = _highlight(ax, mine, label)
    legend = Legend(ax, [*handles[:-1], dot], [*labels[:-1], label], **_FUNNEL_LEGEND)
    ax.add_artist(legend)
    return [blank, dot, legend]


def plot_pilot_vs_published(check: pd.DataFrame, far: pd.DataFrame) -> plt.Figure:
    """Pilot figures against DfE's published ones on log scales, with the line of
    agreement; ``far`` (rows of ``check`` well away from DfE's) marked and labelled by
    their ``la_name`` and ``item_id``."""
    fig, ax = plt.subplots(figsize=(7, 5))
    ok = check.loc[check["published_value"] > 0]
    ax.scatter(ok["published_value"], ok["pilot_value"], s=14, color="#4d4d4d", alpha=0.7)
    lim = float(max(ok["published_value"].max(), ok["pilot_value"].max())) * 1.05
    ax.plot([0.1, lim], [0.1, lim], color="#888", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    bad = far.loc[far["published_value"] > 0]
    ax.scatter(bad["published_value"], bad["pilot_value"], s=40, color="#d6604d")
    labelling.label_points(
        ax,
        bad["published_value"],
        bad["pilot_value"],
        [f"{row.la_name} {row.item_id}" for row in bad.itertuples()],
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
            ": " + ", ".join(f"{r.la_name} {r.item_id}" for r in bad.itertuples()) + "."
            if len(bad)
            else "."
        ),
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


def plot_rug(
    cells: pd.DataFrame,
    titles: pd.Series,
    *,
    area: str,
    period: str,
    name: Callable[[str], str] = str,
    word: str = "authority",
) -> plt.Figure:
    """Fingertips' rug: items (rows, by title) × pilot boroughs (columns), each cell
    coloured and marked by its comparison with the area (``cells``: the frame of
    :func:`lscb_nb.pilot.rug.rug_cells`); no data is white with its state symbol."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    item_ids = list(dict.fromkeys(cells["item_id"]))
    boroughs = list(dict.fromkeys(cells["la_code_ons"]))
    order = {c: i for i, c in enumerate(rug.CATEGORIES)}
    grid = cells.pivot(index="item_id", columns="la_code_ons", values="category")
    grid = grid.reindex(index=item_ids, columns=boroughs)
    symbols = cells.pivot(index="item_id", columns="la_code_ons", values="symbol")
    symbols = symbols.reindex(index=item_ids, columns=boroughs)
    fig, ax = plt.subplots(figsize=(7.7, 0.24 * len(item_ids) + 3.3))
    cmap = ListedColormap([rug.COLOURS[c] for c in rug.CATEGORIES])
    codes = grid.apply(lambda col: col.map(order)).to_numpy(float)
    ax.imshow(codes, aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(rug.CATEGORIES) - 0.5)
    dark = {rug.HIGHER}  # white symbols on the dark blue; black on every other colour
    for (r, c), cat in np.ndenumerate(grid.to_numpy(object)):
        ax.text(
            c,
            r,
            symbols.iat[r, c],
            ha="center",
            va="center",
            fontsize=8,
            color="white" if cat in dark else "black",
        )
    ax.set_xticks(np.arange(len(boroughs) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(item_ids) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="#bdbdbd", lw=0.6)
    ax.grid(which="major", visible=False)
    ax.tick_params(which="minor", length=0)
    labels_ = [shorten(str(titles.get(i, i)), 50) for i in item_ids]
    ax.set_yticks(range(len(item_ids)), labels_, fontsize=8)
    ax.xaxis.tick_top()
    ax.set_xticks(
        range(len(boroughs)), [name(b) for b in boroughs], fontsize=8, rotation=90, va="bottom"
    )
    shown = [c for c in rug.CATEGORIES if (cells["category"] == c).any()]
    fig.legend(
        handles=[
            Patch(facecolor=rug.COLOURS[c], edgecolor="#737373", label=text)
            for c, text in zip(shown, rug.key(area, shown), strict=True)
        ],
        loc="lower center",
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(
        f"Pilot {plural_of(word)} against the {area} pilot average, {period}",
        x=0.02,
        ha="left",
        fontweight="bold",
    )
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.45, right=0.985, top=1 - 1.9 / height, bottom=1.2 / height)
    counts = rug.summary_by_borough(cells)
    per = "; ".join(
        f"{name(b)} is worse than {area} on {row[rug.WORSE]} of {len(item_ids)} items and "
        f"better on {row[rug.BETTER]}"
        + (f", no data on {row[rug.NO_DATA]}" if row[rug.NO_DATA] else "")
        for b, row in counts.iterrows()
    )
    return display.describe(
        fig,
        f"Rug chart of {len(item_ids)} items (rows) by {len(boroughs)} pilot "
        f"{plural_of(word)} (columns) for {period}, each cell marked by how the {word} "
        "compares with the "
        f"{area} pilot average, allowing for each item's better direction. {per}. Items with "
        f"no better direction are only higher ({int(counts[rug.HIGHER].sum())} cells) or lower "
        f"({int(counts[rug.LOWER].sum())} cells).",
    )
