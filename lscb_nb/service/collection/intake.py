"""An upload, read and checked by the toolkit's own reader and rules, kept apart by
tenant, and stored as a new immutable version.

The file is written to a private temporary folder under a name the service chooses
(only a whitelisted suffix is kept from the upload's name), its size is checked
before it is read, and :func:`lscb_nb.pilot.returns.read_returns` reads it with
the toolkit's limits, the window's data model, the project's authorities, periods
and population. Rows for another authority, agency or period than the account's
are refused with an issue. The version number is allocated inside one
transaction: rows of the same return are locked on PostgreSQL, and the unique
constraint with a retry covers every database.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max

from lscb_nb.core.inputfiles import DEFAULT_LIMITS, ReadLimits
from lscb_nb.core.rules import ERROR
from lscb_nb.pilot.returnfiles import NOT_A_RETURN, UNREADABLE
from lscb_nb.pilot.returns import read_returns
from lscb_nb.service import toolkit
from lscb_nb.service.collection.models import Cell, Issue, Submission, Window
from lscb_nb.service.collection.rules import SERVICE_RULES

log = logging.getLogger(__name__)

SUFFIXES = {".xlsx": "xlsx", ".xlsm": "xlsm", ".csv": "csv"}
VERSION_RETRIES = 20


class UploadError(Exception):
    """The upload cannot be taken at all (window closed, file too big, ...)."""

    def __init__(self, reason: str, status: int = 409, issues: list[dict] | None = None):
        super().__init__(reason)
        self.reason, self.status, self.issues = reason, status, issues or []


@dataclass
class Checked:
    """What a check found: the rows of the account's own return, the refused rows,
    the issues (errors and queries), and the period and lateness."""

    period: str
    accepted: pd.DataFrame
    quarantined: pd.DataFrame
    issues: list[dict]
    rows_read: int
    file_sha256: str
    file_format: str
    datamodel_version: str
    days_late: int = 0
    window: Window | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(i["severity"] == ERROR for i in self.issues)

    @property
    def queries(self) -> int:
        return len(self.issues) - self.errors


def _issue(rule: str, **where) -> dict:
    severity, title, message = SERVICE_RULES[rule]
    text = message.format(**where)
    return {
        "severity": severity,
        "rule_code": rule,
        "title": title,
        "message": text,
        "sheet": where.get("sheet", ""),
        "row": where.get("row"),
        "column": where.get("column", ""),
        "item_id": where.get("item_id", ""),
    }


def issue_rows(frame: pd.DataFrame) -> list[dict]:
    out = []
    for rec in frame.to_dict("records"):
        row = rec.get("row")
        out.append(
            {
                "severity": str(rec.get("severity") or ERROR),
                "rule_code": str(rec.get("rule_code") or ""),
                "title": str(rec.get("title") or ""),
                "message": str(rec.get("message") or ""),
                "sheet": "" if pd.isna(rec.get("sheet")) else str(rec.get("sheet")),
                "row": None if row is None or pd.isna(row) else int(row),
                "column": "" if pd.isna(rec.get("column")) else str(rec.get("column")),
                "item_id": "" if pd.isna(rec.get("item_id")) else str(rec.get("item_id")),
            }
        )
    return out


def window_for(period: str, today: date) -> tuple[Window, int]:
    """The open window of ``period`` and how many days late an upload today is."""
    window = Window.objects.filter(period=period).first()
    if window is None:
        raise UploadError(f"No collection window is set for {period}; ask the board.")
    if today < window.opens:
        raise UploadError(f"The window for {period} opens on {window.opens:%d %B %Y}.")
    if today > window.closes:
        raise UploadError(
            f"The window for {period} closed on {window.closes:%d %B %Y}; "
            "ask the board administrator to reopen it."
        )
    return window, max(0, (today - window.deadline).days)


def check_upload(
    membership,
    name: str,
    chunks,
    size: int,
    today: date,
    period: str | None = None,
    limits: ReadLimits | None = None,
) -> Checked:
    """Read and check one uploaded file for ``membership`` (an agency submitter), within
    ``limits`` (default: ``settings.SERVICE_READ_LIMITS``, else the toolkit's)."""
    limits = limits or getattr(settings, "SERVICE_READ_LIMITS", None) or DEFAULT_LIMITS
    top = settings.SERVICE_MAX_UPLOAD_BYTES
    if size > top:
        raise UploadError(f"The file is {size / 1e6:.1f} MB; the limit is {top / 1e6:.0f} MB.", 413)
    suffix = Path(str(name)).suffix.lower()
    file_format = SUFFIXES.get(suffix, "")
    if not file_format:
        raise UploadError(
            "Upload the Excel return template (.xlsx or .xlsm) or the long CSV (.csv).", 415
        )
    window, late = window_for(period, today) if period is not None else (None, 0)
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="lscb-upload-") as tmp:
        path = Path(tmp) / f"return{suffix}"
        with path.open("wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
        version = window.datamodel_version if window else toolkit.candidate().version
        result = _read(path, version, limits)
        if window is None:
            period = _one_period(result, membership)
            window, late = window_for(period, today)
            if window.datamodel_version != version:  # the window's model is another one
                version = window.datamodel_version
                result = _read(path, version, limits)
    return _split(result, membership, period, window, late, digest.hexdigest(), file_format)


def _read(path: Path, version: str, limits: ReadLimits):
    """The toolkit's reader and rules on one file, against ``version``'s data model."""
    dm = toolkit.model(version)
    project = toolkit.project()
    result = read_returns(
        [path],
        dm.items,
        dm.rules,
        project.authorities,
        dm.version,
        expected_periods=project.periods or None,
        population=toolkit.population(),
        root=path.parent,
        limits=limits,
    )
    status = result.files["status"].iloc[0] if len(result.files) else UNREADABLE
    if status in (UNREADABLE, NOT_A_RETURN) or result.rows_read == 0:
        reason = str(result.files["error"].iloc[0]) if len(result.files) else ""
        raise UploadError(
            "The file could not be read as a return" + (f": {reason}" if reason else "."),
            422,
            issue_rows(result.issues),
        )
    return _Read(result, dm.version, dm.items["agency"])


@dataclass
class _Read:
    """One reading of the file: the toolkit's result, the version and each item's agency."""

    result: object
    version: str
    item_agency: pd.Series


def _own(accepted: pd.DataFrame, membership) -> pd.Series:
    return (accepted["la_code_ons"] == membership.la_code_ons) & (
        accepted["agency"] == membership.agency
    )


def _one_period(result, membership) -> str:
    """The one period the file's own rows are for (refused if none or several)."""
    own = result.result.accepted[_own(result.result.accepted, membership)]
    periods = sorted(set(own["period"].dropna().astype(str)))
    if len(periods) == 1:
        return periods[0]
    issues = issue_rows(result.result.issues)
    if not periods:
        raise UploadError("The file holds no figures for your authority and agency.", 422, issues)
    raise UploadError(
        f"The file holds figures for {len(periods)} periods ({', '.join(periods)}); "
        "upload one period at a time, or name the period.",
        422,
        issues,
    )


def _blank(rows: pd.DataFrame) -> pd.Series:
    """Rows with no figure at all (another agency's untouched sheet of the template)."""
    return rows["numerator_state"].astype(str).eq("missing") & rows["denominator_state"].astype(
        str
    ).isin(["missing", "not_applicable"])


def _split(read: _Read, membership, period, window, late, sha256, file_format) -> Checked:
    """Keep the account's own rows for ``period``; refuse the rest with issues. The
    reader's issues about another authority's or agency's rows give way to one
    issue per sheet saying those rows were refused (S01, S02)."""
    result = read.result
    found = result.issues
    agency = found["item_id"].map(read.item_agency)
    foreign_issue = (
        found["la_code_ons"].notna() & (found["la_code_ons"] != membership.la_code_ons)
    ) | (agency.notna() & (agency != membership.agency))
    issues = issue_rows(found[~foreign_issue])
    accepted = result.accepted
    own = _own(accepted, membership)
    foreign = accepted[~own]
    issues += _foreign_issues(foreign[~_blank(foreign)], membership)
    accepted = accepted[own]
    other_period = accepted["period"].astype(str) != period
    for (sheet, found), rows in accepted[other_period].groupby(["source_sheet", "period"]):
        issues.append(_issue("S03", sheet=sheet, found=found, period=period, rows=len(rows)))
    quarantined = pd.concat(
        [result.quarantined, foreign, accepted[other_period]], ignore_index=True
    )
    return Checked(
        period=period,
        accepted=accepted[~other_period],
        quarantined=quarantined,
        issues=issues,
        rows_read=result.rows_read,
        file_sha256=sha256,
        file_format=file_format,
        datamodel_version=read.version,
        days_late=late,
        window=window,
    )


def _foreign_issues(rows: pd.DataFrame, membership) -> list[dict]:
    """One error per sheet and authority/agency the account does not submit for."""
    out = []
    for (sheet, la, agency), group in rows.groupby(
        ["source_sheet", "la_code_ons", "agency"], dropna=False
    ):
        if la != membership.la_code_ons:
            out.append(_issue("S01", sheet=sheet, la=la, rows=len(group)))
        else:
            out.append(_issue("S02", sheet=sheet, agency=agency, rows=len(group)))
    return out


def _number(la: str, agency: str, period: str) -> int:
    rows = Submission.objects.filter(la_code_ons=la, agency=agency, period=period)
    if connection.vendor == "postgresql":
        # Lock the return's versions so a concurrent upload waits for this number.
        list(rows.select_for_update().values_list("id", flat=True))
    return (rows.aggregate(top=Max("number"))["top"] or 0) + 1


def store(checked: Checked, membership, user, now) -> Submission:
    """Store ``checked`` as the next version of its return, with its cells and issues."""
    la, agency = membership.la_code_ons, membership.agency
    for attempt in range(VERSION_RETRIES):
        try:
            with transaction.atomic():
                submission = Submission.objects.create(
                    la_code_ons=la,
                    agency=agency,
                    period=checked.period,
                    number=_number(la, agency, checked.period),
                    uploaded_by=user,
                    uploaded_at=now,
                    file_sha256=checked.file_sha256,
                    file_format=checked.file_format,
                    datamodel_version=checked.datamodel_version,
                    rows_read=checked.rows_read,
                    rows_accepted=len(checked.accepted),
                    rows_quarantined=len(checked.quarantined),
                    errors=checked.errors,
                    queries=checked.queries,
                    days_late=checked.days_late,
                )
                Cell.objects.bulk_create(
                    [
                        *cell_rows(submission, checked.accepted, True),
                        *cell_rows(submission, checked.quarantined, False),
                    ]
                )
                Issue.objects.bulk_create(Issue(submission=submission, **i) for i in checked.issues)
                return submission
        except IntegrityError:
            log.info("version number taken by a concurrent upload; retry %d", attempt + 1)
    raise UploadError("The service is busy with uploads of this return; try again.", 503)


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _text(value) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def cell_rows(submission: Submission, frame: pd.DataFrame, accepted: bool):
    for rec in frame.to_dict("records"):
        yield Cell(
            submission=submission,
            item_id=_text(rec.get("item_id")),
            la_code_ons=_text(rec.get("la_code_ons")),
            period=_text(rec.get("period")),
            accepted=accepted,
            numerator=_num(rec.get("numerator")),
            numerator_state=_text(rec.get("numerator_state")),
            denominator=_num(rec.get("denominator")),
            denominator_state=_text(rec.get("denominator_state")),
            value=_num(rec.get("value")),
            value_state=_text(rec.get("value_state")),
            unit=_text(rec.get("unit")),
            note=_text(rec.get("note")),
            sheet=_text(rec.get("source_sheet")),
            row=None if pd.isna(rec.get("source_row")) else int(rec.get("source_row")),
        )
