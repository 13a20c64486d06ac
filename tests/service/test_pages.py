"""The pages: the permission matrix run again for every page with a signed-in
session (administrators through TOTP), every form refused without a CSRF token,
no inline script or style anywhere (the CSP forbids them), GOV.UK Frontend served
by the app, and the journey upload -> error summary -> version -> explain -> sign off."""

from __future__ import annotations

import itertools
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from lscb_nb.service import permissions
from lscb_nb.service.collection.models import Submission, Window
from service.conftest import PASSWORD, return_csv
from service.test_permission_matrix import ROLES, _cross_tenant, _expected, _path, world  # noqa: F401

PAGES = permissions.matrix()["pages"]
POST_DATA = {"text": "The figure is right.", "period": "2030-31 Q1"}


def _signed_in(user, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    data = {"email": user.get_username(), "password": PASSWORD}
    device = TOTPDevice.objects.filter(user=user).first()
    if device is not None:
        data["otp_token"] = f"{totp(device.bin_key, step=device.step, t0=device.t0):06d}"
    if enforce_csrf:
        data["csrfmiddlewaretoken"] = client.get("/sign-in/").cookies["csrftoken"].value
    assert client.post("/sign-in/", data).status_code == 302
    return client


CSRF_VALUE = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def _body(response) -> bytes:
    """The page without its CSRF token (masked afresh on every render)."""
    return CSRF_VALUE.sub(b"", response.content)


def _ok(response) -> bool:
    if response.status_code == 302:
        return not response["Location"].startswith("/sign-in/")
    return 200 <= response.status_code < 300


def _request(client, method, path, data=None):
    with transaction.atomic():
        response = client.get(path) if method == "GET" else client.post(path, data or POST_DATA)
        transaction.set_rollback(True)
    return response


def test_every_page_cell_of_the_matrix(accounts, world, capsys):  # noqa: F811
    tried = cross = 0
    failures = []
    for role, account in ROLES.items():
        client = _signed_in(accounts[account][0])
        missing = str(uuid.uuid4())
        for entry, method in itertools.product(PAGES, ("GET", "POST")):
            action = entry["methods"].get(method)
            if "object" not in entry:
                if entry["name"] == "page-upload" and method == "POST":
                    continue  # uploads: test_permission_matrix runs them per file tenant
                response = _request(client, method, entry["path"])
                expected = action is not None and (
                    action == "submission.list" or _expected(role, "own_agency", action, None)
                )
                tried += 1
                if _ok(response) != expected:
                    failures.append(f"{method} {entry['path']} as {role}: {response.status_code}")
                if (
                    _ok(response)
                    and method == "GET"
                    and entry["name"] in ("home", "page-benchmark")
                ):
                    text = response.content.decode()
                    for (scope, status), (sub, _, marker) in world.items():
                        cross += _cross_tenant(role, scope)
                        tried += 1
                        may = _expected(role, scope, "submission.view", None)
                        if entry["name"] == "home" and (str(sub.pk) in text) != may:
                            failures.append(f"home as {role}: {scope} {status} listed={not may}")
                        unpublished_foreign = status != "published" and not may
                        if str(marker) in text and unpublished_foreign:
                            failures.append(f"{entry['name']} as {role} leaks {scope} {status}")
                continue
            ghost = _request(client, method, _path(entry["path"], missing, missing))
            for (scope, status), (sub, issue, _) in world.items():
                response = _request(
                    client, method, _path(entry["path"], str(sub.pk), str(issue.pk))
                )
                tried += 1
                cross += _cross_tenant(role, scope)
                allowed = action is not None and _expected(role, scope, action, status)
                if _ok(response) != allowed:
                    failures.append(
                        f"{method} {entry['path']} as {role} on {scope} {status}: "
                        f"{response.status_code}, expected {'success' if allowed else 'refusal'}"
                    )
                same = (response.status_code, _body(response)) == (ghost.status_code, _body(ghost))
                if not _expected(role, scope, "submission.view", None) and not same:
                    failures.append(f"{entry['path']} as {role}: a foreign id differs")
    with capsys.disabled():
        print(f"\npage matrix: {tried} requests, {cross} cross-tenant")
    assert cross > 200
    assert not failures, "\n".join(failures[:40])


def test_every_form_refuses_a_post_without_csrf_token(accounts, world):  # noqa: F811
    forms = [p for p in PAGES if "POST" in p["methods"]]
    assert len(forms) >= 7
    sub, issue, _ = world["own_agency", "submitted"]
    for role, account in ROLES.items():
        client = _signed_in(accounts[account][0], enforce_csrf=True)
        for entry in forms:
            before = (Submission.objects.count(), Window.objects.count())
            response = client.post(_path(entry["path"], str(sub.pk), str(issue.pk)), POST_DATA)
            assert response.status_code == 403, (role, entry["path"], response.status_code)
            assert (Submission.objects.count(), Window.objects.count()) == before
        assert client.post("/sign-out/").status_code == 403
    assert Client(enforce_csrf_checks=True).post("/sign-in/", {}).status_code == 403


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


def test_no_page_has_inline_script_or_style(accounts, world, client):  # noqa: F811
    sub, _, _ = world["own_agency", "checked"]
    pages = ["/sign-in/", "/accessibility/"]
    viewer = _signed_in(accounts["csc"][0])
    for path in ["/", "/upload/", f"/versions/{sub.pk}/", "/benchmark/", "/no-such-page/"]:
        response = viewer.get(path)
        pages.append(path)
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), path
        assert "<style" not in html and " style=" not in html, path
    for path in pages[:2]:
        html = client.get(path).content.decode()
        assert not INLINE_SCRIPT.search(html) and " style=" not in html
    csp = client.get("/sign-in/")["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "default-src 'self'" in csp


def test_govuk_frontend_is_served_by_the_app(client):
    html = client.get("/sign-in/").content.decode()
    css = re.search(r'href="(/static/govuk/[^"]+\.css)"', html).group(1)
    js = re.search(r'src="(/static/lscb/init\.js)"', html).group(1)
    for path in (css, js, "/static/govuk/govuk-frontend.min.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"".join(response.streaming_content if response.streaming else [response.content])
    assert "cdn" not in html.lower()


@pytest.mark.django_db
def test_the_page_journey(accounts, window):
    csc = _signed_in(accounts["csc"][0])
    body = return_csv() + return_csv(agency="police").split(b"\n", 1)[1]
    response = csc.post("/upload/", {"file": SimpleUploadedFile("r.csv", body), "action": "submit"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in html
    anchors = re.findall(r'<a href="#(issue-\d+)">', html)
    assert anchors and all(f'id="{a}"' in html for a in anchors), "each summary link has a target"
    sub = Submission.objects.get()
    assert sub.status == "checked" and sub.errors
    fixed = csc.post(
        "/upload/", {"file": SimpleUploadedFile("r.csv", return_csv()), "action": "submit"}
    )
    assert "version 2" in fixed.content.decode()
    second = Submission.objects.get(number=2)
    assert second.status == "submitted"
    page = csc.get(f"/versions/{second.pk}/").content.decode()
    assert "All versions of this return" in page and f"/versions/{sub.pk}/" in page
    for issue in second.issues.filter(severity="query"):
        csc.post(f"/versions/{second.pk}/issues/{issue.pk}/explain/", {"text": "Seasonal."})
    lead = _signed_in(accounts["lead"][0])
    assert lead.post(f"/versions/{second.pk}/sign-off/").status_code == 302
    second.refresh_from_db()
    assert second.status == "signed_off"
    xlsx = csc.get(f"/versions/{sub.pk}/issues.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
