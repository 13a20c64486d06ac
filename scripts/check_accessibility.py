"""Check every page of a run folder against WCAG 2.2 AA with axe-core, in Chromium.

Public-sector HTML must meet WCAG 2.2 AA; a real checker in a real browser finds
what reading the templates does not (contrast as rendered, scroll regions that a
keyboard cannot reach, duplicate ids). The pages are loaded in the system's
headless Chromium through Playwright (no browser download), axe-core
(``tests/browser/node_modules``, from ``npm ci --prefix tests/browser``) is
injected, and every violation is printed per page: rule, impact, the elements.

    python scripts/check_accessibility.py outputs/<run>             # 1400 and 800 px
    python scripts/check_accessibility.py outputs/<run> --print     # and print media
    python scripts/check_accessibility.py outputs/<run>/reports/x.html

Exits 1 if any page has a violation. ``tests/test_accessibility.py`` uses the same
functions over the sample build.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "tests/browser/node_modules/axe-core/axe.min.js"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA: what public-sector sites must meet.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = (1400, 800)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]


@dataclass
class Violation:
    """One axe rule a page breaks, with the elements that break it."""

    page: str
    width: int
    media: str
    rule: str
    impact: str
    help: str
    targets: list[str]

    def __str__(self) -> str:
        shown = ", ".join(self.targets[:5]) + (
            f" and {len(self.targets) - 5} more" if len(self.targets) > 5 else ""
        )
        return (
            f"{self.page} [{self.width}px {self.media}] {self.rule} ({self.impact}): "
            f"{self.help} -> {shown}"
        )


def pages_of(run: Path) -> list[Path]:
    """The pages a run publishes: its index and every report (or one page given)."""
    run = Path(run)
    if run.is_file():
        return [run]
    return [run / "index.html", *sorted((run / "reports").glob("*.html"))]


@contextmanager
def browser_page() -> Iterator:
    """One page in the system's headless Chromium, reused for every check."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        raise RuntimeError("Chromium is needed: sudo apt-get install chromium")
    if not AXE.exists():
        raise RuntimeError(f"axe-core is missing: npm ci --prefix tests/browser ({AXE})")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": WIDTHS[0], "height": 1000})
        finally:
            browser.close()


# axe skips what is not displayed: folded rows and the contents are opened first.
_OPEN_DETAILS = "document.querySelectorAll('details').forEach(d => { d.open = true; })"
_RUN_AXE = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})
  .then(r => r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')),
  })))"""


def _axe(page) -> list[dict]:
    """The page's violations as axe reports them (rule id, impact, help, targets)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(_RUN_AXE, TAGS)


def check(
    page, path: Path, widths: Sequence[int] = WIDTHS, media: str = "screen"
) -> list[Violation]:
    """The violations of one page at each width: loaded once, resized, checked."""
    page.emulate_media(media=media)
    page.set_viewport_size({"width": widths[0], "height": 1000})
    page.goto(Path(path).resolve().as_uri(), wait_until="load")
    page.evaluate(_OPEN_DETAILS)
    found = []
    for width in widths:
        page.set_viewport_size({"width": width, "height": 1000})
        found += [
            Violation(Path(path).name, width, media, v["id"], v["impact"], v["help"], v["targets"])
            for v in _axe(page)
        ]
    page.emulate_media(media="screen")
    return found


def check_run(run: Path, print_media: bool = False) -> list[Violation]:
    """Every page of a run at 1400 and 800 px (and, with ``print_media``, its last
    page printed: a report, the index being only links)."""
    paths = pages_of(run)
    found = []
    with browser_page() as page:
        for path in paths:
            found += check(page, path)
        if print_media and paths:
            found += check(page, paths[-1], widths=(WIDTHS[0],), media="print")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a run folder (outputs/<run>) or one page")
    parser.add_argument("--print", action="store_true", help="also check print media")
    args = parser.parse_args(argv)
    found = check_run(args.run, print_media=args.print)
    for violation in found:
        print(violation)
    pages = len(pages_of(args.run))
    print(f"{len(found)} violation(s) over {pages} page(s)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
