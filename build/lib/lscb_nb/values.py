"""Turn what boroughs and DfE write in a numeric cell into a number and a state.

Suppression and missing codes are data states, never zeros and never a bare NaN:
a cell that says ``c`` stays *suppressed*, with the reason recorded, so a report
can show ``c`` and completeness can count it as supplied-but-suppressed.

DfE/GSS codes: ``c`` suppressed, ``x`` not available, ``u`` low reliability,
``z`` not applicable, ``low`` rounds to zero. Boroughs also write ``*``, ``<5``,
``..``, ``n/a``, ``-`` and similar; they map to the same states.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# States a value can be in. "invalid" is text that is no number and no known code:
# the reader reports it as an error and quarantines the row.
REPORTED = "reported"
SUPPRESSED = "suppressed"
NOT_AVAILABLE = "not_available"
LOW_RELIABILITY = "low_reliability"
NOT_APPLICABLE = "not_applicable"
ROUNDS_TO_ZERO = "rounds_to_zero"
MISSING = "missing"
INVALID = "invalid"

STATES: tuple[str, ...] = (
    REPORTED,
    SUPPRESSED,
    NOT_AVAILABLE,
    LOW_RELIABILITY,
    NOT_APPLICABLE,
    ROUNDS_TO_ZERO,
    MISSING,
    INVALID,
)

# The DfE code shown for each state in published tables.
STATE_CODE: dict[str, str] = {
    SUPPRESSED: "c",
    NOT_AVAILABLE: "x",
    LOW_RELIABILITY: "u",
    NOT_APPLICABLE: "z",
    ROUNDS_TO_ZERO: "low",
}

# What people write, lower-cased and stripped, and the state and reason it means.
CODES: dict[str, tuple[str, str]] = {
    "c": (SUPPRESSED, "suppressed (DfE code c)"),
    "*": (SUPPRESSED, "suppressed small number (*)"),
    "**": (SUPPRESSED, "suppressed small number (**)"),
    "supp": (SUPPRESSED, "suppressed small number (supp)"),
    "suppressed": (SUPPRESSED, "suppressed small number"),
    "x": (NOT_AVAILABLE, "not available (DfE code x)"),
    "..": (NOT_AVAILABLE, "not available (..)"),
    "n/a": (NOT_AVAILABLE, "not available (n/a)"),
    "na": (NOT_AVAILABLE, "not available (na)"),
    "not available": (NOT_AVAILABLE, "not available"),
    "-": (NOT_AVAILABLE, "not available (-)"),
    "u": (LOW_RELIABILITY, "low reliability (DfE code u)"),
    "z": (NOT_APPLICABLE, "not applicable (DfE code z)"),
    "low": (ROUNDS_TO_ZERO, "rounds to zero (DfE code low)"),
}
_LESS_THAN = re.compile(r"^<\s*(\d+)$")
_NUMBER_JUNK = re.compile(r"[,\s£%]")


def parse_values(raw: pd.Series) -> pd.DataFrame:
    """Parse a Series of raw cells into ``value``, ``state`` and ``state_reason``.

    Vectorised: numbers pass through, thousands separators and stray spaces are
    removed, codes map to their state, blanks are *missing*, anything else is
    *invalid* with the offending text in the reason.
    """
    index = raw.index
    text = raw.astype("string").str.strip()
    lowered = text.str.lower()
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        numeric = raw
    else:
        numeric = pd.to_numeric(text.str.replace(_NUMBER_JUNK, "", regex=True), errors="coerce")
    value = numeric.astype("float64")

    state = pd.Series(REPORTED, index=index, dtype=object)
    reason = pd.Series("", index=index, dtype=object)

    blank = raw.isna() | (text.fillna("") == "")
    code_state = lowered.map({k: v[0] for k, v in CODES.items()})
    is_code = code_state.notna() & ~blank
    less_than = lowered.str.match(_LESS_THAN).fillna(False).astype(bool) & ~blank

    state[blank] = MISSING
    reason[blank] = "blank"
    state[is_code] = code_state[is_code]
    reason[is_code] = lowered[is_code].map({k: v[1] for k, v in CODES.items()})
    state[less_than] = SUPPRESSED
    reason[less_than] = "suppressed small number (" + text[less_than].astype(str) + ")"

    not_number = value.isna() & ~blank & ~is_code & ~less_than
    state[not_number] = INVALID
    reason[not_number] = "text in a numeric cell: " + text[not_number].astype(str).str.slice(0, 40)
    value[blank | is_code | less_than | not_number] = np.nan
    return pd.DataFrame({"value": value, "state": state, "state_reason": reason}, index=index)


def display_code(state: str) -> str:
    """The code a published table shows for a non-reported state ('' when reported)."""
    return STATE_CODE.get(state, "" if state == REPORTED else "x")
