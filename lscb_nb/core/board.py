"""What every report tells the board first: a few findings, each linked to the section
that holds its evidence, and what the board is asked to do about them.

Each phase works its own findings out from its data (``<phase>/findings.py``); this
module holds what they share: the :class:`Finding` they return, the id nbconvert gives
the heading a finding points to, plain-text lists of names, and the one way the block
is shown. Text stays plain until the display template escapes it, so a name an
authority typed is shown as text, never as markup.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote

from lscb_nb.core import display
from lscb_nb.core.display import Section

log = logging.getLogger(__name__)

# The heading every report gives the block (its notebook's Markdown cell).
HEADING = "For the board"
ASKED = "The board is asked to:"


@dataclass(frozen=True)
class Finding:
    """One thing the board should know, what it is asked to do about it (if
    anything), and the heading of the section that shows the evidence."""

    text: str
    evidence: str
    ask: str = ""


def anchor(heading: str) -> str:
    """The id nbconvert gives a Markdown heading: its words joined by '-', with what a
    URL fragment cannot hold percent-encoded (as ``nbconvert.filters.strings`` does)."""
    return quote(heading.replace(" ", "-"), safe="?/:@!$&'()*+,;=")


def listed(names: Iterable[object], limit: int = 6) -> str:
    """'A, B and C' in plain text, shortened with 'and N more' past ``limit``; the
    template escapes it when it is shown."""
    names = [str(n) for n in names]
    if not names:
        return "none"
    if len(names) > limit:
        names = [*names[:limit], f"{len(names) - limit} more"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def as_context(found: Iterable[Finding | None]) -> list[Finding | None]:
    """Area findings shown after an authority's own, as context: without their asks,
    so what an authority's report asks is about that authority."""
    return [None if f is None else replace(f, ask="") for f in found]


def asks_of(found: Sequence[Finding]) -> list[str]:
    """The asks of the findings, in their order, each once."""
    return list(dict.fromkeys(f.ask for f in found if f.ask))


def section_for_the_board(
    found: Sequence[Finding],
    nothing: str,
    recommendations: Sequence[Finding] | None = None,
    asks_title: str = ASKED,
) -> Section:
    """The findings, each linked to its evidence, then the asks (or, in the final
    report, the numbered recommendations, each linked to its evidence too); ``nothing``
    says in words why there is nothing to report."""
    if not found and not recommendations:
        return display.nothing_to_show(nothing)
    shown = [{"text": f.text, "evidence": f.evidence, "anchor": anchor(f.evidence)} for f in found]
    if recommendations is None:
        asks = [{"text": a, "evidence": "", "anchor": ""} for a in asks_of(found)]
    else:
        asks = [
            {"text": r.text, "evidence": r.evidence, "anchor": anchor(r.evidence)}
            for r in recommendations
        ]
    return Section().add(display.board(shown, asks, asks_title, recommendations is not None))
