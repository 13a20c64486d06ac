"""Phase 3's explorer, for an analyst in JupyterLab: choose a borough, an item and a
quarter, and the funnel, the trend and the borough's spine chart redraw in place.

The notebook shows it with ``explore=True``; the steering group's HTML never does
(widgets need a kernel). What every choice reads is worked out once while the
explorer is built: every borough's figures against the pilot average in every
quarter (a change of quarter only selects). A funnel is drawn once per item and
quarter and the chosen borough marked over it (:mod:`lscb_nb.core.overlays`); a
trend once per borough and item; the spine chart is the report's own table
(:func:`lscb_nb.pilot.spine.spine_table`), built once per borough and quarter. So a
change redraws only what depends on it: an item, the funnel and the trend; a
borough, the marks, its trend and its spine chart; a quarter, the funnel and the
spine chart. ``benchmarks/bench_explorer.py`` measures each kind of change
(target: 0.5 s).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import pandas as pd

from lscb_nb.core import display, overlays, periods
from lscb_nb.pilot import comparators, figures, funnels, spine
from lscb_nb.pilot.context import Context

log = logging.getLogger(__name__)


@dataclass
class Explorer:
    """The explorer's state: the context it reads and what it has worked out and drawn."""

    ctx: Context
    _spines: dict[tuple[str, str], str] = field(default_factory=dict)
    _funnels: overlays.Recent = field(default_factory=lambda: overlays.Recent(24))
    _trends: overlays.Recent = field(default_factory=lambda: overlays.Recent(48))

    def __post_init__(self) -> None:
        # every borough's figures against the pilot average, every quarter, worked out
        # once: a change of quarter only selects a borough's rows
        ctx = self.ctx
        area = comparators.area_benchmarks(ctx.obs, ctx.flags)
        self._tables = dict(iter(area.groupby(["la_code_ons", "period"], observed=True)))
        self.name = functools.cache(ctx.name)  # a name is looked up on every change
        # the funnels keep room in their legend for the longest name
        self._room = max((name for name, _ in self.boroughs()), key=len, default="")
        self._england = spine.england_figures(ctx.items)

    def boroughs(self) -> list[tuple[str, str]]:
        """(name, code) for each pilot borough with returns, by name."""
        codes = sorted(set(self.ctx.obs["la_code_ons"]), key=self.name)
        return [(self.name(c), c) for c in codes]

    def items(self) -> list[tuple[str, str]]:
        """(title in words with its code, item id) for each item with figures."""
        ids = [i for i in self.ctx.items.index if i in set(self.ctx.obs["item_id"])]
        return [(f"{self.ctx.items.at[i, 'title']} ({i})", i) for i in ids]

    def quarters(self) -> list[str]:
        """The quarters with figures, latest first."""
        return sorted(set(self.ctx.obs["period"]), key=periods.parse_period, reverse=True)

    def table(self, la_code: str, period: str) -> pd.DataFrame:
        """The borough's figures in the quarter against the pilot average (the part of
        its benchmark table a spine chart shows); empty when it has none."""
        return self._tables.get((la_code, period), pd.DataFrame())

    def funnel_png(self, la_code: str, item_id: str, period: str) -> bytes:
        """The item's funnel in the quarter with the borough marked: the funnel is
        drawn once per item and quarter, the borough's point and name over it."""
        kept, shown = self._funnels.get(
            (item_id, period), lambda: self._draw_funnel(item_id, period)
        )
        if kept is None:
            return b""
        mine = shown.loc[shown["la_code_ons"] == la_code]
        name = self.name(la_code)
        return overlays.png_with(kept, lambda fig: figures.mark_funnel(fig, mine, name))

    def _draw_funnel(self, item_id: str, period: str) -> tuple[overlays.Kept | None, pd.DataFrame]:
        ctx = self.ctx
        f = funnels.funnel(ctx.obs, item_id, period, ctx.funnel_adjustment, ctx.flags)
        if f["points"].empty:  # no borough gave the item this quarter
            return None, f["points"]
        fig = figures.draw_funnel(
            f,
            ctx.items.loc[item_id],
            period,
            threshold=ctx.threshold,
            name=self.name,
            room_for=self._room,
            word=ctx.word(),
        )
        return overlays.keep(fig), figures.shown_points(f, ctx.threshold)

    def trend_png(self, la_code: str, item_id: str) -> bytes:
        """The borough's trend on the item (every quarter: it does not depend on the
        quarter chosen), drawn once per borough and item."""
        ctx = self.ctx

        def draw() -> bytes:
            fig = figures.plot_trend(
                ctx.obs,
                ctx.items.loc[item_id],
                la_code,
                threshold=ctx.threshold,
                la_name=self.name(la_code),
            )
            return _png(fig)

        return self._trends.get((la_code, item_id), draw)

    def spine_chart(self, la_code: str, period: str) -> display.Table | None:
        """The borough's spine chart for the quarter, the table the report shows (it
        does not depend on the item); None when too few boroughs reported."""
        bb = self.table(la_code, period)
        if bb.empty:
            return None
        return spine.spine_table(
            self.ctx.obs,
            bb.reset_index(drop=True),
            period,
            threshold=self.ctx.threshold,
            area=self.ctx.area,
            la_name=self.name(la_code),
            la_code=la_code,
            england=self._england,
        )

    def spine_html(self, la_code: str, period: str) -> str:
        """The spine chart's markup, built once per borough and quarter."""
        key = (la_code, period)
        if key not in self._spines:
            chart = self.spine_chart(la_code, period)
            self._spines[key] = (
                chart.data
                if chart is not None
                else f"<p>Too few boroughs reported in {display.esc(period)} for a spine chart.</p>"
            )
        return self._spines[key]

    def sentence(self, la_code: str, item_id: str, period: str) -> str:
        """Where the borough stands on the item in the quarter, in words."""
        ctx = self.ctx
        pos = ctx.positions
        chosen = (pos["la_code_ons"] == la_code) & (pos["item_id"] == item_id)
        row = pos.loc[chosen & (pos["period"] == period)]
        title = ctx.items.at[item_id, "title"]
        who = self.name(la_code)
        if row.empty or pd.isna(row["funnel"].iloc[0]):
            return f"{who} has no figure for {title} in {period} to place on the funnel."
        return f"{who}, {title}, {period}: {row['funnel'].iloc[0]} (against the pilot average)."


def explorer(ctx: Context, explore: bool = False):
    """In JupyterLab (``explore=True``): the widgets; otherwise nothing."""
    if not explore:
        return None
    if not ctx.has_returns:
        return display.nothing_to_show("No returns yet: nothing to explore.")
    return widgets(Explorer(ctx))


def _png(fig: plt.Figure | None) -> bytes:
    return b"" if fig is None else overlays.png(fig)


def widgets(ex: Explorer):
    """The dropdowns and the three images, redrawn in place on each change."""
    import ipywidgets as w

    wide = {"description_width": "initial"}
    layout = w.Layout(width="95%", max_width="46em")  # the rest: the widget's margins
    ctx = ex.ctx
    boroughs = ex.boroughs()
    start = ctx.la_code if ctx.la_code in {c for _, c in boroughs} else boroughs[0][1]
    borough = w.Dropdown(
        options=boroughs,
        value=start,
        description=ctx.word(capital=True),
        style=wide,
        layout=layout,
    )
    item = w.Dropdown(options=ex.items(), description="Item", style=wide, layout=layout)
    quarter = w.Dropdown(options=ex.quarters(), description="Quarter", style=wide, layout=layout)
    if ctx.period in quarter.options:
        quarter.value = ctx.period
    text = w.HTML()
    funnel, trend = (w.Image(format="png", layout=w.Layout(max_width="100%")) for _ in "ft")
    spine_chart = w.HTML(layout=w.Layout(max_width="100%"))

    def redraw(_change=None) -> None:
        la, item_id, period = borough.value, item.value, quarter.value
        text.value = f"<p>{display.esc(ex.sentence(la, item_id, period))}</p>"
        owner = None if _change is None else _change["owner"]
        funnel.value = ex.funnel_png(la, item_id, period)
        if owner is not quarter:
            trend.value = ex.trend_png(la, item_id)
        if owner is not item:
            spine_chart.value = ex.spine_html(la, period)

    for control in (borough, item, quarter):
        control.observe(redraw, names="value")
    redraw()
    # side by side when the notebook is wide enough, else the trend wraps below
    pair = w.HBox([funnel, trend], layout=w.Layout(flex_flow="row wrap", max_width="100%"))
    box = w.VBox([borough, item, quarter, text, pair, spine_chart])
    box.redraw = redraw  # for tests and the benchmark: the same call a change makes
    box.controls = {"borough": borough, "item": item, "quarter": quarter, "text": text}
    return box
