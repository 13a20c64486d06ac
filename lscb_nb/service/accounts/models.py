"""Memberships (an account's role, authority and agency) and API tokens.

The tenant of every request comes from here, never from a request parameter: a
partnership lead and a viewer belong to one authority, an agency submitter to one
authority and one agency, a board administrator to the whole area.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models

from lscb_nb.core.returnformat import AGENCIES

BOARD_ADMIN = "board_administrator"
LEAD = "partnership_lead"
SUBMITTER = "agency_submitter"
VIEWER = "viewer"
ROLES: dict[str, str] = {
    BOARD_ADMIN: "Board administrator",
    LEAD: "Partnership lead",
    SUBMITTER: "Agency submitter",
    VIEWER: "Viewer",
}
TOKEN_PREFIX = "lscb_"


class Membership(models.Model):
    """One account's place: its role, and the authority and agency it acts for."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    role = models.CharField(max_length=32, choices=list(ROLES.items()))
    la_code_ons = models.CharField(max_length=9, blank=True, default="")
    agency = models.CharField(max_length=32, blank=True, default="", choices=list(AGENCIES.items()))

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="membership_scope_fits_role",
                condition=(
                    models.Q(role=BOARD_ADMIN, la_code_ons="", agency="")
                    | models.Q(role__in=[LEAD, VIEWER], agency="") & ~models.Q(la_code_ons="")
                    | models.Q(role=SUBMITTER) & ~models.Q(la_code_ons="") & ~models.Q(agency="")
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.role} {self.la_code_ons} {self.agency})".strip()

    @property
    def is_admin(self) -> bool:
        return self.role == BOARD_ADMIN


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 digest is stored; the key is
    shown once when made."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(default=False)

    @classmethod
    def issue(cls, user) -> str:
        """Make a token for ``user`` and return its key (the only time it is shown)."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        cls.objects.create(user=user, digest=_digest(key))
        return key

    @classmethod
    def user_for(cls, key: str):
        """The active account the key belongs to, or None."""
        if not key.startswith(TOKEN_PREFIX):
            return None
        token = (
            cls.objects.select_related("user", "user__membership")
            .filter(digest=_digest(key), revoked=False, user__is_active=True)
            .first()
        )
        return token.user if token else None
