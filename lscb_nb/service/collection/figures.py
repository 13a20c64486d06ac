"""The figures an account may read: its own (every status, as they stand) and every
other authority's published ones, with the project's small-number suppression
applied by the toolkit's :mod:`lscb_nb.core.disclosure` to whatever is not its own.

For each return (authority, agency, period) the latest version counts; for
another authority's figures, the latest *published* version.
"""

from __future__ import annotations

import pandas as pd
from django.db.models import Count, Max

from lscb_nb.core import disclosure
from lscb_nb.service import permissions, toolkit
from lscb_nb.service.collection.models import PUBLISHED, Cell, Submission

COLUMNS = [
    "la_code_ons",
    "la_name",
    "agency",
    "period",
    "item_id",
    "unit",
    "numerator",
    "denominator",
    "value",
    "value_state",
    "status",
    "version",
    "own",
]


def _latest(queryset) -> list:
    """Ids of the latest version of each return in ``queryset``."""
    tops = queryset.values("la_code_ons", "agency", "period").annotate(top=Max("number"))
    keys = {(t["la_code_ons"], t["agency"], t["period"], t["top"]) for t in tops}
    rows = queryset.values_list("id", "la_code_ons", "agency", "period", "number")
    return [r[0] for r in rows if r[1:] in keys]


def figures(
    membership, period: str | None = None, item: str | None = None, others: bool = True
) -> pd.DataFrame:
    """One row per accepted cell the account may read, suppressed where not its own
    (``others=False``: only its own)."""
    subs = Submission.objects.all()
    if period:
        subs = subs.filter(period=period)
    own_subs = permissions.visible(membership, subs, "figures.view_unpublished")
    own = _frame(set(_latest(own_subs)), item)
    own["own"] = True
    frames = [own]
    if others:
        published = _published(period, item)
        mine = set(own_subs.values_list("id", flat=True))
        frames.append(published[~published["submission_id"].isin(mine)])
    frame = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else pd.DataFrame(columns=[*COLUMNS, "submission_id"])
    )
    return frame.astype({"own": bool})[COLUMNS]


# Other authorities' published figures, suppressed once per change: a version is
# published for good, so the count of published versions (and the latest upload
# among them) says whether what was worked out before still holds.
_PUBLISHED_CACHE: dict[tuple, pd.DataFrame] = {}


def _published(period: str | None, item: str | None) -> pd.DataFrame:
    subs = Submission.objects.filter(status=PUBLISHED)
    if period:
        subs = subs.filter(period=period)
    stamp = subs.aggregate(n=Count("id"), top=Max("uploaded_at"))
    key = (period, item, stamp["n"], stamp["top"])
    if key not in _PUBLISHED_CACHE:
        frame = _frame(set(_latest(subs)), item)
        frame["own"] = False
        if len(_PUBLISHED_CACHE) > 64:
            _PUBLISHED_CACHE.clear()
        _PUBLISHED_CACHE[key] = _suppress(frame, toolkit.project().suppression_threshold)
    return _PUBLISHED_CACHE[key]


def _frame(ids: set, item: str | None) -> pd.DataFrame:
    """The accepted cells of the versions ``ids``, with their return's keys."""
    cells = Cell.objects.filter(submission_id__in=ids, accepted=True)
    if item:
        cells = cells.filter(item_id=item)
    rows = list(
        cells.values(
            "submission_id",
            "submission__la_code_ons",
            "submission__agency",
            "submission__period",
            "submission__status",
            "submission__number",
            "item_id",
            "unit",
            "numerator",
            "denominator",
            "value",
            "value_state",
        )
    )
    if not rows:
        return pd.DataFrame(columns=[*COLUMNS, "submission_id"])
    frame = pd.DataFrame(rows).rename(
        columns=lambda c: c.removeprefix("submission__").replace("number", "version")
    )
    frame["la_name"] = (
        frame["la_code_ons"].map(toolkit.authority_names()).fillna(frame["la_code_ons"])
    )
    return frame.astype({"numerator": object, "denominator": object, "value": object}).where(
        lambda f: f.notna(), None
    )


def _suppress(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Small counts of other authorities become ``c``, and what is derived from them.

    No total across authorities is published by this endpoint, so there is no margin
    to subtract from; a page that adds an area total must add secondary suppression.
    """
    frame = frame.astype({"numerator": object, "denominator": object, "value": object})
    foreign = ~frame["own"]
    small = foreign & (
        disclosure.primary_suppress(frame["numerator"], threshold)
        | disclosure.primary_suppress(frame["denominator"], threshold)
    )
    for col in ("numerator", "denominator", "value"):
        frame.loc[small, col] = disclosure.CODE
    frame.loc[small, "value_state"] = "suppressed"
    frame = frame.where(frame.notna(), None)
    return frame
