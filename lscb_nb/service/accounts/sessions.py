"""Idle and absolute session timeouts, with a clock the tests can set.

A signed-in session ends after ``SERVICE_IDLE_TIMEOUT`` without a request and
``SERVICE_ABSOLUTE_TIMEOUT`` after sign-in, whatever happens in between; the next
request is then anonymous (pages redirect to sign in, the API answers 401).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import logout

SIGNED_IN_AT = "lscb_signed_in_at"
LAST_SEEN_AT = "lscb_last_seen_at"


def now() -> datetime:
    """The service's clock: ``settings.SERVICE_CLOCK`` if the tests set one, else UTC now."""
    clock: Callable[[], datetime] | None = getattr(settings, "SERVICE_CLOCK", None)
    return clock() if clock else datetime.now(UTC)


def mark_signed_in(request) -> None:
    stamp = now().timestamp()
    request.session[SIGNED_IN_AT] = stamp
    request.session[LAST_SEEN_AT] = stamp


class SessionTimeoutMiddleware:
    """Signs a session out when it has been idle, or alive, too long."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            current = now().timestamp()
            started = request.session.get(SIGNED_IN_AT, current)
            seen = request.session.get(LAST_SEEN_AT, current)
            idle = current - seen > settings.SERVICE_IDLE_TIMEOUT.total_seconds()
            expired = current - started > settings.SERVICE_ABSOLUTE_TIMEOUT.total_seconds()
            if idle or expired:
                from lscb_nb.service.audit.models import record

                record(
                    request,
                    "session.timeout",
                    outcome="idle" if idle else "absolute",
                    actor=user,
                )
                logout(request)
            else:
                request.session[LAST_SEEN_AT] = current
        return self.get_response(request)
