"""The audit trail is append-only: the ORM refuses to change or delete an event,
one by one or in bulk; refusals are audited; each authority reads only its own."""

from __future__ import annotations

import pytest

from lscb_nb.service.audit.models import AppendOnlyError, Event
from service.conftest import bearer


@pytest.mark.django_db
def test_events_cannot_be_changed_or_deleted():
    event = Event.objects.create(action="test", la_code_ons="E09000007")
    event.outcome = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).update(outcome="rewritten")
    with pytest.raises(AppendOnlyError):
        Event.objects.all().delete()
    assert Event.objects.get(pk=event.pk).outcome == "ok"


def test_a_refused_request_is_audited_with_actor_and_time(client, accounts):
    viewer = accounts["viewer"][1]
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/v1/submissions/",
        {"file": SimpleUploadedFile("r.csv", b"x")},
        **bearer(viewer),
    )
    assert response.status_code == 403
    event = Event.objects.get(action="permission_refused")
    assert event.actor == "viewer@example.invalid" and event.la_code_ons == "E09000007"
    assert event.at.utcoffset().total_seconds() == 0


def test_each_authority_reads_its_own_trail(client, accounts):
    Event.objects.create(action="elsewhere", la_code_ons="E09000019")
    Event.objects.create(action="here", la_code_ons="E09000007")
    own = client.get("/api/v1/audit/", **bearer(accounts["lead"][1])).json()["events"]
    assert {e["action"] for e in own} >= {"here"} and "elsewhere" not in {e["action"] for e in own}
    every = client.get("/api/v1/audit/", **bearer(accounts["admin"][1])).json()["events"]
    assert {"here", "elsewhere"} <= {e["action"] for e in every}
    assert client.get("/api/v1/audit/", **bearer(accounts["csc"][1])).status_code == 403
