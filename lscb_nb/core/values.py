"""Turn what boroughs and DfE write in a numeric cell into a number and a state.

Suppression and missing codes are data states, never zeros and never a bare NaN:
a cell that says ``c`` stays *suppressed*, with the reason recorded, so a report
can show ``c`` and completeness can count it as supplied-but-suppressed.

DfE/GSS codes: ``c`` suppressed, ``x`` not available, ``u`` low reliability,
``z`` not applicable, ``low`` rounds to zero. Boroughs also write ``*``, ``<5``,
``..``, ``n/a``, ``-`` and similar; they map to the same states.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

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
# A percentage of 0 out of 0 (a rare event that did not happen): the figure was
# supplied, but no percentage is defined. Counted as supplied, never as a gap.
ZERO_DENOMINATOR = "zero_denominator"
# The authority says the agency does not collect this figure at all.
NOT_COLLECTED = "not_collected"

STATES: tuple[str, ...] = (
    REPORTED,
    SUPPRESSED,
    NOT_AVAILABLE,
    LOW_RELIABILITY,
    NOT_APPLICABLE,
    ROUNDS_TO_ZERO,
    MISSING,
    INVALID,
    ZERO_DENOMINATOR,
    NOT_COLLECTED,
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
    "nc": (NOT_COLLECTED, "not collected by this agency (nc)"),
    "not collected": (NOT_COLLECTED, "not collected by this agency"),
}
_LESS_THAN = re.compile(r"^<\s*(\d+)$")
# Forms a number may take that are not plain numbers. Each keeps its own rule code
# so a borough sees why its figure was not used (or was read with a query).
_SEP = r"[ \u00a0\u202f]"
_THOUSANDS = re.compile(
    rf"[+-]?\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|[+-]?\d{{1,3}}(?:{_SEP}\d{{3}})+(?:\.\d+)?"
)
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+|[+-]?\d{1,3}(?:[. ]\d{3})+,\d+")
_PERCENT = re.compile(r"[+-]?[\d.,\s]*\d[\d.,\s]*%|%\s*[+-]?[\d.,]+")
_NON_FINITE = re.compile(r"[+-]?(?:inf|infinity|nan|1\.#inf|1\.#ind)", re.IGNORECASE)
_INTEGER_TEXT = re.compile(r"[+-]?\d+(?:\.\d*)?")
# Integers above this cannot all be held exactly in a float (2**53).
EXACT_INTEGER_LIMIT = 2**53

# The rule codes parse_values can attach to a cell (see lscb_nb.core.validation).
DECIMAL_COMMA = "V09"
THOUSANDS_SEPARATOR = "V10"
PERCENT_SIGN = "V11"
NOT_FINITE = "V12"
TOO_LONG = "V13"
CELL_RULES: tuple[str, ...] = (
    DECIMAL_COMMA,
    THOUSANDS_SEPARATOR,
    PERCENT_SIGN,
    NOT_FINITE,
    TOO_LONG,
)


def parse_values(raw: pd.Series) -> pd.DataFrame:
    """Parse a Series of raw cells into ``value``, ``state``, ``state_reason``,
    ``rule_code`` and ``read_as``.

    Vectorised, with a fast path: text that is a plain finite number passes
    straight through. Everything else is looked at closely, because a figure must
    never change without an issue: a thousands separator (``1,234``) is read with
    a query (``rule_code`` V10, ``read_as`` the number used); a decimal comma
    (``1,5``), a percent sign, ``inf``/``nan`` text and integers too long to store
    exactly are *invalid*, each with its own rule code. Codes map to their state,
    blanks are *missing*, any other text is *invalid* with no rule code (V01).
    """
    index = raw.index
    text = raw.astype("string").str.strip()
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        numeric = raw.astype("float64")
    else:
        numeric = pd.to_numeric(text, errors="coerce")
    value = pd.Series(
        np.asarray(numeric.to_numpy(dtype="float64", na_value=np.nan), dtype="float64"),
        index=index,
    )

    state = pd.Series(REPORTED, index=index, dtype=object)
    reason = pd.Series("", index=index, dtype=object)
    rule = pd.Series("", index=index, dtype=object)
    read_as = pd.Series("", index=index, dtype=object)

    blank = (raw.isna() | (text.fillna("") == "")).to_numpy()
    blank = pd.Series(blank, index=index)
    finite = np.isfinite(value)
    # Codes are looked for only among cells that are not plain numbers (fast).
    words = ~finite & ~blank
    lowered = text[words].str.lower()
    code_state = lowered.map({k: v[0] for k, v in CODES.items()}).reindex(index)
    is_code = code_state.notna() & ~blank
    less_than = lowered.str.match(_LESS_THAN).reindex(index).fillna(False).astype(bool) & ~blank

    state[blank] = MISSING
    reason[blank] = "blank"
    state[is_code] = code_state[is_code]
    reason[is_code] = lowered[is_code].map({k: v[1] for k, v in CODES.items()})
    state[less_than] = SUPPRESSED
    reason[less_than] = "suppressed small number (" + text[less_than].astype(str) + ")"

    # Plain numbers too long to be stored exactly.
    big = finite & (value.abs() >= EXACT_INTEGER_LIMIT) & ~blank
    if big.any():
        too_long = big & text.fillna("").str.fullmatch(_INTEGER_TEXT).fillna(False).astype(bool)
        if not pd.api.types.is_numeric_dtype(raw):
            big = too_long
        rule[big] = TOO_LONG
    # The slow path: anything the fast path did not read as a finite number.
    odd = ~finite & ~blank & ~is_code & ~less_than
    if odd.any():
        t = text[odd].fillna("")
        non_finite = t.str.fullmatch(_NON_FINITE).fillna(False).astype(bool) | np.isinf(value[odd])
        percent = ~non_finite & t.str.fullmatch(_PERCENT).fillna(False).astype(bool)
        thousands = ~non_finite & ~percent & t.str.fullmatch(_THOUSANDS).fillna(False).astype(bool)
        decimal_comma = (
            ~non_finite & ~percent & ~thousands & t.str.fullmatch(_DECIMAL_COMMA).fillna(False)
        ).astype(bool)
        rule[non_finite[non_finite].index] = NOT_FINITE
        rule[percent[percent].index] = PERCENT_SIGN
        rule[decimal_comma[decimal_comma].index] = DECIMAL_COMMA
        if thousands.any():
            idx = thousands[thousands].index
            read = pd.to_numeric(
                t[idx].str.replace(r"[,\s\u00a0\u202f]", "", regex=True), errors="coerce"
            ).astype("float64")
            value[idx] = read.to_numpy()
            rule[idx] = THOUSANDS_SEPARATOR
            read_as[idx] = read.map("{:.15g}".format).to_numpy()
            finite = finite.copy()
            finite[idx] = np.isfinite(read.to_numpy())
    too_long = rule == TOO_LONG
    not_number = (~finite | too_long) & ~blank & ~is_code & ~less_than
    state[not_number] = INVALID
    reason[not_number] = "text in a numeric cell: " + text[not_number].astype(str).str.slice(0, 40)
    value[blank | is_code | less_than | not_number] = np.nan
    return pd.DataFrame(
        {
            "value": value,
            "state": state,
            "state_reason": reason,
            "rule_code": rule,
            "read_as": read_as,
        },
        index=index,
    )


def display_code(state: str) -> str:
    """The code a published table shows for a non-reported state ('' when reported)."""
    return STATE_CODE.get(state, "" if state == REPORTED else "x")
