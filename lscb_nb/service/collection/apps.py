"""The collection app's configuration."""

from django.apps import AppConfig


class CollectionConfig(AppConfig):
    name = "lscb_nb.service.collection"
    label = "collection"
    default_auto_field = "django.db.models.BigAutoField"
