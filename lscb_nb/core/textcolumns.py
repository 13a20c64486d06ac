"""Columns of texts, one per row of a chart, drawn from pixels rendered once per text.

With matplotlib 3.11 a text costs its letters: each glyph is laid out and rendered
on every draw, so a table-like chart (the spine chart: a name and four figures on
each of sixty rows) spends most of its time on text. The same names and many of the
same figures recur in every borough's and quarter's chart: :class:`TextColumn` keeps
each text's pixels, rendered at the chart's resolution and at the column's fraction
of a pixel across and down, and draws a whole column as one image: the pixels
``ax.text`` would draw, in the colour it would use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.artist import Artist
from matplotlib.colors import to_rgb

# Texts rendered so far: each one's coverage (alpha) in a strip one row high, by what
# changes it (text, its fraction of a pixel down, then alignment, weight, size,
# resolution, fraction of a pixel across, strip size and font). The colour is laid on
# when a column is drawn, as matplotlib lays a text's colour on its glyphs' coverage.
_PIXELS: dict[tuple, np.ndarray] = {}
_MAX_KEPT = 20_000  # strips kept (a few tens of MB at most); past it, start again
_PAD = 2  # pixels between a strip's edge and its text's anchor


def _strips(
    texts: Sequence[tuple[str, float]], key: tuple, width: int, rows: int, anchor: float
) -> list:
    """Each (text, fraction of a pixel down)'s strip, rendering together those not
    rendered before."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ha, weight, size, dpi = key[:4]
    missing = [t for t in dict.fromkeys(texts) if (*t, *key) not in _PIXELS]
    if missing:
        if len(_PIXELS) > _MAX_KEPT:
            _PIXELS.clear()
        high = rows * len(missing)
        fig = Figure(figsize=(width / dpi, high / dpi), dpi=dpi)
        fig.patch.set_alpha(0)
        for k, (text, down) in enumerate(missing):
            fig.text(
                anchor / width,
                1 - (k * rows + down + rows / 2) / high,
                text,
                ha=ha,
                va="center",
                fontsize=size,
                fontweight=weight,
                color="black",
            )
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        alpha = np.asarray(canvas.buffer_rgba())[..., 3]
        for k, item in enumerate(missing):
            _PIXELS[(*item, *key)] = alpha[k * rows : (k + 1) * rows].copy()
    return [_PIXELS[(*t, *key)] for t in texts]


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
        # everything the pixels depend on: a strip drawn for another size of column,
        # another dpi or another font is never reused
        font = (
            str(mpl.rcParams["font.family"]),
            str(mpl.rcParams["font.sans-serif"][:1]),
            mpl.rcParams["text.hinting"],
            mpl.rcParams["text.hinting_factor"],
            mpl.rcParams["text.antialiased"],
        )
        key = (self.ha, self.weight, self.size, dpi, fraction, width, rows, font)
        xy = np.column_stack([np.full_like(self.y, self.x), self.y])
        high = int(renderer.height)
        # each row's top edge, from the top, in whole pixels and a fraction down
        tops = high - self.axes.transData.transform(xy)[:, 1] - rows / 2
        whole_tops = np.floor(tops).astype(int)
        downs = np.round(tops - whole_tops, 2)
        strips = _strips(
            list(zip(self.texts, downs.tolist(), strict=True)), key, width, rows, inside + fraction
        )
        cover = np.zeros((high, width), np.uint8)
        for strip, top in zip(strips, whole_tops.tolist(), strict=True):
            lo, hi = max(top, 0), min(top + rows, high)
            if lo < hi:
                np.maximum(cover[lo:hi], strip[lo - top : hi - top], out=cover[lo:hi])
        column = np.empty((high, width, 4), np.uint8)
        column[..., :3] = np.round(np.asarray(to_rgb(mpl.rcParams["text.color"])) * 255)
        column[..., 3] = cover
        gc = renderer.new_gc()
        # the renderer takes an image's rows bottom first
        renderer.draw_image(gc, whole - inside, 0, np.ascontiguousarray(column[::-1]))
        gc.restore()
