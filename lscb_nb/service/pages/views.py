"""The submitter's and partnership's pages: the dashboard of versions, upload and
check (GOV.UK's error-summary pattern, each issue linked to its row), a version
with its issues, changed cells and next steps, the transitions as forms, and the
issue downloads. Permissions are the API's (``permissions.yaml``)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lscb_nb.service import permissions, toolkit
from lscb_nb.service.collection import exports, receive, workflow
from lscb_nb.service.collection.intake import UploadError
from lscb_nb.service.collection.models import STATUSES, Submission, Window
from lscb_nb.service.collection.versions import changed_cells
from lscb_nb.service.pages.common import (
    forbidden,
    not_found,
    page,
    signed_in,
    today,
    visible_submission,
)


def where(issue: dict) -> str:
    """Where an issue is, in plain words: sheet, row and column."""
    parts = []
    if issue.get("sheet"):
        parts.append(f"sheet {issue['sheet']}")
    if issue.get("row"):
        parts.append(f"row {issue['row']}")
    if issue.get("column"):
        parts.append(f"column {issue['column']}")
    return ", ".join(parts) or "the whole file"


def _issue_list(issues) -> list[dict]:
    out = []
    for n, issue in enumerate(issues, start=1):
        item = dict(issue) if isinstance(issue, dict) else issue
        item["anchor"] = f"issue-{n}"
        item["where"] = where(item)
        out.append(item)
    return out


@signed_in
@require_GET
def dashboard(request):
    subs = permissions.visible(request.membership, Submission.objects.all()).order_by(
        "-period", "la_code_ons", "agency", "-number"
    )[:300]
    rows = [
        {"sub": s, "la_name": toolkit.authority_name(s.la_code_ons), "status": STATUSES[s.status]}
        for s in subs
    ]
    return page(request, "pages/dashboard.html", rows=rows)


@signed_in
@require_http_methods(["GET", "POST"])
def upload(request):
    if not permissions.allowed(request.membership, "submission.upload"):
        return forbidden(request, "submission.upload", "Only an agency submitter can upload.")
    windows = Window.objects.filter(opens__lte=today(), closes__gte=today())
    context = {"windows": windows, "errors": [], "result": None}
    if request.method == "POST":
        check_only = request.POST.get("action") == "check"
        try:
            receive.refuse_oversized(request)
            got = receive.receive(
                request,
                request.FILES.get("file"),
                request.POST.get("period") or None,
                check_only=check_only,
                replace=request.POST.get("replace") == "1",
            )
        except UploadError as exc:
            context["errors"] = [("file", exc.reason)]
            context["issues"] = _issue_list(exc.issues)
            return page(request, "pages/upload.html", 400, **context)
        issues = _issue_list(got.feedback["issues"])
        context.update(
            result=got.feedback,
            stored=got.submission,
            issues=issues,
            errors_list=[i for i in issues if i["severity"] == "error"],
            queries_list=[i for i in issues if i["severity"] != "error"],
        )
    return page(request, "pages/upload.html", **context)


@signed_in
@require_GET
def version(request, sub_id):
    sub = visible_submission(request, sub_id)
    if sub is None:
        return not_found(request)
    m = request.membership
    issues = list(sub.issues.all().select_related("explanation"))
    for n, issue in enumerate(issues, start=1):
        issue.anchor = f"issue-{n}"
        issue.where = where({"sheet": issue.sheet, "row": issue.row, "column": issue.column})
    can = {
        a: permissions.allowed(m, f"submission.{a}", sub)
        and permissions.status_allows(f"submission.{a}", sub.status)
        for a in ("submit", "explain", "sign_off", "accept", "publish")
    }
    others = Submission.objects.filter(
        la_code_ons=sub.la_code_ons, agency=sub.agency, period=sub.period
    ).order_by("-number")
    return page(
        request,
        "pages/version.html",
        sub=sub,
        la_name=toolkit.authority_name(sub.la_code_ons),
        status=STATUSES[sub.status],
        issues=issues,
        changed=changed_cells(sub),
        versions=others,
        can=can,
    )


def _transition(request, sub_id, action: str, move):
    sub = visible_submission(request, sub_id)
    if sub is None:
        return not_found(request)
    if not permissions.allowed(request.membership, action, sub):
        return forbidden(request, action)
    if not permissions.status_allows(action, sub.status):
        return forbidden(request, action, f"This version is {STATUSES[sub.status].lower()}.")
    try:
        move(sub)
    except workflow.TransitionError as exc:
        return forbidden(request, action, str(exc))
    return redirect(f"/versions/{sub.pk}/")


@signed_in
@require_POST
def submit(request, sub_id):
    return _transition(request, sub_id, "submission.submit", lambda s: workflow.submit(request, s))


@signed_in
@require_POST
def sign_off(request, sub_id):
    return _transition(
        request, sub_id, "submission.sign_off", lambda s: workflow.sign_off(request, s)
    )


@signed_in
@require_POST
def accept(request, sub_id):
    return _transition(request, sub_id, "submission.accept", lambda s: workflow.accept(request, s))


@signed_in
@require_POST
def publish(request, sub_id):
    return _transition(
        request, sub_id, "submission.publish", lambda s: workflow.publish(request, s, today())
    )


@signed_in
@require_POST
def explain(request, sub_id, issue_id):
    def move(sub):
        issue = sub.issues.filter(pk=issue_id).first()
        if issue is None:
            raise workflow.TransitionError("This version has no such query.")
        workflow.explain(request, issue, request.POST.get("text", ""), timezone.now())

    return _transition(request, sub_id, "submission.explain", move)


@signed_in
@require_GET
def issues_download(request, sub_id, fmt):
    sub = visible_submission(request, sub_id)
    if sub is None:
        return not_found(request)
    rows = exports.issue_rows(sub)
    if fmt == "xlsx":
        response = HttpResponse(
            exports.table_xlsx(rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(exports.table_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="issues-{sub.pk}.{fmt}"'
    return response


@require_GET
def accessibility(request):
    return page(request, "pages/accessibility.html")
