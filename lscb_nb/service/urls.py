"""The service's URLs: the API (named as in ``permissions.yaml``), health, sign-in."""

from __future__ import annotations

from django.urls import path

from lscb_nb.service.accounts import views as account_views
from lscb_nb.service.api import openapi, views

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
    path("", account_views.home, name="home"),
]
