"""Figures drawn once and marked per choice: a mark shows, then leaves no trace; a kept
figure never reaches pyplot; the alt text travels with the image, escaped."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from lscb_nb.core import display, overlays


def kept_line() -> overlays.Kept:
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([1, 2, 3], [1, 4, 9])
    return overlays.keep(display.describe(fig, "A line rising from 1 to 9."))


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_a_kept_figure_leaves_pyplot_and_keeps_its_alt_text():
    plt.close("all")
    kept = kept_line()
    assert not plt.get_fignums()
    assert kept.alt == "A line rising from 1 to 9."


def test_a_mark_is_drawn_over_the_figure_and_then_taken_away():
    kept = kept_line()
    plain = overlays.png_with(kept)

    def ring(fig):
        return [fig.axes[0].scatter([2], [4], s=400, color="red")]

    marked = overlays.png_with(kept, ring)
    again = overlays.png_with(kept)
    assert pixels(plain).shape == pixels(marked).shape
    changed = np.any(pixels(plain) != pixels(marked), axis=2)
    assert changed.sum() > 50  # the ring shows
    red = pixels(marked)[changed]
    assert ((red[:, 0] > 200) & (red[:, 1] < 80)).mean() > 0.5
    # and leaves no trace: drawn again without the mark, the ring's pixels are gone
    assert np.any(pixels(plain) != pixels(again), axis=2)[changed].mean() <= 0.01
    assert not kept.fig.axes[0].collections


def test_the_output_carries_the_alt_text_escaped():
    bundle = overlays.output_bundle(b"\x89PNG", 'Scores for "Children\'s" <items>')
    markup = bundle["data"]["text/html"]
    assert 'alt="Scores for &quot;Children&#x27;s&quot; &lt;items&gt;"' in markup
    assert bundle["data"]["text/plain"] == 'Scores for "Children\'s" <items>'
    assert "<img" not in overlays.img_html(b"", "Nothing to draw.")


def test_recent_keeps_the_last_few_and_drops_the_least_recently_used():
    made = []
    recent = overlays.Recent(size=2)

    def make(key):
        return lambda: made.append(key) or key

    recent.get("a", make("a"))
    recent.get("b", make("b"))
    recent.get("a", make("a"))  # a is used again, so b is the oldest
    recent.get("c", make("c"))
    assert made == ["a", "b", "c"]
    assert "a" in recent and "c" in recent and "b" not in recent and len(recent) == 2
