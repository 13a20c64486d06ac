"""The API's endpoints: submissions (upload, list, read, issues as CSV, submit,
explain, sign off, accept, publish), figures, the audit trail and health.

Every endpoint names its action in ``permissions.yaml``; an id the account may not
see answers 404, exactly as an id that does not exist.
"""

from __future__ import annotations

import uuid

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from lscb_nb.service import permissions
from lscb_nb.service.api.auth import error, not_found, refused, token_required
from lscb_nb.service.audit.models import Event
from lscb_nb.service.collection import exports, intake, receive, workflow
from lscb_nb.service.collection import figures as figures_mod
from lscb_nb.service.collection.models import Issue, Submission
from lscb_nb.service.collection.versions import changed_cells, describe


def _today():
    return timezone.localdate()


def _object(request, sub_id) -> Submission | None:
    """The submission if it exists and the account may see it; else None (404)."""
    try:
        key = uuid.UUID(str(sub_id))
    except ValueError:
        return None
    queryset = permissions.visible(request.membership, Submission.objects.filter(pk=key))
    return queryset.first()


def _flag(request, name: str) -> bool:
    value = request.GET.get(name) or request.POST.get(name) or ""
    return value.strip().lower() in {"1", "true", "yes", "on"}


@token_required(("GET", "POST"))
def submissions(request):
    m = request.membership
    if request.method == "GET":
        subs = permissions.visible(m, Submission.objects.all())
        for key in ("period", "agency", "status"):
            if request.GET.get(key):
                subs = subs.filter(**{key: request.GET[key]})
        return JsonResponse({"submissions": [describe(s) for s in subs[:1000]]})
    if not permissions.allowed(m, "submission.upload"):
        return refused(request, "submission.upload")
    try:
        receive.refuse_oversized(request)
        got = receive.receive(
            request,
            request.FILES.get("file"),
            request.POST.get("period") or None,
            check_only=_flag(request, "check"),
            replace=_flag(request, "replace"),
        )
    except intake.UploadError as exc:
        return error(exc.status, exc.reason, issues=exc.issues)
    if got.submission is None:
        return JsonResponse({"stored": False, **got.feedback})
    return JsonResponse({"stored": True, **describe(got.submission), **got.feedback}, status=201)


@token_required(("GET",))
def submission(request, sub_id):
    sub = _object(request, sub_id)
    if sub is None:
        return not_found()
    body = describe(sub)
    body["issues"] = [_issue_json(i) for i in sub.issues.all().select_related("explanation")]
    body["changed_cells"] = changed_cells(sub)
    return JsonResponse(body)


def _issue_json(issue: Issue) -> dict:
    explanation = getattr(issue, "explanation", None)
    return {
        "id": str(issue.pk),
        "severity": issue.severity,
        "rule_code": issue.rule_code,
        "title": issue.title,
        "message": issue.message,
        "sheet": issue.sheet,
        "row": issue.row,
        "column": issue.column,
        "item_id": issue.item_id,
        "explanation": explanation.text if explanation else None,
    }


@token_required(("GET",))
def submission_issues_csv(request, sub_id):
    sub = _object(request, sub_id)
    if sub is None:
        return not_found()
    text = exports.table_csv(exports.issue_rows(sub))
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="issues-{sub.pk}.csv"'
    return response


def _transition(request, sub_id, action: str, move):
    sub = _object(request, sub_id)
    if sub is None:
        return not_found()
    if not permissions.allowed(request.membership, action, sub):
        return refused(request, action, obj_id=str(sub.pk))
    if not permissions.status_allows(action, sub.status):
        return refused(request, action, 409, f"This version is {sub.get_status_display().lower()}.")
    try:
        sub = move(sub)
    except workflow.TransitionError as exc:
        return refused(request, action, 409, str(exc))
    return JsonResponse(describe(sub))


@token_required(("POST",))
def submission_submit(request, sub_id):
    return _transition(request, sub_id, "submission.submit", lambda s: workflow.submit(request, s))


@token_required(("POST",))
def submission_sign_off(request, sub_id):
    return _transition(
        request, sub_id, "submission.sign_off", lambda s: workflow.sign_off(request, s)
    )


@token_required(("POST",))
def submission_accept(request, sub_id):
    return _transition(request, sub_id, "submission.accept", lambda s: workflow.accept(request, s))


@token_required(("POST",))
def submission_publish(request, sub_id):
    return _transition(
        request, sub_id, "submission.publish", lambda s: workflow.publish(request, s, _today())
    )


@token_required(("POST",))
def submission_explain(request, sub_id, issue_id):
    def move(sub):
        issue = sub.issues.filter(pk=issue_id).first()
        if issue is None:
            raise workflow.TransitionError("This version has no such query.")
        workflow.explain(request, issue, request.POST.get("text", ""), timezone.now())
        return sub

    return _transition(request, sub_id, "submission.explain", move)


@token_required(("GET",))
def figures(request):
    frame = figures_mod.figures(
        request.membership, request.GET.get("period") or None, request.GET.get("item") or None
    )
    return JsonResponse({"figures": frame.to_dict("records")})


@token_required(("GET",))
def audit(request):
    m = request.membership
    if not permissions.allowed(m, "audit.view"):
        return refused(request, "audit.view")
    events = permissions.visible(m, Event.objects.all(), "audit.view").order_by("-at")[:500]
    keys = ("at", "actor", "role", "la_code_ons", "action", "object_type", "object_id", "outcome")
    return JsonResponse({"events": [{k: str(getattr(e, k)) for k in keys} for e in events]})


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # the database is the service's one dependency
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
