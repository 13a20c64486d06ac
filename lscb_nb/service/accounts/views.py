"""Signing in and out. Email and password (counted by django-axes, which locks an
account after repeated failures); a board administrator also gives the six-digit
code of the TOTP device made with the account. Django's ``login`` rotates the
session key; the sign-in time starts the absolute timeout."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token

from lscb_nb.service.accounts.sessions import mark_signed_in
from lscb_nb.service.audit.models import record

FAILED = "Enter a correct email address and password."


def locked_out(request, credentials, *args, **kwargs) -> HttpResponse:
    """What django-axes answers a locked account (no hint whether the password was right)."""
    context = {"errors": [("email", "Too many failed attempts. Try again in 15 minutes.")]}
    return render(request, "service/sign_in.html", context, status=429)


@require_http_methods(["GET", "POST"])
def sign_in(request):
    errors: list[tuple[str, str]] = []
    email = ""
    if request.method == "POST":
        email = request.POST.get("email", "").strip().lower()
        password = request.POST.get("password", "")
        user = authenticate(request, username=email, password=password)
        if user is None:
            errors.append(("email", FAILED))
        else:
            membership = getattr(user, "membership", None)
            device = None
            if membership is not None and membership.is_admin:
                device = match_token(user, request.POST.get("otp_token", "").strip())
                if device is None:
                    record(request, "sign_in", outcome="otp_failed", actor=user)
                    errors.append(("otp_token", "Enter the current code from your authenticator."))
            if not errors:
                login(request, user)  # rotates the session key
                if device is not None:
                    otp_login(request, device)
                mark_signed_in(request)
                return redirect("home")
        status = 429 if getattr(request, "axes_locked_out", False) else 400
        return render(
            request, "service/sign_in.html", {"errors": errors, "email": email}, status=status
        )
    return render(request, "service/sign_in.html", {"errors": errors, "email": email})


@require_http_methods(["POST"])
def sign_out(request):
    logout(request)
    return redirect("sign-in")
