"""Scoring local names against every data-model item's title and aliases, 0-100.

:func:`score_matrix` scores every name (normalised by ``names``) against every item: a
token score that gives token-set credit only when the local name adds no content word to
the item's name (so "Repeat referrals to children's social care" is not a perfect
"Referrals to children's social care"), averaged with the cosine of character n-gram
TF-IDF vectors (scikit-learn), which forgives typos and word forms. An NI code the item
carries adds weight, one it does not carry takes some away; a unit that does not fit the
item (a percentage for a count) costs a little; when the borough gave a definition, its
word TF-IDF similarity to each item's definition moves the scores a little.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from lscb_nb.mapping.names import (
    MERGED_PREFIXES,
    ParsedName,
    as_text,
    load_vocabulary,
    normalise,
    parse,
    singular,
    tokens,
)

log = logging.getLogger(__name__)

# Penalties (points of the 0-100 score).
ADDED_WORD = 6.0
MAX_ADDED = 24.0
NEGATION_PENALTY = 40.0
DISTINGUISHING_WORD = 20.0
# Words that turn a measure into its opposite ("NEET" is not "EET").
NEGATIONS = frozenset({"not", "no", "without", "never"})


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
        preprocessor=lambda t: " ".join(singular(w) for w in tokens(t)),
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
    return any(word.startswith(p) and word[len(p) :] in others for p in MERGED_PREFIXES)


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
    defs = [as_text(d) for d in definitions] if definitions is not None else [""] * n
    given_units = [as_text(u) for u in units] if units is not None else [""] * n
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
