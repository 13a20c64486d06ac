"""Report conventions: escaped tables, and London-wide figures drawn once per batch."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
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
        "Notes from boroughs",
        decimals={"n": 1},
    ).data
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "1,234.5" in html and "–" in html and "&lt;NA&gt;" not in html


def test_table_prints_years_as_written_and_carries_its_source():
    import json
    import re

    frame = pd.DataFrame({"Year to March": [2025, 2024], "Published": [2217.14, 1000.0]})
    html = display.table(
        frame, "Published figures", decimals={"Published": 1}, meta={"kind": "grid", "n": 2}
    ).data
    assert ">2025<" in html and "2,025" not in html and "2,217.1" in html
    raw = re.search(r'data-lscb="([^"]+)"', html).group(1)
    import html as h

    assert json.loads(h.unescape(raw)) == {"kind": "grid", "n": 2}


def test_a_table_is_named_by_its_caption_and_needs_one():
    """Screen readers announce a table and its keyboard-scrollable region by the
    caption; a table without one would be announced as nothing in particular."""
    import lxml.html

    frame = pd.DataFrame({"Borough": ["Camden"], "Referrals": [1234]})
    block = lxml.html.fragment_fromstring(
        display.table(frame, caption="Referrals <by> borough").data
    )
    region = block.xpath("//div[@role='region']")[0]
    caption = block.xpath("//caption")[0]
    assert region.get("tabindex") == "0"
    assert region.get("aria-labelledby") == caption.get("id")
    assert caption.text_content() == "Referrals <by> borough"
    for missing in ("", "   ", None):
        with pytest.raises(ValueError, match="caption"):
            display.table(frame, caption=missing)


def test_every_header_has_the_state_key():
    html = display.header("X", {"Report": "x"}, synthetic=False).parts[-1].data
    assert "Symbols in tables" in html and "never shown as 0" in html


def test_a_long_table_folds_its_rows_under_show_all_never_cuts_them():
    import lxml.html

    frame = pd.DataFrame({"Borough": [f"B{i:02d}" for i in range(59)], "Referrals": range(59)})
    shown = display.table(frame, caption="Referrals by borough")
    page = lxml.html.fromstring(shown.data)
    first, rest = page.xpath("//tbody")
    assert len(first.xpath("./tr")) == display.FOLD_ROWS
    assert len(rest.xpath("./tr")) == 59 - display.FOLD_ROWS
    assert rest.get("class") == "lscb-rows-more"
    summary = page.xpath("//details/summary")[0].text_content()
    assert "Show all 59 rows" in summary and "Showing the first" not in shown.data
    assert len(shown.download["rows"]) == 59


def test_a_table_is_captioned_with_column_and_row_headers():
    import lxml.html

    frame = pd.DataFrame({"Item": ["CSC01", "CSC02"], "Pilot total": [1234, None]})
    shown = display.table(frame, caption="Counts")
    page = lxml.html.fromstring(shown.data)
    table = page.xpath("//table")[0]
    assert table.xpath("./caption")[0].text_content() == "Counts"
    assert [th.get("scope") for th in table.xpath("./thead/tr/th")] == ["col", "col"]
    assert [th.text_content() for th in table.xpath(".//tbody/tr/th[@scope='row']")] == [
        "CSC01",
        "CSC02",
    ]
    region = page.xpath("//div[@role='region']")[0]  # scrolls sideways, reachable by keyboard
    assert region.get("tabindex") == "0"
    assert region.get("aria-labelledby") == table.xpath("./caption")[0].get("id")
    assert "style=" not in shown.data  # one stylesheet, no inline styles


def test_a_download_keeps_suppressed_values_as_their_symbols():
    frame = pd.DataFrame({"Item": ["CSC01", "CSC02"], "Camden": ["c", 1234.0], "Total": [40, 1300]})
    shown = display.table(frame, caption="Counts")
    assert shown.download["columns"] == ["Item", "Camden", "Total"]
    assert shown.download["rows"] == [["CSC01", "c", "40"], ["CSC02", "1234.0", "1300"]]


def test_figure_alt_text_is_written_from_the_data():
    fig, ax = plt.subplots()
    ax.barh(["Camden", "Hackney"], [3.2, 45.0], label="supplied")
    ax.set_title("Supplied, by borough")
    ax.set_xlabel("% of expected figures")
    image = display.figure_png(fig)
    assert image.alt == (
        "Chart: Supplied, by borough. 2 bars (supplied) for Camden, Hackney, from 3.2 to 45. "
        "Horizontal axis: % of expected figures."
    )
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    display.describe(fig, "Referrals rose from 1 to 2.")
    assert display.figure_png(fig).alt == "Referrals rose from 1 to 2."


def test_shared_figures_keep_their_alt_text(tmp_path):
    def draw(ctx):
        fig, ax = plt.subplots()
        ax.plot([1, 5, 3])
        return display.describe(fig, f"A line peaking at {ctx['peak']}.")

    display.save_shared_figures(tmp_path, {"peak.png": draw}, {"peak": 5})
    reused = display.shared_figure(tmp_path, "peak.png", draw, {"peak": 5}, reuse=True)
    assert reused.alt == "A line peaking at 5."


def test_every_table_must_say_what_it_is():
    import pytest

    with pytest.raises(TypeError):
        display.table(pd.DataFrame({"n": [1]}))  # no caption: refused, never "Table"


def test_item_definitions_are_folded_escaped_and_anchored():
    items = pd.DataFrame(
        {
            "title": ["Referrals", "Plans <b>ended</b>"],
            "definition": ["Count each referral once.", "Ended & <script>x</script> closed"],
        },
        index=pd.Index(["CSC01", "CSC19"], name="item_id"),
    )
    markup = display.definitions(items, "What each item counts").data
    assert markup.startswith('<details class="lscb-definitions">')
    assert "<summary>What each item counts</summary>" in markup
    assert 'id="def-CSC01"' in markup and 'id="def-CSC19"' in markup
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert "Plans &lt;b&gt;ended&lt;/b&gt;" in markup
    assert markup.index("def-CSC01") < markup.index("def-CSC19")
    assert display.definitions(items.iloc[0:0], "None") is None
