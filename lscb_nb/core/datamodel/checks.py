"""What the JSON Schema cannot say about a data model: checks across fields and items.

Each check is a small function over the model as read from YAML, yielding
``(order, message)``: ``order`` puts the message beside the schema's for the same
item, and the message names the item (or rule) and field. Every check tolerates
values of the wrong type (the schema reports those), so all problems are found in
one pass.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from lscb_nb.core.datamodel.vocab import AGENCIES, ID_PREFIXES

log = logging.getLogger(__name__)

Problem = tuple[tuple[int, int], str]
# Where items and rules sit in a model: their noun and the rank their messages sort by.
SECTIONS: dict[str, tuple[str, int]] = {"items": ("item", 1), "cross_item_rules": ("rule", 2)}
_TOP = (0, 0)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


def released_text(value: object) -> str | None:
    """An ISO date string, from the text or the date YAML makes of an unquoted date."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            return None
    return None


def entry_label(raw: Mapping, section: str, index: int) -> str:
    """'item CSC01', or 'item #3 (no valid item_id)' when it has no id to name it by."""
    noun, _ = SECTIONS[section]
    entries = raw.get(section)
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
    if not isinstance(entry, Mapping):
        return f"{noun} #{index + 1}"
    key = entry.get(f"{noun}_id")
    if _is_text(key):
        return f"{noun} {key}"
    return f"{noun} #{index + 1} (no valid {noun}_id)"


def _entries(raw: Mapping, section: str) -> Iterator[tuple[tuple[int, int], str, Mapping]]:
    """(order, label, entry) for each mapping among the items or rules."""
    entries = raw.get(section)
    if not isinstance(entries, list):
        return
    for n, entry in enumerate(entries):
        if isinstance(entry, Mapping):
            yield (SECTIONS[section][1], n), entry_label(raw, section, n), entry


def _items_by_id(raw: Mapping) -> dict[str, Mapping]:
    """The first item with each id (duplicates are reported by check_unique_ids)."""
    out: dict[str, Mapping] = {}
    for _, _, item in _entries(raw, "items"):
        if isinstance(item.get("item_id"), str):
            out.setdefault(item["item_id"], item)
    return out


# --------------------------------------------------------------------------------------
# The version as a whole
# --------------------------------------------------------------------------------------


def check_version(raw: Mapping, file_name: str | Path | None) -> Iterator[Problem]:
    """The version matches its file's name and is not based on itself; released is a date."""
    version, based_on = raw.get("version"), raw.get("based_on")
    if file_name is not None and _is_text(version):
        name = Path(file_name).name
        if name.removesuffix(".yaml") != version:
            yield (
                _TOP,
                (
                    f"version {version!r} does not match the file name {name!r}: "
                    "a version's file must be named <version>.yaml."
                ),
            )
    if _is_text(based_on) and based_on == version:
        yield _TOP, f"based_on names the version itself ({version!r})."
    released = raw.get("released")
    if isinstance(released, str) and released_text(released) is None:
        # The schema checks the shape; this catches dates that do not exist.
        yield _TOP, f"released must be an ISO date such as '2007-09-30', not {released!r}."


def check_unique_ids(raw: Mapping) -> Iterator[Problem]:
    """Every item and every rule has its own id."""
    for section, noun in (("items", "item"), ("cross_item_rules", "rule")):
        first: dict[str, int] = {}
        for order, _, entry in _entries(raw, section):
            key = entry.get(f"{noun}_id")
            if not isinstance(key, str):
                continue
            n = order[1] + 1
            if key in first:
                plural = "items" if noun == "item" else "rules"
                extra = ": every item needs its own id." if noun == "item" else "."
                yield order, f"duplicate {noun}_id {key!r} ({plural} #{first[key]} and #{n}){extra}"
            else:
                first[key] = n


# --------------------------------------------------------------------------------------
# One item
# --------------------------------------------------------------------------------------


def check_id_prefix(order: tuple, label: str, item: Mapping, known: Mapping) -> Iterator[Problem]:
    """The id's prefix is an agency's, and the item's agency."""
    item_id = item.get("item_id")
    if not (isinstance(item_id, str) and item_id[-2:].isdigit() and item_id[:-2].isupper()):
        return
    prefix, agency = item_id[:-2], item.get("agency")
    if prefix not in ID_PREFIXES:
        yield (
            order,
            (
                f"{label}: prefix {prefix!r} is not an agency prefix; use one of "
                f"{', '.join(ID_PREFIXES)}."
            ),
        )
    elif agency in AGENCIES and ID_PREFIXES[prefix] != agency:
        yield (
            order,
            (
                f"{label}: the prefix {prefix} belongs to agency {ID_PREFIXES[prefix]!r} "
                f"but the item's agency is {agency!r}."
            ),
        )


def check_aliases(order: tuple, label: str, item: Mapping, known: Mapping) -> Iterator[Problem]:
    """Aliases are other names for the same measure: each once, none repeating the title."""
    aliases = item.get("aliases")
    if not isinstance(aliases, list):
        return
    folded = [_fold(a) for a in aliases if _is_text(a)]
    if len(set(folded)) != len(folded):
        yield order, f"{label}: aliases lists a name more than once."
    title = item.get("title")
    if _is_text(title) and _fold(title) in folded:
        yield order, f"{label}: aliases repeats the title {title!r}."


def check_valid_range(order: tuple, label: str, item: Mapping, known: Mapping) -> Iterator[Problem]:
    """The range is not empty."""
    bounds = item.get("valid_range")
    if not isinstance(bounds, Mapping):
        return
    low, high = bounds.get("min"), bounds.get("max")
    numbers = all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in (low, high))
    if numbers and low > high:
        yield order, f"{label}: valid_range min ({low}) is above max ({high})."


def check_related_items(
    order: tuple, label: str, item: Mapping, known: Mapping
) -> Iterator[Problem]:
    """Related items are other items of this model."""
    related = item.get("related_items")
    if not isinstance(related, list):
        return
    for other in related:
        if not isinstance(other, str):
            continue
        if other not in known:
            yield order, f"{label}: related_items names {other!r}, which is not an item."
        elif other == item.get("item_id"):
            yield order, f"{label}: related_items names the item itself."


def check_denominator(order: tuple, label: str, item: Mapping, known: Mapping) -> Iterator[Problem]:
    """What the figure is divided by fits its unit; a denominator item is a count or rate
    of this model returned as often as the item."""
    unit, denominator = item.get("unit"), item.get("denominator")
    den_item = item.get("denominator_item")
    if unit == "percentage" and not _is_text(denominator):
        yield (
            order,
            (f"{label}: a percentage needs a denominator (what the numerator is divided by)."),
        )
    if unit == "count" and denominator is not None:
        yield order, f"{label}: a count is not divided by anything: set denominator to null."
    if unit in ("count", "rate_per_10k") and den_item is not None:
        yield (
            order,
            (
                f"{label}: a {unit} cannot have a denominator_item ({den_item!r}); only a "
                "percentage is divided by another item."
            ),
        )
    if not (isinstance(den_item, str) and unit == "percentage"):
        return
    target = known.get(den_item)
    if target is None:
        yield order, f"{label}: denominator_item {den_item!r} is not an item."
    elif den_item == item.get("item_id"):
        yield order, f"{label}: denominator_item is the item itself."
    else:
        if target.get("unit") == "percentage":
            yield (
                order,
                (
                    f"{label}: denominator_item {den_item} is a percentage; the denominator "
                    "must be a count or a rate's count."
                ),
            )
        if target.get("frequency") != item.get("frequency"):
            yield (
                order,
                (
                    f"{label}: denominator_item {den_item} is {target.get('frequency')} but "
                    f"the item is {item.get('frequency')}; both must be returned together."
                ),
            )


ITEM_CHECKS: tuple[Callable[..., Iterator[Problem]], ...] = (
    check_id_prefix,
    check_aliases,
    check_valid_range,
    check_related_items,
    check_denominator,
)


# --------------------------------------------------------------------------------------
# One rule
# --------------------------------------------------------------------------------------


def check_rule_items(order: tuple, label: str, rule: Mapping, known: Mapping) -> Iterator[Problem]:
    """A rule compares two different items of this model, returned in the same period."""
    sides = {s: rule.get(s) for s in ("left", "right") if isinstance(rule.get(s), str)}
    for side, item_id in sides.items():
        if item_id not in known:
            yield order, f"{label}: {side} {item_id!r} is not an item of this data model."
    left, right = sides.get("left"), sides.get("right")
    if left is not None and left == right:
        yield order, f"{label}: left and right are the same item."
    if left in known and right in known:
        lf, rf = known[left].get("frequency"), known[right].get("frequency")
        if lf != rf:
            yield (
                order,
                (
                    f"{label}: compares {left} ({lf}) with {right} ({rf}); a rule can only "
                    "compare items returned in the same period."
                ),
            )


RULE_CHECKS: tuple[Callable[..., Iterator[Problem]], ...] = (check_rule_items,)


def check_all(raw: Mapping, *, file_name: str | Path | None = None) -> list[Problem]:
    """Every cross-field and cross-item problem of a model as read from YAML."""
    known = _items_by_id(raw)
    problems = [*check_version(raw, file_name), *check_unique_ids(raw)]
    for section, rules in (("items", ITEM_CHECKS), ("cross_item_rules", RULE_CHECKS)):
        for order, label, entry in _entries(raw, section):
            for check in rules:
                problems.extend(check(order, label, entry, known))
    return problems
