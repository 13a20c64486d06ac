"""Managing accounts from scripts: add one with its membership, issue an API token,
and make the sample's demo accounts. ``lscb-nb service user add`` and
``lscb-nb service token`` call these; every change writes an audit event."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from lscb_nb.core.returnformat import AGENCIES
from lscb_nb.service import toolkit
from lscb_nb.service.accounts.models import BOARD_ADMIN, ROLES, SUBMITTER, ApiToken, Membership
from lscb_nb.service.audit.models import record


class AccountError(ValueError):
    """An account that cannot be made as asked (the message says why)."""


def _scope(role: str, authority: str | None, agency: str | None) -> tuple[str, str]:
    if role not in ROLES:
        raise AccountError(f"--role {role!r}: use one of {', '.join(ROLES)}.")
    if role == BOARD_ADMIN:
        if authority or agency:
            raise AccountError(
                "A board administrator covers the whole area: no --authority/--agency."
            )
        return "", ""
    if not authority:
        raise AccountError(f"A {ROLES[role].lower()} belongs to one authority: give --authority.")
    try:
        la = str(toolkit.authority(authority)["la_code_ons"])
    except KeyError as exc:
        raise AccountError(f"--authority {authority!r}: {exc.args[0]}") from None
    if role == SUBMITTER:
        if agency not in AGENCIES:
            raise AccountError(f"--agency {agency!r}: use one of {', '.join(AGENCIES)}.")
        return la, agency
    if agency:
        raise AccountError(f"A {ROLES[role].lower()} covers every agency: no --agency.")
    return la, ""


def add_user(
    email: str, role: str, password: str, authority: str | None = None, agency: str | None = None
) -> tuple[object, str | None]:
    """Make an account; returns it and, for an administrator, its TOTP setup URL."""
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError(f"--email {email!r} is not an email address.")
    la, agency = _scope(role, authority, agency)
    users = get_user_model()
    if users.objects.filter(username=email).exists():
        raise AccountError(f"An account for {email} exists already.")
    candidate = users(username=email, email=email)
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        raise AccountError("The password is refused: " + " ".join(exc.messages)) from None
    with transaction.atomic():
        user = users.objects.create_user(username=email, email=email, password=password)
        Membership.objects.create(user=user, role=role, la_code_ons=la, agency=agency)
        url = None
        if role == BOARD_ADMIN:
            device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
            url = device.config_url
        record(None, "admin.user_add", outcome=role, la_code_ons=la, agency=agency, email=email)
    return user, url


def read_password_file(path: Path) -> str:
    """The password: the file's first line, without its line ending (spaces kept)."""
    text = Path(path).read_text(encoding="utf-8")
    return text.splitlines()[0] if text else ""


def issue_token(email: str) -> str:
    user = get_user_model().objects.filter(username=email.strip().lower()).first()
    if user is None:
        raise AccountError(f"No account for {email}.")
    key = ApiToken.issue(user)
    record(None, "admin.token_issue", email=user.get_username())
    return key


def demo_password() -> str:
    """A random passphrase-length password for a demo account."""
    return secrets.token_urlsafe(18)
