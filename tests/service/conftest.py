"""The service's test set-up: Django configured for a throwaway project made with
``lscb-nb init`` (London, 2024-25 Q1 to 2025-26 Q2), accounts of every role for two
authorities, and small long-CSV returns built from the candidate data model.

Django is configured here, before pytest-django's fixtures run, through the same
settings module ``lscb-nb serve`` uses (``LSCB_SERVICE_PROJECT`` names the project).
"""

from __future__ import annotations

import atexit
import csv
import io
import os
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest

_ROOT = Path(tempfile.mkdtemp(prefix="lscb-service-test-"))
atexit.register(shutil.rmtree, _ROOT, True)
os.environ["LSCB_SERVICE_PROJECT"] = str(_ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lscb_nb.service.settings")

import django  # noqa: E402

from lscb_nb.core.workspace import init_project  # noqa: E402

init_project(_ROOT, first_period="2024-25 Q1", last_period="2025-26 Q2")
django.setup()

PASSWORD = "a long passphrase for tests only"
CAMDEN, ISLINGTON = "E09000007", "E09000019"
CSC, POLICE = "childrens_social_care", "police"
PERIOD = "2025-26 Q1"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """Argon2 is the service's hasher; tests use MD5 for speed except where they check it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def return_csv(
    la: str = CAMDEN,
    agency: str = CSC,
    period: str = PERIOD,
    scale: float = 1.0,
    extra_rows: list[dict] | None = None,
    overrides: dict[str, tuple[object, object]] | None = None,
) -> bytes:
    """A clean long-CSV return of ``agency``'s items for ``la`` and ``period``;
    ``overrides`` sets an item's (numerator, denominator)."""
    from lscb_nb.core import periods
    from lscb_nb.core.returnformat import RETURN_CSV_COLUMNS
    from lscb_nb.service import toolkit

    items = toolkit.candidate().items
    la_row = toolkit.authority(la)
    time_period, time_identifier = periods.to_ees(period)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RETURN_CSV_COLUMNS)
    writer.writeheader()
    for item_id, item in items[items["agency"] == agency].iterrows():
        num, den = (overrides or {}).get(item_id) or _figures(item, scale)
        writer.writerow(
            {
                "time_period": time_period,
                "time_identifier": time_identifier,
                "geographic_level": "Local authority",
                "new_la_code": la,
                "old_la_code": int(la_row["la_code_dfe"]),
                "la_name": la_row["la_name"],
                "item_id": item_id,
                "numerator": num,
                "denominator": den,
                "value": "",
                "note": "",
            }
        )
    for row in extra_rows or []:
        writer.writerow({c: row.get(c, "") for c in RETURN_CSV_COLUMNS})
    return out.getvalue().encode("utf-8")


def _figures(item, scale: float) -> tuple[object, object]:
    valid = item["valid_range"] or {}
    if item["unit"] == "percentage":
        return round(40 * scale), 100
    top = valid.get("max")
    n = round(200 * scale)
    return (min(n, top) if top is not None else n), ""


@pytest.fixture
def window(db):
    from lscb_nb.service.collection.windows import open_window

    today = date.today()
    return open_window(
        PERIOD,
        opens=today - timedelta(days=10),
        deadline=today + timedelta(days=10),
        closes=today + timedelta(days=40),
        release=today,
    )


@pytest.fixture
def accounts(db):
    """One account per role and tenant: name -> (user, API token)."""
    from lscb_nb.service.accounts.manage import add_user, issue_token

    specs = {
        "admin": ("board_administrator", None, None),
        "lead": ("partnership_lead", CAMDEN, None),
        "viewer": ("viewer", CAMDEN, None),
        "csc": ("agency_submitter", CAMDEN, CSC),
        "police": ("agency_submitter", CAMDEN, POLICE),
        "other_lead": ("partnership_lead", ISLINGTON, None),
        "other_viewer": ("viewer", ISLINGTON, None),
        "other_csc": ("agency_submitter", ISLINGTON, CSC),
    }
    out = {}
    for name, (role, la, agency) in specs.items():
        user, _ = add_user(f"{name}@example.invalid", role, PASSWORD, la, agency)
        out[name] = (user, issue_token(user.get_username()))
    return out


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def upload(client, token: str, body: bytes, name: str = "return.csv", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"file": SimpleUploadedFile(name, body, content_type="text/csv"), **fields}
    return client.post("/api/v1/submissions/", data, **bearer(token))


# CSC12 above CSC11 raises the cross-item query XR08 (a query: fix it or explain it).
WITH_QUERY = {"CSC11": (100, ""), "CSC12": (150, "")}
