"""Report conventions: escaped tables, and London-wide figures drawn once per batch."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Image

from lscb_nb.core import display


def _draw(ctx) -> plt.Figure:
    ctx["calls"] += 1
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    return fig


def test_shared_figures_are_drawn_once_and_reused(tmp_path):
    ctx = {"calls": 0}
    display.save_shared_figures(tmp_path, {"line.png": _draw}, ctx)
    assert ctx["calls"] == 1
    assert (tmp_path / "line.png").read_bytes().startswith(b"\x89PNG")
    reused = display.shared_figure(tmp_path, "line.png", _draw, ctx, reuse=True)
    assert isinstance(reused, Image) and ctx["calls"] == 1
    fresh = display.shared_figure(tmp_path, "line.png", _draw, ctx, reuse=False)
    assert isinstance(fresh, plt.Figure) and ctx["calls"] == 2
    plt.close(fresh)


def test_table_escapes_borough_text_and_shows_missing_as_a_dash():
    html = display.table(
        pd.DataFrame({"note": ["<script>alert(1)</script>", pd.NA], "n": [1234.5, None]}),
        decimals={"n": 1},
    ).data
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "1,234.5" in html and "–" in html and "&lt;NA&gt;" not in html


def test_table_prints_years_as_written_and_carries_its_source():
    import json
    import re

    frame = pd.DataFrame({"Year to March": [2025, 2024], "Published": [2217.14, 1000.0]})
    html = display.table(frame, decimals={"Published": 1}, meta={"kind": "grid", "n": 2}).data
    assert ">2025<" in html and "2,025" not in html and "2,217.1" in html
    raw = re.search(r'data-lscb="([^"]+)"', html).group(1)
    import html as h

    assert json.loads(h.unescape(raw)) == {"kind": "grid", "n": 2}


def test_every_header_has_the_state_key():
    html = display.header("X", {"Report": "x"}, synthetic=False).parts[-1].data
    assert "Symbols in tables" in html and "never shown as 0" in html
