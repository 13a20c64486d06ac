"""The shape of a borough's quarterly return, shared by the template writer, the
reader, the sample generator and the Table Schema export.

The long CSV follows DfE's Explore Education Statistics tidy layout: one row per
authority, period and item. Boroughs may write a suppression or missing code
instead of a number (see :mod:`lscb_nb.core.values`).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

GEOGRAPHIC_LEVEL = "Local authority"

# Columns of the long CSV return, in order. Documented in README.md.
RETURN_CSV_COLUMNS: tuple[str, ...] = (
    "time_period",  # financial year, EES style: 202425
    "time_identifier",  # "Financial year Q1" .. "Financial year Q4"
    "geographic_level",  # always "Local authority"
    "new_la_code",  # ONS code, E09000001..E09000033
    "old_la_code",  # DfE three-digit code, 201..213, 301..320
    "la_name",
    "item_id",  # data-model item id, e.g. CSC01
    "numerator",  # the count (for a count item, the value itself)
    "denominator",  # for percentages; blank for counts and rates per 10,000
    "value",  # optional: the borough's own computed figure, checked against ours
    "note",  # free text from the borough; escaped wherever it is shown
)

REQUIRED_CSV_COLUMNS: tuple[str, ...] = (
    "time_period",
    "time_identifier",
    "new_la_code",
    "item_id",
    "numerator",
)

# Excel template: sheet names and the header of each agency sheet's table.
INSTRUCTIONS_SHEET = "Instructions"
META_SHEET = "_meta"  # hidden: template version, authority, period, data-model version
# The Instructions sheet's input cell for the day the return is sent: the label in
# column A, the date in the cell to its right. A later date supersedes (README).
DATE_SENT_LABEL = "Date sent"
TEMPLATE_TABLE_HEADER: tuple[str, ...] = (
    "item_id",
    "title",
    "definition",
    "unit",
    "numerator",
    "denominator",
    "note",
)
TEMPLATE_VERSION = "1"

# The agencies of the data model, in the order their sheets appear. Sheet titles
# are the readable names (Excel limits sheet names to 31 characters).
AGENCIES: dict[str, str] = {
    "childrens_social_care": "Children's social care",
    "police": "Police",
    "health": "Health",
    "education": "Education",
    "youth_justice": "Youth justice",
    "probation": "Probation",
    "cafcass": "CAFCASS",
    "voluntary_sector": "Voluntary sector",
    "lscb": "Safeguarding partnership",
}
