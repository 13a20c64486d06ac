"""The report chrome: an executed notebook rendered as a code-free, offline page with
the project's banner, navigation, contents and one stylesheet.

The page comes from an nbconvert template (``templates/lscb``, extending the lab
template) and a reused :class:`~nbconvert.HTMLExporter` (an in-process render
costs a few hundredths of a second, a ``jupyter nbconvert`` process about one).
Nothing is assembled from strings or patched with regular expressions: the
template leaves out the script blocks (require.js, MathJax, Mermaid, widgets),
builds the contents from the notebook's headings, uses each figure's alt text and
links each table to its CSV, which :func:`table_downloads` collects from the
outputs :mod:`lscb_nb.core.display` marked.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from lscb_nb.core import display

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Download:
    """One table's data as shown, to write beside the report."""

    name: str  # file name, e.g. "03-counts-by-pilot-authority.csv"
    href: str  # from the report, e.g. "data/<slug>/03-....csv"
    caption: str
    columns: list[str]
    rows: list[list[str]]

    def csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return buffer.getvalue()


@dataclass
class Page:
    """Where a page sits: the index, its area and the area's other phases."""

    index: str = "../index.html"
    area: str = ""
    area_anchor: str = ""
    phases: list[dict] = field(default_factory=list)  # {title, href, current}
    versions: str = ""  # the data-model versions the report rests on


@dataclass
class Rendered:
    html: str
    downloads: list[Download]
    files: list[str] = field(default_factory=list)  # attachments to place beside it


def attached_files(nb: nbformat.NotebookNode) -> list[str]:
    """The files the notebook's outputs link (:class:`lscb_nb.core.display.Attachments`),
    for the batch to copy under ``reports/<display.ATTACHMENTS>/``."""
    return [
        f
        for cell in nb.cells
        for output in cell.get("outputs", [])
        for f in (output.get("data", {}).get(display.FILE_MIME) or {}).get("files", [])
    ]


def area_anchor(la_code: str) -> str:
    """The id of an area's section in the index."""
    return f"area-{la_code}"


def _slug(text: str, limit: int = 48) -> str:
    """A file-name-safe slug of a caption (letters, digits and hyphens)."""
    words = "".join(c.lower() if c.isalnum() else " " for c in text).split()
    return "-".join(words)[:limit].strip("-") or "table"


def table_downloads(nb: nbformat.NotebookNode, folder: str) -> list[Download]:
    """Every table the notebook displayed, in order, as a download under ``folder``
    (relative to the report); each output is told its link, for the template."""
    downloads = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get(display.TABLE_MIME)
            if not data:
                continue
            number = len(downloads) + 1
            name = f"{number:02d}-{_slug(data['caption'])}.csv"
            download = Download(
                name=name,
                href=f"{folder}/{name}",
                caption=data["caption"],
                columns=list(data["columns"]),
                rows=[list(r) for r in data["rows"]],
            )
            downloads.append(download)
            meta = output.setdefault("metadata", {}).setdefault(display.ROLE_KEY, {})
            meta["csv"] = {
                "href": download.href,
                "caption": download.caption,
                "rows": f"{len(download.rows):,}",
            }
    return downloads


class _Headings(HTMLParser):
    """The h2 and h3 headings of rendered Markdown: level, id and text."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict] = []
        self._open: dict | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("h2", "h3") and attrs.get("id"):
            self._open = {"level": int(tag[1]), "anchor": attrs["id"], "text": ""}
        elif tag == "a" and "anchor-link" in (attrs.get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "a" and self._skip:
            self._skip -= 1
        elif self._open and tag == f"h{self._open['level']}":
            self._open["text"] = " ".join(self._open["text"].split())
            if self._open["text"]:
                self.found.append(self._open)
            self._open = None

    def handle_data(self, data):
        if self._open and not self._skip:
            self._open["text"] += data


def headings(nb: nbformat.NotebookNode) -> list[dict]:
    """The notebook's section headings (h2, h3) with the ids nbconvert gives them,
    from its Markdown cells and Markdown outputs, rendered by nbconvert's own
    Markdown filter so the anchors match the page."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    parser = _Headings()
    for cell in nb.cells:
        sources = [cell.source] if cell.cell_type == "markdown" else []
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown")
            if text:
                sources.append(text)
        for source in sources:
            parser.feed(markdown2html_mistune(source))
    return parser.found


@cache
def _exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lscb",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )


def render_report(
    notebook_path: Path,
    title: str,
    page: Page | None = None,
    data_folder: str = "data",
) -> Rendered:
    """Code-free, self-contained HTML for an executed notebook, and its tables' data.

    ``page`` places the report among the run's others; ``data_folder`` is where its
    CSVs will sit, relative to the report."""
    nb = nbformat.read(notebook_path, as_version=4)
    downloads = table_downloads(nb, data_folder)
    synthetic = any(
        (o.get("metadata", {}).get("text/html") or {}).get(display.ROLE_KEY, {}).get("role")
        == display.BANNER_ROLE
        for cell in nb.cells
        for o in cell.get("outputs", [])
    )
    resources = {
        "metadata": {"name": title},
        "lscb": {
            "synthetic": synthetic,
            "page": page or Page(),
            "headings": headings(nb),
        },
    }
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    return Rendered(body, downloads, attached_files(nb))


def render_html(notebook_path: Path, title: str, page: Page | None = None) -> str:
    """The report's HTML alone (its tables' data is left for the batch to write)."""
    return render_report(notebook_path, title, page).html


@cache
def environment():
    """The Jinja environment of the pages nbconvert does not render (index, not ready)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader([str(TEMPLATES)]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_not_ready(job, page: Page, synthetic: bool) -> str:
    """A clear page for a phase whose inputs are not there yet (no notebook runs)."""
    return (
        environment()
        .get_template("not_ready.html.j2")
        .render(job=job, page=page, synthetic=synthetic)
    )
