"""Harmonising boroughs' local item names to the data model.

"No. of refs to CSC", "Referrals - Childrens Social Care", "Children in Need at 31
March" and "NI 65 Percentage of children becoming the subject of Child Protection Plan
for a second or subsequent time" need to land on the right item, and "Vacancy rate
(FTE)" or "Infant mortality" on the right item or on none.

1. **Normalise** (:func:`parse`): case, punctuation and hyphenation ("re – referral"),
   the shorthand of the field from a maintained table (``lscb_nb/data/matching/abbreviations.yaml``;
   an ambiguous abbreviation such as FTE is expanded only when the name's context says
   which reading it is), older terms ("child protection register"), plurals, and the
   words about period, unit and denominator ("at 31 March", "rate per 10,000", "%"),
   which are set aside as hints rather than compared.
2. **Score** (:func:`score_matrix`) every name against every item's title and aliases:
   a token score that gives token-set credit only when the local name adds no content
   word to the item's name (so "Repeat referrals to children's social care" is not a
   perfect "Referrals to children's social care"), averaged with the cosine of
   character n-gram TF-IDF vectors (scikit-learn), which forgives typos and word forms.
   An NI code the item carries adds weight, one it does not carry takes some away; a
   unit that does not fit the item (a percentage for a count) costs a little; when
   the borough gave a definition, its word TF-IDF similarity to each item's
   definition moves the scores a little.
3. **Decide** (:func:`match`): the best item is used in batch runs only when its score
   reaches ``confident`` *and* beats the second-best item by ``margin``; otherwise a
   score from ``suggest_from`` goes to the consultant for review, and anything lower
   matches nothing. A reviewed crosswalk (see ``crosswalk``) is applied first and
   always wins for its borough; a decision made for another borough about the same
   normalised name becomes a marked suggestion in the review band, never a silent match.

The thresholds are chosen by leave-one-source-out cross-validation on real published
indicator names (:func:`cross_validate`, ``scripts/matching_accuracy.py``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import yaml
from rapidfuzz import fuzz, process
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

log = logging.getLogger(__name__)

# Thresholds chosen by leave-one-source-out cross-validation on the real-names set
# (evaluation/real_names/, scripts/matching_accuracy.py prints how).
CONFIDENT: float = 82.0
MARGIN: float = 1.0
SUGGEST: float = 61.0
# Penalties (points of the 0-100 score).
ADDED_WORD = 6.0
MAX_ADDED = 24.0
NEGATION_PENALTY = 40.0
DISTINGUISHING_WORD = 20.0
# Targets the thresholds are chosen to meet (issue 13).
TARGET_PRECISION = 0.95
MAX_REVIEW_SHARE = 0.20
# The review band is chosen to send at most this share of the training names, two
# points under the limit, so that a new set of names stays under it too.
REVIEW_SHARE_AIM = 0.18

_NI = re.compile(r"\bni\s*0*(\d{1,3})\b")
_DASHES = re.compile(r"[\u2010-\u2015\u2212/]")
_YEAR = re.compile(r"^(19|20)\d\d$|^q[1-4]$")
_MERGED_PREFIXES = ("re", "non")
_IRREGULAR = {"children": "child", "childrens": "child", "women": "woman", "men": "man"}
# Words that turn a measure into its opposite ("NEET" is not "EET").
NEGATIONS = frozenset({"not", "no", "without", "never"})
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
    return " ".join(_tokens(str(text)))


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
    word = _singular(word)
    if len(word) >= 6 and word.isalpha():
        if word.endswith("ing"):
            return word[:-3]
        if word.endswith("ed"):
            return word[:-2]
    return word


def _singular(word: str) -> str:
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


def _tokens(text: str) -> list[str]:
    """Lower case, accents and apostrophes gone, dashes and punctuation as spaces."""
    s = _DASHES.sub(" ", str(text).lower())  # before accents go: a dash is a space
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    s = s.replace("&", " and ").replace("'", "").replace("`", "")
    s = _NI.sub(lambda m: f" ni{m.group(1)} ", s)
    s = re.sub(r"(\d),(\d{3})", r"\1\2", s)  # 10,000 -> 10000
    s = re.sub(r"[^a-z0-9%]+", " ", s)
    s = re.sub(r"(?<=\d)(st|nd|rd|th)\b", "", s)  # 31st -> 31
    s = s.replace("%", " % ")
    words = s.split()
    merged: list[str] = []
    for w in words:  # "re referral" and "re-referral" -> "rereferral"
        if merged and merged[-1] in _MERGED_PREFIXES and w.isalpha():
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


def _text(value: object) -> str:
    """Text, or "" for a missing value (None, NaN, pd.NA)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def parse(text: object, context: object = "") -> ParsedName:
    """The measure words of a name, with the period, unit and NI codes it mentions.

    ``context`` (the borough's definition, say) only decides ambiguous shorthand.
    """
    text = _text(text)
    return _parse(text, _text(context)) if text else ParsedName("")


@lru_cache(maxsize=65536)
def _parse(text: str, context: str) -> ParsedName:
    vocab = load_vocabulary()
    pats = _patterns()
    words = _tokens(text)
    s = " ".join(words)
    ni = frozenset(re.findall(r"\bni\d{1,3}\b", s))
    s = re.sub(r"\bni\d{1,3}\b", " ", s)
    around = set(words) | set(_tokens(context)) if context else set(words)
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
    return set(re.findall(r"\bni\d{1,3}\b", " ".join(_tokens(text))))


# --------------------------------------------------------------------------------------
# The catalogue the names are scored against
# --------------------------------------------------------------------------------------


@dataclass
class Catalogue:
    """Every item's names (title and aliases) normalised, with what scoring needs."""

    item_ids: np.ndarray
    variant_item: np.ndarray  # item position of each variant
    variants: list[str]  # normalised title and aliases
    variant_names: list[str]  # as written
    units: np.ndarray
    ni: list[set[str]]
    agency_words: list[set[str]]  # naming the item's own agency adds nothing
    definitions: list[str]
    chars: TfidfVectorizer
    words: TfidfVectorizer
    variant_vectors: object
    definition_vectors: object


def _agency_label(agency: object) -> str:
    from lscb_nb.core.returnformat import AGENCIES

    return AGENCIES.get(str(agency), str(agency))


def _item_ni(codes: object) -> set[str]:
    return {f"ni{int(re.sub(r'[^0-9]', '', c))}" for c in (codes or []) if re.search(r"\d", c)}


def build_catalogue(
    items: pd.DataFrame, drop_alias: Callable[[str, str], bool] | None = None
) -> Catalogue:
    """The items' names ready to score against. ``drop_alias(item_id, alias)`` can set
    aliases aside (cross-validation drops those copied from the source evaluated)."""
    variant_item, variants, names = [], [], []
    aliases = items["aliases"] if "aliases" in items else pd.Series([[]] * len(items), items.index)
    for pos, (item_id, title) in enumerate(items["title"].items()):
        own = [title] + [
            a for a in (aliases.get(item_id) or []) if not (drop_alias and drop_alias(item_id, a))
        ]
        for name in own:
            text = normalise(name)
            if text and text not in variants[len(variants) - len(own) :]:
                variant_item.append(pos)
                variants.append(text)
                names.append(name)
    definitions = [
        " ".join(str(row.get(f) or "") for f in ("definition", "numerator", "denominator"))
        for _, row in items.iterrows()
    ]
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    variant_vectors = chars.fit_transform(variants)
    words = TfidfVectorizer(
        preprocessor=lambda t: " ".join(_singular(w) for w in _tokens(t)),
        stop_words=sorted(load_vocabulary().stopwords),
        sublinear_tf=True,
    )
    definition_vectors = words.fit_transform(definitions)
    return Catalogue(
        item_ids=items.index.to_numpy(),
        variant_item=np.array(variant_item),
        variants=variants,
        variant_names=names,
        units=items["unit"].to_numpy(),
        ni=[_item_ni(c) for c in items["national_indicators"]],
        agency_words=[set(normalise(_agency_label(a)).split()) for a in items["agency"]],
        definitions=definitions,
        chars=chars,
        words=words,
        variant_vectors=variant_vectors,
        definition_vectors=definition_vectors,
    )


# --------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------


def _covered(word: str, others: set[str]) -> bool:
    if word in others:
        return True
    if len(word) < 5:
        return False
    # A typo is forgiven, a different prefix ("rereferral", "nonfsm") is not.
    return any(o[:3] == word[:3] and fuzz.ratio(word, o) >= 85 for o in others)


def adds_content(name: str, other: str) -> bool:
    """Whether ``name`` has a measure word that ``other`` lacks (typos forgiven)."""
    return bool(added_words(name, other))


def added_words(name: str, other: str, also: set[str] | None = None) -> list[str]:
    """The measure words ``name`` has that ``other`` (or ``also``) lacks, typos forgiven."""
    theirs = set(other.split()) | (also or set())
    return [w for w in dict.fromkeys(name.split()) if not _covered(w, theirs)]


def _prefixed(word: str, others: set[str]) -> bool:
    """ "rereferral" against "referral": a prefix that makes it another measure."""
    return any(word.startswith(p) and word[len(p) :] in others for p in _MERGED_PREFIXES)


def negated(text: str) -> bool:
    return not NEGATIONS.isdisjoint(text.split())


def token_score(name: str, other: str) -> float:
    """0-100: token-sort ratio, averaged with token-set ratio only when the name adds no
    content word (a name that is a shortened title scores high; a longer one does not)."""
    sort = fuzz.token_sort_ratio(name, other)
    if not name or not other:
        return 0.0
    tset = fuzz.token_set_ratio(name, other) if not adds_content(name, other) else sort
    return (sort + tset) / 2


def _name_scores(parsed: Sequence[ParsedName], cat: Catalogue) -> np.ndarray:
    """Names × items: the best of each item's variants, token and character scores."""
    texts = [p.text for p in parsed]
    unique = sorted(set(texts))
    where = {t: i for i, t in enumerate(unique)}
    sort = process.cdist(unique, cat.variants, scorer=fuzz.token_sort_ratio, workers=1)
    tset = process.cdist(unique, cat.variants, scorer=fuzz.token_set_ratio, workers=1)
    agency = [cat.agency_words[k] for k in cat.variant_item]
    # Naming the item's own agency ("... to children's social care") adds nothing:
    # compare the rest of the name too and keep the better score.
    for words in {frozenset(a) for a in agency if a}:
        cols = np.array([j for j, a in enumerate(agency) if a == words])
        rest = [" ".join(w for w in t.split() if w not in words) or t for t in unique]
        changed = np.array([r != t for r, t in zip(rest, unique, strict=True)])
        if not changed.any():
            continue
        rows = np.flatnonzero(changed)
        sub = [rest[r] for r in rows]
        targets = [cat.variants[j] for j in cols]
        for scorer, into in ((fuzz.token_sort_ratio, sort), (fuzz.token_set_ratio, tset)):
            better = process.cdist(sub, targets, scorer=scorer, workers=1)
            into[np.ix_(rows, cols)] = np.maximum(into[np.ix_(rows, cols)], better)
    token = sort.astype(float)
    extra: dict[tuple[int, int], list[str]] = {}
    for i, t in enumerate(unique):
        for j in np.flatnonzero(np.maximum(sort[i], tset[i]) >= 50):
            extra[i, j] = added_words(t, cat.variants[j], agency[j])
            if tset[i, j] > sort[i, j] and not extra[i, j]:
                token[i, j] = (sort[i, j] + tset[i, j]) / 2
    chars = cosine_similarity(cat.chars.transform(unique), cat.variant_vectors) * 100
    combined = (token + chars) / 2
    # Words the name adds to an item's name are what tell similar measures apart
    # ("repeat", "ceased", "ethnicity"): each costs ADDED_WORD points. A negation on
    # one side only ("not in education...") makes it another measure.
    variant_negated = np.array([negated(v) for v in cat.variants])
    distinguishing = load_vocabulary().distinguishing
    for (i, j), words in extra.items():
        theirs = set(cat.variants[j].split())
        strong = sum(w in distinguishing or _prefixed(w, theirs) for w in words)
        combined[i, j] -= min(ADDED_WORD * (len(words) - strong), MAX_ADDED)
        combined[i, j] -= DISTINGUISHING_WORD * strong
    for i, t in enumerate(unique):
        combined[i, variant_negated != negated(t)] -= NEGATION_PENALTY
    per_item = np.full((len(unique), len(cat.item_ids)), 0.0)
    np.maximum.at(per_item.T, cat.variant_item, combined.T)
    per_item[[i for i, t in enumerate(unique) if not t]] = 0.0
    return per_item[[where[t] for t in texts]]


def score_matrix(
    local: Sequence[object],
    items: pd.DataFrame | Catalogue,
    definitions: Sequence[object] | None = None,
    units: Sequence[object] | None = None,
) -> np.ndarray:
    """Scores 0-100, local names × items (see the module docstring for the parts).

    ``definitions`` and ``units`` are the borough's own, where its catalogue gives them.
    """
    cat = items if isinstance(items, Catalogue) else build_catalogue(items)
    n = len(local)
    defs = [_text(d) for d in definitions] if definitions is not None else [""] * n
    given_units = [_text(u) for u in units] if units is not None else [""] * n
    parsed = [parse(name, d) for name, d in zip(local, defs, strict=True)]
    scores = _name_scores(parsed, cat)
    for i, p in enumerate(parsed):
        if p.ni:
            scores[i] += [15.0 if p.ni & codes else -10.0 for codes in cat.ni]
        unit = _unit_hint(given_units[i]) or p.unit
        if unit == "percentage":
            scores[i, cat.units != "percentage"] -= 6.0
        elif unit in ("count", "rate_per_10k"):
            scores[i, cat.units == "percentage"] -= 3.0
    has_def = [i for i, d in enumerate(defs) if d.strip()]
    if has_def:
        sims = cosine_similarity(
            cat.words.transform([defs[i] for i in has_def]), cat.definition_vectors
        )
        for row, i in enumerate(has_def):
            top = sims[row].max()
            if top > 0:
                scores[i] += 6.0 * sims[row] / top - 3.0
    return np.clip(scores, 0, 100)


def _unit_hint(unit: str) -> str | None:
    if not unit.strip():
        return None
    return parse(unit).unit or ("percentage" if "percent" in unit.lower() else None)


def suggest(
    local_names: pd.Series,
    items: pd.DataFrame | Catalogue,
    alternatives: int = 3,
    definitions: pd.Series | None = None,
    units: pd.Series | None = None,
) -> pd.DataFrame:
    """For each local name: the best item, its score, the margin over the second-best
    item and the next best candidates."""
    columns = ["normalised_name", "suggested_item", "score", "margin", "alternatives"]
    if local_names.empty:
        return pd.DataFrame(columns=columns)
    cat = items if isinstance(items, Catalogue) else build_catalogue(items)
    defs = None if definitions is None else definitions.tolist()
    scores = score_matrix(
        local_names.tolist(), cat, defs, None if units is None else units.tolist()
    )
    order = np.argsort(-scores, axis=1, kind="stable")[:, : alternatives + 1]
    rows = np.arange(len(scores))
    best = scores[rows, order[:, 0]]
    second = scores[rows, order[:, 1]] if scores.shape[1] > 1 else np.zeros(len(scores))
    return pd.DataFrame(
        {
            # The review key is the name alone (the definition may change between
            # returns; the crosswalk keys decisions by the name).
            "normalised_name": [normalise(n) for n in local_names],
            "suggested_item": cat.item_ids[order[:, 0]],
            "score": best.round(1),
            "margin": (best - second).round(1),
            "alternatives": [list(cat.item_ids[row[1:]]) for row in order],
        },
        index=local_names.index,
    )


def decide(
    score: np.ndarray | pd.Series,
    margin: np.ndarray | pd.Series,
    confident: float = CONFIDENT,
    suggest_from: float = SUGGEST,
    min_margin: float = MARGIN,
) -> np.ndarray:
    """confident (score and margin both high enough), uncertain (to review) or unmatched."""
    score, margin = np.asarray(score, float), np.asarray(margin, float)
    sure = (score >= confident) & (margin >= min_margin)
    return np.select([sure, score >= suggest_from], ["confident", "uncertain"], "unmatched")


# --------------------------------------------------------------------------------------
# Matching with the reviewed crosswalk
# --------------------------------------------------------------------------------------


def match(
    local: pd.DataFrame,
    items: pd.DataFrame,
    crosswalk: pd.DataFrame | None = None,
    confident: float = CONFIDENT,
    suggest_from: float = SUGGEST,
    margin: float = MARGIN,
) -> pd.DataFrame:
    """Every local item with its suggestion, status and the item used in batch runs.

    ``status``: confirmed, repointed or rejected (the reviewed crosswalk decided for
    this borough), confident (score at or above ``confident`` and ``margin`` clear of
    the second-best item), uncertain (waiting for review, not used) or unmatched.
    ``reviewed_elsewhere`` says when another borough's decision about the same
    normalised name made or changed the suggestion; such a row is always uncertain
    unless the score alone was confident for the same item.
    """
    out = local.copy()
    definitions = out.get("local_definition")
    units = out.get("local_unit")
    found = suggest(out["local_name"], items, definitions=definitions, units=units)
    for col in found.columns:
        out[col] = found[col]
    out["status"] = decide(out["score"], out["margin"], confident, suggest_from, margin)
    out["item_id"] = out["suggested_item"].where(out["status"] == "confident")
    out["reviewed_elsewhere"] = None
    if crosswalk is not None and not crosswalk.empty:
        out = _apply_crosswalk(out, crosswalk)
    out["item_id"] = out["item_id"].astype(object).where(out["item_id"].notna(), None)
    return out


def _crosswalk_keys(crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Decisions keyed by the name as normalised now (so a better normaliser never
    orphans an old decision), latest first."""
    walk = crosswalk.copy()
    walk["key"] = walk["local_name"].map(normalise)
    order = walk["decided_at"] if "decided_at" in walk else pd.Series(None, index=walk.index)
    walk["_order"] = order.fillna("").astype(str)
    return walk.sort_values("_order", kind="stable")


def _apply_crosswalk(out: pd.DataFrame, crosswalk: pd.DataFrame) -> pd.DataFrame:
    walk = _crosswalk_keys(crosswalk)
    own = walk.drop_duplicates(["la_code_ons", "key"], keep="last").set_index(
        ["la_code_ons", "key"]
    )
    idx = pd.MultiIndex.from_frame(out[["la_code_ons", "normalised_name"]])
    decision = own["decision"].reindex(idx).to_numpy()
    chosen = own["item_id"].reindex(idx).to_numpy()
    reviewed = pd.notna(decision)
    status = {"confirm": "confirmed", "repoint": "repointed", "reject": "rejected"}
    out.loc[reviewed, "status"] = [status[d] for d in decision[reviewed]]
    out.loc[reviewed, "item_id"] = [
        None if d == "reject" else c
        for d, c in zip(decision[reviewed], chosen[reviewed], strict=True)
    ]
    # Decisions about the same name for other boroughs: strong suggestions, never matches.
    for pos in np.flatnonzero(~reviewed):
        row = out.iloc[pos]
        others = walk.loc[
            (walk["key"] == row["normalised_name"]) & (walk["la_code_ons"] != row["la_code_ons"])
        ]
        if others.empty or not row["normalised_name"]:
            continue
        latest = others.iloc[-1]
        label = out.index[pos]
        where = ", ".join(sorted(others["la_code_ons"].astype(str).unique()))
        if latest["decision"] == "reject":
            out.at[label, "reviewed_elsewhere"] = f"rejected for {where}"
            if row["status"] == "confident":
                out.at[label, "status"] = "uncertain"
                out.at[label, "item_id"] = None
            continue
        item = latest["item_id"]
        out.at[label, "reviewed_elsewhere"] = f"{item} decided for {where}"
        if row["status"] == "confident" and row["suggested_item"] == item:
            continue
        if row["suggested_item"] != item:
            rest = [a for a in [row["suggested_item"], *row["alternatives"]] if a != item]
            out.at[label, "alternatives"] = rest[: len(row["alternatives"])]
            out.at[label, "suggested_item"] = item
        out.at[label, "status"] = "uncertain"
        out.at[label, "item_id"] = None
    return out


def accuracy(matches: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Precision and recall of the items used in batch runs against the truth.

    Precision: of the local items given an item, the share given the right one.
    Recall: of the local items that really are a data-model item, the share found.
    """
    both = matches.merge(
        truth.rename(columns={"item_id": "true_item"}),
        on=["la_code_ons", "local_name"],
        how="inner",
    )
    given = both["item_id"].notna()
    real = both["true_item"].notna()
    right = given & (both["item_id"] == both["true_item"])
    precision = right.sum() / given.sum() if given.any() else float("nan")
    recall = right.sum() / real.sum() if real.any() else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else float("nan")
    return {
        "local_items": len(both),
        "matched": int(given.sum()),
        "correct": int(right.sum()),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
    }


# --------------------------------------------------------------------------------------
# Evaluation on labelled names, and thresholds chosen by cross-validation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    confident: float = CONFIDENT
    margin: float = MARGIN
    suggest_from: float = SUGGEST


def rank_names(
    names: pd.DataFrame, items: pd.DataFrame, drop_alias: Callable[[str, str], bool] | None = None
) -> pd.DataFrame:
    """Labelled names (``local_name``, ``item_id``, optional ``local_definition`` and
    ``local_unit``) with best score, margin, whether the best is right, and whether the
    right item is among the top three."""
    cat = build_catalogue(items, drop_alias)
    defs = names["local_definition"].tolist() if "local_definition" in names else None
    units = names["local_unit"].tolist() if "local_unit" in names else None
    scores = score_matrix(names["local_name"].tolist(), cat, defs, units)
    order = np.argsort(-scores, axis=1, kind="stable")
    rows = np.arange(len(scores))
    top3 = cat.item_ids[order[:, :3]]
    truth = names["item_id"].where(names["item_id"].notna() & (names["item_id"] != ""), None)
    out = names.copy()
    out["best_item"] = cat.item_ids[order[:, 0]]
    out["score"] = scores[rows, order[:, 0]]
    out["margin"] = out["score"] - scores[rows, order[:, 1]]
    out["has_item"] = truth.notna().to_numpy()
    out["best_right"] = (out["best_item"] == truth).to_numpy()
    out["in_top3"] = [t is not None and t in row for t, row in zip(truth, top3, strict=True)]
    return out


def figures(ranked: pd.DataFrame, t: Thresholds) -> dict[str, float]:
    """Precision and recall of confident matches, top-3 hit rate among names that have
    an item, and the share of names sent to review."""
    status = decide(ranked["score"], ranked["margin"], t.confident, t.suggest_from, t.margin)
    sure = status == "confident"
    right = sure & ranked["best_right"].to_numpy()
    has = ranked["has_item"].to_numpy()
    return {
        "names": len(ranked),
        "with_item": int(has.sum()),
        "confident": int(sure.sum()),
        "precision": float(right.sum() / sure.sum()) if sure.any() else float("nan"),
        "recall": float(right.sum() / has.sum()) if has.any() else float("nan"),
        "top3": float(ranked.loc[has, "in_top3"].mean()) if has.any() else float("nan"),
        "review_share": float((status == "uncertain").mean()),
    }


def choose_thresholds(
    ranked: pd.DataFrame,
    precision: float = TARGET_PRECISION,
    review_share: float = REVIEW_SHARE_AIM,
) -> Thresholds:
    """The thresholds that find the most right items with confident matches at the
    target precision, then the widest review band within the review share."""
    score = ranked["score"].to_numpy()
    margin = ranked["margin"].to_numpy()
    right = ranked["best_right"].to_numpy()
    has = max(int(ranked["has_item"].sum()), 1)
    best: tuple | None = None
    for c in np.arange(50.0, 100.01, 1.0):
        for m in np.arange(0.0, 20.01, 1.0):
            sure = (score >= c) & (margin >= m)
            n = int(sure.sum())
            prec = right[sure].mean() if n else 0.0
            found = right[sure].sum() / has
            key = (prec >= precision, found if prec >= precision else prec, prec, m, c)
            if best is None or key > best[0]:
                best = (key, c, m)
    _, c, m = best
    sure = (score >= c) & (margin >= m)
    s = c
    for candidate in np.arange(c, 29.99, -1.0):
        if ((~sure) & (score >= candidate)).mean() <= review_share:
            s = candidate
        else:
            break
    return Thresholds(float(c), float(m), float(s))


def _as_written(text: str) -> str:
    """A name as written, give or take case, punctuation and NI codes."""
    s = _NI.sub(" ", str(text).lower())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", s).split())


def copied_from(names: Iterable[str]) -> Callable[[str, str], bool]:
    """An alias filter that sets aside aliases copying (or nearly copying) any of
    ``names`` as written: what a held-out source could otherwise be matched on by copy.
    Aliases that only normalise to the same words are kept: finding those is the
    matcher's job."""
    written = {_as_written(n) for n in names} - {""}

    def drop(_item_id: str, alias: str) -> bool:
        mine = _as_written(alias)
        return mine in written or any(fuzz.token_sort_ratio(mine, w) >= 90 for w in written)

    return drop


def lait_names() -> list[str]:
    """Every measure name and chart title in DfE's LAIT data dictionary (bundled): the
    published list some aliases were drawn from."""
    path = resources.files("lscb_nb.data").joinpath("reference", "lait_data_dictionary.csv")
    with resources.as_file(path) as file:
        frame = pd.read_csv(file, usecols=["Measure", "Chart_title"], dtype=str)
    return sorted(set(frame["Measure"].dropna()) | set(frame["Chart_title"].dropna()))


def cross_validate(
    names: pd.DataFrame,
    items: pd.DataFrame,
    by: str = "source",
    precision: float = TARGET_PRECISION,
    review_share: float = REVIEW_SHARE_AIM,
    source_lists: dict[str, Iterable[str]] | None = None,
) -> tuple[pd.DataFrame, dict[str, float], dict[str, Thresholds]]:
    """Leave-one-source-out: every name is scored without the aliases that repeat a
    name of its own source (or of the whole published list the source is, given in
    ``source_lists``), and judged with thresholds chosen on the other sources only.

    Returns the ranked names with the status each got, the pooled figures, and the
    thresholds each held-out source was judged with.
    """
    source_lists = source_lists or {}
    parts = []
    for source, part in names.groupby(by, sort=False):
        held_out = [*part["local_name"], *source_lists.get(str(source), [])]
        parts.append(rank_names(part, items, copied_from(held_out)))
    ranked = pd.concat(parts).loc[names.index]
    status = pd.Series(index=ranked.index, dtype=object)
    chosen: dict[str, Thresholds] = {}
    for source, part in ranked.groupby(by, sort=False):
        t = choose_thresholds(ranked.loc[ranked[by] != source], precision, review_share)
        chosen[str(source)] = t
        status.loc[part.index] = decide(
            part["score"], part["margin"], t.confident, t.suggest_from, t.margin
        )
    ranked["status"] = status
    sure = ranked["status"] == "confident"
    right = sure & ranked["best_right"]
    has = ranked["has_item"]
    pooled = {
        "names": len(ranked),
        "sources": int(ranked[by].nunique()),
        "with_item": int(has.sum()),
        "confident": int(sure.sum()),
        "precision": float(right.sum() / sure.sum()) if sure.any() else float("nan"),
        "recall": float(right.sum() / has.sum()) if has.any() else float("nan"),
        "top3": float(ranked.loc[has, "in_top3"].mean()),
        "review_share": float((ranked["status"] == "uncertain").mean()),
    }
    return ranked, pooled, chosen
