"""How a report's kernel starts: forked from a warm process instead of started cold,
and started again when it never came up.

A report kernel started the usual way spends about 2.5 s of a 2-core machine's time
starting Python and IPython and importing pandas, SciPy, matplotlib, seaborn and the
toolkit before the notebook's first line runs; over a batch of 57 reports that is
most of the time. Each worker process instead keeps one warm process
(:mod:`lscb_nb.output.kernelserver`) that has imported all of that once and forks a
fresh kernel for every report, as Gunicorn's preload and multiprocessing's
forkserver do. Every report still gets its own kernel process with its own memory:
nothing one report does is seen by the next.

Used only where it is safe: POSIX ``fork`` off macOS, and a kernel spec that is
``python ... -m ipykernel_launcher -f {connection_file}``. Anywhere else, or when the
warm process cannot start, kernels start the usual way.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

log = logging.getLogger(__name__)

LAUNCHER = "ipykernel_launcher"
KERNEL_STARTS = ("warm", "fresh")


def supported() -> bool:
    """Forking a warm process is safe here (POSIX, not macOS's frameworks)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def warm_argv(argv: list[str]) -> tuple[list[str], list[str]] | None:
    """Split a kernel command into the interpreter part and the launcher's arguments,
    or None when it is not ``python [flags] -m ipykernel_launcher ...``."""
    for i in range(len(argv) - 1):
        if argv[i] == "-m" and argv[i + 1] == LAUNCHER:
            return argv[:i], argv[i + 2 :]
    return None


class WarmServer:
    """One warm process: started once, asked to fork a kernel per report."""

    def __init__(self, python: list[str], notebooks_dir: str):
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            [*python, "-m", "lscb_nb.output.kernelserver", notebooks_dir],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            cwd=notebooks_dir,  # the kernels' own import path, as `python -m` in their folder
            start_new_session=True,  # a Ctrl-C for the run is handled by the run
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self, argv: list[str], cwd: str | None, env: dict[str, str]) -> int:
        request = json.dumps({"argv": argv, "cwd": cwd, "env": env})
        with self.lock:
            assert self.proc.stdin and self.proc.stdout
            self.proc.stdin.write(request + "\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("the warm kernel process ended")
        return int(json.loads(answer)["pid"])

    def close(self) -> None:
        if self.alive():
            assert self.proc.stdin
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


_SERVERS: dict[tuple, WarmServer] = {}
_SERVERS_LOCK = threading.Lock()


def server_for(python: list[str], notebooks_dir: str) -> WarmServer:
    """This process's warm server for an interpreter and a notebooks folder."""
    key = (os.getpid(), tuple(python), notebooks_dir)
    with _SERVERS_LOCK:
        server = _SERVERS.get(key)
        if server is None or not server.alive():
            server = _SERVERS[key] = WarmServer(python, notebooks_dir)
        return server


@atexit.register
def close_servers() -> None:
    """End this process's warm servers (their kernels end with their reports)."""
    with _SERVERS_LOCK:
        for key, server in list(_SERVERS.items()):
            if key[0] == os.getpid():
                server.close()
            _SERVERS.pop(key, None)


class ForkedKernel:
    """The ``subprocess.Popen`` face jupyter_client expects, for a kernel the warm
    process forked (its child, not ours: it is reaped there, so the exit status is
    not known here and an ended kernel reports 0)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class WarmProvisioner(LocalProvisioner):
    """Launches the kernel by asking this process's warm server to fork one."""

    notebooks_dir = ""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        split = warm_argv(cmd)
        if split is None:
            return await super().launch_kernel(cmd, **kwargs)
        python, args = split
        cwd = str(kwargs.get("cwd") or Path.cwd())
        env = dict(kwargs.get("env") or os.environ)
        env.setdefault("JPY_PARENT_PID", str(os.getpid()))
        try:
            pid = server_for(python, self.notebooks_dir or cwd).fork(args, cwd, env)
        except (OSError, RuntimeError, ValueError) as exc:
            log.warning("warm kernel process unavailable (%s); starting the kernel cold", exc)
            return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedKernel(pid)
        self.pid = self.pgid = pid  # the kernel leads its own session, as a cold one does
        self.cwd = cwd
        log.debug("kernel %s forked from the warm process as pid %d", self.kernel_id, pid)
        return self.connection_info


class WarmKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels are forked from a warm process."""

    notebooks_dir = ""

    async def _async_pre_start_kernel(self, **kw: Any):
        if self.provisioner is None and warm_argv(self.kernel_spec.argv) is not None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            provisioner = WarmProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
            provisioner.notebooks_dir = self.notebooks_dir
            self.provisioner = provisioner
        return await super()._async_pre_start_kernel(**kw)


def manager_class(kernel_start: str, notebooks_dir: str | Path) -> type[AsyncKernelManager]:
    """The kernel manager for ``kernel_start`` ("warm" or "fresh") and these notebooks."""
    if kernel_start not in KERNEL_STARTS:
        raise ValueError(f"kernel start must be one of {', '.join(KERNEL_STARTS)}")
    if kernel_start == "fresh" or not supported():
        return AsyncKernelManager
    folder = str(Path(notebooks_dir).resolve())
    return type("WarmKernelManager", (WarmKernelManager,), {"notebooks_dir": folder})


# A kernel that never started: jupyter_client picks free ports by binding and
# releasing them, so two kernels started at once on one machine (as dask workers
# do) can race for a port. Nothing of the report has run: start it again.
_KERNEL_START_FAILURES = ("before replying to kernel_info", "Address already in use")
KERNEL_START_ATTEMPTS = 3


def kernel_never_started(exc: BaseException) -> bool:
    """The error says the kernel failed to start, not that the notebook failed."""
    if type(exc).__name__ == "PapermillExecutionError":
        return False
    return any(text in str(exc) for text in _KERNEL_START_FAILURES)


def retrying_kernel_start(run, slug: str, attempts: int = KERNEL_START_ATTEMPTS):
    """``run()``, started again (up to ``attempts`` times in all) when its kernel
    never started; any other error, or the last attempt's, is raised as it came."""
    for attempt in range(1, attempts + 1):
        try:
            return run()
        except Exception as exc:
            if attempt == attempts or not kernel_never_started(exc):
                raise
            log.warning("report %s: kernel did not start (%s); trying again", slug, exc)
            time.sleep(0.5 * attempt)
    return None
