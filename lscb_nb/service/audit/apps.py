"""The audit app's configuration: connects sign-in and lockout signals to events."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "lscb_nb.service.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from lscb_nb.service.audit import signals

        signals.connect()
