"""The raw rows every return reader produces: text cells with provenance and read flags.

The cells are named as the long CSV names them, whatever layout they were read from;
the checks (:mod:`lscb_nb.pilot.checks`) read nothing else.
"""

from __future__ import annotations

import logging

from lscb_nb.core.inputfiles import (
    normalise_key,
)

log = logging.getLogger(__name__)

RAW_FIELDS = (
    "time_period",
    "time_identifier",
    "new_la_code",
    "old_la_code",
    "la_name",
    "item_id",
    "numerator",
    "denominator",
    "value",
    "note",
    "submission_date",  # optional: the day the return was sent (see resubmission)
)
PROVENANCE = ("source_file", "source_format", "source_sheet", "source_row")
# Optional columns a reader may add to raw rows, each checked by check_rows: a
# formula with no saved value (V08), a CSV line problem (F10, F12, and the cell an
# unbalanced quote opens), and what a
# template's visible sheet says about authority and period (R03 against _meta), and
# where a sheet's fields are (``numerator=E note=G``, for cell addresses).
READ_FLAGS = (
    "numerator_formula",
    "denominator_formula",
    "read_problem",
    "read_detail",
    "read_column",
    "sheet_la_code",
    "sheet_period",
    "source_columns",
)
FIELD_BY_KEY = {normalise_key(c): c for c in RAW_FIELDS}
FIELD_BY_KEY.update({"notes": "note", "comment": "note", "comments": "note"})
FIELD_BY_KEY.update({"datesent": "submission_date", "submitted": "submission_date"})


def cell_address(sheet: object, row: object, field: str, columns: object = "") -> str:
    """Where a field of a raw row is, as a borough finds it: ``Health!E9`` on a
    template sheet (``columns`` is the reader's ``source_columns``, e.g.
    ``numerator=E note=G``), ``line 9, numerator`` in a CSV."""
    at = dict(p.split("=", 1) for p in str(columns or "").split() if "=" in p)
    has_sheet = sheet is not None and str(sheet) not in ("", "nan", "<NA>", "None")
    has_row = row is not None and str(row) not in ("", "nan", "<NA>", "None")
    if has_sheet:
        name = str(sheet)
        quoted = "'" + name.replace("'", "''") + "'" if not name.isalnum() else name
        if has_row and field in at:
            return f"{quoted}!{at[field]}{int(float(str(row)))}"
        return f"{quoted}, row {int(float(str(row)))}, {field}" if has_row else quoted
    return f"line {int(float(str(row)))}, {field}" if has_row else field
