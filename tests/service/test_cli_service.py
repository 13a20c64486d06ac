"""The commands as a user runs them, each in its own process on a project made with
``lscb-nb init``: open a window, add accounts (a weak password refused), print a
token, start ``lscb-nb serve`` on a loopback port and upload through the API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import date, timedelta

import pytest

from lscb_nb.core.workspace import init_project
from service.conftest import PASSWORD, return_csv

# Server processes, a PostgreSQL cluster or hundreds of uploads: the slow lane.
pytestmark = pytest.mark.slow


def _cli(*args: str, project) -> subprocess.CompletedProcess:
    env = {**os.environ, "LSCB_SERVICE_PROJECT": ""}
    return subprocess.run(
        [sys.executable, "-m", "lscb_nb.cli", *args, "--project", str(project)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _multipart(body: bytes, name: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    return head + body + f"\r\n--{boundary}--\r\n".encode(), boundary


def test_the_commands_and_the_server(tmp_path):
    project = init_project(tmp_path / "p", first_period="2025-26 Q1", last_period="2025-26 Q2")
    root = project.root
    soon, later = date.today() + timedelta(days=5), date.today() + timedelta(days=30)
    opened = _cli(
        "service", "window", "open", "--period", "2025-26 Q1", "--deadline", str(soon),
        "--close", str(later), project=root,
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    assert "Window 2025-26 Q1" in opened.stdout
    secret = root / ".lscb-service" / "secret_key"
    assert secret.stat().st_mode & 0o777 == 0o600
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    (tmp_path / "weak").write_text("password\n")
    weak = _cli(
        "service", "user", "add", "--email", "w@example.invalid", "--role", "viewer",
        "--authority", "Camden", "--password-file", str(tmp_path / "weak"), project=root,
    )  # fmt: skip
    assert weak.returncode == 2 and "too short" in weak.stderr
    added = _cli(
        "service", "user", "add", "--email", "s@example.invalid", "--role", "agency_submitter",
        "--authority", "Camden", "--agency", "childrens_social_care",
        "--password-file", str(tmp_path / "pw"), project=root,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    token = _cli("service", "token", "--email", "s@example.invalid", project=root).stdout.strip()
    assert token.startswith("lscb_")

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "lscb_nb.cli", "serve", "--project", str(root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "LSCB_SERVICE_PROJECT": ""},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    assert json.load(r) == {"status": "ok"}
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        else:
            raise AssertionError("the server did not answer /healthz")
        body, boundary = _multipart(return_csv(), "return.csv")
        request = urllib.request.Request(
            f"{base}/api/v1/submissions/",
            data=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            result = json.load(r)
        assert result["version"] == 1 and result["status"] == "submitted"
        assert r.status == 201
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert "LSCB dataset service on" in out
    assert "Demo accounts" not in out  # only the synthetic sample gets demo accounts
