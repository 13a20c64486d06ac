"""The API app's configuration."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "lscb_nb.service.api"
    label = "api"
