"""The API's surface: the OpenAPI document names every route, health answers, the
headers are strict, and a request without a token is refused."""

from __future__ import annotations

import pytest
from django.urls import get_resolver

from lscb_nb.service import permissions


@pytest.mark.django_db
def test_openapi_lists_every_endpoint_of_the_matrix(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for endpoint in permissions.matrix()["endpoints"]:
        ops = doc["paths"][endpoint["path"]]
        assert set(ops) == {m.lower() for m in endpoint["methods"]}
    upload = doc["paths"]["/api/v1/submissions/"]["post"]
    assert "file" in upload["requestBody"]["content"]["multipart/form-data"]["schema"]["required"]


def test_every_api_route_is_in_the_matrix():
    """A route the matrix does not name would escape the generated test."""
    declared = {e["name"] for e in permissions.matrix()["endpoints"]}
    routes = {p.name for p in get_resolver().url_patterns if str(p.pattern).startswith("api/")}
    assert routes - {"openapi"} == declared


@pytest.mark.django_db
def test_health_and_headers(client):
    response = client.get("/healthz")
    assert response.json() == {"status": "ok"}
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_no_token_no_answer(client):
    assert client.get("/api/v1/submissions/").status_code == 401
    bad = client.get("/api/v1/submissions/", HTTP_AUTHORIZATION="Bearer lscb_forged")
    assert bad.status_code == 401
