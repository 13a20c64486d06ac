"""Bearer-token authentication for the API, and the answers every endpoint shares.

``Authorization: Bearer <token>`` names the account; without a valid one the
answer is 401. The tenant is the token's account's membership. A refusal writes
a "permission refused" audit event.
"""

from __future__ import annotations

import functools

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from lscb_nb.service.accounts.models import ApiToken
from lscb_nb.service.audit.models import record


def error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


NOT_FOUND = "No such submission, or not one this account may see."


def not_found() -> JsonResponse:
    """The one answer for a missing id and for a foreign one."""
    return error(404, NOT_FOUND)


def refused(request, action: str, status: int = 403, message: str = "", **where) -> JsonResponse:
    record(request, "permission_refused", outcome=str(status), requested=action, **where)
    return error(status, message or "This account may not do that.")


def token_required(methods: tuple[str, ...]):
    """Authenticate by bearer token and allow only ``methods`` (else 405)."""

    def wrap(view):
        @csrf_exempt
        @functools.wraps(view)
        def inner(request, *args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, key = header.partition(" ")
            user = ApiToken.user_for(key.strip()) if scheme.lower() == "bearer" else None
            if user is None or not hasattr(user, "membership"):
                response = error(401, "Send a valid API token: Authorization: Bearer <token>.")
                response["WWW-Authenticate"] = 'Bearer realm="lscb"'
                return response
            if request.method not in methods:
                response = error(405, f"Use {' or '.join(methods)} here.")
                response["Allow"] = ", ".join(methods)
                return response
            request.user = user
            request.membership = user.membership
            return view(request, *args, **kwargs)

        return inner

    return wrap
