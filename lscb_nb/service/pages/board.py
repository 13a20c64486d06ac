"""The board's and partnership's oversight pages: collection windows (administrators
open and change them) and the audit trail (each authority its own, administrators all)."""

from __future__ import annotations

from datetime import date

from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from lscb_nb.core.periods import PeriodError
from lscb_nb.service import permissions
from lscb_nb.service.audit.models import Event
from lscb_nb.service.collection.models import Window
from lscb_nb.service.collection.windows import open_window
from lscb_nb.service.pages.common import forbidden, page, signed_in

DATE_FIELDS = ("opens", "deadline", "closes", "release")


def _date(text: str, label: str, errors: list) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors.append((label, f"Enter the {label} date as year-month-day, like 2026-04-30."))
        return None


@signed_in
@require_http_methods(["GET", "POST"])
def windows(request):
    if not permissions.allowed(request.membership, "window.manage"):
        return forbidden(request, "window.manage", "Only a board administrator manages windows.")
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        period = request.POST.get("period", "").strip()
        dates = {f: _date(request.POST.get(f, ""), f, errors) for f in DATE_FIELDS}
        if not period:
            errors.append(("period", "Enter the period, like 2025-26 Q1."))
        if not errors:
            try:
                open_window(period, **dates)
                return redirect("/windows/")
            except (ValueError, PeriodError, FileNotFoundError) as exc:
                errors.append(("period", str(exc)))
        status = 400
    else:
        status = 200
    return page(request, "pages/windows.html", status, windows=Window.objects.all(), errors=errors)


@signed_in
@require_GET
def audit(request):
    m = request.membership
    if not permissions.allowed(m, "audit.view"):
        return forbidden(request, "audit.view", "Your role does not read the audit trail.")
    events = permissions.visible(m, Event.objects.all(), "audit.view").order_by("-at")[:300]
    return page(request, "pages/audit.html", events=events)
