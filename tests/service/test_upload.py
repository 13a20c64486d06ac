"""Uploading through the API: the toolkit's reader and rules give the feedback,
each upload is a new immutable version, check-only stores nothing, another
tenant's rows are refused with an issue, and the window decides late and closed."""

from __future__ import annotations

from datetime import date, timedelta

from lscb_nb.service.collection.models import Cell, Issue, Submission
from service.conftest import CAMDEN, CSC, ISLINGTON, PERIOD, bearer, return_csv, upload


def test_a_clean_upload_is_stored_checked_and_submitted(client, accounts, window):
    _, token = accounts["csc"]
    response = upload(client, token, return_csv())
    body = response.json()
    assert response.status_code == 201, body
    assert body["version"] == 1 and body["period"] == PERIOD
    assert body["rows_accepted"] > 5 and body["rows_quarantined"] == 0
    assert body["errors"] == 0
    assert body["status"] == "submitted"
    sub = Submission.objects.get(pk=body["id"])
    assert (sub.la_code_ons, sub.agency) == (CAMDEN, CSC)
    assert Cell.objects.filter(submission=sub, accepted=True).count() == body["rows_accepted"]


def test_check_only_gives_the_same_feedback_and_stores_nothing(client, accounts, window):
    _, token = accounts["csc"]
    body = return_csv(extra_rows=[])
    checked = upload(client, token, body, check="1").json()
    assert checked["stored"] is False
    assert Submission.objects.count() == 0 and Issue.objects.count() == 0
    stored = upload(client, token, body).json()
    assert stored["stored"] is True
    for key in ("rows_accepted", "rows_quarantined", "errors", "queries", "issues"):
        assert checked[key] == stored[key], key


def test_every_upload_is_a_new_version_and_changed_cells_are_listed(client, accounts, window):
    _, token = accounts["csc"]
    first = upload(client, token, return_csv()).json()
    second = upload(client, token, return_csv(scale=1.5)).json()
    assert (first["version"], second["version"]) == (1, 2)
    detail = client.get(f"/api/v1/submissions/{second['id']}/", **bearer(token)).json()
    assert detail["changed_cells"], "a changed figure must be listed"
    changed = detail["changed_cells"][0]
    assert changed["before"]["numerator"] != changed["after"]["numerator"]
    # The first version is untouched and still listed.
    listed = client.get("/api/v1/submissions/", **bearer(token)).json()["submissions"]
    assert {s["version"] for s in listed} == {1, 2}


def test_rows_of_another_authority_or_agency_are_refused_with_an_issue(client, accounts, window):
    _, token = accounts["csc"]
    foreign = return_csv(la=ISLINGTON).decode().splitlines()[1:]
    police = return_csv(agency="police").decode().splitlines()[1:]
    body = return_csv() + ("\n".join(foreign + police) + "\n").encode()
    response = upload(client, token, body).json()
    codes = {i["rule_code"] for i in response["issues"]}
    assert {"S01", "S02"} <= codes
    assert response["rows_quarantined"] == len(foreign) + len(police)
    sub = Submission.objects.get(pk=response["id"])
    stored_las = set(
        Cell.objects.filter(submission=sub, accepted=True).values_list("la_code_ons", flat=True)
    )
    assert stored_las == {CAMDEN}
    assert response["status"] == "checked", "a version with errors is not submitted"


def test_a_file_for_another_authority_only_stores_nothing(client, accounts, window):
    _, token = accounts["csc"]
    response = upload(client, token, return_csv(la=ISLINGTON))
    assert response.status_code == 422
    assert Submission.objects.count() == 0


def test_late_uploads_say_by_how_much_and_closed_windows_refuse(client, accounts, window):
    _, token = accounts["csc"]
    window.deadline = date.today() - timedelta(days=3)
    window.opens = date.today() - timedelta(days=20)
    window.save()
    late = upload(client, token, return_csv()).json()
    assert late["days_late"] == 3
    window.closes = date.today() - timedelta(days=1)
    window.deadline = date.today() - timedelta(days=2)
    window.save()
    refused = upload(client, token, return_csv())
    assert refused.status_code == 409
    assert "closed" in refused.json()["error"]
    assert Submission.objects.count() == 1


def test_the_upload_name_is_never_used_on_disk(client, accounts, window, tmp_path):
    _, token = accounts["csc"]
    response = upload(client, token, return_csv(), name="../../../../tmp/evil.csv")
    assert response.status_code == 201
    assert not (tmp_path.parent / "evil.csv").exists()
    wrong = upload(client, token, b"MZ\x90\x00", name="tool.exe")
    assert wrong.status_code == 415


def test_replacing_an_accepted_version_asks_for_confirmation(client, accounts, window):
    _, token = accounts["csc"]
    first = upload(client, token, return_csv()).json()
    Submission.objects.filter(pk=first["id"]).update(status="accepted")
    again = upload(client, token, return_csv())
    assert again.status_code == 409 and "replace=1" in again.json()["error"]
    confirmed = upload(client, token, return_csv(), replace="1")
    assert confirmed.status_code == 201 and confirmed.json()["version"] == 2


def test_an_upload_over_the_size_limit_is_refused_before_reading(
    client, accounts, window, settings
):
    settings.SERVICE_MAX_UPLOAD_BYTES = 1000
    _, token = accounts["csc"]
    response = upload(client, token, return_csv() + b"x" * 200_000)
    assert response.status_code == 413
    assert "limit" in response.json()["error"]
    assert Submission.objects.count() == 0
