"""Figures drawn once and marked per choice: how an explorer redraws a chart in a few
hundredths of a second instead of half a second.

Drawing a figure's text (tick labels, annotations, legends) is what costs; marking the
chosen item or column is a handful of artists. :func:`keep` draws a figure once and
keeps its pixels; :func:`png_with` restores those pixels, draws only the marks on top
(matplotlib's blitting, on the Agg canvas, so no display is needed) and encodes the
result as PNG. A kept figure lives outside pyplot, so Jupyter's inline backend never
shows it by itself. :class:`Recent` keeps the last few kept figures or images, so an
analyst going back and forth waits once.
"""

from __future__ import annotations

import base64
import io
import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg

from lscb_nb.core.display import esc, figure_alt

log = logging.getLogger(__name__)


@dataclass
class Kept:
    """A figure drawn once: its pixels, and the alt text of what it shows unmarked."""

    fig: plt.Figure
    background: Any
    alt: str


def keep(fig: plt.Figure) -> Kept:
    """Draw the figure once and keep its pixels; it leaves pyplot (never auto-shown)."""
    alt = figure_alt(fig)
    plt.close(fig)
    canvas = _canvas(fig)
    canvas.draw()
    return Kept(fig, canvas.copy_from_bbox(fig.bbox), alt)


def _canvas(fig: plt.Figure) -> FigureCanvasAgg:
    """The figure's own Agg canvas where it has one: its renderer already measured the
    figure's texts while the figure was laid out, and it keeps those measures."""
    return fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)


def png_with(kept: Kept, mark: Callable[[plt.Figure], Iterable[Artist]] | None = None) -> bytes:
    """The kept figure as PNG with the artists ``mark`` adds drawn over it; the marks
    are removed afterwards, so the next call starts from the unmarked figure."""
    canvas = kept.fig.canvas
    canvas.restore_region(kept.background)
    artists = list(mark(kept.fig)) if mark else []
    try:
        for artist in artists:
            (artist.axes or kept.fig).draw_artist(artist)
        pixels = np.asarray(canvas.buffer_rgba())
        return _encode(pixels)
    finally:
        for artist in artists:
            artist.remove()


def png(fig: plt.Figure) -> bytes:
    """The figure as PNG, drawn once on the Agg canvas and encoded for speed rather
    than size (an explorer's picture is shown once, never stored); closes it."""
    plt.close(fig)
    canvas = _canvas(fig)
    canvas.draw()
    return _encode(np.asarray(canvas.buffer_rgba()))


def _encode(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def img_html(data: bytes, alt: str) -> str:
    """An ``<img>`` of the PNG with its alt text (escaped), sized to its container."""
    if not data:
        return f"<p>{esc(alt)}</p>"
    source = base64.b64encode(data).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{source}" alt="{esc(alt)}" '
        'style="max-width:100%;height:auto">'
    )


def output_bundle(data: bytes, alt: str) -> dict:
    """A display_data output for an ipywidgets ``Output``: the image with its alt text
    as HTML, and the alt text alone as the plain-text version."""
    return {
        "output_type": "display_data",
        "data": {"text/html": img_html(data, alt), "text/plain": alt},
        "metadata": {},
    }


class Recent:
    """The last ``size`` things made for a key (least recently used dropped first)."""

    def __init__(self, size: int = 32):
        self.size = size
        self._kept: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        value = self._kept[key] = make()
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return value

    def __contains__(self, key: Hashable) -> bool:
        return key in self._kept

    def __len__(self) -> int:
        return len(self._kept)
