"""Rules for phase 2's completed rating instruments (I codes).

The instrument reader (:mod:`lscb_nb.assessment.instruments`) raises them with a
message naming the cell; the message declared here is the rule's own wording,
shown in README's rule table and used where the reader has nothing to add.
"""

from __future__ import annotations

import logging

from lscb_nb.core.rules.registry import ERROR, QUERY, declare

log = logging.getLogger(__name__)

declare(
    "I01",
    ERROR,
    "Unreadable instrument",
    "The instrument could not be read: {detail}",
    stage="instrument",
    summary="instrument that could not be read (not `.xlsx`, password-protected, damaged)",
)
declare(
    "I02",
    ERROR,
    "No ratings sheet",
    "The instrument has no Ratings sheet, or its header row lacks columns: {detail}",
    fields=("item_id",),
    stage="instrument",
    summary="no `Ratings` sheet, or its header lacks the item or criterion columns",
)
declare(
    "I03",
    ERROR,
    "Rater details missing",
    "The rater's details are missing or not recognised, so the ratings cannot be "
    "attributed: {detail}",
    fields=("rater_name", "rater_role", "rater_agency"),
    stage="instrument",
    summary="rater's name or agency missing or unknown (role missing: a query)",
)
declare(
    "I04",
    ERROR,
    "Duplicate rater",
    "This rater's ratings were already read from {detail}; this file is held back.",
    fields=("rater_name",),
    stage="instrument",
    summary="the same file, or the same rater, sent twice",
)
declare(
    "I05",
    ERROR,
    "Unknown item",
    "Item {value} is not in the data model; its ratings are held back.",
    fields=("item_id",),
    stage="instrument",
    summary="item not in the data model",
)
declare(
    "I06",
    ERROR,
    "Score out of range",
    "Score {value} is not on the criterion's scale ({detail}).",
    fields=("score",),
    stage="instrument",
    summary="score off the criterion's scale",
)
declare(
    "I07",
    ERROR,
    "Score is not a number",
    "{value} is not a score; use {detail}.",
    fields=("score",),
    stage="instrument",
    summary="score that is not a number or don't know",
)
declare(
    "I08",
    QUERY,
    "Blank row",
    "A row with no item id, or an item with no scores at all: {detail}",
    fields=("item_id",),
    stage="instrument",
    summary="row with text but no item id, or an item with no scores",
)
declare(
    "I09",
    ERROR,
    "Item rated twice",
    "Item {value} appears more than once; this row is held back.",
    fields=("item_id",),
    stage="instrument",
    summary="item rated twice in one instrument",
)
