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
)
PROVENANCE = ("source_file", "source_format", "source_sheet", "source_row")
# Optional columns a reader may add to raw rows, each checked by check_rows: a
# formula with no saved value (V08), a CSV line problem (F10, F12), and what a
# template's visible sheet says about authority and period (R03 against _meta).
READ_FLAGS = (
    "numerator_formula",
    "denominator_formula",
    "read_problem",
    "read_detail",
    "sheet_la_code",
    "sheet_period",
)
FIELD_BY_KEY = {normalise_key(c): c for c in RAW_FIELDS}
FIELD_BY_KEY.update({"notes": "note", "comment": "note", "comments": "note"})
