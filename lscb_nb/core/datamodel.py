"""The data model: the dataset's items and cross-item rules, one YAML file per version.

Each version lives in ``lscb_nb/data/datamodel/<version>.yaml`` (the format is
``lscb_nb/data/datamodel/SCHEMA.md``). The candidate is written by hand; the phases write
``draft``, ``pilot`` and ``refined`` versions beside it with :func:`save_datamodel`.
Everything else in the toolkit (the return template, the reader, the sample-data
generator, the reports) takes its items from :func:`load_datamodel`, so a file is
validated before anything uses it, and every problem is reported at once, naming
the item and field, in words an analyst can act on.

Exports: a Frictionless Table Schema of the long CSV return
(:func:`to_table_schema`) so boroughs can check a file with any Frictionless tool,
and a readable data dictionary (:func:`to_data_dictionary`) for the steering group.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from lscb_nb.core import config, periods, returnformat, values
from lscb_nb.core.fileio import write_json_atomic, write_text_atomic

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# Enumerations (SCHEMA.md) and readable labels for reports
# --------------------------------------------------------------------------------------

UNITS: tuple[str, ...] = ("count", "percentage", "rate_per_10k")
POLARITIES: tuple[str, ...] = ("high", "low", "neutral")
# Where an item sits in a version: every board collects core items; develop items
# are wanted but not yet reliably available; local options are for boards to choose.
TIERS: tuple[str, ...] = ("core", "develop", "local_option")
FREQUENCIES: tuple[str, ...] = ("quarterly", "annual")
MEASURE_TYPES: tuple[str, ...] = ("flow", "rolling_12_months", "snapshot")
THEMES: tuple[str, ...] = (
    "referral_and_assessment",
    "child_protection",
    "looked_after_children",
    "health_and_wellbeing",
    "education_and_inclusion",
    "youth_justice",
    "domestic_abuse_and_vulnerable_groups",
    "children_views_and_participation",
    "workforce_and_training",
    "case_reviews_and_child_deaths",
    "early_help_and_voluntary_sector",
)
LSCB_FUNCTIONS: tuple[str, ...] = (
    "policies_and_procedures",
    "communication_and_awareness",
    "monitoring_and_evaluation",
    "planning_services",
    "serious_case_reviews",
    "child_death_review",
    "training",
)
STATUTORY_RETURNS: tuple[str, ...] = (
    "cin_census",
    "ssda903",
    "csww",
    "school_census",
    "yjb",
    "cafcass",
    "hes",
    "none",
)
STATUSES: tuple[str, ...] = ("candidate", "draft", "pilot", "refined", "agreed")
# The bundled published tables (lscb_nb.core.reference.SOURCES; a test keeps them in step).
# Kept here rather than imported so that loading a data model reads no reference data.
PUBLISHED_SOURCES: tuple[str, ...] = (
    "dfe_cin_b1",
    "dfe_cin_c1",
    "dfe_cin_c4",
    "dfe_cin_d3",
    "dfe_cin_d5",
    "dfe_ssda903",
    "dfe_csww",
    "lait",
)
SEVERITIES: tuple[str, ...] = ("error", "query")
OPERATORS: tuple[str, ...] = ("<=", "<", ">=", ">", "==")
AGENCIES: tuple[str, ...] = tuple(returnformat.AGENCIES)

# Item ids are an agency prefix and two digits; the prefix says who supplies it.
ID_PREFIXES: dict[str, str] = {
    "CSC": "childrens_social_care",
    "POL": "police",
    "HLT": "health",
    "EDU": "education",
    "YJS": "youth_justice",
    "PRB": "probation",
    "CAF": "cafcass",
    "VOL": "voluntary_sector",
    "LSCB": "lscb",
}
ITEM_ID_PATTERN = re.compile(r"^[A-Z]{2,4}[0-9]{2}$")
RULE_ID_PATTERN = re.compile(r"^XR[0-9]{2}$")
NATIONAL_INDICATOR_PATTERN = re.compile(r"^NI [0-9]{1,3}$")

AGENCY_LABELS: dict[str, str] = dict(returnformat.AGENCIES)
THEME_LABELS: dict[str, str] = {
    "referral_and_assessment": "Referral and assessment",
    "child_protection": "Child protection",
    "looked_after_children": "Looked-after children and care leavers",
    "health_and_wellbeing": "Health and wellbeing",
    "education_and_inclusion": "Education and inclusion",
    "youth_justice": "Youth justice",
    "domestic_abuse_and_vulnerable_groups": "Domestic abuse and vulnerable groups",
    "children_views_and_participation": "Children's views and participation",
    "workforce_and_training": "Workforce and training",
    "case_reviews_and_child_deaths": "Case reviews and child deaths",
    "early_help_and_voluntary_sector": "Early help and the voluntary sector",
}
LSCB_FUNCTION_LABELS: dict[str, str] = {
    "policies_and_procedures": "Policies and procedures",
    "communication_and_awareness": "Communication and raising awareness",
    "monitoring_and_evaluation": "Monitoring and evaluation",
    "planning_services": "Participating in planning services",
    "serious_case_reviews": "Serious case reviews",
    "child_death_review": "Child death review",
    "training": "Training",
}
STATUTORY_RETURN_LABELS: dict[str, str] = {
    "cin_census": "Children in need census",
    "ssda903": "SSDA903 (children looked after)",
    "csww": "Children's social work workforce census",
    "school_census": "School census",
    "yjb": "Youth Justice Board returns",
    "cafcass": "Cafcass national statistics",
    "hes": "Hospital Episode Statistics",
    "none": "None",
}
UNIT_LABELS: dict[str, str] = {
    "count": "Count",
    "percentage": "Percentage",
    "rate_per_10k": "Rate per 10,000 children aged 0-17",
}
POLARITY_LABELS: dict[str, str] = {
    "high": "Higher is better",
    "low": "Lower is better",
    "neutral": "Neither: read in context",
}
FREQUENCY_LABELS: dict[str, str] = {
    "quarterly": "Quarterly",
    "annual": "Annual (returned in Q4)",
}
MEASURE_TYPE_LABELS: dict[str, str] = {
    "flow": "Events in the period",
    "rolling_12_months": "Events in the 12 months to the period end",
    "snapshot": "Count on the last day of the period",
}
PUBLISHED_SOURCE_LABELS: dict[str, str] = {
    "dfe_cin_b1": "DfE children in need (B1)",
    "dfe_cin_c1": "DfE children in need (C1)",
    "dfe_cin_c4": "DfE children in need (C4)",
    "dfe_cin_d3": "DfE children in need (D3)",
    "dfe_cin_d5": "DfE children in need (D5)",
    "dfe_ssda903": "DfE children looked after (SSDA903)",
    "dfe_csww": "DfE social work workforce",
    "lait": "LAIT",
}

# --------------------------------------------------------------------------------------
# Fields, in the order files are written (a stable order keeps git diffs readable)
# --------------------------------------------------------------------------------------

META_FIELDS: tuple[str, ...] = (
    "dataset",
    "version",
    "status",
    "based_on",
    "released",
    "description",
)
TOP_LEVEL_FIELDS: tuple[str, ...] = (*META_FIELDS, "items", "cross_item_rules")
ITEM_FIELDS: tuple[str, ...] = (
    "item_id",
    "title",
    "aliases",
    "definition",
    "numerator",
    "denominator",
    "denominator_item",
    "unit",
    "polarity",
    "decimal_places",
    "frequency",
    "measure_type",
    "agency",
    "theme",
    "lscb_function",
    "statutory_return",
    "source_systems",
    "national_indicators",
    "published_measures",
    "related_items",
    "valid_range",
    "essential",
    "tier",
)
# Fields an item may leave out; they take these values.
ITEM_DEFAULTS: dict[str, Any] = {
    "aliases": [],
    "denominator": None,
    "denominator_item": None,
    "source_systems": [],
    "national_indicators": [],
    "published_measures": [],
    "related_items": [],
    "tier": "core",
}
REQUIRED_ITEM_FIELDS: tuple[str, ...] = tuple(f for f in ITEM_FIELDS if f not in ITEM_DEFAULTS)
RULE_FIELDS: tuple[str, ...] = ("rule_id", "left", "operator", "right", "severity", "message")
DIFF_COLUMNS: tuple[str, ...] = ("item_id", "change", "field", "old_value", "new_value")

_ENUM_FIELDS: dict[str, tuple[str, ...]] = {
    "unit": UNITS,
    "polarity": POLARITIES,
    "frequency": FREQUENCIES,
    "measure_type": MEASURE_TYPES,
    "agency": AGENCIES,
    "theme": THEMES,
    "lscb_function": LSCB_FUNCTIONS,
    "statutory_return": STATUTORY_RETURNS,
    "tier": TIERS,
}
_TEXT_FIELDS = ("title", "definition", "numerator")


class DataModelError(ValueError):
    """A data-model file or dict that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: Iterable[str], source: str | None = None) -> None:
        self.problems: list[str] = list(problems)
        where = f"{source}: " if source else ""
        count = len(self.problems)
        head = f"{where}{count} problem{'s' if count != 1 else ''} in the data model"
        super().__init__(head + ":\n" + "\n".join(f"- {p}" for p in self.problems))


# --------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class DataModel:
    """One validated version of the dataset.

    ``items`` has one row per item, indexed by ``item_id``, with every other field
    of SCHEMA.md as a column (list fields stay Python lists, ``valid_range`` a dict),
    in file order. ``rules`` has the columns of :data:`RULE_FIELDS`. ``meta`` holds
    the top-level fields (dataset, version, status, based_on, released, description).
    Equality is identity: compare versions with :func:`diff_datamodels`.
    """

    version: str
    meta: dict
    items: pd.DataFrame
    rules: pd.DataFrame

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return (
            f"DataModel(version={self.version!r}, items={len(self.items)}, rules={len(self.rules)})"
        )

    @property
    def item_ids(self) -> list[str]:
        """Item ids in file order."""
        return [str(i) for i in self.items.index]

    def item(self, item_id: str) -> dict:
        """One item as a plain dict with every field (``item_id`` included)."""
        if item_id not in self.items.index:
            close = difflib.get_close_matches(str(item_id), self.item_ids, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"No item {item_id!r} in data model {self.version}.{hint}")
        return _item_record(item_id, self.items.loc[item_id])

    def by_agency(self, agency: str) -> pd.DataFrame:
        """The items one agency supplies (its code, 'police', or its label, 'Police')."""
        key = str(agency).strip()
        by_label = {label.casefold(): code for code, label in AGENCY_LABELS.items()}
        code = key if key in AGENCIES else by_label.get(key.casefold())
        if code is None:
            raise ValueError(
                f"Unknown agency {agency!r}: use one of {', '.join(AGENCIES)} "
                "(or its readable name, e.g. 'Police')."
            )
        return self.items[self.items["agency"] == code].copy()


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _allowed(options: Iterable[str]) -> str:
    return ", ".join(options)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_list_of_text(label: str, field: str, value: object, problems: list[str]) -> list[str]:
    """Problems go to ``problems``; returns the valid strings for further checks."""
    if not isinstance(value, list):
        problems.append(f"{label}: {field} must be a list (use [] for none), not {value!r}.")
        return []
    good = []
    for entry in value:
        if _is_text(entry):
            good.append(entry)
        else:
            problems.append(f"{label}: {field} has an entry {entry!r} that is not a text value.")
    return good


def _check_published(label: str, value: object, problems: list[str]) -> None:
    if not isinstance(value, list):
        problems.append(
            f"{label}: published_measures must be a list of {{source, measure}} (use [] for none)."
        )
        return
    seen = set()
    for n, entry in enumerate(value, start=1):
        where = f"{label}: published_measures entry {n}"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be a mapping {{source, measure}}, not {entry!r}.")
            continue
        extra = sorted(set(entry) - {"source", "measure"})
        if extra:
            problems.append(f"{where} has unknown keys {extra}: only source and measure.")
        source, measure = entry.get("source"), entry.get("measure")
        if source not in PUBLISHED_SOURCES:
            problems.append(
                f"{where}: source {source!r} is not allowed; use one of "
                f"{_allowed(PUBLISHED_SOURCES)}."
            )
        if not _is_text(measure):
            problems.append(
                f"{where}: measure must be the table's column name or LAIT Short Desc, "
                f"not {measure!r}."
            )
        key = (str(source), str(measure))
        if key in seen:
            problems.append(f"{where} repeats {source} {measure!r}.")
        seen.add(key)


def _check_valid_range(label: str, value: object, problems: list[str]) -> None:
    if not isinstance(value, Mapping) or set(value) != {"min", "max"}:
        problems.append(
            f"{label}: valid_range must be {{min: ..., max: ...}} (either may be null), "
            f"not {value!r}."
        )
        return
    low, high = value["min"], value["max"]
    for key, bound in (("min", low), ("max", high)):
        if bound is not None and not _is_number(bound):
            problems.append(f"{label}: valid_range {key} must be a number or null, not {bound!r}.")
    if _is_number(low) and _is_number(high) and low > high:
        problems.append(f"{label}: valid_range min ({low}) is above max ({high}).")


def _check_aliases(label: str, item: Mapping, problems: list[str]) -> None:
    """Aliases are other names for the same measure (phase 1 matches on them): text,
    each once, none repeating the title."""
    aliases = _check_list_of_text(label, "aliases", item.get("aliases", []), problems)
    folded = [" ".join(a.lower().split()) for a in aliases]
    if len(set(folded)) != len(folded):
        problems.append(f"{label}: aliases lists a name more than once.")
    title = item.get("title")
    if _is_text(title) and " ".join(title.lower().split()) in folded:
        problems.append(f"{label}: aliases repeats the title {title!r}.")


def _item_label(item: Mapping, position: int) -> str:
    item_id = item.get("item_id")
    return f"item {item_id}" if _is_text(item_id) else f"item #{position} (no valid item_id)"


def _check_item(
    item: Mapping, position: int, known: set[str], by_id: Mapping[str, Mapping]
) -> list[str]:
    """Every problem with one item, given the ids of the whole model."""
    label = _item_label(item, position)
    problems: list[str] = []
    unknown = [k for k in item if k not in ITEM_FIELDS]
    if unknown:
        problems.append(
            f"{label}: unknown field{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; the fields are {_allowed(ITEM_FIELDS)}."
        )
    missing = [f for f in REQUIRED_ITEM_FIELDS if f not in item]
    if missing:
        problems.append(
            f"{label}: missing required field{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}."
        )

    item_id = item.get("item_id")
    if "item_id" in item:
        if not isinstance(item_id, str):
            problems.append(f"{label}: item_id must be text such as 'CSC01', not {item_id!r}.")
        elif not ITEM_ID_PATTERN.match(item_id):
            problems.append(
                f"{label}: item_id {item_id!r} must be an agency prefix of 2-4 capital "
                "letters and two digits, e.g. 'CSC01'."
            )
        else:
            prefix = item_id[:-2]
            agency = item.get("agency")
            if prefix not in ID_PREFIXES:
                problems.append(
                    f"{label}: prefix {prefix!r} is not an agency prefix; use one of "
                    f"{_allowed(ID_PREFIXES)}."
                )
            elif agency in AGENCIES and ID_PREFIXES[prefix] != agency:
                problems.append(
                    f"{label}: the prefix {prefix} belongs to agency {ID_PREFIXES[prefix]!r} "
                    f"but the item's agency is {agency!r}."
                )

    for field in _TEXT_FIELDS:
        if field in item and not _is_text(item[field]):
            problems.append(f"{label}: {field} must be non-empty text, not {item[field]!r}.")
    for field, options in _ENUM_FIELDS.items():
        if field in item and item[field] not in options:
            problems.append(
                f"{label}: {field} {item[field]!r} is not allowed; use one of {_allowed(options)}."
            )

    places = item.get("decimal_places")
    if "decimal_places" in item and (
        not isinstance(places, int) or isinstance(places, bool) or not 0 <= places <= 2
    ):
        problems.append(
            f"{label}: decimal_places must be a whole number 0, 1 or 2, not {places!r}."
        )
    if "essential" in item and not isinstance(item["essential"], bool):
        problems.append(f"{label}: essential must be true or false, not {item['essential']!r}.")
    if "valid_range" in item:
        _check_valid_range(label, item["valid_range"], problems)

    _check_list_of_text(label, "source_systems", item.get("source_systems", []), problems)
    _check_aliases(label, item, problems)
    for ni in _check_list_of_text(
        label, "national_indicators", item.get("national_indicators", []), problems
    ):
        if not NATIONAL_INDICATOR_PATTERN.match(ni):
            problems.append(f"{label}: national indicator {ni!r} should be written like 'NI 68'.")
    _check_published(label, item.get("published_measures", []), problems)
    related = _check_list_of_text(label, "related_items", item.get("related_items", []), problems)
    for other in related:
        if other not in known:
            problems.append(f"{label}: related_items names {other!r}, which is not an item.")
        elif other == item_id:
            problems.append(f"{label}: related_items names the item itself.")
    if len(set(related)) != len(related):
        problems.append(f"{label}: related_items lists an item more than once.")

    # What the figure is divided by must fit its unit.
    unit = item.get("unit")
    denominator = item.get("denominator")
    den_item = item.get("denominator_item")
    if denominator is not None and not _is_text(denominator):
        problems.append(f"{label}: denominator must be text or null, not {denominator!r}.")
    if den_item is not None and not isinstance(den_item, str):
        problems.append(f"{label}: denominator_item must be an item id or null, not {den_item!r}.")
    if unit == "percentage" and not _is_text(denominator):
        problems.append(
            f"{label}: a percentage needs a denominator (what the numerator is divided by)."
        )
    if unit == "count" and denominator is not None:
        problems.append(f"{label}: a count is not divided by anything: set denominator to null.")
    if unit in ("count", "rate_per_10k") and den_item is not None:
        problems.append(
            f"{label}: a {unit} cannot have a denominator_item ({den_item!r}); only a "
            "percentage is divided by another item."
        )
    if isinstance(den_item, str) and unit == "percentage":
        target = by_id.get(den_item)
        if den_item not in known:
            problems.append(f"{label}: denominator_item {den_item!r} is not an item.")
        elif den_item == item_id:
            problems.append(f"{label}: denominator_item is the item itself.")
        elif target is not None:
            if target.get("unit") == "percentage":
                problems.append(
                    f"{label}: denominator_item {den_item} is a percentage; the denominator "
                    "must be a count or a rate's count."
                )
            if target.get("frequency") != item.get("frequency"):
                problems.append(
                    f"{label}: denominator_item {den_item} is {target.get('frequency')} but "
                    f"the item is {item.get('frequency')}; both must be returned together."
                )
    return problems


def _check_rule(
    rule: object, position: int, known: set[str], by_id: Mapping[str, Mapping]
) -> list[str]:
    if not isinstance(rule, Mapping):
        return [f"rule #{position}: must be a mapping with {_allowed(RULE_FIELDS)}, not {rule!r}."]
    rule_id = rule.get("rule_id")
    label = f"rule {rule_id}" if _is_text(rule_id) else f"rule #{position} (no valid rule_id)"
    problems: list[str] = []
    unknown = [k for k in rule if k not in RULE_FIELDS]
    if unknown:
        problems.append(
            f"{label}: unknown field{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; the fields are {_allowed(RULE_FIELDS)}."
        )
    missing = [f for f in RULE_FIELDS if f not in rule]
    if missing:
        problems.append(
            f"{label}: missing required field{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}."
        )
    if "rule_id" in rule and not (isinstance(rule_id, str) and RULE_ID_PATTERN.match(rule_id)):
        problems.append(f"{label}: rule_id {rule_id!r} must look like 'XR01'.")
    sides = {
        side: rule.get(side) if isinstance(rule.get(side), str) else None
        for side in ("left", "right")
    }
    for side in ("left", "right"):
        if side in rule and sides[side] not in known:
            problems.append(f"{label}: {side} {rule[side]!r} is not an item of this data model.")
    if sides["left"] is not None and sides["left"] == sides["right"]:
        problems.append(f"{label}: left and right are the same item.")
    if "operator" in rule and rule["operator"] not in OPERATORS:
        problems.append(
            f"{label}: operator {rule['operator']!r} is not allowed; use one of "
            f"{_allowed(OPERATORS)}."
        )
    if "severity" in rule and rule["severity"] not in SEVERITIES:
        problems.append(
            f"{label}: severity {rule['severity']!r} is not allowed; use one of "
            f"{_allowed(SEVERITIES)}."
        )
    if "message" in rule and not _is_text(rule["message"]):
        problems.append(f"{label}: message must be non-empty text for the borough officer.")
    left, right = by_id.get(sides["left"]), by_id.get(sides["right"])
    if left is not None and right is not None and left.get("frequency") != right.get("frequency"):
        problems.append(
            f"{label}: compares {rule['left']} ({left.get('frequency')}) with "
            f"{rule['right']} ({right.get('frequency')}); a rule can only compare items "
            "returned in the same period."
        )
    return problems


def _check_meta(raw: Mapping, file_name: str | Path | None) -> list[str]:
    problems: list[str] = []
    unknown = [k for k in raw if k not in TOP_LEVEL_FIELDS]
    if unknown:
        problems.append(
            f"unknown top-level field{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; the fields are {_allowed(TOP_LEVEL_FIELDS)}."
        )
    missing = [f for f in TOP_LEVEL_FIELDS if f not in raw]
    if missing:
        problems.append(
            f"missing top-level field{'s' if len(missing) > 1 else ''} {', '.join(missing)}."
        )
    for field in ("dataset", "description"):
        if field in raw and not _is_text(raw[field]):
            problems.append(f"{field} must be non-empty text, not {raw[field]!r}.")
    version = raw.get("version")
    if "version" in raw and not _is_text(version):
        problems.append(f"version must be text such as '1.0-candidate', not {version!r}.")
    if file_name is not None and _is_text(version):
        stem = Path(file_name).name.removesuffix(".yaml")
        if stem != version:
            problems.append(
                f"version {version!r} does not match the file name {Path(file_name).name!r}: "
                "a version's file must be named <version>.yaml."
            )
    if "status" in raw and raw["status"] not in STATUSES:
        problems.append(
            f"status {raw['status']!r} is not allowed; use one of {_allowed(STATUSES)}."
        )
    based_on = raw.get("based_on")
    if based_on is not None and not _is_text(based_on):
        problems.append(f"based_on must be a version id or null, not {based_on!r}.")
    elif based_on is not None and based_on == version:
        problems.append(f"based_on names the version itself ({version!r}).")
    if "released" in raw and _released_text(raw["released"]) is None:
        problems.append(
            f"released must be an ISO date such as '2007-09-30', not {raw['released']!r}."
        )
    return problems


def _released_text(value: object) -> str | None:
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


def validate_datamodel(raw: object, *, file_name: str | Path | None = None) -> list[str]:
    """Every problem with a data model as read from YAML, as clear messages; [] if none.

    Each message names the item (or rule) and field and, for a coded field, the
    values allowed. Pass ``file_name`` when the dict came from a file, to check
    that the version matches the file's name.
    """
    if not isinstance(raw, Mapping):
        return [
            "the data model must be a mapping with the top-level fields "
            f"{_allowed(TOP_LEVEL_FIELDS)}, not {type(raw).__name__}."
        ]
    problems = _check_meta(raw, file_name)

    items = raw.get("items")
    if not isinstance(items, list) or not items:
        problems.append("items must be a non-empty list of items.")
        items = []
    mappings = [(n, i) for n, i in enumerate(items, start=1) if isinstance(i, Mapping)]
    for n, entry in enumerate(items, start=1):
        if not isinstance(entry, Mapping):
            problems.append(f"item #{n}: must be a mapping of fields, not {entry!r}.")

    first_seen: dict[str, int] = {}
    for n, item in mappings:
        item_id = item.get("item_id")
        if isinstance(item_id, str):
            if item_id in first_seen:
                problems.append(
                    f"duplicate item_id {item_id!r} (items #{first_seen[item_id]} and #{n}): "
                    "every item needs its own id."
                )
            else:
                first_seen[item_id] = n
    known = set(first_seen)
    by_id = {item["item_id"]: item for _, item in mappings if isinstance(item.get("item_id"), str)}
    for n, item in mappings:
        problems.extend(_check_item(item, n, known, by_id))

    rules = raw.get("cross_item_rules", [])
    if rules is None:
        rules = []
    if not isinstance(rules, list):
        problems.append("cross_item_rules must be a list of rules (use [] for none).")
        rules = []
    seen_rules: dict[str, int] = {}
    for n, rule in enumerate(rules, start=1):
        problems.extend(_check_rule(rule, n, known, by_id))
        rule_id = rule.get("rule_id") if isinstance(rule, Mapping) else None
        if isinstance(rule_id, str):
            if rule_id in seen_rules:
                problems.append(
                    f"duplicate rule_id {rule_id!r} (rules #{seen_rules[rule_id]} and #{n})."
                )
            else:
                seen_rules[rule_id] = n
    return problems


# --------------------------------------------------------------------------------------
# dict <-> DataModel
# --------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Python values YAML and JSON can write: no numpy scalars, NaN as None."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar
    if value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value


def _item_record(item_id: str, row: pd.Series) -> dict:
    record = {"item_id": str(item_id)}
    for field in ITEM_FIELDS[1:]:
        record[field] = copy.deepcopy(_plain(row[field]))
    return record


def from_dict(raw: Mapping, *, file_name: str | Path | None = None) -> DataModel:
    """A :class:`DataModel` from a dict as read from YAML; DataModelError lists every problem."""
    problems = validate_datamodel(raw, file_name=file_name)
    if problems:
        raise DataModelError(problems, str(file_name) if file_name else None)
    raw = copy.deepcopy(dict(raw))
    meta = {field: raw[field] for field in META_FIELDS}
    meta["released"] = _released_text(meta["released"])
    records = []
    for item in raw["items"]:
        record = {
            field: copy.deepcopy(item.get(field, ITEM_DEFAULTS.get(field))) for field in ITEM_FIELDS
        }
        record["valid_range"] = {
            "min": record["valid_range"]["min"],
            "max": record["valid_range"]["max"],
        }
        record["published_measures"] = [
            {"source": m["source"], "measure": m["measure"]} for m in record["published_measures"]
        ]
        records.append(record)
    items = pd.DataFrame.from_records(records, columns=list(ITEM_FIELDS)).set_index("item_id")
    items["decimal_places"] = items["decimal_places"].astype("int64")
    items["essential"] = items["essential"].astype(bool)
    rules = pd.DataFrame.from_records(
        [{f: r[f] for f in RULE_FIELDS} for r in raw.get("cross_item_rules") or []],
        columns=list(RULE_FIELDS),
    )
    return DataModel(version=str(meta["version"]), meta=meta, items=items, rules=rules)


def to_dict(dm: DataModel) -> dict:
    """The model as plain dicts and lists, in file order: what :func:`save_datamodel` writes."""
    out: dict[str, Any] = {field: _plain(dm.meta.get(field)) for field in META_FIELDS}
    out["items"] = [_item_record(i, row) for i, row in dm.items.iterrows()]
    out["cross_item_rules"] = [
        {field: _plain(getattr(rule, field)) for field in RULE_FIELDS}
        for rule in dm.rules.itertuples(index=False)
    ]
    return out


def keep_items(raw: dict, item_ids: Iterable[str]) -> dict:
    """``raw`` (as from :func:`to_dict`) with only these items; related items,
    denominator items and cross-item rules that name a removed item are dropped too,
    so the new version validates. Phases use it to derive the next version."""
    ids = set(item_ids)
    kept = [item for item in raw["items"] if item["item_id"] in ids]
    for item in kept:
        item["related_items"] = [r for r in item.get("related_items") or [] if r in ids]
        if item.get("denominator_item") not in ids:
            item["denominator_item"] = None
    rules = [r for r in raw["cross_item_rules"] if r["left"] in ids and r["right"] in ids]
    return {**raw, "items": kept, "cross_item_rules": rules}


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------


def _folder(folder: Path | str | None) -> Path:
    return Path(folder) if folder is not None else config.DATAMODEL_DIR


def _version_key(version: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", version)]


def available_versions(folder: Path | str | None = None) -> list[str]:
    """The versions in ``folder`` (``lscb_nb/data/datamodel`` by default), in version order."""
    path = _folder(folder)
    if not path.is_dir():
        return []
    stems = [p.stem for p in path.glob("*.yaml") if not p.name.startswith(".")]
    return sorted(stems, key=_version_key)


def load_datamodel(
    version: str = config.CANDIDATE_VERSION, folder: Path | str | None = None
) -> DataModel:
    """Read and validate ``<folder>/<version>.yaml``.

    Raises FileNotFoundError naming the versions that exist, or DataModelError
    listing every problem in the file (not just the first).
    """
    path = _folder(folder) / f"{version}.yaml"
    if not path.is_file():
        available = available_versions(folder)
        raise FileNotFoundError(
            f"No data-model version {version!r}: there is no {path.name} in {path.parent}. "
            f"Available versions: {', '.join(available) if available else 'none'}."
        )
    stat = path.stat()
    return copy.deepcopy(_load_file(path.resolve(), stat.st_mtime_ns, stat.st_size))


# libyaml's C loader when PyYAML has it: ten times faster, and every report loads a model.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=16)
def _load_file(path: Path, mtime_ns: int, size: int) -> DataModel:
    """Parse and validate a version once per process (re-read when the file changes)."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise DataModelError([f"the file is not valid YAML: {exc}"], path.name) from exc
    return from_dict(raw, file_name=path.name)


class _Dumper(yaml.SafeDumper):
    """Writes long texts (definitions, descriptions) as folded blocks, not quoted lines."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = ">" if len(text) > 80 and "\n" not in text and text == text.strip() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def _dump_yaml(data: dict) -> str:
    header = (
        f"# {data['dataset']}, version {data['version']}.\n"
        "# Written by lscb_nb.core.datamodel.save_datamodel; the format is\n"
        "# lscb_nb/data/datamodel/SCHEMA.md.\n"
    )
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=88,
        default_flow_style=False,
    )
    return header + body


def save_datamodel(dm: DataModel | Mapping, folder: Path | str | None = None) -> Path:
    """Validate and write a version to ``<folder>/<version>.yaml`` atomically.

    Fields are written in SCHEMA.md's order, every field explicitly, so two
    versions diff line by line in git. Returns the path written.
    """
    raw = to_dict(dm) if isinstance(dm, DataModel) else dict(dm)
    problems = validate_datamodel(raw)
    if problems:
        raise DataModelError(problems, "save_datamodel")
    data = to_dict(from_dict(raw))
    path = _folder(folder) / f"{data['version']}.yaml"
    return write_text_atomic(path, _dump_yaml(data))


# --------------------------------------------------------------------------------------
# Comparing versions
# --------------------------------------------------------------------------------------


def _summary(record: dict) -> str:
    if "rule_id" in record:
        return f"{record['left']} {record['operator']} {record['right']} ({record['severity']})"
    return record["title"]


def _diff_records(old: list[dict], new: list[dict], key: str, fields: Iterable[str]) -> list:
    old_by, new_by = {r[key]: r for r in old}, {r[key]: r for r in new}
    rows = []
    for record in new:
        rid = record[key]
        if rid not in old_by:
            rows.append((rid, "added", None, None, _summary(record)))
            continue
        before = old_by[rid]
        for field in fields:
            if before.get(field) != record.get(field):
                rows.append((rid, "changed", field, before.get(field), record.get(field)))
    for record in old:
        if record[key] not in new_by:
            rows.append((record[key], "removed", None, _summary(record), None))
    return rows


def diff_datamodels(old: DataModel, new: DataModel) -> pd.DataFrame:
    """What changed from ``old`` to ``new``: one row per changed field of an item or rule.

    Columns :data:`DIFF_COLUMNS`. An added or removed item (or rule) is one row with
    ``field`` None and its title (a rule's check) as the new or old value. Rules are
    keyed by ``rule_id`` in the ``item_id`` column.
    """
    a, b = to_dict(old), to_dict(new)
    rows = _diff_records(a["items"], b["items"], "item_id", ITEM_FIELDS[1:])
    rows += _diff_records(a["cross_item_rules"], b["cross_item_rules"], "rule_id", RULE_FIELDS[1:])
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
        text = _range_text(value)
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


# --------------------------------------------------------------------------------------
# Exports: Frictionless Table Schema of the return, data dictionary
# --------------------------------------------------------------------------------------


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
            "title": "Borough's own figure",
            "description": "Optional: the figure the borough computed; a mismatch is queried.",
            "constraints": {"minimum": 0},
        },
        "note": {
            "type": "string",
            "title": "Note",
            "description": "Free text from the borough. Never include anything that could "
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


def _range_text(valid_range: Mapping | None) -> str:
    low = (valid_range or {}).get("min")
    high = (valid_range or {}).get("max")
    if low is None and high is None:
        return "any value"
    if high is None:
        return f"{low:g} or more"
    if low is None:
        return f"{high:g} or less"
    return f"{low:g} to {high:g}"


DICTIONARY_COLUMNS: dict[str, str] = {
    "item_id": "Item",
    "title": "Title",
    "aliases": "Also known as",
    "agency": "Agency",
    "theme": "Theme",
    "definition": "Definition",
    "numerator": "Numerator",
    "denominator": "Denominator",
    "denominator_item": "Denominator item",
    "unit": "Unit",
    "polarity": "Polarity",
    "decimal_places": "Decimal places",
    "frequency": "Frequency",
    "measure_type": "Measure type",
    "lscb_function": "LSCB function",
    "statutory_return": "Statutory return",
    "source_systems": "Source systems",
    "national_indicators": "National indicators",
    "published_measures": "Published measures",
    "related_items": "Related items",
    "valid_range": "Valid range",
    "essential": "Essential",
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
                "valid_range": _range_text(item["valid_range"]),
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
