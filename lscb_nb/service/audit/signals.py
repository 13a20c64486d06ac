"""Sign-in success, failure and lockout become audit events (Django's auth signals
and django-axes' lockout signal), so no sign-in path can skip the trail."""

from __future__ import annotations

from django.contrib.auth import signals as auth_signals


def _logged_in(sender, request, user, **kwargs) -> None:
    from lscb_nb.service.audit.models import record

    record(request, "sign_in", actor=user)


def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    from lscb_nb.service.audit.models import record

    email = credentials.get("username") or credentials.get("email") or ""
    record(request, "sign_in", outcome="failed", email=email)


def _logged_out(sender, request, user, **kwargs) -> None:
    from lscb_nb.service.audit.models import record

    if user is not None:
        record(request, "sign_out", actor=user)


def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    from lscb_nb.service.audit.models import record

    record(request, "sign_in", outcome="locked_out", email=username or "")


def connect() -> None:
    from axes.signals import user_locked_out

    auth_signals.user_logged_in.connect(_logged_in, dispatch_uid="lscb_audit_in")
    auth_signals.user_login_failed.connect(_login_failed, dispatch_uid="lscb_audit_failed")
    auth_signals.user_logged_out.connect(_logged_out, dispatch_uid="lscb_audit_out")
    user_locked_out.connect(_locked_out, dispatch_uid="lscb_audit_locked")
