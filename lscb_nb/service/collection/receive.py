"""Receiving one upload, the same way from the page and from the API: size first,
then the toolkit's check, then (unless only checking) the replace-confirmation rule,
the new version, and its moves to checked and, with no errors, submitted. Every
outcome writes an audit event."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from lscb_nb.service.audit.models import record
from lscb_nb.service.collection import intake, workflow
from lscb_nb.service.collection.intake import UploadError
from lscb_nb.service.collection.models import ACCEPTED, PUBLISHED, Submission

# Multipart framing around the file may add this much to the declared body.
FRAMING_BYTES = 64 * 1024


@dataclass
class Received:
    feedback: dict
    submission: Submission | None  # None when only checked


def refuse_oversized(request) -> None:
    """Refuse a body too big to be a return before Django reads it."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    top = settings.SERVICE_MAX_UPLOAD_BYTES
    if declared > top + FRAMING_BYTES:
        raise UploadError(
            f"The upload is {declared / 1e6:.1f} MB; the limit is {top / 1e6:.0f} MB.", 413
        )


def receive(request, upload, period: str | None, check_only: bool, replace: bool) -> Received:
    """Check (and unless ``check_only``, store) ``upload`` for the request's membership."""
    m = request.membership
    try:
        if upload is None:
            raise UploadError("Choose the return file to upload.", 400)
        checked = intake.check_upload(
            m, upload.name, upload.chunks(), upload.size, timezone.localdate(), period=period
        )
        feedback = {
            "period": checked.period,
            "rows_read": checked.rows_read,
            "rows_accepted": len(checked.accepted),
            "rows_quarantined": len(checked.quarantined),
            "errors": checked.errors,
            "queries": checked.queries,
            "days_late": checked.days_late,
            "issues": checked.issues,
        }
        if check_only:
            record(request, "check", outcome="not stored", period=checked.period)
            return Received(feedback, None)
        latest = (
            Submission.objects.filter(
                la_code_ons=m.la_code_ons, agency=m.agency, period=checked.period
            )
            .order_by("-number")
            .first()
        )
        if latest and latest.status in {ACCEPTED, PUBLISHED} and not replace:
            raise UploadError(
                f"Version {latest.number} of this return is {latest.status}; confirm that this "
                "upload replaces it (replace=1).",
                409,
            )
    except UploadError as exc:
        record(request, "upload", outcome=f"refused {exc.status}", reason=exc.reason)
        raise
    sub = intake.store(checked, m, request.user, timezone.now())
    record(
        request,
        "resubmission" if sub.number > 1 else "upload",
        obj=sub,
        days_late=sub.days_late,
        rows_accepted=sub.rows_accepted,
    )
    sub = workflow.check(request, sub)
    if not sub.errors:
        try:
            sub = workflow.submit(request, sub)
        except workflow.TransitionError as exc:
            # A later version of the same return arrived meanwhile: that one counts,
            # and this one stays checked (the refusal is in the audit trail).
            record(request, "submitted", obj=sub, outcome="refused", reason=str(exc))
    return Received(feedback, sub)
