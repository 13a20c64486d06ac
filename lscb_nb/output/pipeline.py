"""Prepare a project's data, phase by phase, before any notebook runs.

``lscb-nb ingest`` and ``lscb-nb run`` call these; a notebook only reads what was
prepared, so two kernels never race on ``data/processed``. Each stage reads
``data/raw`` and writes ``data/processed`` atomically. A phase whose inputs are
absent is skipped with the reason, never an error: the batch renders a page that
says what is missing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from lscb_nb.core import phases
from lscb_nb.core.fileio import write_json_atomic
from lscb_nb.core.project import Project

log = logging.getLogger(__name__)


def prepare(
    project: Project, selected: list[phases.Phase] | None = None, force: bool = False
) -> dict[str, dict]:
    """Prepare each selected phase (all by default) in order; one status per phase.

    A phase with absent inputs is skipped (status ``missing`` with the reasons). A
    phase whose fingerprint (inputs, settings, toolkit, earlier phases' outputs) is
    the one it was last prepared from is ``up to date`` and left as it is, unless
    ``force``.
    """
    from lscb_nb.core import fingerprints

    chosen = {p.key for p in (selected or phases.all_phases())}
    status: dict[str, dict] = {}
    for phase in phases.all_phases():
        if phase.key not in chosen or phase.prepare is None:
            continue
        missing = phases.missing_inputs(project, phase)
        if missing:
            log.info("%s: skipped, %s", phase.title, " ".join(missing))
            status[phase.key] = {"status": "missing", "missing": missing}
            continue
        key = fingerprints.prepare_key(project, phase)
        last = phases.stamp(project, phase) or {}
        if not force and last.get("key") == key and phases.is_prepared(project, phase):
            log.info("%s: up to date (prepared %s)", phase.title, last.get("prepared_at"))
            status[phase.key] = {"status": "up to date"}
            continue
        log.info("%s: preparing", phase.title)
        started = datetime.now(UTC)
        summary = phase.prepare_function()(project)
        write_json_atomic(
            phases.output_dir(project, phase) / phases.STAMP_FILE,
            {"key": key, "prepared_at": started.isoformat(timespec="seconds")},
        )
        status[phase.key] = {"status": "prepared", "summary": summary}
        log.info(
            "%s: prepared in %.1f s", phase.title, (datetime.now(UTC) - started).total_seconds()
        )
    return status
