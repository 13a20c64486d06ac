"""Reader-facing words for the toolkit's own names: fields, coded values, counted
nouns and cross-item rules.

The steering group reads the reports, not the code, so a column called
``related_items`` or a tier coded ``local_option`` never reaches a page as written.
Field names and rule phrases are declared once as data (``data/vocab/labels.yaml``);
coded values take the labels the data model's vocabularies already declare
(:mod:`lscb_nb.core.datamodel.vocab`), so each label lives in one place.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

import pandas as pd
import yaml

log = logging.getLogger(__name__)

_SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


@cache
def _vocab() -> dict:
    text = (resources.files("lscb_nb") / "data" / "vocab" / "labels.yaml").read_text("utf-8")
    return yaml.safe_load(text)


@cache
def _value_labels() -> dict[str, dict[str, str]]:
    """Field name -> {code: label}, from the data model's vocabularies."""
    import lscb_nb.core.datamodel.vocab as vocab

    return {
        "agency": vocab.AGENCY_LABELS,
        "theme": vocab.THEME_LABELS,
        "lscb_function": vocab.LSCB_FUNCTION_LABELS,
        "statutory_return": vocab.STATUTORY_RETURN_LABELS,
        "unit": vocab.UNIT_LABELS,
        "polarity": vocab.POLARITY_LABELS,
        "frequency": vocab.FREQUENCY_LABELS,
        "measure_type": vocab.MEASURE_TYPE_LABELS,
        "tier": vocab.TIER_LABELS,
        "status": vocab.STATUS_LABELS,
        "severity": vocab.SEVERITY_LABELS,
        "operator": vocab.OPERATOR_LABELS,
        "published_source": vocab.PUBLISHED_SOURCE_LABELS,
    }


def fields() -> dict[str, str]:
    """Every declared field name and the heading a report shows for it."""
    return dict(_vocab()["fields"])


def humanise(name: str) -> str:
    """A name with no declared label, made readable: ``pairs_apart`` -> 'Pairs apart'."""
    words = str(name).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def field_label(name: object) -> str:
    """The heading a reader sees for a field or column: its declared label; a
    snake_case name nobody declared is made readable rather than shown raw; any
    other name (already words, such as 'Title' or '% supplied') is kept."""
    text = str(name)
    declared = _vocab()["fields"].get(text)
    if declared is not None:
        return str(declared)
    return humanise(text) if _SNAKE.match(text) else text


def value_label(field: str, code: object) -> object:
    """A coded value in words (tier ``local_option`` -> 'Local option'). Codes joined
    by '/' (``cin_census/ssda903``) are labelled one by one; a list is labelled item
    by item and joined; anything that is not a code of ``field`` is kept as it is."""
    labels = _value_labels().get(field)
    if labels is None or code is None:
        return code
    if isinstance(code, (list, tuple)):
        return ", ".join(str(value_label(field, c)) for c in code)
    if not isinstance(code, str):
        return code
    if code in labels:
        return labels[code]
    if "/" in code and all(part.strip() in labels for part in code.split("/")):
        return " / ".join(labels[part.strip()] for part in code.split("/"))
    return code


def has_value_labels(field: str) -> bool:
    """Whether ``field`` holds codes with declared labels."""
    return field in _value_labels()


def authority_headings(word: str) -> dict[str, str]:
    """Headings for the columns that name or count authorities, in the project's
    ``word`` ('borough' -> la_name 'Borough', boroughs 'Boroughs')."""
    return {
        field: (word if number == "one" else plural_of(word)).capitalize()
        for field, number in _vocab()["authority_fields"].items()
    }


def relabel(
    frame: pd.DataFrame, names: Mapping[str, str] | None = None, word: str | None = None
) -> pd.DataFrame:
    """The frame as a reader sees it: coded values in words, and every column headed
    by its label (``names`` overrides a heading for this one table). ``word`` is what
    the project calls an authority ('borough' in London): the columns naming or
    counting authorities are headed with it."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(column, str) and has_value_labels(column):
            out[column] = out[column].map(lambda v, c=column: value_label(c, v))
    names = {**(authority_headings(word) if word else {}), **dict(names or {})}
    return out.rename(columns=lambda c: names.get(c, field_label(c)))


def plural_of(noun: str) -> str:
    """The plural of a noun or of the last word of a noun phrase ('pilot borough' ->
    'pilot boroughs', 'authority' -> 'authorities', 'query' -> 'queries')."""
    head, _, last = noun.rpartition(" ")
    irregular = _vocab()["plurals"]
    if last in irregular:
        word = irregular[last]
    elif len(last) > 1 and last.endswith("y") and last[-2] not in "aeiou":
        word = last[:-1] + "ies"
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        word = last + "es"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """'1 borough', '3 boroughs', '2 authorities': a count with its noun agreeing,
    never 'borough(s)'. Thousands are separated ('1,024 rows')."""
    return f"{n:,} {noun if n == 1 else (plural or plural_of(noun))}"


def shorten(text: str, width: int) -> str:
    """The text whole if it fits, else cut at a word with an ellipsis (never mid-word)."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0].rstrip(",;:-–(")
    return cut + "…"


def _mid_sentence(title: str) -> str:
    """A title as it reads inside a sentence: 'Referrals' -> 'referrals', while
    acronyms ('NEET', 'A&E'), numbers and declared names ('Cafcass') keep theirs."""
    first = title.split(" ", 1)[0]
    letters = first.replace("-", "")
    if first in _vocab()["names"] or not letters.isalpha() or not letters[1:].islower():
        return title
    return title[:1].lower() + title[1:]


def item_words(item_id: str, items: pd.DataFrame | None) -> str:
    """An item named by its title where the items know it, else by its id."""
    if items is not None and item_id in items.index and "title" in items.columns:
        return str(items.at[item_id, "title"])
    return str(item_id)


def _agency_of(item_id: str, items: pd.DataFrame | None) -> str:
    import lscb_nb.core.datamodel.vocab as vocab

    if items is not None and item_id in items.index and "agency" in items.columns:
        code = items.at[item_id, "agency"]
    else:
        prefix = re.match(r"[A-Z]+", item_id)
        code = vocab.ID_PREFIXES.get(prefix.group(0) if prefix else "", "")
    return str(vocab.AGENCY_LABELS.get(code, code))


def rule_text(rule: Mapping, items: pd.DataFrame | None = None) -> str:
    """A cross-item rule in words, from the items' titles and the rule's operator:
    'Health: A&E attendances ... should not exceed referrals ... (a query, not an
    error) [XR24]'. Without ``items`` (or for an item they lack) the ids stand in."""
    left, right = str(rule["left"]), str(rule["right"])
    operator, severity = str(rule["operator"]), str(rule.get("severity", ""))
    phrase = _vocab()["rule_phrases"].get(operator, f"should be {operator}")
    how = _vocab()["rule_severities"].get(severity, severity)
    agency = _agency_of(left, items)
    words = (
        f"{item_words(left, items)} {phrase} {_mid_sentence(item_words(right, items))}"
        + (f" ({how})" if how else "")
        + f" [{rule['rule_id']}]"
    )
    return f"{agency}: {words}" if agency else words


def rules_in_words(rules: pd.DataFrame, items: pd.DataFrame | None = None) -> list[str]:
    """:func:`rule_text` for every row of a rules table."""
    return [rule_text(r, items) for r in rules.to_dict("records")]


def file_column(name: object) -> object:
    """A column of a borough's file as an issue list shows it: a header that is a
    name with underscores gets its label, with the header as written beside it in
    code (``Item (item_id)``), so the officer can find it; other headers stay."""
    from lscb_nb.core.textdiff import code

    if not isinstance(name, str) or "_" not in name:
        return name
    return code(name, f"{field_label(name)} (", ")")


def snake_case_words(texts: Iterable[str]) -> list[str]:
    """The snake_case words in ``texts`` (a check that no field name reaches a reader)."""
    found = []
    for text in texts:
        found += re.findall(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", str(text))
    return found
