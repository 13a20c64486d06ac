"""The accounts app's configuration (its label and the audit hooks it connects)."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "lscb_nb.service.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
