"""A data-model change log as a report shows it: each change in words, coded values by
their labels, and a changed definition as one paragraph with the words that went
struck out and the words that came underlined.

:func:`lscb_nb.core.datamodel.diff_datamodels` says what changed as data (and
:func:`~lscb_nb.core.datamodel.format_diff_markdown` writes the Markdown file kept
beside a version); this module is what every phase's report shows of it.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from lscb_nb.core.datamodel import DataModel, diff_datamodels
from lscb_nb.core.datamodel.model import range_text
from lscb_nb.core.datamodel.schema import RULE_ID_PATTERN
from lscb_nb.core.display import Section, table
from lscb_nb.core.labels import (
    counted,
    field_label,
    has_value_labels,
    item_words,
    rule_text,
    value_label,
)
from lscb_nb.core.textdiff import Marked, word_diff

log = logging.getLogger(__name__)

WHO, WHAT, CHANGE = "Item or rule", "What changed", "Change"
# Fields whose value is prose: a change is shown word by word.
TEXT_FIELDS: frozenset[str] = frozenset(
    {"title", "definition", "numerator", "denominator", "message"}
)
# Fields listing item ids: a change names the items that came and went.
ITEM_LIST_FIELDS: frozenset[str] = frozenset({"related_items"})
ITEM_FIELDS_ONE: frozenset[str] = frozenset({"denominator_item", "left", "right"})
KEY = (
    "Struck-through words were removed and underlined words added; the rest of the "
    "text is unchanged."
)


def _plain(field: str, value: Any) -> str:
    """One value of a field in words."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and set(value) == {"min", "max"}:
        return range_text(value)
    if isinstance(value, dict) and "source" in value:
        return f"{value_label('published_source', value['source'])}: {value.get('measure')}"
    if has_value_labels(field):
        return str(value_label(field, value))
    return " ".join(str(value).split())


def _list_change(field: str, old: list, new: list, items: pd.DataFrame) -> str:
    """What came into and went out of a list, each named in words."""
    old, new = list(old or []), list(new or [])

    def name(v: Any) -> str:
        if field not in ITEM_LIST_FIELDS:
            return _plain(field, v)
        title = item_words(str(v), items)
        return f"{v} ({title})" if title != str(v) else str(v)

    came = [name(v) for v in new if v not in old]
    went = [name(v) for v in old if v not in new]
    parts = []
    if came:
        parts.append("added " + "; ".join(came))
    if went:
        parts.append("removed " + "; ".join(went))
    return ", and ".join(parts) if parts else "the same entries, in a new order"


def _change(field: str, old: Any, new: Any, items: pd.DataFrame) -> str | Marked:
    """A changed field's change, in words (prose word by word)."""
    if field in TEXT_FIELDS:
        return word_diff(str(old or ""), str(new or ""))
    if isinstance(old, list) or isinstance(new, list):
        return _list_change(field, old, new, items)
    if field in ITEM_FIELDS_ONE:
        old = item_words(str(old), items) if old else None
        new = item_words(str(new), items) if new else None
    return f"from {_plain(field, old)} to {_plain(field, new)}"


def change_table(old: DataModel, new: DataModel) -> pd.DataFrame:
    """One row per change from ``old`` to ``new``, in words: who (an item by its id
    and title, or a rule), what changed, and the change."""
    diff = diff_datamodels(old, new)
    items = pd.concat([old.items, new.items[~new.items.index.isin(old.items.index)]])
    rules_old = old.rules.set_index("rule_id") if not old.rules.empty else pd.DataFrame()
    rules_new = new.rules.set_index("rule_id") if not new.rules.empty else pd.DataFrame()
    rows = []
    for r in diff.itertuples(index=False):
        key = str(r.item_id)
        is_rule = bool(RULE_ID_PATTERN.match(key))
        if is_rule:
            rules = rules_new if r.change == "added" else rules_old
            record = {"rule_id": key, **rules.loc[key].to_dict()} if key in rules.index else None
            who = f"Rule {key}"
            text = rule_text(record, items) if record else str(r.new_value or r.old_value)
        else:
            who = f"{key} {item_words(key, items)}"
            text = None
        if r.change == "added":
            what = "Rule added" if is_rule else "Item added"
            change: str | Marked = text or "added to the dataset"
        elif r.change == "removed":
            what = "Rule removed" if is_rule else "Item removed"
            change = text or "removed from the dataset"
        else:
            what = field_label(r.field)
            change = _change(str(r.field), r.old_value, r.new_value, items)
        rows.append({WHO: who, WHAT: what, CHANGE: change})
    return pd.DataFrame(rows, columns=[WHO, WHAT, CHANGE])


def _summary(diff: pd.DataFrame) -> str:
    is_rule = diff["item_id"].astype(str).str.match(RULE_ID_PATTERN.pattern)
    parts = []
    for noun, mask in (("item", ~is_rule), ("cross-item rule", is_rule)):
        part = diff[mask]
        for change in ("added", "removed", "changed"):
            n = part.loc[part["change"] == change, "item_id"].nunique()
            if n:
                parts.append(f"{counted(n, noun)} {change}")
    return "; ".join(parts) + "."


def show_changes(old: DataModel, new: DataModel, caption: str | None = None) -> Section:
    """The change log from ``old`` to ``new`` for a report: how many items and rules
    were added, removed and changed, then every change in words."""
    caption = caption or f"Changes from {old.version} to {new.version}"
    diff = diff_datamodels(old, new)
    if diff.empty:
        return Section().add(f"{caption}: no items or cross-item rules changed.")
    shown = change_table(old, new)
    marked = any(isinstance(c, Marked) and c.changed for c in shown[CHANGE])
    return Section().add(
        f"{caption}: {_summary(diff)}" + (f" {KEY}" if marked else ""),
        table(shown, caption=caption, max_rows=20),
    )
