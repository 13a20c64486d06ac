"""Exports of a data-model version: a Frictionless Table Schema of the long CSV return,
so boroughs can check a file with any Frictionless tool, and a readable data
dictionary for the steering group."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import pandas as pd

from lscb_nb.core import periods, returnformat, values
from lscb_nb.core.datamodel.model import DataModel, range_text
from lscb_nb.core.datamodel.vocab import (
    AGENCY_LABELS,
    FREQUENCY_LABELS,
    LSCB_FUNCTION_LABELS,
    MEASURE_TYPE_LABELS,
    POLARITY_LABELS,
    PUBLISHED_SOURCE_LABELS,
    STATUTORY_RETURN_LABELS,
    THEME_LABELS,
    UNIT_LABELS,
)
from lscb_nb.core.fileio import write_json_atomic, write_text_atomic
from lscb_nb.core.labels import field_label

log = logging.getLogger(__name__)


def _missing_values() -> list[str]:
    """'' and every code lscb_nb.core.values reads as a state, in lower and upper case."""
    out = [""]
    for code in values.CODES:
        for variant in (code, code.upper()):
            if variant not in out:
                out.append(variant)
    return out


def to_table_schema(dm: DataModel) -> dict:
    """A Frictionless Table Schema (v1) describing the long CSV return for this version.

    Suppression and missing codes are declared as ``missingValues``; ``<5``-style
    cells, which lscb_nb also reads as suppressed, cannot be listed there, so a
    generic Frictionless validator reports them as type errors (the numerator
    description says so).
    """
    codes = ", ".join(f"'{c}'" for c in values.CODES)
    numeric_note = (
        f"A number of 0 or more, or a code instead: {codes}, or '<n' such as '<5' "
        "(suppressed). Codes are kept as states, never read as zero; '<n' is accepted "
        "by lscb_nb but not declared in missingValues."
    )
    specs: dict[str, dict] = {
        "time_period": {
            "type": "string",
            "title": "Financial year",
            "description": "The financial year as DfE's Explore Education Statistics files write "
            "it: 202425 for April 2024 to March 2025.",
            "constraints": {"required": True, "pattern": "^[0-9]{6}$"},
        },
        "time_identifier": {
            "type": "string",
            "title": "Quarter",
            "description": "The quarter of the financial year.",
            "constraints": {"required": True, "enum": list(periods.TIME_IDENTIFIERS)},
        },
        "geographic_level": {
            "type": "string",
            "title": "Geographic level",
            "description": "Always 'Local authority'.",
            "constraints": {"enum": [returnformat.GEOGRAPHIC_LEVEL]},
        },
        "new_la_code": {
            "type": "string",
            "title": "ONS code of the authority",
            "description": "E09000001 to E09000033 for London's authorities.",
            "constraints": {"required": True, "pattern": "^E09[0-9]{6}$"},
        },
        "old_la_code": {
            "type": "integer",
            "title": "DfE code of the authority",
            "description": "DfE's three-digit code (201-213, 301-320 in London); checked against "
            "new_la_code.",
            "constraints": {"minimum": 100, "maximum": 999},
        },
        "la_name": {
            "type": "string",
            "title": "Authority name",
            "description": "Checked against new_la_code.",
        },
        "item_id": {
            "type": "string",
            "title": "Item",
            "description": f"The id of an item of data model {dm.version}.",
            "constraints": {"required": True, "enum": dm.item_ids},
        },
        "numerator": {
            "type": "number",
            "title": "Numerator",
            "description": "The count; for a count item, the figure itself. " + numeric_note,
            "constraints": {"minimum": 0},
        },
        "denominator": {
            "type": "number",
            "title": "Denominator",
            "description": "For percentage items only; blank for counts and rates per 10,000 "
            "(the toolkit supplies the 0-17 population). " + numeric_note,
            "constraints": {"minimum": 0},
        },
        "value": {
            "type": "number",
            "title": "Authority's own figure",
            "description": "Optional: the figure the authority computed; a mismatch is queried.",
            "constraints": {"minimum": 0},
        },
        "note": {
            "type": "string",
            "title": "Note",
            "description": "Free text from the authority. Never include anything that could "
            "identify a child.",
        },
    }
    fields = []
    for column in returnformat.RETURN_CSV_COLUMNS:
        spec = specs.get(column, {"type": "string"})
        fields.append({"name": column, **copy.deepcopy(spec)})
    return {
        "fields": fields,
        "missingValues": _missing_values(),
        "primaryKey": ["time_period", "time_identifier", "new_la_code", "item_id"],
        "description": (
            f"One row per authority, quarter and item of the {dm.meta.get('dataset')} "
            f"(data model {dm.version})."
        ),
    }


def write_table_schema(dm: DataModel, path: Path | str) -> Path:
    """Write :func:`to_table_schema` as JSON, atomically; returns the path."""
    return write_json_atomic(path, to_table_schema(dm))


# The dictionary's columns and their headings (declared in data/vocab/labels.yaml).
DICTIONARY_COLUMNS: dict[str, str] = {
    name: field_label(name)
    for name in (
        "item_id",
        "title",
        "aliases",
        "agency",
        "theme",
        "definition",
        "numerator",
        "denominator",
        "denominator_item",
        "unit",
        "polarity",
        "decimal_places",
        "frequency",
        "measure_type",
        "lscb_function",
        "statutory_return",
        "source_systems",
        "national_indicators",
        "published_measures",
        "related_items",
        "valid_range",
        "essential",
    )
}


def to_data_dictionary(dm: DataModel) -> pd.DataFrame:
    """One row per item, readable: labels instead of codes, lists joined.

    Columns are the keys of :data:`DICTIONARY_COLUMNS` (its values are the headings
    the Markdown dictionary shows).
    """
    titles = dm.items["title"]
    rows = []
    for item_id in dm.item_ids:
        item = dm.item(item_id)
        den_item = item["denominator_item"]
        rows.append(
            {
                "item_id": item_id,
                "title": item["title"],
                "aliases": "; ".join(item["aliases"]),
                "agency": AGENCY_LABELS[item["agency"]],
                "theme": THEME_LABELS[item["theme"]],
                "definition": " ".join(item["definition"].split()),
                "numerator": item["numerator"],
                "denominator": item["denominator"] or "",
                "denominator_item": f"{den_item}: {titles[den_item]}" if den_item else "",
                "unit": UNIT_LABELS[item["unit"]],
                "polarity": POLARITY_LABELS[item["polarity"]],
                "decimal_places": item["decimal_places"],
                "frequency": FREQUENCY_LABELS[item["frequency"]],
                "measure_type": MEASURE_TYPE_LABELS[item["measure_type"]],
                "lscb_function": LSCB_FUNCTION_LABELS[item["lscb_function"]],
                "statutory_return": STATUTORY_RETURN_LABELS[item["statutory_return"]],
                "source_systems": ", ".join(item["source_systems"]),
                "national_indicators": ", ".join(item["national_indicators"]),
                "published_measures": "; ".join(
                    f"{PUBLISHED_SOURCE_LABELS[m['source']]}: {m['measure']}"
                    for m in item["published_measures"]
                ),
                "related_items": ", ".join(item["related_items"]),
                "valid_range": range_text(item["valid_range"]),
                "essential": "Yes" if item["essential"] else "No",
            }
        )
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))


def _md(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


_ITEM_DETAIL_FIELDS = (
    "aliases",
    "numerator",
    "denominator",
    "denominator_item",
    "unit",
    "polarity",
    "decimal_places",
    "frequency",
    "measure_type",
    "theme",
    "lscb_function",
    "statutory_return",
    "national_indicators",
    "published_measures",
    "source_systems",
    "related_items",
    "valid_range",
    "essential",
)


def data_dictionary_markdown(dm: DataModel) -> str:
    """The data dictionary as a Markdown document: a summary table, each agency's
    items in full, then the cross-item rules."""
    table = to_data_dictionary(dm)
    meta = dm.meta
    lines = [
        f"# {meta.get('dataset')}: data dictionary, version {dm.version}",
        "",
        f"Status: {meta.get('status')}. Released: {meta.get('released')}. "
        f"Based on: {meta.get('based_on') or 'none'}. "
        f"{len(dm)} items, {len(dm.rules)} cross-item rules.",
        "",
        _md(meta.get("description", "")),
        "",
        "## Items at a glance",
        "",
        "| Item | Title | Agency | Theme | Unit | Frequency | Essential |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.item_id} | {_md(r.title)} | {r.agency} | {r.theme} | {r.unit} | "
        f"{r.frequency} | {r.essential} |"
        for r in table.itertuples()
    ]
    lines.append("")
    for label in AGENCY_LABELS.values():
        part = table[table["agency"] == label]
        if part.empty:
            continue
        lines += [f"## {label} ({len(part)} item{'s' if len(part) != 1 else ''})", ""]
        for row in part.to_dict("records"):
            lines += [f"### {row['item_id']} {_md(row['title'])}", "", _md(row["definition"]), ""]
            lines += ["| Field | |", "|---|---|"]
            for field in _ITEM_DETAIL_FIELDS:
                text = row[field]
                if text == "" or text is None:
                    text = "(none)"
                lines.append(f"| {DICTIONARY_COLUMNS[field]} | {_md(text)} |")
            lines.append("")
    lines += ["## Cross-item rules", ""]
    if dm.rules.empty:
        lines += ["None.", ""]
    else:
        lines += ["| Rule | Check | Severity | Message |", "|---|---|---|---|"]
        lines += [
            f"| {r.rule_id} | {r.left} {r.operator} {r.right} | {r.severity} | {_md(r.message)} |"
            for r in dm.rules.itertuples(index=False)
        ]
        lines.append("")
    return "\n".join(lines)


def write_data_dictionary(dm: DataModel, path: Path | str) -> Path:
    """Write :func:`data_dictionary_markdown` to ``path`` atomically; returns the path."""
    return write_text_atomic(path, data_dictionary_markdown(dm))
