"""The OpenAPI 3.1 document at ``/api/v1/openapi.json``, written from the endpoint
list in ``permissions.yaml`` so the document and the routes cannot drift."""

from __future__ import annotations

from django.http import JsonResponse

from lscb_nb import __version__
from lscb_nb.service import permissions

SUMMARIES: dict[str, str] = {
    "submission.list": "The versions this account may see (filter by period, agency, status)",
    "submission.upload": "Upload a return (multipart 'file'); check=1 checks without storing",
    "submission.view": "One version: status, counts, issues and the cells that changed",
    "submission.submit": "Submit a checked version that has no errors",
    "submission.explain": "Explain a query (form field 'text')",
    "submission.sign_off": "Sign off a submitted version (partnership lead, not the uploader)",
    "submission.accept": "Accept a signed-off version (board administrator)",
    "submission.publish": "Publish an accepted version on or after its release date (board)",
    "figures.list": "Own figures and every published figure, small numbers suppressed",
    "audit.list": "The audit trail: own authority, or all for administrators",
}


def _operation(path: str, method: str, action: str) -> dict:
    params = [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
        for n in ("id", "issue")
        if "{" + n + "}" in path
    ]
    if action == "figures.list":
        params += [
            {"name": "period", "in": "query", "schema": {"type": "string"}},
            {"name": "item", "in": "query", "schema": {"type": "string"}},
        ]
    op: dict = {
        "summary": SUMMARIES.get(action, action),
        "operationId": f"{method.lower()}_{action.replace('.', '_')}",
        "parameters": params,
        "responses": {
            "200": {"description": "OK"},
            "401": {"description": "No valid bearer token"},
            "403": {"description": "This account's role may not do this"},
            "404": {"description": "No such object, or one this account may not see"},
            "409": {"description": "The object's status does not allow this"},
        },
    }
    if action == "submission.upload":
        op["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "period": {"type": "string", "example": "2025-26 Q1"},
                            "check": {"type": "string", "enum": ["0", "1"]},
                            "replace": {"type": "string", "enum": ["0", "1"]},
                        },
                    }
                }
            },
        }
        op["responses"]["201"] = {"description": "Stored as a new version"}
    return op


def document() -> dict:
    paths: dict = {}
    for endpoint in permissions.matrix()["endpoints"]:
        paths[endpoint["path"]] = {
            method.lower(): _operation(endpoint["path"], method, action)
            for method, action in endpoint["methods"].items()
        }
    paths["/healthz"] = {"get": {"summary": "Health", "responses": {"200": {"description": "OK"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "LSCB dataset service", "version": __version__},
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
        "security": [{"token": []}],
        "paths": paths,
    }


def openapi_json(request):
    return JsonResponse(document())
