"""The pages app's configuration."""

from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "lscb_nb.service.pages"
    label = "pages"
