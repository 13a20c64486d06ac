"""Starting the service on a project: Django set up for the project folder,
migrations applied, the sample loaded on a synthetic project's first start, and
the WSGI application served by waitress (pure Python: Linux, macOS and Windows).
The CLI's ``serve`` and ``service`` commands call only these functions."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

SETTINGS = "lscb_nb.service.settings"


def setup(project_root: Path) -> None:
    """Configure Django for ``project_root`` (once per process) and apply migrations."""
    import django
    from django.conf import settings

    root = Path(project_root).resolve()
    if not settings.configured:
        os.environ["LSCB_SERVICE_PROJECT"] = str(root)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
        django.setup()
    elif Path(settings.PROJECT_DIR) != root:
        raise ValueError(
            f"this process already serves {settings.PROJECT_DIR}; start another for {root}"
        )
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def prepare_sample(out=print) -> None:
    """On a synthetic project with an empty store: load it and print the demo accounts."""
    from django.conf import settings
    from django.utils import timezone

    from lscb_nb.service import toolkit
    from lscb_nb.service.collection.models import Submission
    from lscb_nb.service.collection.sample import load_sample, make_demo_accounts

    project = toolkit.project()
    if not project.synthetic:
        return
    state = Path(settings.STATE_DIR)
    if Submission.objects.exists():
        out(f"Demo accounts (SYNTHETIC): see {state / 'demo_accounts.txt'}")
        return
    counts = load_sample(timezone.localdate())
    out(
        f"Loaded the synthetic sample: {counts['submissions']} versions, "
        f"{counts['windows']} windows."
    )
    out("Demo accounts, one per role (SYNTHETIC: for trying the service, never for real data):")
    for role, email, password, note in make_demo_accounts(state):
        out(f"  {role:20} {email:48} {password}  {note}")
    out(f"(also written to {state / 'demo_accounts.txt'}, readable only by you)")


def serve(project_root: Path, host: str = "127.0.0.1", port: int = 8000, threads: int = 8) -> None:
    """Run the service until interrupted."""
    from django.conf import settings
    from waitress import serve as waitress_serve

    setup(project_root)
    prepare_sample()
    from lscb_nb.service.wsgi import application

    print(f"LSCB dataset service on http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    waitress_serve(
        application,
        host=host,
        port=port,
        threads=threads,
        ident="lscb-nb",
        max_request_body_size=settings.SERVICE_MAX_UPLOAD_BYTES + 1024 * 1024,
    )
