"""Reliability, with real processes: two server processes each taking 100 uploads
of the same return at once (on SQLite and on a throwaway PostgreSQL): no duplicate
version number, no lost row, no server error, no "database is locked" reaching a
user; a server killed with SIGKILL while uploads are in flight leaves no
half-stored version; and the permission matrix run again on PostgreSQL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from lscb_nb.core.workspace import init_project
from service.conftest import PASSWORD, return_csv
from service.servers import (
    Cluster,
    cli,
    free_port,
    postgres_available,
    results,
    service_env,
    start_clients,
    start_server,
)

# Server processes, a PostgreSQL cluster or hundreds of uploads: the slow lane.
pytestmark = pytest.mark.slow

UPLOADS = int(os.environ.get("LSCB_SERVICE_TEST_UPLOADS", "100"))  # per process


@pytest.fixture(scope="module")
def postgres():
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("CI must have PostgreSQL (scripts/test.sh installs Debian's postgresql)")
        pytest.skip("PostgreSQL is not installed here (scripts/test.sh installs it)")
    cluster = Cluster()
    cluster.start()
    yield cluster
    cluster.stop()


def _project(tmp_path: Path, env: dict) -> tuple[Path, str]:
    """A project with an open window and one agency submitter; its token."""
    root = init_project(tmp_path / "p", first_period="2025-26 Q1", last_period="2025-26 Q2").root
    soon, later = date.today() + timedelta(days=5), date.today() + timedelta(days=30)
    cli("service", "window", "open", "--period", "2025-26 Q1", "--deadline", str(soon),
        "--close", str(later), project=root, env=env)  # fmt: skip
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    cli("service", "user", "add", "--email", "s@example.invalid", "--role", "agency_submitter",
        "--authority", "Camden", "--agency", "childrens_social_care",
        "--password-file", str(tmp_path / "pw"), project=root, env=env)  # fmt: skip
    token = cli("service", "token", "--email", "s@example.invalid", project=root, env=env)
    return root, token.stdout.strip()


def _versions(env: dict, root: Path) -> list[tuple[int, int, int, int]]:
    """(number, rows_read, rows_accepted + rows_quarantined, cells stored) per version."""
    code = (
        "import sys, json; from lscb_nb.service import runtime; runtime.setup(sys.argv[1]);"
        "from django.db.models import Count;"
        "from lscb_nb.service.collection.models import Submission as S;"
        "print(json.dumps([[s.number, s.rows_read, s.rows_accepted + s.rows_quarantined, s.n]"
        " for s in S.objects.annotate(n=Count('cells'))]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    import json

    return [tuple(v) for v in json.loads(out.stdout)]


def _two_processes_upload(tmp_path: Path, env: dict) -> None:
    root, token = _project(tmp_path, env)
    body = tmp_path / "return.csv"
    body.write_bytes(return_csv())
    ports = [free_port(), free_port()]
    servers = [start_server(root, env, port) for port in ports]
    try:
        clients = [start_clients(f"http://127.0.0.1:{p}", token, body, UPLOADS) for p in ports]
        answers = [a for c in clients for a in results(c)]
    finally:
        for server in servers:
            server.terminate()
        logs = "".join(server.communicate(timeout=60)[0] for server in servers)
    statuses = [a[0] for a in answers]
    assert statuses.count(201) == 2 * UPLOADS, (
        [a[:2] for a in answers if a[0] != 201][:5],
        logs[-4000:],
    )
    assert "database is locked" not in logs + str(answers)
    numbers = sorted(a[1] for a in answers)
    assert numbers == list(range(1, 2 * UPLOADS + 1)), "duplicate or missing version numbers"
    stored = _versions(env, root)
    assert sorted(v[0] for v in stored) == numbers
    assert all(read == kept == cells for _, read, kept, cells in stored), "a row was lost"


def test_two_processes_upload_at_once_on_sqlite(tmp_path):
    _two_processes_upload(tmp_path, service_env())


def test_two_processes_upload_at_once_on_postgresql(tmp_path, postgres):
    _two_processes_upload(tmp_path, service_env(postgres.create_database("concurrency")))


def test_sigkill_during_uploads_leaves_no_half_stored_version(tmp_path):
    env = service_env()
    root, token = _project(tmp_path, env)
    body = tmp_path / "return.csv"
    body.write_bytes(return_csv())
    port = free_port()
    server = start_server(root, env, port)
    client = start_clients(f"http://127.0.0.1:{port}", token, body, 400)
    time.sleep(6)  # uploads in flight
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=30)
    results(client)  # the client saw errors once the server died; it must not hang
    database = root / ".lscb-service" / "service.sqlite3"
    assert sqlite3.connect(database).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = _versions(env, root)
    assert stored, "some uploads were stored before the kill"
    assert all(read == kept == cells for _, read, kept, cells in stored), "half-stored version"
    assert sorted(v[0] for v in stored) == list(range(1, len(stored) + 1))


def test_the_permission_matrix_on_postgresql(postgres):
    url = postgres.create_database("matrix")
    here = Path(__file__).resolve().parent
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-s",
         str(here / "test_permission_matrix.py")],
        capture_output=True, text=True, env={**service_env(url), "LSCB_SERVICE_PROJECT": ""},
        timeout=600, cwd=here.parents[1],
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 leaked" in done.stdout and "cross-tenant" in done.stdout
