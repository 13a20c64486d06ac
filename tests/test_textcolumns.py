"""Text columns drawn from kept pixels land where ``ax.text`` would put each text, with
the same ink, whether aligned left or right, bold or not, drawn once or again."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lscb_nb.core import textcolumns


@pytest.fixture(autouse=True, params=["matplotlib defaults", "report theme"])
def _style(request):
    """Under matplotlib's own defaults and under the reports' seaborn theme (grey
    text, another font list): a column must match ax.text under either."""
    import matplotlib as mpl

    from lscb_nb.core import display

    with mpl.rc_context(rc=mpl.rcParamsDefault):
        if request.param == "report theme":
            display.setup_figures()
        yield


ROWS = [0.0, 1.0, 2.0, 3.0]
TEXTS = ["Referrals to children's social care (CSC01)", "14.8", "1,234.5", "c"]


def _pixels(draw, y0: float = -0.7) -> np.ndarray:
    fig = plt.figure(figsize=(6, 1.6), dpi=96)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, 6)
    ax.set_ylim(y0, y0 + 4.4)
    draw(ax)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    plt.close(fig)
    return pixels


def _ink(draw, y0: float = -0.7) -> np.ndarray:
    return _pixels(draw, y0).mean(axis=2) < 128


@pytest.mark.parametrize(
    ("x", "ha", "weight", "y0"),
    [(0.1, "left", "normal", -0.7), (5.55, "right", "bold", -0.7), (0.137, "left", "bold", -0.613)],
)
def test_a_column_prints_what_ax_text_prints_where_it_prints_it(x, ha, weight, y0):
    def as_text(ax):
        for y, t in zip(ROWS, TEXTS, strict=True):
            ax.text(x, y, t, ha=ha, va="center", fontsize=8, fontweight=weight)

    def as_column(ax):
        column = textcolumns.TextColumn(
            x, ROWS, TEXTS, width=4.0, row_height=0.25, ha=ha, weight=weight
        )
        ax.add_artist(column)

    written = _ink(as_text, y0)
    for _ in range(2):  # rendered the first time, from kept pixels the second
        drawn = _ink(as_column, y0)
        assert written.sum() > 300
        assert abs(int(drawn.sum()) - int(written.sum())) < 0.05 * written.sum()
        cols_w, cols_d = np.nonzero(written.any(axis=0))[0], np.nonzero(drawn.any(axis=0))[0]
        assert abs(cols_w.min() - cols_d.min()) <= 1 and abs(cols_w.max() - cols_d.max()) <= 1
        rows_w, rows_d = np.nonzero(written.any(axis=1))[0], np.nonzero(drawn.any(axis=1))[0]
        assert abs(rows_w.min() - rows_d.min()) <= 1 and abs(rows_w.max() - rows_d.max()) <= 1
        # nearly all the ink on the very same pixels, in the same shade and colour
        assert (drawn & written).sum() > 0.95 * written.sum()
        shades = np.abs(_pixels(as_column, y0) - _pixels(as_text, y0))
        assert np.percentile(shades, 99.5) <= 8


def test_a_hidden_column_draws_nothing():
    def hidden(ax):
        column = textcolumns.TextColumn(0.1, ROWS, TEXTS, width=4.0, row_height=0.25)
        column.set_visible(False)
        ax.add_artist(column)

    assert not _ink(hidden).any()


def test_a_column_of_another_size_drawn_before_does_not_lend_its_pixels():
    """Strips are kept per text: one kept for a narrower, taller column (or another
    dpi or font) must not be reused for this one."""

    def other(ax):
        ax.add_artist(
            textcolumns.TextColumn(0.1, ROWS, TEXTS, width=3.0, row_height=0.3, ha="left")
        )

    _ink(other)
    test_a_column_prints_what_ax_text_prints_where_it_prints_it(0.1, "left", "normal", -0.7)
