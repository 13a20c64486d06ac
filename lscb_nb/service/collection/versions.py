"""A version as the API and pages show it, and which cells changed from the version
before it (the latest counts; earlier ones stay listed with their changes)."""

from __future__ import annotations

from lscb_nb.service import toolkit
from lscb_nb.service.collection.models import Cell, Submission

_COMPARED = ("numerator", "numerator_state", "denominator", "denominator_state")


def describe(sub: Submission) -> dict:
    return {
        "id": str(sub.pk),
        "la_code_ons": sub.la_code_ons,
        "la_name": toolkit.authority_name(sub.la_code_ons),
        "agency": sub.agency,
        "period": sub.period,
        "version": sub.number,
        "status": sub.status,
        "uploaded_at": sub.uploaded_at.isoformat(),
        "uploaded_by": sub.uploaded_by.get_username() if sub.uploaded_by_id else None,
        "datamodel_version": sub.datamodel_version,
        "rows_read": sub.rows_read,
        "rows_accepted": sub.rows_accepted,
        "rows_quarantined": sub.rows_quarantined,
        "errors": sub.errors,
        "queries": sub.queries,
        "days_late": sub.days_late,
        "synthetic": sub.synthetic,
    }


def _cells(sub: Submission) -> dict[str, tuple]:
    rows = Cell.objects.filter(submission=sub, accepted=True).values_list("item_id", *_COMPARED)
    return {r[0]: r[1:] for r in rows}


def changed_cells(sub: Submission) -> list[dict]:
    """Items whose figure differs from the previous version (added, removed or changed)."""
    previous = (
        Submission.objects.filter(
            la_code_ons=sub.la_code_ons,
            agency=sub.agency,
            period=sub.period,
            number__lt=sub.number,
        )
        .order_by("-number")
        .first()
    )
    if previous is None:
        return []
    before, after = _cells(previous), _cells(sub)
    out = []
    for item in sorted(set(before) | set(after)):
        old, new = before.get(item), after.get(item)
        if old != new:
            out.append(
                {
                    "item_id": item,
                    "before": dict(zip(_COMPARED, old, strict=True)) if old else None,
                    "after": dict(zip(_COMPARED, new, strict=True)) if new else None,
                }
            )
    return out
