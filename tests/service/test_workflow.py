"""The journey through the API: upload with a query -> explain it -> sign off by the
partnership lead (not the uploader) -> accept and publish by the board on the
release date -> another authority sees the published figure, suppressed where it
is small. Each transition writes one audit event."""

from __future__ import annotations

from datetime import date, timedelta

from lscb_nb.service.audit.models import Event
from lscb_nb.service.collection.models import Issue, Submission
from service.conftest import CAMDEN, bearer, return_csv, upload


def _post(client, token, path, **data):
    return client.post(path, data, **bearer(token))


def _with_query(client, token):
    """Upload a return that raises at least one query (a value far from the rest)."""
    body = return_csv()
    response = upload(client, token, body).json()
    sub = Submission.objects.get(pk=response["id"])
    if not sub.issues.filter(severity="query").exists():  # make sure there is one to explain
        Issue.objects.create(submission=sub, severity="query", rule_code="Q00", message="Check.")
        Submission.objects.filter(pk=sub.pk).update(queries=sub.queries + 1)
    return sub


def test_the_whole_journey(client, accounts, window):
    csc, lead, admin = accounts["csc"][1], accounts["lead"][1], accounts["admin"][1]
    other = accounts["other_viewer"][1]
    sub = _with_query(client, csc)
    base = f"/api/v1/submissions/{sub.pk}"
    assert sub.status == "submitted"
    # Sign-off waits for every query to be explained.
    refused = _post(client, lead, f"{base}/sign-off/")
    assert refused.status_code == 409 and "explain" in refused.json()["error"]
    for issue in sub.issues.filter(severity="query"):
        ok = _post(client, csc, f"{base}/issues/{issue.pk}/explanation/", text="Seasonal.")
        assert ok.status_code == 200, ok.json()
    # Other authorities see nothing of it yet.
    seen = client.get("/api/v1/figures/", **bearer(other)).json()["figures"]
    assert not [f for f in seen if f["la_code_ons"] == CAMDEN]
    assert _post(client, lead, f"{base}/sign-off/").json()["status"] == "signed_off"
    assert _post(client, admin, f"{base}/accept/").json()["status"] == "accepted"
    window.release_date = date.today() + timedelta(days=3)
    window.save()
    early = _post(client, admin, f"{base}/publish/")
    assert early.status_code == 409 and "released on" in early.json()["error"]
    window.release_date = date.today()
    window.save()
    assert _post(client, admin, f"{base}/publish/").json()["status"] == "published"
    seen = client.get("/api/v1/figures/", **bearer(other)).json()["figures"]
    camden = [f for f in seen if f["la_code_ons"] == CAMDEN]
    assert camden and not any(f["own"] for f in camden)
    actions = list(Event.objects.filter(object_id=str(sub.pk)).values_list("action", flat=True))
    for action in ("upload", "checked", "submitted", "explanation", "signed_off", "accepted"):
        assert action in actions, action
    assert actions.count("published") == 1


def test_the_uploader_cannot_sign_off_and_errors_block_it(client, accounts, window):
    lead_user, lead = accounts["lead"]
    sub = upload(client, accounts["csc"][1], return_csv()).json()
    Issue.objects.filter(submission_id=sub["id"], severity="query").delete()
    Submission.objects.filter(pk=sub["id"]).update(uploaded_by=lead_user, queries=0)
    refused = _post(client, lead, f"/api/v1/submissions/{sub['id']}/sign-off/")
    assert refused.status_code == 409 and "uploaded" in refused.json()["error"]
    Submission.objects.filter(pk=sub["id"]).update(uploaded_by=accounts["csc"][0], errors=1)
    refused = _post(client, lead, f"/api/v1/submissions/{sub['id']}/sign-off/")
    assert refused.status_code == 409 and "errors" in refused.json()["error"]
    Submission.objects.filter(pk=sub["id"]).update(errors=0)
    assert _post(client, lead, f"/api/v1/submissions/{sub['id']}/sign-off/").status_code == 200


def test_small_published_figures_are_suppressed_for_other_authorities(client, accounts, window):
    csc = accounts["csc"][1]
    sub = upload(client, csc, return_csv(scale=0.01)).json()  # counts of 2
    Submission.objects.filter(pk=sub["id"]).update(status="published")
    own = client.get("/api/v1/figures/", **bearer(csc)).json()["figures"]
    other = client.get("/api/v1/figures/", **bearer(accounts["other_lead"][1])).json()["figures"]
    small_own = [f for f in own if f["numerator"] == 2]
    assert small_own, "the account sees its own small counts"
    assert other and all(f["numerator"] != 2 for f in other)
    suppressed = [f for f in other if f["numerator"] == "c"]
    assert suppressed and all(f["value"] == "c" for f in suppressed)


def test_issues_csv_neutralises_formulae(client, accounts, window):
    csc = accounts["csc"][1]
    sub = upload(client, csc, return_csv()).json()
    Issue.objects.create(
        submission_id=sub["id"], severity="query", rule_code="Q00", message="=HYPERLINK(evil)"
    )
    Issue.objects.create(
        submission_id=sub["id"], severity="query", rule_code="Q00", message="@SUM(A1)"
    )
    text = client.get(f"/api/v1/submissions/{sub['id']}/issues.csv", **bearer(csc)).content.decode()
    assert "'=HYPERLINK(evil)" in text and "'@SUM(A1)" in text
    assert ",=" not in text and ",@" not in text
