"""Phase 2's explorer, for an analyst in JupyterLab: choose a borough, an item and a
criterion, and the priority matrix, the item's ratings and the borough's scores by
supplying agency redraw in place.

The notebook shows it with ``explore=True``; the steering group's HTML never does
(widgets need a kernel). The priority matrix is drawn once, and a choice only marks
the item (and where the borough's raters place it) over it; the borough's grid of
accessibility scores is drawn for every borough while the explorer is built; the
item's ratings are drawn the first time a borough and item are chosen. A change of
criterion only outlines a column (:mod:`lscb_nb.core.overlays`), so no change waits
more than a few tenths of a second (``benchmarks/bench_explorer.py`` measures them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from lscb_nb.assessment import figures, ratings
from lscb_nb.assessment.context import Context
from lscb_nb.assessment.instrument import criterion_label, shipped_criteria
from lscb_nb.core import display, overlays
from lscb_nb.core.datamodel import AGENCY_LABELS
from lscb_nb.core.display import esc, plural
from lscb_nb.core.project import AREA

log = logging.getLogger(__name__)

ALL = ""  # the criterion choice that outlines none: every criterion


@dataclass
class Picture:
    """One figure as shown: its PNG and the sentence a screen reader reads instead."""

    png: bytes
    alt: str


@dataclass
class Explorer:
    """The explorer's state: the context it reads and the figures it has drawn."""

    ctx: Context
    _matrix: overlays.Kept | None = None
    _item_grids: overlays.Recent = field(default_factory=lambda: overlays.Recent(24))
    _borough_grids: overlays.Recent = field(default_factory=lambda: overlays.Recent(48))

    def __post_init__(self) -> None:
        r = self.ctx.ratings
        self._ratings = r.assign(score=pd.to_numeric(r["score"], errors="coerce"))
        known = shipped_criteria(self.ctx.word(plural=True)).criteria.set_index("id")
        seen = list(dict.fromkeys(self._ratings["criterion"]))
        order = [c for c in known.index if c in seen] + [c for c in seen if c not in known.index]
        self._criteria = pd.DataFrame(
            {
                "dimension": [
                    known.at[c, "dimension"]
                    if c in known.index
                    else self._ratings.loc[self._ratings["criterion"] == c, "dimension"].iloc[0]
                    for c in order
                ],
                "question": [known.at[c, "question"] if c in known.index else "" for c in order],
            },
            index=pd.Index(order, name="criterion"),
        )

    # ------------------------------------------------------------------ choices

    def boroughs(self) -> list[tuple[str, str]]:
        """(name, code): the whole area first, then each borough with ratings, by name."""
        ctx = self.ctx
        codes = sorted(set(self._ratings["la_code_ons"]), key=ctx.name)
        return [(f"All pilot {self.ctx.word(plural=True)} ({ctx.area})", AREA)] + [
            (ctx.name(c), c) for c in codes
        ]

    def items(self) -> list[tuple[str, str]]:
        """(title in words with its code, item id) for each item rated."""
        d = self.ctx.decisions
        return [(f"{d.at[i, 'title']} ({i})", i) for i in d.index]

    def criteria(self) -> list[tuple[str, str]]:
        """(name in words with its dimension, criterion id), after 'All criteria'."""
        c = self._criteria
        named = [(f"{criterion_label(i)} ({c.at[i, 'dimension']})", i) for i in c.index]
        return [("All criteria", ALL), *named]

    # ------------------------------------------------------------------ tables

    def _scores_of(self, la_code: str) -> pd.DataFrame:
        r = self._ratings
        return r if la_code == AREA else r.loc[r["la_code_ons"] == la_code]

    def item_grid(self, la_code: str, item_id: str) -> pd.DataFrame:
        """The item's scores by criterion: one row per rater of the borough (named by
        agency) or, for the whole area, per rater's agency (their mean); the last row
        is every pilot rater's mean. A don't-know is blank."""
        mine = self._scores_of(la_code)
        mine = mine.loc[mine["item_id"] == item_id]
        everyone = self._ratings.loc[self._ratings["item_id"] == item_id]
        key = "rater_agency" if la_code == AREA else "rater_id"
        grid = mine.pivot_table(index=key, columns="criterion", values="score", aggfunc="mean")
        grid = grid.reindex(index=sorted(mine[key].unique(), key=str), columns=self._criteria.index)
        if la_code == AREA:
            raters = mine.groupby("rater_agency")["rater_id"].nunique()
            grid.index = [
                f"{AGENCY_LABELS.get(a, a)} ({plural(raters[a], 'rater')})" for a in grid.index
            ]
        else:
            agency = mine.drop_duplicates(key).set_index(key)["rater_agency"]
            grid.index = _numbered([AGENCY_LABELS.get(agency[k], agency[k]) for k in grid.index])
        total = everyone.groupby("criterion")["score"].mean().reindex(self._criteria.index)
        grid.loc["All pilot raters (mean)"] = total
        return grid

    def borough_grid(self, la_code: str, dimension: str) -> pd.DataFrame:
        """The borough's raters' (or every rater's) mean score on one dimension by
        supplying agency (lowest first) and criterion."""
        grid = ratings.score_grid(self._scores_of(la_code), self.ctx.items, dimension)
        mine = self._criteria.loc[self._criteria["dimension"] == dimension].index
        return grid.reindex(columns=[c for c in mine if c in grid.columns])

    # ------------------------------------------------------------------ figures

    def matrix(self, la_code: str, item_id: str) -> Picture:
        """The priority matrix with the item ringed, and the borough's own placing."""
        ctx = self.ctx
        if self._matrix is None:
            self._matrix = overlays.keep(
                figures.plot_priority_matrix(ctx.decisions, ctx.useful, ctx.accessible)
            )
        row = ctx.decisions.loc[item_id]
        point = (float(row["accessibility"]), float(row["usefulness"]))
        own = self.borough_scores(la_code, item_id)
        alt = (
            f"{self._matrix.alt} Ringed: {row['title']} ({item_id}), usefulness "
            f"{point[1]:.2f} and accessibility {point[0]:.2f} across {ctx.area}: "
            f"{row['decision']}."
        )
        own_label = ""
        if own is not None:
            own_label = f"{ctx.name(la_code)}'s raters"
            alt += (
                f" A star marks {own_label}' view: usefulness {own[1]:.2f}, "
                f"accessibility {own[0]:.2f}."
            )

        def mark(fig):
            return figures.mark_item(fig, point, item_id, own, own_label)

        return Picture(overlays.png_with(self._matrix, mark), alt)

    def ratings_picture(self, la_code: str, item_id: str, criterion: str) -> Picture:
        """The item's ratings by rater (or agency), the chosen criterion outlined."""
        kept = self._item_grids.get((la_code, item_id), lambda: self._draw_item(la_code, item_id))
        return self._outlined(kept, criterion, list(self._criteria.index))

    def grid_picture(self, la_code: str, criterion: str) -> Picture:
        """The borough's grid for the chosen criterion's dimension (accessibility for
        all criteria), the criterion outlined."""
        dimension = self._criteria.at[criterion, "dimension"] if criterion else "accessibility"
        kept = self._borough_grids.get(
            (la_code, dimension), lambda: self._draw_borough(la_code, dimension)
        )
        columns = list(self.borough_grid(la_code, dimension).columns) if criterion else []
        return self._outlined(kept, criterion, columns)

    def draw_boroughs(self) -> None:
        """Draw every borough's accessibility grid now, so that choosing a borough later
        only marks a picture already drawn."""
        for _, la in self.boroughs():
            self.grid_picture(la, ALL)

    def _outlined(self, kept: overlays.Kept, criterion: str, columns: list[str]) -> Picture:
        if criterion not in columns:
            return Picture(overlays.png_with(kept), kept.alt)
        at = columns.index(criterion)
        return Picture(
            overlays.png_with(kept, lambda fig: figures.mark_column(fig, at)),
            f"{kept.alt} Outlined: {criterion_label(criterion)}.",
        )

    def _draw_item(self, la_code: str, item_id: str) -> overlays.Kept:
        ctx = self.ctx
        grid = self.item_grid(la_code, item_id)
        title = ctx.decisions.at[item_id, "title"]
        who = (
            f"by the agency of the rater, {ctx.area}"
            if la_code == AREA
            else f"by {ctx.name(la_code)}'s raters"
        )
        raters = grid.iloc[:-1]
        alt = (
            f"Grid of scores (1 to 4) for {title} ({item_id}) on {len(grid.columns)} criteria, "
            f"{who} ({plural(len(raters), 'row')}), with every pilot rater's mean as the last "
            f"row; a dash is a don't-know. {_extremes(raters)}"
        )
        fig = figures.plot_score_grid(
            grid,
            f"{title} ({item_id}): scores {who}",
            alt,
            list(self._criteria["dimension"]),
            total_row=True,
            whole_rows=0 if la_code == AREA else len(raters),
        )
        return overlays.keep(fig)

    def _draw_borough(self, la_code: str, dimension: str) -> overlays.Kept:
        grid = self.borough_grid(la_code, dimension)
        who = self.ctx.area if la_code == AREA else self.ctx.name(la_code)
        title = f"{who}: mean {dimension} by supplying agency and criterion"
        alt = (
            f"Grid of {who}'s raters' mean {dimension} scores (1 to 4) by the agency that "
            f"supplies the item ({plural(len(grid), 'row')}) and criterion. {_extremes(grid)}"
        )
        return overlays.keep(figures.plot_score_grid(grid, title, alt))

    # ------------------------------------------------------------------ words

    def borough_scores(self, la_code: str, item_id: str) -> tuple[float, float] | None:
        """(accessibility, usefulness) of the item by the borough's raters, if rated."""
        if la_code == AREA:
            return None
        s = self.ctx.scores_by_borough
        row = s.loc[(s["la_code_ons"] == la_code) & (s["item_id"] == item_id)]
        if row.empty:
            return None
        return float(row["accessibility"].iloc[0]), float(row["usefulness"].iloc[0])

    def sentence(self, la_code: str, item_id: str, criterion: str) -> str:
        """What the choice shows, in words (HTML, escaped)."""
        ctx = self.ctx
        row = ctx.decisions.loc[item_id]
        agency = AGENCY_LABELS.get(row["agency"], row["agency"])
        parts = [
            f"<b>{esc(row['title'])} ({esc(item_id)})</b>, supplied by {esc(agency)}: "
            f"<b>{esc(row['decision'])}</b> across {esc(ctx.area)} (usefulness "
            f"{row['usefulness']:.2f}, accessibility {row['accessibility']:.2f})."
        ]
        own = self.borough_scores(la_code, item_id)
        if la_code != AREA:
            parts.append(
                f"{esc(ctx.name(la_code))}'s raters: usefulness {own[1]:.2f}, accessibility "
                f"{own[0]:.2f}."
                if own
                else f"{esc(ctx.name(la_code))}'s raters did not score it."
            )
        text = " ".join(parts)
        if criterion:
            text += "<br>" + self.criterion_sentence(la_code, item_id, criterion)
        return text

    def criterion_sentence(self, la_code: str, item_id: str, criterion: str) -> str:
        """The criterion's question and the scores the item got on it (HTML, escaped)."""
        c = self._criteria.loc[criterion]
        mine = self._scores_of(la_code)
        mine = mine.loc[(mine["item_id"] == item_id) & (mine["criterion"] == criterion)]
        everyone = self._ratings.loc[
            (self._ratings["item_id"] == item_id) & (self._ratings["criterion"] == criterion)
        ]
        who = f"{ctx_name}'s raters" if (ctx_name := self._name(la_code)) else "Pilot raters"
        scored = mine["score"].dropna()
        said = (
            f"{esc(who)} gave {plural(len(scored), 'score')} (mean {scored.mean():.1f})"
            if len(scored)
            else f"{esc(who)} gave no score"
        )
        dont_know = int(mine["score"].isna().sum())
        return (
            f"<b>{esc(criterion_label(criterion))}</b> ({esc(c['dimension'])}): "
            f"{esc(c['question'])} {said}"
            + (f" and {plural(dont_know, 'don’t-know', 'don’t-knows')}" if dont_know else "")
            + f"; every pilot rater's mean {everyone['score'].mean():.1f}."
        )

    def _name(self, la_code: str) -> str:
        return "" if la_code == AREA else self.ctx.name(la_code)


def _numbered(labels: list[str]) -> list[str]:
    """Labels made unique: a second 'Police' becomes 'Police (2)'."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _extremes(grid: pd.DataFrame) -> str:
    cells = grid.stack().dropna()
    if cells.empty:
        return "No scores."
    lo, hi = cells.idxmin(), cells.idxmax()
    return (
        f"Lowest: {lo[0]}, {criterion_label(lo[1])} ({cells.min():.1f}); highest: "
        f"{hi[0]}, {criterion_label(hi[1])} ({cells.max():.1f})."
    )


def explorer(ctx: Context, explore: bool = False):
    """In JupyterLab (``explore=True``): the widgets; otherwise nothing."""
    if not explore:
        return None
    if ctx.ratings.empty:
        return display.nothing_to_show("No completed instruments yet: nothing to explore.")
    return widgets(Explorer(ctx))


def widgets(ex: Explorer):
    """The dropdowns, a sentence and three figures, redrawn in place on each change."""
    import ipywidgets as w

    wide = {"description_width": "initial"}
    layout = w.Layout(width="95%", max_width="46em")  # the rest: the widget's margins
    ctx = ex.ctx
    boroughs = ex.boroughs()
    start = ctx.la_code if ctx.la_code in {c for _, c in boroughs} else AREA
    borough = w.Dropdown(
        options=boroughs,
        value=start,
        description=ctx.word(capital=True),
        style=wide,
        layout=layout,
    )
    item = w.Dropdown(options=ex.items(), description="Item", style=wide, layout=layout)
    criterion = w.Dropdown(
        options=ex.criteria(), value=ALL, description="Criterion", style=wide, layout=layout
    )
    ex.draw_boroughs()
    text = w.HTML(layout=w.Layout(max_width="60em"))
    matrix, scores, grid = (w.Output(layout=w.Layout(max_width="100%")) for _ in "msg")

    def show(out, picture: Picture) -> None:
        out.outputs = (overlays.output_bundle(picture.png, picture.alt),)

    def redraw(change=None) -> None:
        la, item_id, crit = borough.value, item.value, criterion.value
        owner = None if change is None else change["owner"]
        text.value = f"<p style='line-height:1.45'>{ex.sentence(la, item_id, crit)}</p>"
        if owner is not criterion:
            show(matrix, ex.matrix(la, item_id))
        show(scores, ex.ratings_picture(la, item_id, crit))
        if owner is not item:
            show(grid, ex.grid_picture(la, crit))

    for control in (borough, item, criterion):
        control.observe(redraw, names="value")
    redraw()
    box = w.VBox([borough, item, criterion, text, matrix, scores, grid])
    box.redraw = redraw  # for tests and the benchmark: the same call a change makes
    box.controls = {"borough": borough, "item": item, "criterion": criterion, "text": text}
    box.outputs = {"matrix": matrix, "ratings": scores, "grid": grid}
    return box
