"""Loading a synthetic sample project into an empty service: a window per period,
its ingested returns as one version per authority, agency and period (published,
except the last period's, left submitted for a partnership lead to sign off), and
one demo account per role. Everything it makes is marked synthetic."""

from __future__ import annotations

import logging
import os
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from lscb_nb.pilot import store
from lscb_nb.service import toolkit
from lscb_nb.service.accounts.manage import add_user, demo_password
from lscb_nb.service.accounts.models import BOARD_ADMIN, LEAD, ROLES, SUBMITTER, VIEWER
from lscb_nb.service.collection.intake import cell_rows, issue_rows
from lscb_nb.service.collection.models import (
    PUBLISHED,
    SUBMITTED,
    Cell,
    Issue,
    Submission,
    Window,
)
from lscb_nb.service.collection.windows import open_window

log = logging.getLogger(__name__)

DEMO_DOMAIN = "example.invalid"  # RFC 2606: never a real mailbox
DEMO_AGENCY = "childrens_social_care"


def load_sample(today: date) -> dict:
    """Load the project's returns (ingesting them first if needed); returns counts."""
    project = toolkit.project()
    if not project.periods:
        return {"submissions": 0}
    for i, period in enumerate(project.periods):
        last = i == len(project.periods) - 1
        open_window(
            period,
            # The last period stays open so the demo accounts can upload (late).
            closes=today + timedelta(days=90) if last else None,
            release=None if last else today,
        )
    if not store.has_returns(project):
        log.info("Ingesting the sample's returns (once)")
        store.ingest(project)
    result = store.load_returns(project)
    items = toolkit.candidate().items
    accepted = result.accepted
    issues = result.issues.copy()
    issues["agency"] = issues["item_id"].map(items["agency"])
    last = project.periods[-1]
    made = 0
    now = timezone.now()
    with transaction.atomic():
        for (la, agency, period), rows in accepted.groupby(
            ["la_code_ons", "agency", "period"], sort=True
        ):
            found = issues[
                (issues["la_code_ons"] == la)
                & (issues["agency"] == agency)
                & (issues["period"] == period)
            ]
            found = found[found["severity"] != "error"]  # errors stayed in quarantine
            sub = Submission.objects.create(
                la_code_ons=la,
                agency=agency,
                period=period,
                number=1,
                status=SUBMITTED if period == last else PUBLISHED,
                uploaded_at=now,
                file_sha256="",
                file_format="sample",
                datamodel_version=str(toolkit.candidate().version),
                rows_read=len(rows),
                rows_accepted=len(rows),
                queries=len(found),
                synthetic=True,
            )
            Cell.objects.bulk_create(cell_rows(sub, rows, True))
            Issue.objects.bulk_create(Issue(submission=sub, **i) for i in issue_rows(found))
            made += 1
    return {"submissions": made, "windows": Window.objects.count()}


def make_demo_accounts(folder) -> list[tuple[str, str, str, str]]:
    """One account per role for the first pilot authority: (role, email, password, note)."""
    project = toolkit.project()
    la = (project.pilots or project.authority_codes)[0]
    out = []
    for role in (BOARD_ADMIN, LEAD, SUBMITTER, VIEWER):
        email = f"demo-{role.replace('_', '-')}@{DEMO_DOMAIN}"
        password = demo_password()
        _, url = add_user(
            email,
            role,
            password,
            authority=None if role == BOARD_ADMIN else la,
            agency=DEMO_AGENCY if role == SUBMITTER else None,
        )
        note = f"TOTP: {url}" if url else (toolkit.authority_name(la))
        out.append((ROLES[role], email, password, note))
    path = folder / "demo_accounts.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("# SYNTHETIC demo accounts of the sample project; never use them for real data.\n")
        for row in out:
            f.write("\t".join(row) + "\n")
    return out
