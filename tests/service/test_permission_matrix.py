"""The permission matrix, generated: every API endpoint x GET and POST x role x
scope (own agency, other agency of the same authority, other authority) x status,
from ``lscb_nb/service/permissions.yaml``. Each cell's request must succeed exactly
when the matrix allows it; a foreign id must answer exactly like a missing one;
nothing another tenant owns may leak through a list, the figures or the audit trail.

It prints how many cross-tenant requests it tried and fails on any that succeeds.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from lscb_nb.service import permissions
from lscb_nb.service.audit.models import Event
from lscb_nb.service.collection.models import STATUSES, Cell, Explanation, Issue, Submission, Window
from service.conftest import CAMDEN, CSC, ISLINGTON, POLICE, bearer, return_csv, upload

ROLES = {  # the account of each role the matrix is run for (see conftest.accounts)
    "board_administrator": "admin",
    "partnership_lead": "lead",
    "viewer": "viewer",
    "agency_submitter": "csc",
}
TARGETS = {  # where each scope's objects live, seen from Camden's children's social care
    permissions.OWN_AGENCY: (CAMDEN, CSC),
    permissions.OTHER_AGENCY: (CAMDEN, POLICE),
    permissions.OTHER_AUTHORITY: (ISLINGTON, CSC),
}
PERIODS = {s: f"20{26 + i // 4}-{27 + i // 4} Q{i % 4 + 1}" for i, s in enumerate(STATUSES)}
UPLOAD_PERIOD = "2025-26 Q1"
ENDPOINTS = permissions.matrix()["endpoints"]


def _cross_tenant(role: str, scope: str) -> bool:
    if role == "board_administrator":
        return False
    if scope == permissions.OTHER_AUTHORITY:
        return True
    return role == "agency_submitter" and scope == permissions.OTHER_AGENCY


def _expected(role: str, scope: str, action: str, status: str | None) -> bool:
    if scope not in permissions.roles_for(action).get(role, []):
        return False
    return status is None or permissions.status_allows(action, status)


@pytest.fixture
def world(db, accounts):
    """One clean version per scope and status (its own period, so it is the latest),
    each with one explained query and a figure no other version has (100,000 + 2**n:
    no mean or median of two others can equal it, so a page's summary never looks
    like a leak)."""
    today = date.today()
    for period in [*PERIODS.values(), UPLOAD_PERIOD]:
        Window.objects.create(
            period=period,
            opens=today - timedelta(days=5),
            deadline=today + timedelta(days=5),
            closes=today + timedelta(days=30),
            release_date=today,
            datamodel_version="1.0-candidate",
        )
    uploader = accounts["police"][0]  # signs off nothing in the matrix
    subs = {}
    for n, (scope, status) in enumerate(itertools.product(TARGETS, STATUSES)):
        la, agency = TARGETS[scope]
        sub = Submission.objects.create(
            la_code_ons=la,
            agency=agency,
            period=PERIODS[status],
            number=1,
            status=status,
            uploaded_by=uploader,
            uploaded_at=timezone.now(),
            file_sha256="0" * 64,
            file_format="csv",
            datamodel_version="1.0-candidate",
            rows_read=1,
            rows_accepted=1,
            queries=1,
        )
        Cell.objects.create(
            submission=sub,
            item_id="CSC01",
            la_code_ons=la,
            period=sub.period,
            accepted=True,
            numerator=100_000 + 2**n,
            numerator_state="reported",
            value=100_000 + 2**n,
            value_state="reported",
        )
        issue = Issue.objects.create(
            submission=sub, severity="query", rule_code="Q00", message="Check this."
        )
        Explanation.objects.create(issue=issue, text="Right.", by=uploader, at=timezone.now())
        Event.objects.create(action="marker", la_code_ons=la, agency=agency, object_id=str(sub.pk))
        subs[scope, status] = (sub, issue, 100_000 + 2**n)
    return subs


def _path(template: str, sub_id: str, issue_id: str) -> str:
    return template.replace("{id}", sub_id).replace("{issue}", issue_id)


def _request(client, method: str, path: str, token: str):
    with transaction.atomic():
        if method == "GET":
            response = client.get(path, **bearer(token))
        else:  # a query explanation needs its text; other POSTs ignore it
            response = client.post(path, {"text": "The figure is right."}, **bearer(token))
        transaction.set_rollback(True)  # every cell starts from the same world
    return response


def test_every_cell_of_the_permission_matrix(client, accounts, world, capsys):
    tried = cross = leaks = 0
    failures: list[str] = []

    def check(ok: bool, expected: bool, label: str, cross_tenant: bool) -> None:
        nonlocal tried, cross, leaks
        tried += 1
        cross += cross_tenant
        if ok != expected:
            failures.append(f"{label}: {'succeeded' if ok else 'failed'}, expected the opposite")
            leaks += ok and cross_tenant

    for role, account in ROLES.items():
        token = accounts[account][1]
        missing = str(uuid.uuid4())
        for endpoint, method in itertools.product(ENDPOINTS, ("GET", "POST")):
            action = endpoint["methods"].get(method)
            if "object" in endpoint:
                ghost = _request(client, method, _path(endpoint["path"], missing, missing), token)
                for (scope, status), (sub, issue, _) in world.items():
                    path = _path(endpoint["path"], str(sub.pk), str(issue.pk))
                    response = _request(client, method, path, token)
                    label = f"{method} {endpoint['path']} as {role} on {scope} {status}"
                    allowed = action is not None and _expected(role, scope, action, status)
                    check(
                        200 <= response.status_code < 300,
                        allowed,
                        label,
                        _cross_tenant(role, scope),
                    )
                    if not _expected(role, scope, "submission.view", None):
                        # A foreign id answers exactly like one that does not exist.
                        same = (response.status_code, response.content) == (
                            ghost.status_code,
                            ghost.content,
                        )
                        if not same:
                            failures.append(f"{label}: answered unlike a missing id")
            else:
                _run_collection(client, endpoint, method, role, token, world, check)
    print(
        f"permission matrix: {tried} requests, {cross} of them cross-tenant, "
        f"{leaks} cross-tenant successes"
    )
    with capsys.disabled():
        print(f"\npermission matrix: {tried} requests, {cross} cross-tenant, {leaks} leaked")
    assert cross > 300, "the matrix must try many cross-tenant requests"
    assert not failures, "\n".join(failures[:40])


def _run_collection(client, endpoint, method, role, token, world, check) -> None:
    """The endpoints without an id: what they list must be what the account may see."""
    action = endpoint["methods"].get(method)
    name = endpoint["name"]
    if action is None:
        response = _request(client, method, endpoint["path"], token)
        check(200 <= response.status_code < 300, False, f"{method} {name} as {role}", False)
        return
    if name == "submissions" and method == "POST":
        for scope, (la, agency) in TARGETS.items():
            before = Submission.objects.filter(la_code_ons=la, agency=agency).count()
            with transaction.atomic():
                response = upload(client, token, return_csv(la, agency, UPLOAD_PERIOD))
                stored = Submission.objects.filter(la_code_ons=la, agency=agency).count() > before
                transaction.set_rollback(True)
            allowed = _expected(role, scope, action, None)
            check(stored, allowed, f"upload {scope} file as {role}", _cross_tenant(role, scope))
            assert stored == (response.status_code == 201)
        return
    response = _request(client, method, endpoint["path"], token)
    assert response.status_code in (200, 403), (name, role, response.status_code)
    body = response.json() if response.status_code == 200 else {}
    for (scope, status), (sub, _, marker) in world.items():
        label = f"GET {name} as {role} sees {scope} {status}"
        if name == "submissions":
            seen = str(sub.pk) in {s["id"] for s in body["submissions"]}
            expected = _expected(role, scope, "submission.view", None)
        elif name == "figures":
            seen = marker in {f["numerator"] for f in body["figures"]}
            expected = status == "published" or _expected(
                role, scope, "figures.view_unpublished", None
            )
        else:  # the audit trail
            seen = str(sub.pk) in {e["object_id"] for e in body.get("events", [])}
            expected = _expected(role, scope, "audit.view", None)
        check(seen, expected, label, _cross_tenant(role, scope))


def test_ids_are_not_guessable(world):
    ids = [sub.pk for sub, _, _ in world.values()]
    assert all(isinstance(i, uuid.UUID) and i.version == 4 for i in ids)
