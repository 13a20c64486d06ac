"""What a rendered report shows, and how: the conventions every notebook shares.

Steering-group members read the HTML, never the code, so everything a notebook
displays goes through here: a synthetic-data banner whenever the data is
synthetic, sentences whose borough-supplied text is HTML-escaped, tables with
thousands separators and the data model's decimals, suppression shown as ``c``,
and figures closed after display so nothing shows twice.
"""

from __future__ import annotations

import html
import io
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Image, Markdown, display

from lscb_nb import __version__
from lscb_nb.core.fileio import write_atomic

log = logging.getLogger(__name__)

SYNTHETIC_BANNER = (
    '<div class="lscb-synthetic" role="note" style="border:3px solid #b00020;'
    "background:#fdecea;color:#6d0015;padding:10px 14px;margin:8px 0 16px 0;"
    'font-weight:600;font-size:15px">SYNTHETIC DATA: every figure in this report comes '
    "from generated sample data, made to look realistic in size. None of it describes a real "
    "borough's children or services.</div>"
)


def esc(value: object) -> str:
    """Escape anything a borough supplied before it goes into HTML or Markdown."""
    return html.escape("" if value is None else str(value), quote=True)


@dataclass
class Section:
    """Something to show: parts are Markdown strings, HTML objects or figures."""

    parts: list[Any] = field(default_factory=list)

    def add(self, *parts: Any) -> Section:
        self.parts.extend(p for p in parts if p is not None)
        return self

    def __bool__(self) -> bool:
        return bool(self.parts)


def show(*items: Any) -> None:
    """Display sections, text, tables and figures in order."""
    for item in items:
        if item is None:
            continue
        if isinstance(item, Section):
            show(*item.parts)
        elif isinstance(item, str):
            display(Markdown(item))
        elif isinstance(item, plt.Figure):
            display(figure_png(item))
            plt.close(item)
        else:
            display(item)


def figure_bytes(fig: plt.Figure) -> bytes:
    """The figure as PNG bytes, drawn once (the inline backend's tight bounding box
    draws every figure twice; the sections lay theirs out with ``tight_layout``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=plt.rcParams["savefig.dpi"])
    plt.close(fig)
    return buffer.getvalue()


def png(data: bytes) -> Image:
    """A PNG drawn earlier (e.g. once per batch) to show as a figure."""
    return Image(data=data, format="png")


def figure_png(fig: plt.Figure) -> Image:
    return png(figure_bytes(fig))


def save_shared_figures(folder: Path, figures: Mapping[str, Callable], ctx: Any) -> None:
    """Draw once, at preparation, the London-wide figures every report of a batch
    shows (``figures`` maps a file name to the function that draws it from ``ctx``)."""
    setup_figures()
    for name, draw in figures.items():
        data = figure_bytes(draw(ctx))
        write_atomic(Path(folder) / name, lambda tmp, data=data: tmp.write_bytes(data))


def shared_figure(folder: Path, name: str, draw: Callable, ctx: Any, reuse: bool):
    """The figure drawn at preparation when ``reuse`` (the report's parameters are the
    prepared ones) and it exists; otherwise drawn now."""
    path = Path(folder) / name
    if reuse and path.exists():
        return png(path.read_bytes())
    return draw(ctx)


def banner(synthetic: bool) -> HTML | None:
    return HTML(SYNTHETIC_BANNER) if synthetic else None


def header(title: str, facts: Mapping[str, object], synthetic: bool) -> Section:
    """The block at the top of every report: what, for whom, when, from which data."""
    from lscb_nb.core import states

    rows = "".join(
        f'<tr><th style="text-align:left;padding-right:16px">{esc(k)}</th><td>{esc(v)}</td></tr>'
        for k, v in {
            **facts,
            "Symbols in tables": states.key_plain(),
            "Toolkit version": __version__,
            "Report date": date.today().isoformat(),
        }.items()
    )
    return Section().add(banner(synthetic), HTML(f'<table class="lscb-facts">{rows}</table>'))


def number(value: float | int | None, decimals: int = 0, suffix: str = "") -> str:
    """A figure as the reports print it: thousands separators, fixed decimals."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return f"{value:,.{decimals}f}{suffix}"


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural_word or word + 's')}"


def listing(names: Iterable[str], limit: int = 12) -> str:
    """'A, B and C' (escaped), shortened with 'and N more' past ``limit``."""
    names = [esc(n) for n in names]
    if not names:
        return "none"
    if len(names) > limit:
        names = [*names[:limit], f"{len(names) - limit} more"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def table(
    frame: pd.DataFrame,
    caption: str | None = None,
    decimals: Mapping[str, int] | None = None,
    percent: Iterable[str] = (),
    index: bool = False,
    max_rows: int | None = None,
    meta: Mapping[str, Any] | None = None,
    years: Iterable[str] = (),
) -> HTML:
    """A formatted, escaped HTML table.

    Numbers get thousands separators and the decimals given per column (0 by
    default); strings, including borough-supplied text and suppression codes,
    are HTML-escaped; missing values show as an en dash. ``years`` are columns of
    years, shown as written (2025, never 2,025). ``meta`` says where the table's
    figures come from (source, filters, keys, totals): it is written into the
    table's ``data-lscb`` attribute so the figures audit can recompute them.
    """
    decimals = dict(decimals or {})
    percent = set(percent)
    shown = frame if max_rows is None else frame.head(max_rows)
    fmt = {}
    years = set(years) | {c for c in shown.columns if _is_year_column(c)}
    for col in shown.columns:
        if col in years:
            fmt[col] = lambda v: "–" if _missing(v) else esc(_year(v))
        elif pd.api.types.is_bool_dtype(shown[col]):
            fmt[col] = lambda v: "yes" if v else "no"
        elif pd.api.types.is_numeric_dtype(shown[col]):
            d = decimals.get(col, 0)
            sfx = "%" if col in percent else ""
            fmt[col] = lambda v, d=d, sfx=sfx: number(v, d, sfx)
        else:
            fmt[col] = lambda v: "–" if _missing(v) else esc(v)
    attributes = 'class="lscb-table"'
    if meta:
        attributes += f' data-lscb="{esc(json.dumps(dict(meta), default=str))}"'
    styler = shown.style.format(fmt).set_table_attributes(attributes)
    numeric = [c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])]
    styler = styler.set_properties(
        subset=[c for c in shown.columns if c not in numeric], **{"text-align": "left"}
    ).set_properties(subset=numeric, **{"text-align": "right"})
    if not index:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(esc(caption))
    styler = styler.set_table_styles(
        [
            {"selector": "th", "props": "text-align:left;padding:4px 8px;background:#f2f2f2"},
            {"selector": "td", "props": "padding:3px 8px;border-top:1px solid #e5e5e5"},
            {"selector": "caption", "props": "caption-side:top;text-align:left;font-weight:600"},
        ]
    )
    out = styler.to_html()
    if max_rows is not None and len(frame) > max_rows:
        out += f"<p><em>Showing the first {max_rows} of {len(frame):,} rows.</em></p>"
    return HTML(out)


def _is_year_column(name: object) -> bool:
    text = str(name).strip().lower()
    return text in ("year", "years", "dfe year") or text.startswith(("year to", "year ending"))


def _year(value: object) -> str:
    """A year as written: 2025 (a float 2025.0 too), '2024-25' unchanged."""
    if isinstance(value, (int, np.integer)) or (
        isinstance(value, (float, np.floating)) and float(value).is_integer()
    ):
        return str(int(value))
    return str(value)


def state_key(*frames: pd.DataFrame, total_excludes: bool = False) -> str:
    """The key to the value-state symbols the given rendered tables show."""
    from lscb_nb.core import states

    found: set[str] = set()
    for frame in frames:
        found |= states.symbols_in(frame)
    return states.key(found, total_excludes=total_excludes)


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def nothing_to_show(message: str) -> Section:
    """What a report says, plainly, when there is no data for it."""
    return Section(
        [
            HTML(
                '<div class="lscb-empty" style="border-left:4px solid #888;padding:8px 12px;'
                f'background:#f6f6f6">{esc(message)}</div>'
            )
        ]
    )


def setup_figures() -> None:
    """Readable figures at 100% zoom in an HTML report, kept small enough to email."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")
    plt.rcParams.update(
        {
            "figure.dpi": 96,
            "savefig.dpi": 96,
            "figure.figsize": (9, 5),
            "axes.titleweight": "bold",
            "axes.titlesize": 13,
        }
    )
