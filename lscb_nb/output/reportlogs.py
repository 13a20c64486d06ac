"""Where a batch's log lines go: each report's own log file, and each worker's stderr
(its kernels' too) in a file rather than on the console, so progress stays readable."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

_QUIET: list[int] = []  # the process whose stderr already goes to a log file


def quiet_worker(log_dir: str) -> None:
    """Send a worker's stderr (and its kernels') to a log file, not the console."""

    if [os.getpid()] == _QUIET:
        return
    _QUIET[:] = [os.getpid()]
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(
        Path(log_dir) / f"worker-{os.getpid()}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND
    )
    os.dup2(fd, 2)
    os.close(fd)


# Reports running side by side on threads share the loggers' levels (raised while
# any report runs).
_LOG_LOCK = threading.Lock()
_LOGGING_REPORTS = 0
_SAVED_LEVELS: list[int] = []


@contextlib.contextmanager
def report_log(path: Path):
    """Everything the toolkit and papermill log while one report runs, in its own file.

    The handler keeps only records from the thread that runs the report, so reports
    run side by side on a thread pool do not share a log.
    """
    global _LOGGING_REPORTS, _SAVED_LEVELS
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    thread = threading.get_ident()
    handler.addFilter(lambda record: record.thread == thread)
    loggers = [logging.getLogger("lscb_nb"), logging.getLogger("papermill")]
    with _LOG_LOCK:  # the first report in raises the levels, the last one out restores them
        if _LOGGING_REPORTS == 0:
            _SAVED_LEVELS = [lg.level for lg in loggers]
            for lg in loggers:
                lg.setLevel(min(lg.getEffectiveLevel(), logging.INFO))
        _LOGGING_REPORTS += 1
        for lg in loggers:
            lg.addHandler(handler)
    try:
        yield
    finally:
        with _LOG_LOCK:
            for lg in loggers:
                lg.removeHandler(handler)
            _LOGGING_REPORTS -= 1
            if _LOGGING_REPORTS == 0:
                for lg, level in zip(loggers, _SAVED_LEVELS, strict=True):
                    lg.setLevel(level)
        handler.close()
