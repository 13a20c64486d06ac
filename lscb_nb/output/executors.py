"""Where a batch's reports run: local processes, or the workers of a
``dask.distributed`` cluster.

:func:`lscb_nb.output.batch.run_batch` takes any :class:`concurrent.futures.Executor`.
A dask client's ``get_executor()`` is one, so a national roll-out (every English
authority) spreads over as many machines as the cluster has, with no change to the
batch. dask is optional (``pip install "lscb-nb[dask]"``) and imported only here,
only when asked for.

Every worker must see the project, the notebooks and the output folder at the same
paths as the machine that plans the run (a shared filesystem), and have the toolkit
installed: a worker receives a job's paths, not its files.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from concurrent.futures import Executor

log = logging.getLogger(__name__)

LOCAL_CLUSTER = "local"  # --scheduler local: a dask LocalCluster on this machine


class ExecutorError(RuntimeError):
    """The executor asked for cannot be had (dask missing, scheduler unreachable)."""


def _distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ExecutorError(
            "Running reports on a dask cluster needs dask.distributed: "
            'pip install "lscb-nb[dask]" (or conda install distributed).'
        ) from exc
    return distributed


@contextlib.contextmanager
def dask_executor(scheduler: str, workers: int = 2, timeout: float = 30) -> Iterator[Executor]:
    """An executor on the dask cluster at ``scheduler`` (``tcp://host:8786``), or on
    a new ``LocalCluster`` of ``workers`` single-threaded worker processes when
    ``scheduler`` is ``"local"``. The client (and a local cluster) close on exit."""
    distributed = _distributed()
    with contextlib.ExitStack() as stack:
        if scheduler == LOCAL_CLUSTER:
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
            address = cluster
        else:
            address = scheduler
        try:
            client = stack.enter_context(distributed.Client(address, timeout=timeout))
        except OSError as exc:
            raise ExecutorError(f"No dask scheduler answered at {scheduler}: {exc}") from exc
        log.info("Running on dask: %s", client)
        yield client.get_executor()


@contextlib.contextmanager
def open_executor(scheduler: str | None, workers: int = 2) -> Iterator[Executor | None]:
    """The executor ``lscb-nb run --scheduler`` asks for: ``None`` (the batch's own
    local process pool) without a scheduler, else a dask cluster's."""
    if not scheduler:
        yield None
        return
    with dask_executor(scheduler, workers) as executor:
        yield executor
