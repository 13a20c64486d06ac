"""The store of record: collection windows, submission versions, their cells,
issues and explanations.

Each upload is a :class:`Submission`: an immutable version of one authority's,
agency's and period's return, unique on those four and its number. Its content
(cells and issues) never changes; only its workflow ``status`` moves, through the
transition functions of :mod:`lscb_nb.service.collection.workflow`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

UPLOADED = "uploaded"
CHECKED = "checked"
SUBMITTED = "submitted"
SIGNED_OFF = "signed_off"
ACCEPTED = "accepted"
PUBLISHED = "published"
STATUSES: dict[str, str] = {
    UPLOADED: "Uploaded",
    CHECKED: "Checked",
    SUBMITTED: "Submitted",
    SIGNED_OFF: "Signed off",
    ACCEPTED: "Accepted",
    PUBLISHED: "Published",
}


class Window(models.Model):
    """When returns for one period may be uploaded, and the data model in force."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    period = models.CharField(max_length=16, unique=True)
    opens = models.DateField()
    deadline = models.DateField()
    closes = models.DateField()
    datamodel_version = models.CharField(max_length=64)
    release_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["period"]

    def __str__(self) -> str:
        return f"{self.period} ({self.opens} to {self.closes})"


class Submission(models.Model):
    """One version of one authority's, agency's and period's return."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    la_code_ons = models.CharField(max_length=9)
    agency = models.CharField(max_length=32)
    period = models.CharField(max_length=16)
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=list(STATUSES.items()), default=UPLOADED)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file_sha256 = models.CharField(max_length=64)
    file_format = models.CharField(max_length=8)
    datamodel_version = models.CharField(max_length=64)
    rows_read = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)
    rows_quarantined = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    queries = models.PositiveIntegerField(default=0)
    days_late = models.PositiveIntegerField(default=0)
    synthetic = models.BooleanField(default=False)

    class Meta:
        ordering = ["la_code_ons", "agency", "period", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["la_code_ons", "agency", "period", "number"], name="one_number_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.la_code_ons} {self.agency} {self.period} v{self.number}"


class Cell(models.Model):
    """One row of the return as read: an item's numerator and denominator with
    their states, where it came from, and whether it was accepted."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="cells")
    item_id = models.CharField(max_length=32)
    la_code_ons = models.CharField(max_length=9, blank=True, default="")
    period = models.CharField(max_length=16, blank=True, default="")
    accepted = models.BooleanField()
    numerator = models.FloatField(null=True)
    numerator_state = models.CharField(max_length=16, blank=True, default="")
    denominator = models.FloatField(null=True)
    denominator_state = models.CharField(max_length=16, blank=True, default="")
    value = models.FloatField(null=True)
    value_state = models.CharField(max_length=16, blank=True, default="")
    unit = models.CharField(max_length=32, blank=True, default="")
    note = models.TextField(blank=True, default="")
    sheet = models.CharField(max_length=64, blank=True, default="")
    row = models.PositiveIntegerField(null=True)

    class Meta:
        ordering = ["item_id", "row"]


class Issue(models.Model):
    """One problem found in a version, keyed to sheet, row and column: an error
    (must be fixed) or a query (fix or explain)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="issues")
    severity = models.CharField(max_length=8)
    rule_code = models.CharField(max_length=16)
    title = models.CharField(max_length=200, blank=True, default="")
    message = models.TextField()
    sheet = models.CharField(max_length=64, blank=True, default="")
    row = models.PositiveIntegerField(null=True)
    column = models.CharField(max_length=64, blank=True, default="")
    item_id = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["severity", "sheet", "row", "column"]


class Explanation(models.Model):
    """Why a query's figure is right, from the agency or the partnership lead."""

    issue = models.OneToOneField(Issue, on_delete=models.CASCADE, related_name="explanation")
    text = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
