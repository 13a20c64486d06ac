"""Normalising boroughs' local item names to the words that say which measure they are.

"No. of refs to CSC", "Referrals - Childrens Social Care" and "NI 65 Percentage of
children becoming the subject of Child Protection Plan for a second or subsequent time"
are reduced (:func:`parse`) by case, punctuation and hyphenation ("re – referral"), the
shorthand of the field from a maintained table
(``lscb_nb/data/matching/abbreviations.yaml``; an ambiguous abbreviation such as FTE is
expanded only when the name's context says which reading it is), older terms ("child
protection register"), plurals, and the words about period, unit and denominator ("at
31 March", "rate per 10,000", "%"), which are set aside as hints rather than compared.
Scoring is in ``scoring``, deciding in ``matching``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import pandas as pd
import yaml

log = logging.getLogger(__name__)

NI_CODE = re.compile(r"\bni\s*0*(\d{1,3})\b")
_DASHES = re.compile(r"[\u2010-\u2015\u2212/]")
_YEAR = re.compile(r"^(19|20)\d\d$|^q[1-4]$")
MERGED_PREFIXES = ("re", "non")
_IRREGULAR = {"children": "child", "childrens": "child", "women": "woman", "men": "man"}
# A reference code such as PM27, OP383, SCC 011b or 16a says nothing about the measure.
_CODE = re.compile(r"^(?=.*[a-z])(?=.*\d)[a-z0-9]+$|^0\d+$")


# --------------------------------------------------------------------------------------
# The abbreviation table (data)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """``abbreviations.yaml``: shorthand, ambiguous shorthand, older terms, set-aside words."""

    expansions: dict[str, str]
    ambiguous: dict[str, list[tuple[str, frozenset[str]]]]
    equivalents: dict[str, str]
    period_phrases: tuple[str, ...]
    unit_phrases: tuple[tuple[str, str], ...]  # (phrase, unit), longest first
    generic_phrases: tuple[str, ...]
    distinguishing: frozenset[str]
    stopwords: frozenset[str]


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern | None:
    ordered = sorted(set(phrases), key=lambda p: (-len(p), p))
    if not ordered:
        return None
    return re.compile(r"(?<![a-z0-9%])(" + "|".join(map(re.escape, ordered)) + r")(?![a-z0-9%])")


@lru_cache(maxsize=1)
def load_vocabulary() -> Vocabulary:
    """The maintained table shipped in ``lscb_nb/data/matching/abbreviations.yaml``."""
    raw = yaml.safe_load(
        resources.files("lscb_nb.data")
        .joinpath("matching", "abbreviations.yaml")
        .read_text("utf-8")
    )
    ambiguous = {
        short: [(r["expansion"], frozenset(r["context"])) for r in readings]
        for short, readings in (raw.get("ambiguous") or {}).items()
    }
    units = [(_phrase(p), unit) for unit, phrases in raw["unit_phrases"].items() for p in phrases]
    return Vocabulary(
        expansions={_phrase(k): str(v) for k, v in raw["expansions"].items() if k not in ambiguous},
        ambiguous=ambiguous,
        equivalents={_phrase(k): str(v) for k, v in (raw.get("equivalents") or {}).items()},
        period_phrases=tuple(_phrase(p) for p in raw["period_phrases"]),
        unit_phrases=tuple(sorted(units, key=lambda pu: -len(pu[0]))),
        generic_phrases=tuple(_phrase(p) for p in raw.get("generic_phrases") or []),
        distinguishing=frozenset(_stem(w) for w in raw.get("distinguishing_words") or []),
        stopwords=frozenset(raw["stopwords"]),
    )


def _phrase(text: object) -> str:
    """A phrase of the table written the way names are tokenised (10,000 -> 10000)."""
    return " ".join(tokens(str(text)))


@lru_cache(maxsize=1)
def _patterns() -> dict[str, object]:
    v = load_vocabulary()
    return {
        "expansions": _phrase_pattern(v.expansions),
        "ambiguous": _phrase_pattern(v.ambiguous),
        "equivalents": _phrase_pattern(v.equivalents),
        "period": _phrase_pattern(v.period_phrases),
        "unit": [
            (re.compile(rf"(?<![a-z0-9%]){re.escape(p)}(?![a-z0-9%])"), u)
            for p, u in v.unit_phrases
        ],
        "generic": _phrase_pattern(v.generic_phrases),
    }


# --------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedName:
    """A name reduced to the words that say which measure it is, and what was set aside."""

    text: str
    unit: str | None = None  # percentage, rate_per_10k or count, when the name says
    period: bool = False  # a period phrase ("at 31 March", "in the year") was set aside
    ni: frozenset[str] = field(default_factory=frozenset)


def _stem(word: str) -> str:
    """Plural and a light stem, the same on both sides: reviews, reviewed -> review."""
    word = singular(word)
    if len(word) >= 6 and word.isalpha():
        if word.endswith("ing"):
            return word[:-3]
        if word.endswith("ed"):
            return word[:-2]
    return word


def singular(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _drop_repeats(words: list[str]) -> list[str]:
    """A run of two or more words said twice, once: an abbreviation in brackets after
    the words it stands for ("education employment training (EET)")."""
    for n in range(len(words) // 2, 1, -1):
        i = 0
        while i + 2 * n <= len(words) + n:
            gram = words[i : i + n]
            j = next(
                (k for k in range(i + n, len(words) - n + 1) if words[k : k + n] == gram), None
            )
            if j is not None:
                words = words[:j] + words[j + n :]
            else:
                i += 1
    return words


def tokens(text: str) -> list[str]:
    """Lower case, accents and apostrophes gone, dashes and punctuation as spaces."""
    s = _DASHES.sub(" ", str(text).lower())  # before accents go: a dash is a space
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    s = s.replace("&", " and ").replace("'", "").replace("`", "")
    s = NI_CODE.sub(lambda m: f" ni{m.group(1)} ", s)
    s = re.sub(r"(\d),(\d{3})", r"\1\2", s)  # 10,000 -> 10000
    s = re.sub(r"[^a-z0-9%]+", " ", s)
    s = re.sub(r"(?<=\d)(st|nd|rd|th)\b", "", s)  # 31st -> 31
    s = s.replace("%", " % ")
    words = s.split()
    merged: list[str] = []
    for w in words:  # "re referral" and "re-referral" -> "rereferral"
        if merged and merged[-1] in MERGED_PREFIXES and w.isalpha():
            merged[-1] += w
        else:
            merged.append(w)
    return merged


def _expand_ambiguous(text: str, context: set[str]) -> str:
    vocab = load_vocabulary()
    pattern = _patterns()["ambiguous"]
    if pattern is None:
        return text

    def pick(m: re.Match) -> str:
        for expansion, words in vocab.ambiguous[m.group(1)]:
            if words & context:
                return expansion
        return m.group(1)  # no context: left alone

    return pattern.sub(pick, text)


def as_text(value: object) -> str:
    """Text, or "" for a missing value (None, NaN, pd.NA)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def parse(text: object, context: object = "") -> ParsedName:
    """The measure words of a name, with the period, unit and NI codes it mentions.

    ``context`` (the borough's definition, say) only decides ambiguous shorthand.
    """
    text = as_text(text)
    return _parse(text, as_text(context)) if text else ParsedName("")


@lru_cache(maxsize=65536)
def _parse(text: str, context: str) -> ParsedName:
    vocab = load_vocabulary()
    pats = _patterns()
    words = tokens(text)
    s = " ".join(words)
    ni = frozenset(re.findall(r"\bni\d{1,3}\b", s))
    s = re.sub(r"\bni\d{1,3}\b", " ", s)
    around = set(words) | set(tokens(context)) if context else set(words)
    s = _expand_ambiguous(s, around)
    s = pats["expansions"].sub(lambda m: vocab.expansions[m.group(1)], s)
    if pats["equivalents"] is not None:
        s = pats["equivalents"].sub(lambda m: vocab.equivalents[m.group(1)], s)
    period = False
    if pats["period"] is not None:
        s, n = pats["period"].subn(" ", s)
        period = n > 0
    found: list[str] = []
    for pattern, unit in pats["unit"]:  # longest first, one at a time
        s, n = pattern.subn(" ", s)
        if n:
            found.append(unit)
    if pats["generic"] is not None:
        s = pats["generic"].sub(" ", s)
    hint = next((u for u in ("percentage", "rate_per_10k", "count") if u in found), None)
    kept = [
        _stem(w)
        for w in s.split()
        if w not in vocab.stopwords
        and not _YEAR.match(w)
        and not _CODE.match(w)
        and w not in ("rate", "rates", "scc")
    ]
    kept = _drop_repeats(kept)  # "(EET)" after "education, employment or training"
    return ParsedName(" ".join(kept), hint, period, ni)


def normalise(text: object, context: object = "") -> str:
    """The key a name is matched and reviewed by: its measure words, normalised."""
    return parse(text, context).text


def ni_codes(text: str) -> set[str]:
    """NI codes in a name, as ``ni68``."""
    return set(re.findall(r"\bni\d{1,3}\b", " ".join(tokens(text))))
