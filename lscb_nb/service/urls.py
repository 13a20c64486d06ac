"""The service's URLs: the API (named as in ``permissions.yaml``), health, sign-in,
and the pages (also named there, under ``pages``)."""

from __future__ import annotations

from django.urls import path

from lscb_nb.service.accounts import views as account_views
from lscb_nb.service.api import openapi, views
from lscb_nb.service.pages import benchmark, board
from lscb_nb.service.pages import views as pages

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/openapi.json", openapi.openapi_json, name="openapi"),
    path("api/v1/submissions/", views.submissions, name="submissions"),
    path("api/v1/submissions/<str:sub_id>/", views.submission, name="submission"),
    path(
        "api/v1/submissions/<str:sub_id>/issues.csv",
        views.submission_issues_csv,
        name="submission-issues",
    ),
    path(
        "api/v1/submissions/<str:sub_id>/submit/",
        views.submission_submit,
        name="submission-submit",
    ),
    path(
        "api/v1/submissions/<str:sub_id>/issues/<str:issue_id>/explanation/",
        views.submission_explain,
        name="submission-explain",
    ),
    path(
        "api/v1/submissions/<str:sub_id>/sign-off/",
        views.submission_sign_off,
        name="submission-sign-off",
    ),
    path(
        "api/v1/submissions/<str:sub_id>/accept/",
        views.submission_accept,
        name="submission-accept",
    ),
    path(
        "api/v1/submissions/<str:sub_id>/publish/",
        views.submission_publish,
        name="submission-publish",
    ),
    path("api/v1/figures/", views.figures, name="figures"),
    path("api/v1/audit/", views.audit, name="audit"),
    path("sign-in/", account_views.sign_in, name="sign-in"),
    path("sign-out/", account_views.sign_out, name="sign-out"),
    path("", pages.dashboard, name="home"),
    path("upload/", pages.upload, name="page-upload"),
    path("versions/<str:sub_id>/", pages.version, name="page-version"),
    path(
        "versions/<str:sub_id>/issues.csv",
        pages.issues_download,
        {"fmt": "csv"},
        name="page-issues-csv",
    ),
    path(
        "versions/<str:sub_id>/issues.xlsx",
        pages.issues_download,
        {"fmt": "xlsx"},
        name="page-issues-xlsx",
    ),
    path("versions/<str:sub_id>/submit/", pages.submit, name="page-submit"),
    path("versions/<str:sub_id>/sign-off/", pages.sign_off, name="page-sign-off"),
    path("versions/<str:sub_id>/accept/", pages.accept, name="page-accept"),
    path("versions/<str:sub_id>/publish/", pages.publish, name="page-publish"),
    path(
        "versions/<str:sub_id>/issues/<str:issue_id>/explain/",
        pages.explain,
        name="page-explain",
    ),
    path("windows/", board.windows, name="page-windows"),
    path("audit/", board.audit, name="page-audit"),
    path("benchmark/", benchmark.benchmark, name="page-benchmark"),
    path("accessibility/", pages.accessibility, name="page-accessibility"),
]
