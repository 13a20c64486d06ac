"""Phase 3's explorer: its choices are in words, and a change of borough, item or
quarter redraws what depends on it, with the borough's own figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lscb_nb.pilot import explorer
from lscb_nb.pilot.context import load_context

CROYDON, EALING = "E09000008", "E09000009"


@pytest.fixture(scope="module")
def ctx(sample_project):
    return load_context(sample_project["root"], CROYDON)


def test_without_explore_the_report_gets_nothing(ctx):
    assert explorer.explorer(ctx, explore=False) is None


def test_choices_are_in_words_with_the_code_beside(ctx):
    ex = explorer.Explorer(ctx)
    names = [name for name, _ in ex.boroughs()]
    assert "Croydon" in names and names == sorted(names)
    titles = dict((code, label) for label, code in ex.items())
    assert titles["CSC02"] == "Re-referrals within 12 months (CSC02)"
    assert ex.quarters()[0] == ctx.period  # latest first


@pytest.mark.parametrize("latest", [True, False])
def test_the_spine_rows_match_the_benchmark_tables_the_reports_use(ctx, latest):
    """The explorer works out every quarter's figures at once; its spine chart must
    show what the report's does: the batch's prepared table for the latest quarter,
    ``borough_benchmark`` for another."""
    from lscb_nb.pilot import comparators, spine
    from lscb_nb.pilot.context import prepared_benchmarks
    from lscb_nb.pilot.stage import neighbour_codes

    ex = explorer.Explorer(ctx)
    period = ex.quarters()[0 if latest else 2]
    for la in (CROYDON, EALING):
        if latest:
            prepared = prepared_benchmarks(ctx)
            report = prepared.loc[prepared["la_code_ons"] == la].drop(columns="la_code_ons")
        else:
            report = comparators.borough_benchmark(
                ctx.obs, la, period, ctx.authorities, neighbour_codes(la), exclude=ctx.flags
            )
        ours = spine._spine_rows(ctx.obs, ex.table(la, period), period, ctx.threshold, la)
        theirs = spine._spine_rows(
            ctx.obs, report.reset_index(drop=True), period, ctx.threshold, la
        )
        assert len(ours) > 10
        pd.testing.assert_frame_equal(ours.drop(columns="trend"), theirs.drop(columns="trend"))
        assert all(
            np.array_equal(a, b, equal_nan=True)
            for a, b in zip(ours.trend, theirs.trend, strict=True)
        )


def test_the_explorers_spine_chart_is_the_reports_table(ctx):
    """The explorer shows the table the report shows, for the chosen borough and
    quarter: the same rows and figures, as text."""
    import io

    from lscb_nb.pilot import spine
    from lscb_nb.pilot.context import prepared_benchmarks

    ex = explorer.Explorer(ctx)
    period = ex.quarters()[0]
    prepared = prepared_benchmarks(ctx)
    report = prepared.loc[prepared["la_code_ons"] == CROYDON].drop(columns="la_code_ons")
    theirs = spine.spine_table(
        ctx.obs,
        report.reset_index(drop=True),
        period,
        threshold=ctx.threshold,
        area=ctx.area,
        la_name="Croydon",
        la_code=CROYDON,
        england=spine.england_figures(ctx.items),
    )
    ours = pd.read_html(io.StringIO(ex.spine_html(CROYDON, period)), keep_default_na=False)[0]
    shown = pd.read_html(io.StringIO(theirs.data), keep_default_na=False)[0]
    assert len(ours) > 10
    pd.testing.assert_frame_equal(ours, shown)
    assert 'role="img"' in ex.spine_html(CROYDON, period)


def test_a_change_of_borough_redraws_the_funnel_trend_spine_and_sentence(ctx):
    box = explorer.explorer(ctx, explore=True)
    c = box.controls
    funnel, trend = box.children[4].children
    spine = box.children[5]
    assert c["borough"].value == CROYDON and "Croydon" in c["text"].value
    before = (funnel.value, trend.value, spine.value)
    assert all(before)
    c["borough"].value = EALING
    assert "Ealing" in c["text"].value and "Croydon" not in c["text"].value
    assert funnel.value != before[0] and trend.value != before[1] and spine.value != before[2]


def test_a_change_of_item_redraws_the_item_figures_and_keeps_the_spine(ctx):
    box = explorer.explorer(ctx, explore=True)
    c = box.controls
    funnel, trend = box.children[4].children
    spine = box.children[5]
    before = (funnel.value, trend.value, spine.value)
    other = next(code for _, code in c["item"].options if code != c["item"].value)
    c["item"].value = other
    assert funnel.value != before[0] and trend.value != before[1]
    assert spine.value == before[2]
    assert ctx.items.at[other, "title"].replace("'", "&#x27;") in c["text"].value


def test_the_sentence_places_the_borough_on_the_funnel(ctx):
    ex = explorer.Explorer(ctx)
    pos = ctx.positions
    row = pos.loc[(pos["la_code_ons"] == CROYDON) & (pos["period"] == ctx.period)].iloc[0]
    text = ex.sentence(CROYDON, row["item_id"], ctx.period)
    assert text.startswith("Croydon, ") and str(row["funnel"]) in text


def test_the_trend_leaves_off_a_suppressed_figure(ctx):
    obs = ctx.obs.copy()
    item = ctx.items.loc["CSC01"]
    mine = (obs["la_code_ons"] == CROYDON) & (obs["item_id"] == "CSC01")
    first = obs.loc[mine, "period"].min()
    obs.loc[mine & (obs["period"] == first), "count"] = 3  # at or under the threshold
    fig = explorer.figures.plot_trend(obs, item, CROYDON, threshold=5, la_name="Croydon")
    line = next(li for li in fig.axes[0].lines if li.get_label() == "Croydon")
    assert pd.isna(line.get_ydata()[0])
    assert not pd.isna(line.get_ydata()[1])


def test_the_notebook_shows_the_explorer_only_when_asked(ctx, tmp_path):
    import papermill as pm

    from lscb_nb.core import config

    def widget_outputs(explore: bool) -> int:
        out = tmp_path / f"explore_{explore}.ipynb"
        nb = pm.execute_notebook(
            str(config.NOTEBOOKS_DIR / "03_pilot_evaluation.ipynb"),
            str(out),
            parameters={"project": str(ctx.project.root), "la_code": CROYDON, "explore": explore},
            kernel_name="python3",
            progress_bar=False,
        )
        return sum(
            "application/vnd.jupyter.widget-view+json" in o.get("data", {})
            for cell in nb.cells
            for o in cell.get("outputs", [])
        )

    assert widget_outputs(True) == 1
    assert widget_outputs(False) == 0


def test_a_kept_funnel_marks_the_chosen_borough_over_room_kept_for_any_name(ctx):
    """The funnel is drawn once per item and quarter; the borough's point and its name
    in the legend are drawn over it, where the legend kept room for the longest name."""
    from lscb_nb.pilot import figures

    ex = explorer.Explorer(ctx)
    kept, shown = ex._funnels.get(
        ("CSC02", ctx.period), lambda: ex._draw_funnel("CSC02", ctx.period)
    )
    base_labels = [t.get_text() for t in kept.fig.axes[0].get_legend().get_texts()]
    longest = max((name for name, _ in ex.boroughs()), key=len)
    assert base_labels[-1] == longest and "Ealing" not in base_labels
    mine = shown.loc[shown["la_code_ons"] == EALING]
    blank, dot, legend = figures.mark_funnel(kept.fig, mine, "Ealing")
    try:
        assert [t.get_text() for t in legend.get_texts()] == [*base_labels[:-1], "Ealing"]
        assert dot.get_offsets().tolist() == mine[["base", "value"]].to_numpy().tolist()
        # the blank covers the kept legend, so its longest name never shows through
        assert blank.get_window_extent().contains(
            *kept.fig.axes[0].get_legend().get_window_extent().p1
        )
    finally:
        for artist in (blank, dot, legend):
            artist.remove()
    assert ex.funnel_png(CROYDON, "CSC02", "1999-00 Q1") == b""  # a quarter with no figures
