"""The service's own checks, declared as data beside the toolkit's registry: rows an
account may not submit. Each is a code, a severity, a title and a plain message."""

from __future__ import annotations

from lscb_nb.core.rules import ERROR

# code -> (severity, title, message with {placeholders})
SERVICE_RULES: dict[str, tuple[str, str, str]] = {
    "S01": (
        ERROR,
        "Another authority's figures",
        "Sheet {sheet} holds {rows} rows for authority {la}, which this account does not "
        "submit for; they were not stored.",
    ),
    "S02": (
        ERROR,
        "Another agency's figures",
        "Sheet {sheet} holds {rows} rows for the {agency} agency, which this account does not "
        "submit for; they were not stored. Leave other agencies' sheets to them.",
    ),
    "S03": (
        ERROR,
        "Another period's figures",
        "Sheet {sheet} holds {rows} rows for {found}, not {period}; upload each period "
        "separately. They were not stored.",
    ),
}
