"""Word-level differences between two texts, so a changed definition reads as one
paragraph with the words that went struck out and the words that came underlined.

A reader comparing two whole paragraphs by eye misses the one word that changed
the count; :func:`word_diff` marks exactly those words. The result is plain data
(:class:`Marked`): the report's template wraps removed words in ``<del>`` and added
ones in ``<ins>``, escaping the text itself, and a download gets the same change in
plain words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from difflib import SequenceMatcher

log = logging.getLogger(__name__)

SAME, REMOVED, ADDED, CODE = "same", "removed", "added", "code"
KINDS: tuple[str, ...] = (SAME, REMOVED, ADDED, CODE)


@dataclass(frozen=True)
class Marked:
    """Text in segments, each ``(kind, text)``: ``same``, ``removed``, ``added``, or
    ``code`` (an identifier quoted as written, such as a file's column header).
    Its ``str`` is the plain text a download or a screen reader gets."""

    segments: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        unknown = {kind for kind, _ in self.segments} - set(KINDS)
        if unknown:
            raise ValueError(f"segment kinds must be {', '.join(KINDS)}; got {sorted(unknown)}")

    def __str__(self) -> str:
        words = {REMOVED: "[removed: {}]", ADDED: "[added: {}]"}
        return "".join(words.get(kind, "{}").format(text) for kind, text in self.segments)

    def text(self, kind: str) -> str:
        """The words of one kind, joined: ``text('removed')`` is every word that went."""
        return " ".join(t.strip() for k, t in self.segments if k == kind and t.strip())

    @property
    def changed(self) -> bool:
        return any(kind in (REMOVED, ADDED) for kind, _ in self.segments)


def word_diff(old: str | None, new: str | None) -> Marked:
    """``old`` turned into ``new`` word by word (difflib's SequenceMatcher over the
    words; runs of white space count as one space). Unchanged words are ``same``;
    a replaced run shows the words that went, then the words that came."""
    a, b = str(old or "").split(), str(new or "").split()
    segments: list[tuple[str, str]] = []

    def add(kind: str, words: list[str]) -> None:
        if not words:
            return
        text = " ".join(words)
        if segments:  # the space before a run belongs to the unchanged text
            segments.append((SAME, " "))
        segments.append((kind, text))

    matcher = SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            add(SAME, a[i1:i2])
        else:
            add(REMOVED, a[i1:i2])
            add(ADDED, b[j1:j2])
    return Marked(tuple(_merge(segments)))


def _merge(segments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Adjacent unchanged segments joined, so the markup stays small."""
    out: list[tuple[str, str]] = []
    for kind, text in segments:
        if out and out[-1][0] == kind == SAME:
            out[-1] = (SAME, out[-1][1] + text)
        else:
            out.append((kind, text))
    return out


def code(text: str, before: str = "", after: str = "") -> Marked:
    """An identifier quoted as written (a file's column header), with plain words
    around it: ``code('item_id', 'Item (', ')')``."""
    parts = [(SAME, before), (CODE, str(text)), (SAME, after)]
    return Marked(tuple((k, t) for k, t in parts if t))
