"""What every page shares: signing in is required (and, for an administrator, the
TOTP step), the membership is the tenant, and a foreign or missing object gives the
same "not found" page."""

from __future__ import annotations

import functools
import uuid

from django.contrib.auth import logout
from django.shortcuts import redirect, render
from django.utils import timezone

from lscb_nb.service import permissions
from lscb_nb.service.audit.models import record
from lscb_nb.service.collection.models import Submission


def signed_in(view):
    """Pages for signed-in accounts with a membership; administrators must have passed TOTP."""

    @functools.wraps(view)
    def inner(request, *args, **kwargs):
        user = request.user
        membership = getattr(user, "membership", None) if user.is_authenticated else None
        if membership is None:
            return redirect(f"/sign-in/?next={request.path}")
        if membership.is_admin and not user.is_verified():
            logout(request)
            return redirect("/sign-in/")
        request.membership = membership
        return view(request, *args, **kwargs)

    return inner


def page(request, template: str, http_status: int = 200, **context):
    context.setdefault("membership", getattr(request, "membership", None))
    return render(request, template, context, status=http_status)


def not_found(request):
    """The one answer for a missing id and for a foreign one."""
    return page(request, "pages/not_found.html", 404)


def forbidden(request, action: str, message: str = "Your account cannot do that."):
    record(request, "permission_refused", outcome="403", requested=action)
    return page(request, "pages/refused.html", 403, message=message)


def visible_submission(request, sub_id) -> Submission | None:
    try:
        key = uuid.UUID(str(sub_id))
    except ValueError:
        return None
    return permissions.visible(request.membership, Submission.objects.filter(pk=key)).first()


def today():
    return timezone.localdate()
