"""The workflow of a version as small transition functions: uploaded -> checked ->
submitted -> signed off -> accepted -> published. Each checks who may make it and
when, changes the status in one transaction, and writes one audit event.

A refused transition raises :class:`TransitionError` with the reason in plain
words; the caller (page or API) shows it and records the refusal.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import Max

from lscb_nb.service.audit.models import record
from lscb_nb.service.collection.models import (
    ACCEPTED,
    CHECKED,
    PUBLISHED,
    SIGNED_OFF,
    SUBMITTED,
    Explanation,
    Issue,
    Submission,
    Window,
)


class TransitionError(Exception):
    """A transition that the version's state does not allow (HTTP 409)."""


def _latest_number(sub: Submission) -> int:
    return (
        Submission.objects.filter(
            la_code_ons=sub.la_code_ons, agency=sub.agency, period=sub.period
        ).aggregate(top=Max("number"))["top"]
        or 0
    )


def _move(request, sub: Submission, action: str, expected: set[str], new: str, **fields):
    """Move ``sub`` from one of ``expected`` to ``new`` unless someone else moved it first."""
    with transaction.atomic():
        changed = Submission.objects.filter(pk=sub.pk, status__in=expected).update(
            status=new, **fields
        )
        if not changed:
            raise TransitionError(
                f"This version is {sub.get_status_display().lower()}; it cannot be {action}."
            )
        record(request, action, obj=sub, outcome=new)
    sub.refresh_from_db()
    return sub


def check(request, sub: Submission) -> Submission:
    """uploaded -> checked: the toolkit's rules have run on the stored version."""
    return _move(request, sub, "checked", {"uploaded"}, CHECKED)


def submit(request, sub: Submission) -> Submission:
    """checked -> submitted: the agency sends a version with no errors."""
    if sub.errors:
        raise TransitionError(
            f"This version has {sub.errors} error(s); fix them and upload again before submitting."
        )
    if sub.number != _latest_number(sub):
        raise TransitionError("A later version of this return exists; submit that one.")
    return _move(request, sub, "submitted", {CHECKED}, SUBMITTED)


def explain(request, issue: Issue, text: str, now: datetime) -> Explanation:
    """A query explained (errors cannot be explained away, only fixed)."""
    text = text.strip()
    if issue.severity == "error":
        raise TransitionError("An error cannot be explained; correct the figure and upload again.")
    if not text:
        raise TransitionError("Enter why the figure is right.")
    if issue.submission.status not in {CHECKED, SUBMITTED}:
        raise TransitionError("Queries can be explained only before sign-off.")
    with transaction.atomic():
        explanation, _ = Explanation.objects.update_or_create(
            issue=issue, defaults={"text": text[:4000], "by": request.user, "at": now}
        )
        record(request, "explanation", obj=issue.submission, issue=str(issue.pk))
    return explanation


def sign_off(request, sub: Submission) -> Submission:
    """submitted -> signed off, by the partnership lead, who did not upload it, only with
    no errors and every query explained, on the latest version."""
    if sub.uploaded_by_id is not None and sub.uploaded_by_id == request.user.pk:
        raise TransitionError("The account that uploaded a version cannot sign it off.")
    if sub.errors:
        raise TransitionError("This version has errors; it cannot be signed off.")
    unexplained = sub.issues.filter(severity="query", explanation__isnull=True).count()
    if unexplained:
        raise TransitionError(
            f"{unexplained} query(ies) have no explanation yet; explain each before signing off."
        )
    if sub.number != _latest_number(sub):
        raise TransitionError("A later version of this return exists; sign off that one.")
    return _move(request, sub, "signed_off", {SUBMITTED}, SIGNED_OFF, signed_off_by=request.user)


def accept(request, sub: Submission) -> Submission:
    """signed off -> accepted, by the board administrator."""
    return _move(request, sub, "accepted", {SIGNED_OFF}, ACCEPTED)


def publish(request, sub: Submission, today: date) -> Submission:
    """accepted -> published, on or after the release date the board set for the period."""
    window = Window.objects.filter(period=sub.period).first()
    release = window.release_date if window else None
    if release is None:
        raise TransitionError(f"No release date is set for {sub.period}.")
    if today < release:
        raise TransitionError(f"{sub.period} is released on {release:%d %B %Y}, not before.")
    return _move(request, sub, "published", {ACCEPTED}, PUBLISHED)
