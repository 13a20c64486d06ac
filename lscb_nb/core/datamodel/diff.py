"""What changed between two versions of the data model, as a table and as a
Markdown change log for the steering group."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import pandas as pd

from lscb_nb.core.datamodel.model import DataModel, range_text, to_dict
from lscb_nb.core.datamodel.schema import ITEM_FIELDS, RULE_FIELDS, RULE_ID_PATTERN
from lscb_nb.core.labels import rule_text

log = logging.getLogger(__name__)

DIFF_COLUMNS: tuple[str, ...] = ("item_id", "change", "field", "old_value", "new_value")


def _summary(record: dict, items: pd.DataFrame) -> str:
    """An added or removed item by its title; a rule in words, from the titles of the
    items of its own version."""
    if "rule_id" in record:
        return rule_text(record, items)
    return record["title"]


def _diff_records(
    old: list[dict], new: list[dict], key: str, fields: Iterable[str], items: tuple
) -> list:
    old_by, new_by = {r[key]: r for r in old}, {r[key]: r for r in new}
    old_items, new_items = items
    rows = []
    for record in new:
        rid = record[key]
        if rid not in old_by:
            rows.append((rid, "added", None, None, _summary(record, new_items)))
            continue
        before = old_by[rid]
        for field in fields:
            if before.get(field) != record.get(field):
                rows.append((rid, "changed", field, before.get(field), record.get(field)))
    for record in old:
        if record[key] not in new_by:
            rows.append((record[key], "removed", None, _summary(record, old_items), None))
    return rows


def diff_datamodels(old: DataModel, new: DataModel) -> pd.DataFrame:
    """What changed from ``old`` to ``new``: one row per changed field of an item or rule.

    Columns :data:`DIFF_COLUMNS`. An added or removed item (or rule) is one row with
    ``field`` None and its title (a rule's check, in words) as the new or old value.
    Rules are keyed by ``rule_id`` in the ``item_id`` column.
    """
    a, b = to_dict(old), to_dict(new)
    versions = (old.items, new.items)
    rows = _diff_records(a["items"], b["items"], "item_id", ITEM_FIELDS[1:], versions)
    rows += _diff_records(
        a["cross_item_rules"], b["cross_item_rules"], "rule_id", RULE_FIELDS[1:], versions
    )
    frame = pd.DataFrame(rows, columns=list(DIFF_COLUMNS), dtype=object)
    return frame


def _md_cell(value: Any) -> str:
    """A value as one line of Markdown table text."""
    if value is None:
        text = "(none)"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list):
        parts = [f"{v['source']}: {v['measure']}" if isinstance(v, dict) else str(v) for v in value]
        text = ", ".join(parts) if parts else "(none)"
    elif isinstance(value, dict) and set(value) == {"min", "max"}:
        text = range_text(value)
    else:
        text = str(value)
    return " ".join(text.split()).replace("|", "\\|")


def format_diff_markdown(diff: pd.DataFrame, title: str = "Changes to the data model") -> str:
    """A readable change log of :func:`diff_datamodels`' table, in Markdown."""
    lines = [f"## {title}", ""]
    if diff.empty:
        return "\n".join([*lines, "No items or cross-item rules changed.", ""])
    is_rule = diff["item_id"].astype(str).str.match(RULE_ID_PATTERN.pattern)
    counts = []
    for kind, mask in (("item", ~is_rule), ("rule", is_rule)):
        part = diff[mask]
        for change in ("added", "removed", "changed"):
            n = part.loc[part["change"] == change, "item_id"].nunique()
            if n:
                counts.append(f"{n} {kind}{'s' if n != 1 else ''} {change}")
    lines += ["; ".join(counts) + ".", ""]
    for kind, mask, noun in (("Items", ~is_rule, "Item"), ("Cross-item rules", is_rule, "Rule")):
        part = diff[mask]
        for change in ("added", "removed"):
            rows = part[part["change"] == change]
            if rows.empty:
                continue
            lines += [f"### {kind} {change}", ""]
            value = "new_value" if change == "added" else "old_value"
            lines += [f"- **{r.item_id}** {_md_cell(getattr(r, value))}" for r in rows.itertuples()]
            lines.append("")
        rows = part[part["change"] == "changed"]
        if not rows.empty:
            lines += [
                f"### {kind} changed",
                "",
                f"| {noun} | Field | Was | Now |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {r.item_id} | {r.field} | {_md_cell(r.old_value)} | {_md_cell(r.new_value)} |"
                for r in rows.itertuples()
            ]
            lines.append("")
    return "\n".join(lines)
