"""The data model: the dataset's items and cross-item rules, one YAML file per version.

Each version lives in ``lscb_nb/data/datamodel/<version>.yaml`` (the format is
``lscb_nb/data/datamodel/SCHEMA.md``). The candidate is written by hand; the phases write
``draft``, ``pilot`` and ``refined`` versions beside it with :func:`save_datamodel`.
Everything else in the toolkit takes its items from :func:`load_datamodel`, so a file
is validated before anything uses it, and every problem is reported at once, naming
the item and field, in words an analyst can act on.

The package, by topic:

- :mod:`.vocab`: the coded values and their labels (data in ``data/vocab/``);
- :mod:`.schema`: the JSON Schema (``data/schema/datamodel.schema.yaml``) and the
  validator; :mod:`.checks`: the checks across fields and items a schema cannot make;
- :mod:`.model`: :class:`DataModel` and its conversion to and from dicts;
- :mod:`.io`: versions as YAML files; :mod:`.diff`: changes between versions;
- :mod:`.export`: the Frictionless Table Schema of the return and the data dictionary.

Every public name is re-exported here: ``from lscb_nb.core import datamodel;
datamodel.load_datamodel(...)``.
"""

from __future__ import annotations

import logging

from lscb_nb.core.datamodel.diff import DIFF_COLUMNS, diff_datamodels, format_diff_markdown
from lscb_nb.core.datamodel.export import (
    DICTIONARY_COLUMNS,
    data_dictionary_markdown,
    to_data_dictionary,
    to_table_schema,
    write_data_dictionary,
    write_table_schema,
)
from lscb_nb.core.datamodel.io import (
    VersionReleasedError,
    available_versions,
    dump_datamodel,
    load_datamodel,
    save_datamodel,
)
from lscb_nb.core.datamodel.model import DataModel, DataModelError, from_dict, keep_items, to_dict
from lscb_nb.core.datamodel.schema import (
    ITEM_DEFAULTS,
    ITEM_FIELDS,
    ITEM_ID_PATTERN,
    META_FIELDS,
    NATIONAL_INDICATOR_PATTERN,
    REQUIRED_ITEM_FIELDS,
    RULE_FIELDS,
    RULE_ID_PATTERN,
    TOP_LEVEL_FIELDS,
    validate_datamodel,
)
from lscb_nb.core.datamodel.vocab import (
    AGENCIES,
    AGENCY_LABELS,
    FREQUENCIES,
    FREQUENCY_LABELS,
    ID_PREFIXES,
    LSCB_FUNCTION_LABELS,
    LSCB_FUNCTIONS,
    MEASURE_TYPE_LABELS,
    MEASURE_TYPES,
    OPERATORS,
    POLARITIES,
    POLARITY_LABELS,
    PUBLISHED_SOURCE_LABELS,
    PUBLISHED_SOURCES,
    SEVERITIES,
    STATUSES,
    STATUTORY_RETURN_LABELS,
    STATUTORY_RETURNS,
    THEME_LABELS,
    THEMES,
    TIER_LABELS,
    TIERS,
    UNIT_LABELS,
    UNITS,
)

log = logging.getLogger(__name__)

__all__ = [
    "AGENCIES",
    "AGENCY_LABELS",
    "DICTIONARY_COLUMNS",
    "DIFF_COLUMNS",
    "FREQUENCIES",
    "FREQUENCY_LABELS",
    "ID_PREFIXES",
    "ITEM_DEFAULTS",
    "ITEM_FIELDS",
    "ITEM_ID_PATTERN",
    "LSCB_FUNCTIONS",
    "LSCB_FUNCTION_LABELS",
    "MEASURE_TYPES",
    "MEASURE_TYPE_LABELS",
    "META_FIELDS",
    "NATIONAL_INDICATOR_PATTERN",
    "OPERATORS",
    "POLARITIES",
    "POLARITY_LABELS",
    "PUBLISHED_SOURCES",
    "PUBLISHED_SOURCE_LABELS",
    "REQUIRED_ITEM_FIELDS",
    "RULE_FIELDS",
    "RULE_ID_PATTERN",
    "SEVERITIES",
    "STATUSES",
    "STATUTORY_RETURNS",
    "STATUTORY_RETURN_LABELS",
    "THEMES",
    "THEME_LABELS",
    "TIERS",
    "TIER_LABELS",
    "TOP_LEVEL_FIELDS",
    "UNITS",
    "UNIT_LABELS",
    "DataModel",
    "DataModelError",
    "VersionReleasedError",
    "available_versions",
    "data_dictionary_markdown",
    "diff_datamodels",
    "dump_datamodel",
    "format_diff_markdown",
    "from_dict",
    "keep_items",
    "load_datamodel",
    "save_datamodel",
    "to_data_dictionary",
    "to_dict",
    "to_table_schema",
    "validate_datamodel",
    "write_data_dictionary",
    "write_table_schema",
]
