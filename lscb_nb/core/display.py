"""What a rendered report shows, and how: the conventions every notebook shares.

Steering-group members read the HTML, never the code, so everything a notebook
displays goes through here: a synthetic-data banner whenever the data is
synthetic, sentences whose borough-supplied text is HTML-escaped, tables with
thousands separators and the data model's decimals, suppression shown as ``c``,
and figures closed after display so nothing shows twice.

The markup comes from one Jinja template (``data/templates/display.html.j2``)
styled by the report's one stylesheet, never from strings built here. Two things
travel with an output for the report chrome (``lscb_nb.output.chrome``): a
figure's alt text, written from the figure's own data, and a table's cells as
shown (suppressed values as their symbols), which the batch writes as the
table's CSV download.
"""

from __future__ import annotations

import html
import io
import itertools
import json
import logging
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Image, Markdown, display
from matplotlib.container import BarContainer

from lscb_nb import __version__
from lscb_nb.core import labels
from lscb_nb.core.fileio import write_atomic
from lscb_nb.core.textdiff import Marked

log = logging.getLogger(__name__)

# A table's cells as shown, for its CSV download (read by lscb_nb.output.chrome).
TABLE_MIME = "application/vnd.lscb.table+json"
# Files a report links, for the batch to place beside it (under ATTACHMENTS).
FILE_MIME = "application/vnd.lscb.files+json"
ATTACHMENTS = "files"  # relative to the report
# Output metadata that tells the report chrome what an output is.
ROLE_KEY = "lscb"
BANNER_ROLE = "banner"
# Rows a long table shows before "Show all rows".
FOLD_ROWS = 15

_FIGURE_ALT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TABLE_NUMBER = itertools.count(1)


@cache
def _templates():
    """The display macros (``data/templates/display.html.j2``), autoescaped."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("lscb_nb", "data/templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("display.html.j2").module


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


_NO_ALT = "A chart; its figures are in the table beside it."


def describe(fig: plt.Figure, alt: str) -> plt.Figure:
    """Give a figure the sentence a screen reader reads instead of it (its alt text):
    what it shows, said from its data. Figures without one are described from
    their axes (:func:`figure_alt`)."""
    _FIGURE_ALT[fig] = " ".join(str(alt).split())
    return fig


def figure_alt(fig: plt.Figure) -> str:
    """The figure's alt text: the sentence given with :func:`describe`, or one
    written from what its axes plot (titles, axis labels, bars, lines, points and
    grids, with their extremes)."""
    if fig in _FIGURE_ALT:
        return _FIGURE_ALT[fig]
    parts = []
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    if suptitle:
        parts.append(f"{suptitle}.")
    for ax in fig.axes:
        if not ax.get_visible() or not (ax.lines or ax.patches or ax.collections or ax.images):
            continue
        parts.append(_axes_alt(ax))
    text = " ".join(p for p in parts if p)
    return text or _NO_ALT


def _axes_alt(ax) -> str:
    """One axes described from what it plots: grids, bars, lines and points."""
    what = []
    if ax.images:
        rows, cols = ax.images[0].get_array().shape[:2]
        grid = f"a grid of {rows} rows by {cols} columns"
        for side, ticks in (("rows", ax.get_yticklabels()), ("columns", ax.get_xticklabels())):
            names = [t.get_text() for t in ticks if t.get_text()]
            if names:
                grid += f", {side} {_few(names)}"
        what.append(grid)
    for container in ax.containers:
        if not isinstance(container, BarContainer):
            continue
        horizontal = getattr(container, "orientation", "vertical") == "horizontal"
        values = [p.get_width() if horizontal else p.get_height() for p in container.patches]
        values = [v for v in values if np.isfinite(v)]
        ticks = ax.get_yticklabels() if horizontal else ax.get_xticklabels()
        names = [t.get_text() for t in ticks if t.get_text()]
        bars = f"{len(container.patches)} bars"
        if container.get_label() and not container.get_label().startswith("_"):
            bars += f" ({container.get_label()})"
        if names:
            bars += f" for {_few(names)}"
        if values:
            bars += f", from {_num(min(values))} to {_num(max(values))}"
        what.append(bars)
    for line in ax.lines:
        try:
            y = np.asarray(line.get_ydata(), dtype=float)
        except (TypeError, ValueError):
            continue
        y = y[np.isfinite(y)]
        if len(y) >= 2:
            label = line.get_label()
            name = "" if label.startswith("_") else f" ({label})"
            what.append(f"a line{name} of {len(y)} points from {_num(y.min())} to {_num(y.max())}")
    points = sum(len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets"))
    if points and not ax.images:
        what.append(plural(points, "point"))
    labels = [
        f"{side} axis: {label}"
        for side, label in (("horizontal", ax.get_xlabel()), ("vertical", ax.get_ylabel()))
        if label
    ]
    title = ax.get_title() or ax.get_title(loc="left")
    sentences = [f"Chart: {title}." if title else "Chart."]
    sentences += [f"{_capital('; '.join(part))}." for part in (what, labels) if part]
    return " ".join(sentences)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _few(names: list[str], limit: int = 6) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2g}"


def figure_bytes(fig: plt.Figure) -> bytes:
    """The figure as PNG bytes, drawn once (the inline backend's tight bounding box
    draws every figure twice; the sections lay theirs out with ``tight_layout``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=plt.rcParams["savefig.dpi"])
    plt.close(fig)
    return buffer.getvalue()


def png(data: bytes, alt: str | None = None) -> Image:
    """A PNG drawn earlier (e.g. once per batch) to show as a figure, with its alt text."""
    return Image(data=data, format="png", alt=alt or _NO_ALT)


def figure_png(fig: plt.Figure) -> Image:
    """The figure as an image whose alt text is written from its data."""
    data = figure_bytes(fig)  # drawn first, so tick labels are there to describe
    return png(data, figure_alt(fig))


def _alt_path(path: Path) -> Path:
    return path.with_name(path.name + ".alt.txt")


def save_shared_figures(folder: Path, figures: Mapping[str, Callable], ctx: Any) -> None:
    """Draw once, at preparation, the London-wide figures every report of a batch
    shows (``figures`` maps a file name to the function that draws it from ``ctx``);
    each figure's alt text is kept beside it."""
    setup_figures()
    for name, draw in figures.items():
        fig = draw(ctx)
        data = figure_bytes(fig)
        alt = figure_alt(fig)
        write_atomic(Path(folder) / name, lambda tmp, data=data: tmp.write_bytes(data))
        write_atomic(_alt_path(Path(folder) / name), lambda tmp, alt=alt: tmp.write_text(alt))


def shared_figure(folder: Path, name: str, draw: Callable, ctx: Any, reuse: bool):
    """The figure drawn at preparation when ``reuse`` (the report's parameters are the
    prepared ones) and it exists; otherwise drawn now."""
    path = Path(folder) / name
    if reuse and path.exists():
        alt = _alt_path(path).read_text() if _alt_path(path).exists() else None
        return png(path.read_bytes(), alt)
    return draw(ctx)


class Banner(HTML):
    """The synthetic-data banner; marked so the report chrome, which shows its own,
    leaves this one to notebooks opened in Jupyter."""

    def _repr_html_(self):
        return self.data, {ROLE_KEY: {"role": BANNER_ROLE}}


def banner(synthetic: bool) -> HTML | None:
    return Banner(str(_templates().banner())) if synthetic else None


def header(title: str, facts: Mapping[str, object], synthetic: bool) -> Section:
    """The block at the top of every report: what, for whom, when, from which data."""
    from lscb_nb.core import states

    rows = {
        **facts,
        "Symbols in tables": states.key_plain(),
        "Toolkit version": __version__,
        "Report date": date.today().isoformat(),
    }
    shown = [(str(k), "" if v is None else str(v)) for k, v in rows.items()]
    key = [v for k, v in shown if k in ("Area", "Periods", "Benchmark quarter") and v]
    summary = "; ".join([*key, "the data, symbols in tables and version"])
    markup = _templates().facts(shown, summary)
    return Section().add(banner(synthetic), HTML(str(markup)))


def number(value: float | int | None, decimals: int = 0, suffix: str = "") -> str:
    """A figure as the reports print it: thousands separators, fixed decimals."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return f"{value:,.{decimals}f}{suffix}"


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    """'1 borough', '2 authorities': a count with its noun (:func:`labels.counted`)."""
    return labels.counted(n, word, plural_word)


def listing(names: Iterable[str], limit: int = 12) -> str:
    """'A, B and C' (escaped), shortened with 'and N more' past ``limit``."""
    names = [esc(n) for n in names]
    if not names:
        return "none"
    if len(names) > limit:
        names = [*names[:limit], f"{len(names) - limit} more"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class Table(HTML):
    """A rendered table that also carries its cells as shown, so the batch can write
    them as the table's CSV download (suppressed values stay their symbols)."""

    def __init__(self, markup: str, download: dict):
        super().__init__(markup)
        self.download = download

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {TABLE_MIME: self.download}


def table(
    frame: pd.DataFrame,
    caption: str,
    decimals: Mapping[str, int] | None = None,
    percent: Iterable[str] = (),
    index: bool = False,
    max_rows: int | None = FOLD_ROWS,
    meta: Mapping[str, Any] | None = None,
    years: Iterable[str] = (),
    row_header: bool = True,
) -> Table:
    """A formatted, escaped, captioned HTML table, with its data for download.

    The caption is required: it names the table for a screen reader (the table
    and its scroll region are labelled by it), for the CSV download and for the
    reader who lands on the table from the contents.

    Numbers get thousands separators and the decimals given per column (0 by
    default); strings, including borough-supplied text and suppression codes,
    are HTML-escaped; missing values show as an en dash; a
    :class:`~lscb_nb.core.textdiff.Marked` cell shows its removed words struck
    out and its added words underlined (escaped all the same). ``years`` are columns of
    years, shown as written (2025, never 2,025). ``meta`` says where the table's
    figures come from (source, filters, keys, totals): it is written into the
    table's ``data-lscb`` attribute so the figures audit can recompute them.

    Every row is in the table: past ``max_rows`` the rest fold under "Show all
    rows" (never cut). Columns are headed ``scope="col"``; with ``row_header``
    the first column heads its row (``scope="row"``), and stays in view when a
    wide table scrolls sideways on a narrow screen.
    """
    caption = " ".join(str(caption or "").split())
    if not caption:
        raise ValueError("a table needs a caption saying what it shows")
    if index:
        frame = frame.reset_index()
    decimals = dict(decimals or {})
    percent = set(percent)
    years = set(years) | {c for c in frame.columns if _is_year_column(c)}
    shown: dict[object, Callable] = {}
    plain: dict[object, Callable] = {}
    numeric: set = set()
    for col in frame.columns:
        if col in years:
            shown[col] = plain[col] = lambda v: "–" if _missing(v) else _year(v)
        elif pd.api.types.is_bool_dtype(frame[col]):
            shown[col] = plain[col] = lambda v: "yes" if v else "no"
        elif pd.api.types.is_numeric_dtype(frame[col]):
            numeric.add(col)
            d = decimals.get(col, 0)
            sfx = "%" if col in percent else ""
            shown[col] = lambda v, d=d, sfx=sfx: number(v, d, sfx)
            plain[col] = lambda v, d=d: "" if _missing(v) else _plain_number(v, d)
        else:
            # Marked text (a changed definition, a quoted column header) keeps its
            # segments for the template to mark up; its download is the plain text.
            shown[col] = lambda v: "–" if _missing(v) else v if isinstance(v, Marked) else str(v)
            plain[col] = lambda v: "" if _missing(v) else str(v)
    columns = [{"label": _label(c), "numeric": c in numeric} for c in frame.columns]
    records = list(frame.itertuples(index=False, name=None))
    rows = [[shown[c](v) for c, v in zip(frame.columns, r, strict=True)] for r in records]
    number_id = next(_TABLE_NUMBER)
    spec = {
        "id": f"lscb-table-{number_id}",
        "caption": caption,
        "columns": columns,
        "rows": rows,
        "fold": len(rows) if max_rows is None else max(1, max_rows),
        "row_header": row_header,
        "meta": json.dumps(dict(meta), default=str) if meta else "",
    }
    download = {
        "caption": caption,
        "columns": [c["label"] for c in columns],
        "rows": [[plain[c](v) for c, v in zip(frame.columns, r, strict=True)] for r in records],
    }
    return Table(str(_templates().table(spec)), download)


def spine_table(spec: dict, download: dict) -> Table:
    """A spine chart drawn as a table (``lscb_nb.pilot.spine``): ``spec`` holds the
    caption, headings, each row's cells and its spine's and trend's geometry, and
    ``meta`` for the figures audit; ``download`` the cells as shown."""
    spec = {**spec, "id": f"lscb-table-{next(_TABLE_NUMBER)}", "meta": json.dumps(spec["meta"])}
    return Table(str(_templates().spine_table(spec)), download)


def _label(column: object) -> str:
    if isinstance(column, tuple):
        return " ".join(str(c) for c in column if str(c))
    return str(column)


def _plain_number(value: float | int, decimals: int) -> str:
    """A number as the table shows it, without thousands separators (for CSV)."""
    return f"{value:.{decimals}f}"


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


def board(findings: list[dict], asks: list[dict], asks_title: str, numbered: bool) -> HTML:
    """The "For the board" block (``lscb_nb.core.board``): findings linked to their
    evidence, then the asks or numbered recommendations."""
    return HTML(str(_templates().board(findings, asks, asks_title, numbered)))


def definitions(items: pd.DataFrame, summary: str) -> HTML | None:
    """Each item's definition, folded under ``summary``: a chart that names items by
    title (a spine chart, say) keeps the definition a click away. ``items`` is indexed
    by item code with ``title`` and ``definition``; text is escaped."""
    if items.empty:
        return None
    rows = [
        {"code": code, "title": row.get("title", ""), "definition": row.get("definition", "")}
        for code, row in items.iterrows()
    ]
    return HTML(str(_templates().definitions(summary, rows)))


class Attachments(HTML):
    """Links to files a report offers (a list to send back): the HTML, and the files'
    paths so the batch copies them beside the report (``ATTACHMENTS/<name>``)."""

    def __init__(self, caption: str, files: Iterable[tuple[Path, str]]):
        files = list(files)
        links = [{"href": f"{ATTACHMENTS}/{p.name}", "text": text} for p, text in files]
        super().__init__(str(_templates().attachments(caption, links)))
        self.files = [str(p) for p, _ in files]

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.data, FILE_MIME: {"files": self.files}}


def nothing_to_show(message: str) -> Section:
    """What a report says, plainly, when there is no data for it."""
    return Section([HTML(str(_templates().empty(message)))])


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
