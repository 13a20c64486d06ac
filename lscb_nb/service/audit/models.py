"""The audit trail: one append-only event per action, with UTC time, actor,
tenant, object and outcome.

The ORM refuses to change history: :meth:`Event.save` only inserts, and
:meth:`Event.delete`, the queryset's ``update`` and ``delete`` raise
:class:`AppendOnlyError`.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Someone tried to change or delete an audit event."""


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("audit events cannot be updated")


class Event(models.Model):
    """One action: who, for which authority, on what, and how it ended."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.CharField(max_length=254, blank=True, default="")  # the account's e-mail
    role = models.CharField(max_length=32, blank=True, default="")
    la_code_ons = models.CharField(max_length=9, blank=True, default="", db_index=True)
    agency = models.CharField(max_length=32, blank=True, default="")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    outcome = models.CharField(max_length=64, default="ok")
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["at"]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")


def record(
    request,
    action: str,
    *,
    outcome: str = "ok",
    actor=None,
    la_code_ons: str | None = None,
    agency: str | None = None,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    **detail,
) -> Event:
    """Write one event. The actor defaults to the request's account; the tenant to
    the object's authority, else the actor's membership."""
    user = actor if actor is not None else getattr(request, "user", None)
    membership = getattr(user, "membership", None) if user is not None else None
    email = ""
    if user is not None and getattr(user, "is_authenticated", False):
        email = user.get_username()
    elif "email" in detail:
        email = str(detail.pop("email"))[:254]
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or str(obj.pk)
        la_code_ons = la_code_ons if la_code_ons is not None else getattr(obj, "la_code_ons", "")
        agency = agency if agency is not None else getattr(obj, "agency", "")
    if la_code_ons is None:
        la_code_ons = membership.la_code_ons if membership else ""
    if agency is None:
        agency = membership.agency if membership else ""
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    return Event.objects.create(
        actor=email,
        role=membership.role if membership else "",
        la_code_ons=la_code_ons or "",
        agency=agency or "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        detail=detail,
        ip=ip or None,
    )
