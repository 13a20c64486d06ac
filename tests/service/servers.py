"""Helpers for tests that run the service as users do: a throwaway PostgreSQL
cluster (``initdb``/``pg_ctl`` on a loopback port in a temporary folder, as the
postgres user when the tests run as root), ``lscb-nb`` commands and ``lscb-nb
serve`` processes, and a client process that uploads a return many times."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CLIENT = r"""
import json, sys, urllib.request, urllib.error, uuid
url, token, path, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
body = open(path, "rb").read()
out = []
for _ in range(count):
    b = uuid.uuid4().hex
    data = (f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n'
            'Content-Type: text/csv\r\n\r\n').encode() + body + f'\r\n--{b}--\r\n'.encode()
    req = urllib.request.Request(url + "/api/v1/submissions/", data=data, headers={
        "Authorization": "Bearer " + token, "Content-Type": "multipart/form-data; boundary=" + b})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            got = json.load(r)
            out.append([r.status, got.get("version"), got.get("rows_accepted"), ""])
    except urllib.error.HTTPError as e:
        out.append([e.code, None, None, e.read().decode("utf-8", "replace")[:300]])
    except Exception as e:
        out.append([0, None, None, repr(e)[:300]])
print(json.dumps(out))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(database_url: str = "") -> dict:
    env = {**os.environ, "LSCB_SERVICE_PROJECT": ""}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def cli(*args: str, project: Path, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "lscb_nb.cli", *args, "--project", str(project)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return done


def start_server(project: Path, env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lscb_nb.cli",
            "serve",
            "--project",
            str(project),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None:
                raise AssertionError(server.stdout.read()) from None
            time.sleep(0.2)
    server.kill()
    raise AssertionError("the server did not answer /healthz")


def start_clients(url: str, token: str, path: Path, count: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CLIENT, url, token, str(path), str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def results(client: subprocess.Popen) -> list:
    out, err = client.communicate(timeout=1200)
    assert client.returncode == 0, err
    return json.loads(out)


# ---------------------------------------------------------------------------
# A throwaway PostgreSQL cluster
# ---------------------------------------------------------------------------


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def postgres_available() -> bool:
    return bool(_pg_bin("initdb") and _pg_bin("pg_ctl"))


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and the server refuse to run as root: run them as the postgres user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class Cluster:
    """A PostgreSQL cluster in ``folder`` on a loopback port; trust auth, loopback only."""

    def __init__(self) -> None:
        # Directly under the temporary folder: the postgres user cannot enter
        # pytest's root-only folders.
        self.folder = Path(tempfile.mkdtemp(prefix="lscb-pg-"))
        self.port = free_port()
        self.data = self.folder / "data"

    def start(self) -> str:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
        subprocess.run(
            _as_postgres(
                [_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", user, "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                [
                    _pg_bin("pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    options,
                    "-w",
                    "-l",
                    str(self.folder / "log"),
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        self.user = user
        return f"postgresql://{user}@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)
