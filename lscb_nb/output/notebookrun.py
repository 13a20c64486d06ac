"""Run one report notebook the standard way: ``papermill.execute_notebook`` with an
ordinary kernel, the same on Linux, macOS and Windows.

Every report gets its own kernel, started by jupyter_client as the ``papermill``
command starts one; nothing here changes how a library works. Two settings go
through traitlets' documented configuration (``KernelManager.transport`` and
``KernelManager.transport_encryption``): where the platform has Unix sockets the
kernel talks to the batch over IPC, so no TCP port is opened and ipykernel does not
warn about plain-text TCP once per report; elsewhere (Windows) the connection is
encrypted with CurveZMQ when pyzmq has it. Each kernel's sockets get their own path
(``KernelManager.ip``) in Jupyter's runtime folder: left to its default, every kernel
started in one folder would share ``kernel-ipc-1`` and two reports would cross. A
kernel that never came up (two kernels racing for a TCP port) is started again; a
notebook that failed is not.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# A kernel that never started: jupyter_client picks free TCP ports by binding and
# releasing them, so two kernels started at once on one machine (as dask workers
# do) can race for a port. Nothing of the report has run: start it again.
_KERNEL_START_FAILURES = ("before replying to kernel_info", "Address already in use")
KERNEL_START_ATTEMPTS = 3


def transport() -> str:
    """``ipc`` where the platform and pyzmq have Unix sockets, else ``tcp``."""
    import zmq

    return "ipc" if sys.platform != "win32" and zmq.has("ipc") else "tcp"


def kernel_config() -> dict[str, dict[str, str]]:
    """The kernel manager's configuration for one report kernel (traitlets' dict form):
    IPC where there is IPC, on socket paths of its own; over TCP, CurveZMQ encryption
    when pyzmq has it."""
    import zmq
    from jupyter_core.paths import jupyter_runtime_dir

    chosen = transport()
    settings = {"transport": chosen}
    if chosen == "ipc":
        folder = Path(jupyter_runtime_dir())
        folder.mkdir(parents=True, exist_ok=True)
        settings["ip"] = str(folder / f"lscb-{uuid.uuid4().hex[:16]}")
    elif zmq.has("curve"):
        settings["transport_encryption"] = "auto"
    return {"KernelManager": settings}


def kernel_never_started(exc: BaseException) -> bool:
    """The error says the kernel failed to start, not that the notebook failed."""
    if type(exc).__name__ == "PapermillExecutionError":
        return False
    return any(text in str(exc) for text in _KERNEL_START_FAILURES)


def retrying_kernel_start(
    run: Callable[[], T], slug: str, attempts: int = KERNEL_START_ATTEMPTS
) -> T | None:
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


def execute_notebook(
    source: Path, output: Path, parameters: dict[str, Any], kernel: str, cwd: Path, slug: str
) -> None:
    """Execute ``source`` into ``output`` with ``parameters`` on a new ``kernel``
    (papermill's cell-by-cell progress and the notebook's output go to the log)."""
    import papermill as pm
    from traitlets.config import Config

    config = Config(kernel_config())
    retrying_kernel_start(
        lambda: pm.execute_notebook(
            str(source),
            str(output),
            parameters=parameters,
            kernel_name=kernel,
            progress_bar=False,
            log_output=True,
            cwd=str(cwd),
            config=config,
        ),
        slug,
    )
