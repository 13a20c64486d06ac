"""Accounts: Argon2 hashes, the ASVS 5.0 password rules, django-axes lockout,
TOTP for administrators, session rotation on sign-in, idle and absolute timeouts
on a clock the test controls, CSRF on the sign-in form, and memberships that fit
their role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from lscb_nb.service.accounts.manage import AccountError, add_user
from lscb_nb.service.audit.models import Event
from service.conftest import CAMDEN, PASSWORD


def _sign_in(client, email, password=PASSWORD, otp=""):
    return client.post("/sign-in/", {"email": email, "password": password, "otp_token": otp})


def _code(user) -> str:
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user, _ = add_user("hash@example.invalid", "viewer", PASSWORD, CAMDEN)
    assert user.password.startswith("argon2$")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short but fine", "too short"),  # 14 characters
        ("passwordpassword", "common"),
        ("monkey1234567890!!", "common"),
        ("aaaaaaaaaaaaaaaaaaaa", "common"),
        ("x" * 257, "longer than 256"),
    ],
)
def test_password_rules_refuse(password, reason):
    with pytest.raises(AccountError, match=reason):
        add_user("weak@example.invalid", "viewer", password, CAMDEN)


@pytest.mark.django_db
def test_long_passphrases_without_composition_rules_are_allowed():
    long_one = "a sentence anyone can remember but nobody can guess " * 2  # > 64 characters
    user, _ = add_user("long@example.invalid", "viewer", long_one[:120], CAMDEN)
    assert user.check_password(long_one[:120])
    add_user("lower@example.invalid", "viewer", "only lowercase words here", CAMDEN)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "authority", "agency"),
    [
        ("board_administrator", CAMDEN, None),
        ("partnership_lead", None, None),
        ("partnership_lead", CAMDEN, "police"),
        ("agency_submitter", CAMDEN, None),
        ("agency_submitter", CAMDEN, "not_an_agency"),
        ("agency_submitter", "Atlantis", "police"),
        ("chief", CAMDEN, None),
    ],
)
def test_a_membership_must_fit_its_role(role, authority, agency):
    with pytest.raises(AccountError):
        add_user("misfit@example.invalid", role, PASSWORD, authority, agency)


@pytest.mark.django_db
def test_sign_in_rotates_the_session_key_and_is_audited(client):
    add_user("lead@example.invalid", "partnership_lead", PASSWORD, CAMDEN)
    client.get("/sign-in/")
    client.session.save()
    before = client.session.session_key
    response = _sign_in(client, "lead@example.invalid")
    assert response.status_code == 302
    assert client.session.session_key != before
    assert Event.objects.filter(
        action="sign_in", outcome="ok", actor="lead@example.invalid"
    ).exists()
    bad = _sign_in(Client(), "lead@example.invalid", "not the password at all")
    assert bad.status_code == 400
    assert Event.objects.filter(action="sign_in", outcome="failed").exists()


@pytest.mark.django_db
def test_repeated_failures_lock_the_account(client):
    add_user("target@example.invalid", "viewer", PASSWORD, CAMDEN)
    for _ in range(5):
        _sign_in(client, "target@example.invalid", "a wrong guess of a password")
    locked = _sign_in(client, "target@example.invalid")  # now even the right password
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert Event.objects.filter(action="sign_in", outcome="locked_out").exists()


@pytest.mark.django_db
def test_administrators_need_the_totp_code(client):
    admin, url = add_user("boss@example.invalid", "board_administrator", PASSWORD)
    assert url.startswith("otpauth://totp/")
    assert _sign_in(client, "boss@example.invalid").status_code == 400
    assert _sign_in(client, "boss@example.invalid", otp="000000").status_code == 400
    assert Event.objects.filter(action="sign_in", outcome="otp_failed").exists()
    # django-otp slows guessing: right after a wrong code even the right one waits.
    assert _sign_in(client, "boss@example.invalid", otp=_code(admin)).status_code == 400
    TOTPDevice.objects.get(user=admin).throttle_reset()
    assert _sign_in(client, "boss@example.invalid", otp=_code(admin)).status_code == 302
    assert client.get("/").status_code == 200


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.mark.django_db
def test_idle_and_absolute_timeouts(client, settings):
    clock = Clock()
    settings.SERVICE_CLOCK = clock
    settings.SERVICE_IDLE_TIMEOUT = timedelta(minutes=30)
    settings.SERVICE_ABSOLUTE_TIMEOUT = timedelta(hours=2)
    add_user("v@example.invalid", "viewer", PASSWORD, CAMDEN)
    _sign_in(client, "v@example.invalid")
    clock.at += timedelta(minutes=29)
    assert client.get("/").status_code == 200
    clock.at += timedelta(minutes=31)  # idle for 31 minutes
    assert client.get("/").status_code == 302
    assert Event.objects.filter(action="session.timeout", outcome="idle").exists()
    _sign_in(client, "v@example.invalid")
    for _ in range(5):  # active every 25 minutes, past the 2-hour limit
        clock.at += timedelta(minutes=25)
        last = client.get("/")
    assert last.status_code == 302
    assert Event.objects.filter(action="session.timeout", outcome="absolute").exists()


@pytest.mark.django_db
def test_the_sign_in_form_refuses_a_post_without_csrf_token():
    add_user("c@example.invalid", "viewer", PASSWORD, CAMDEN)
    strict = Client(enforce_csrf_checks=True)
    assert _sign_in(strict, "c@example.invalid").status_code == 403
    page = strict.get("/sign-in/")
    token = page.cookies["csrftoken"].value
    ok = strict.post(
        "/sign-in/",
        {"email": "c@example.invalid", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert ok.status_code == 302


@pytest.mark.django_db
def test_tokens_are_stored_as_digests(accounts, client):
    from lscb_nb.service.accounts.models import ApiToken

    user, key = accounts["csc"]
    assert not ApiToken.objects.filter(digest=key).exists()
    assert client.get("/api/v1/submissions/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    ApiToken.objects.filter(user=user).update(revoked=True)
    assert client.get("/api/v1/submissions/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
