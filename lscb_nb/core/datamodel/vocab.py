"""The coded values of the data model's fields and their readable labels.

Declared once as data: ``data/vocab/datamodel.yaml`` (themes, functions, statuses...),
``data/vocab/units.yaml`` (units, with their scale), the return's agencies
(:mod:`lscb_nb.core.returnformat`) and the bundled published sources
(``data/reference/sources.yaml``). The schema takes its enums from here and reports
take their labels, so a new code is added in one place.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources

import yaml

from lscb_nb.core import returnformat, units
from lscb_nb.core.reference.manifest import ids as source_ids
from lscb_nb.core.reference.manifest import labels as source_labels

log = logging.getLogger(__name__)


@cache
def _vocab() -> dict[str, list[dict]]:
    text = (resources.files("lscb_nb") / "data" / "vocab" / "datamodel.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _codes(name: str) -> tuple[str, ...]:
    return tuple(str(entry["code"]) for entry in _vocab()[name])


def _labels(name: str) -> dict[str, str]:
    return {str(entry["code"]): str(entry["label"]) for entry in _vocab()[name]}


UNITS: tuple[str, ...] = units.codes()
POLARITIES = _codes("polarity")
TIERS = _codes("tier")
FREQUENCIES = _codes("frequency")
MEASURE_TYPES = _codes("measure_type")
THEMES = _codes("theme")
LSCB_FUNCTIONS = _codes("lscb_function")
STATUTORY_RETURNS = _codes("statutory_return")
STATUSES = _codes("status")
SEVERITIES = _codes("severity")
OPERATORS = _codes("operator")
AGENCIES: tuple[str, ...] = tuple(returnformat.AGENCIES)
# The bundled published tables an item may cite (the manifest's role: published).
PUBLISHED_SOURCES: tuple[str, ...] = source_ids("published")

# Item ids are an agency prefix and two digits; the prefix says who supplies it.
ID_PREFIXES: dict[str, str] = {e["prefix"]: e["agency"] for e in _vocab()["id_prefix"]}

AGENCY_LABELS: dict[str, str] = dict(returnformat.AGENCIES)
THEME_LABELS = _labels("theme")
LSCB_FUNCTION_LABELS = _labels("lscb_function")
STATUTORY_RETURN_LABELS = _labels("statutory_return")
UNIT_LABELS: dict[str, str] = units.labels()
POLARITY_LABELS = _labels("polarity")
FREQUENCY_LABELS = _labels("frequency")
MEASURE_TYPE_LABELS = _labels("measure_type")
TIER_LABELS = _labels("tier")
STATUS_LABELS = _labels("status")
SEVERITY_LABELS = _labels("severity")
OPERATOR_LABELS = _labels("operator")
PUBLISHED_SOURCE_LABELS: dict[str, str] = source_labels("published")

# What the schema's `x-vocab` names resolve to.
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "unit": UNITS,
    "polarity": POLARITIES,
    "tier": TIERS,
    "frequency": FREQUENCIES,
    "measure_type": MEASURE_TYPES,
    "theme": THEMES,
    "lscb_function": LSCB_FUNCTIONS,
    "statutory_return": STATUTORY_RETURNS,
    "status": STATUSES,
    "severity": SEVERITIES,
    "operator": OPERATORS,
    "agency": AGENCIES,
    "published_source": PUBLISHED_SOURCES,
}
