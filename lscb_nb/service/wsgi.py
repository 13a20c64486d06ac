"""The WSGI application that ``lscb-nb serve`` hands to waitress (or any WSGI server)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lscb_nb.service.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
