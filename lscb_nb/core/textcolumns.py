"""Columns of texts, one per row of a chart, drawn from pixels rendered once per text.

With matplotlib 3.11 a text costs its letters: each glyph is laid out and rendered
on every draw, so a table-like chart (the spine chart: a name and four figures on
each of sixty rows) spends most of its time on text. The same names and many of the
same figures recur in every borough's and quarter's chart: :class:`TextColumn` keeps
each text's pixels, rendered at the chart's resolution and at the column's fraction
of a pixel, and draws a whole column as one image, placed as ``ax.text`` would
place each text (within half a pixel up or down).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.artist import Artist

# Texts rendered so far: the pixels of each in a strip one row high, by what changes
# them (text, alignment, weight, size, colour, resolution, fraction of a pixel).
_PIXELS: dict[tuple, np.ndarray] = {}
_MAX_KEPT = 20_000  # strips kept (a few tens of MB at most); past it, start again
_PAD = 2  # pixels between a strip's edge and its text's anchor


def _strips(texts: Sequence[str], key: tuple, width: int, rows: int, anchor: float) -> list:
    """Each text's strip, rendering together those not rendered before."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ha, weight, size, colour, dpi = key[:5]
    missing = [t for t in dict.fromkeys(texts) if (t, *key) not in _PIXELS]
    if missing:
        if len(_PIXELS) > _MAX_KEPT:
            _PIXELS.clear()
        fig = Figure(figsize=(width / dpi, rows * len(missing) / dpi), dpi=dpi)
        fig.patch.set_alpha(0)
        for k, text in enumerate(missing):
            fig.text(
                anchor / width,
                1 - (k + 0.5) / len(missing),
                text,
                ha=ha,
                va="center",
                fontsize=size,
                fontweight=weight,
                color=colour,
            )
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        pixels = np.asarray(canvas.buffer_rgba())
        for k, text in enumerate(missing):
            _PIXELS[(text, *key)] = pixels[k * rows : (k + 1) * rows].copy()
    return [_PIXELS[(t, *key)] for t in texts]


class TextColumn(Artist):
    """``texts`` centred on the rows at ``y`` (data units), aligned ``ha`` (left or
    right) to ``x``, in a column at most ``width`` inches wide; what ``ax.text(x, y,
    text, ha=ha, va="center", fontsize=size, fontweight=weight)`` would draw for each.
    Add it with ``ax.add_artist``; ``texts`` says what it prints."""

    def __init__(
        self,
        x: float,
        y: Sequence[float],
        texts: Sequence[str],
        *,
        width: float,
        row_height: float,
        ha: str = "left",
        size: float = 8,
        weight: str = "normal",
    ):
        super().__init__()
        self.x, self.y, self.texts = x, np.asarray(y, float), [str(t) for t in texts]
        self.width, self.row_height = width, row_height
        self.ha, self.size, self.weight = ha, size, weight

    def draw(self, renderer) -> None:
        if not self.get_visible() or not self.texts:
            return
        dpi = renderer.dpi
        width = math.ceil(self.width * dpi) + 2 * _PAD
        rows = math.ceil(self.row_height * dpi)
        at = self.axes.transData.transform((self.x, 0))[0]
        whole, fraction = math.floor(at), round(at % 1, 2)
        inside = _PAD if self.ha == "left" else width - _PAD  # the anchor in the strip
        colour = mpl.rcParams["text.color"]
        # everything the pixels depend on: a strip drawn for another size of column,
        # another dpi or another font is never reused
        font = (str(mpl.rcParams["font.family"]), str(mpl.rcParams["font.sans-serif"][:1]))
        key = (self.ha, self.weight, self.size, colour, dpi, fraction, width, rows, font)
        strips = _strips(self.texts, key, width, rows, inside + fraction)
        xy = np.column_stack([np.full_like(self.y, self.x), self.y])
        centres = self.axes.transData.transform(xy)[:, 1]
        high = int(renderer.height)
        column = np.zeros((high, width, 4), np.uint8)
        for strip, centre in zip(strips, centres, strict=True):
            top = round(high - centre - rows / 2)
            lo, hi = max(top, 0), min(top + rows, high)
            if lo < hi:
                ink = strip[lo - top : hi - top]
                inked = ink[..., 3] > 0
                column[lo:hi][inked] = ink[inked]
        gc = renderer.new_gc()
        # the renderer takes an image's rows bottom first
        renderer.draw_image(gc, whole - inside, 0, np.ascontiguousarray(column[::-1]))
        gc.restore()
