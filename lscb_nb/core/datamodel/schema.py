"""The data model's JSON Schema (``data/schema/datamodel.schema.yaml``) and the
validator that reports every problem at once, in words an analyst can act on.

The schema says what each field may hold; :mod:`.checks` adds what a schema cannot
say (ids that must exist, units and denominators that must agree). Every message
starts with the item or rule it is about (``item CSC01: ...``, ``rule XR01: ...``)
and names the field, so a problem in a 600-line file is found at once.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from lscb_nb.core import jsonschemas
from lscb_nb.core.datamodel.checks import SECTIONS, check_all, entry_label, released_text
from lscb_nb.core.datamodel.vocab import VOCABULARIES

log = logging.getLogger(__name__)

SCHEMA_FILE = "datamodel.schema.yaml"


def _with_enums(node: Any) -> Any:
    """The schema with every ``x-vocab`` resolved to an ``enum`` of its codes."""
    if isinstance(node, dict):
        out = {k: _with_enums(v) for k, v in node.items()}
        if "x-vocab" in out:
            out["enum"] = list(VOCABULARIES[out["x-vocab"]])
        return out
    if isinstance(node, list):
        return [_with_enums(v) for v in node]
    return node


@cache
def schema() -> dict:
    """The JSON Schema of a version, enums filled in from the vocabularies."""
    text = (resources.files("lscb_nb") / "data" / "schema" / SCHEMA_FILE).read_text("utf-8")
    return _with_enums(yaml.safe_load(text))


def _properties(definition: str | None) -> dict[str, dict]:
    node = schema() if definition is None else schema()["$defs"][definition]
    return node["properties"]


# Fields, in the order files are written (a stable order keeps git diffs readable).
META_FIELDS: tuple[str, ...] = tuple(
    f for f in _properties(None) if f not in ("items", "cross_item_rules")
)
TOP_LEVEL_FIELDS: tuple[str, ...] = tuple(_properties(None))
ITEM_FIELDS: tuple[str, ...] = tuple(_properties("item"))
# Fields an item may leave out; they take these values.
ITEM_DEFAULTS: dict[str, Any] = {
    f: spec["default"] for f, spec in _properties("item").items() if "default" in spec
}
REQUIRED_ITEM_FIELDS: tuple[str, ...] = tuple(
    f for f in ITEM_FIELDS if f in schema()["$defs"]["item"]["required"]
)
RULE_FIELDS: tuple[str, ...] = tuple(_properties("rule"))
ITEM_ID_PATTERN = re.compile(_properties("item")["item_id"]["pattern"])
RULE_ID_PATTERN = re.compile(_properties("rule")["rule_id"]["pattern"])
NATIONAL_INDICATOR_PATTERN = re.compile(
    _properties("item")["national_indicators"]["items"]["pattern"]
)


def _where(raw: Mapping, path: list) -> tuple[tuple, str, str]:
    """(sort order, who, which field) for a path into the model."""
    if len(path) >= 2 and path[0] in SECTIONS and isinstance(path[1], int):
        order = (SECTIONS[path[0]][1], path[1])
        who, rest = entry_label(raw, path[0], path[1]), path[2:]
    else:
        order, who, rest = (0, 0), "", path
    text = ""
    for part in rest:  # ['published_measures', 0, 'source'] -> 'published_measures entry 1: source'
        if isinstance(part, int):
            text += f" entry {part + 1}"
        else:
            text += (": " if text.endswith(tuple("0123456789")) else " ") + str(part)
    return order, who, text.strip()


def _plural(names: list[str], noun: str) -> str:
    return f"{noun}{'s' if len(names) > 1 else ''}"


def _describe(error, raw: Mapping) -> tuple[tuple, str]:
    """One schema error as (sort order, 'item CSC01: unit 'percent' is not allowed; ...')."""
    path = list(error.absolute_path)
    order, who, field = _where(raw, path)
    top = not who and not field
    prefix = f"{who}: " if who else ""
    value, kind = error.instance, error.validator
    if kind == "required":
        missing = [f for f in error.validator_value if f not in value]
        noun = "top-level field" if top else "required field"
        text = f"missing {_plural(missing, noun)} {', '.join(missing)}."
    elif kind == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        extra = [k for k in value if k not in known]
        noun = "top-level field" if top else "field"
        text = (
            f"unknown {_plural(extra, noun)} {', '.join(map(repr, extra))}; "
            f"the fields are {', '.join(known)}."
        )
    elif kind == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        text = f"{field} {value!r} is not allowed; use one of {allowed}."
    elif kind == "uniqueItems":
        text = f"{field} lists an entry more than once."
    elif top and kind == "type":
        text = (
            f"the data model must be {error.schema.get('description')} "
            f"{', '.join(TOP_LEVEL_FIELDS)}, not {type(value).__name__}."
        )
    else:
        expected = error.schema.get("description") or error.message
        subject = f"{field} must" if field else "must"
        text = f"{subject} be {expected}, not {value!r}."
    return order, prefix + text


def _as_json(raw: Mapping) -> dict:
    """The model as JSON Schema sees it: a YAML date for ``released`` becomes its text."""
    out = dict(raw)
    if isinstance(out.get("released"), dt.date):
        out["released"] = released_text(out["released"])
    return out


def _sorted(problems: Iterable[tuple[tuple, str]]) -> list[str]:
    """Messages in file order (top level, items, rules), each once."""
    seen: set[str] = set()
    out = []
    for _, text in sorted(problems, key=lambda p: p[0]):
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def validate_datamodel(raw: object, *, file_name: str | Path | None = None) -> list[str]:
    """Every problem with a data model as read from YAML, as clear messages; [] if none.

    Each message names the item (or rule) and field and, for a coded field, the
    values allowed. Pass ``file_name`` when the dict came from a file, to check
    that the version matches the file's name.
    """
    if not isinstance(raw, Mapping):
        return [
            "the data model must be a mapping with the top-level fields "
            f"{', '.join(TOP_LEVEL_FIELDS)}, not {type(raw).__name__}."
        ]
    data = _as_json(copy.copy(raw))
    problems = [_describe(e, data) for e in jsonschemas.errors(schema(), data)]
    problems += check_all(data, file_name=file_name)
    return _sorted(problems)
