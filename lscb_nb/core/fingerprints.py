"""Fingerprints that let a run redo only what changed (after Quarto's ``freeze``).

A phase is re-prepared when its fingerprint changes: the toolkit, project.yaml,
the phase's raw inputs and other files it reads, the candidate data model, the
version it works on and the prepared outputs of every earlier phase. A report is
re-rendered when its fingerprint changes: the toolkit, the notebook, its parameters
and the prepared outputs of the phases it reads. Everything else is reused from an earlier run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import cache
from pathlib import Path

from lscb_nb import __version__
from lscb_nb.core import config, lineage, periods, phases
from lscb_nb.core.fileio import file_sha256
from lscb_nb.core.project import PROJECT_FILE, Project

log = logging.getLogger(__name__)


def _path_sha256(path: Path, skip: tuple[str, ...] = ()) -> str | None:
    """A file's or a folder's content hash (names and bytes), None if absent."""
    if path.is_file():
        return file_sha256(path)
    if not path.is_dir():
        return None
    h = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file() and p.name not in skip):
        h.update(str(item.relative_to(path)).encode())
        h.update(file_sha256(item).encode())
    return h.hexdigest()


def _digest(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@cache
def toolkit() -> str:
    """The toolkit's version and the content of its code and shipped data."""
    skip = ("__pycache__",)
    h = hashlib.sha256(__version__.encode())
    for item in sorted(config.PACKAGE_DIR.rglob("*")):
        if item.is_file() and not any(s in item.parts for s in skip) and item.suffix != ".pyc":
            h.update(str(item.relative_to(config.PACKAGE_DIR)).encode())
            h.update(file_sha256(item).encode())
    return h.hexdigest()


def outputs(project: Project, phase: phases.Phase) -> str | None:
    """What the phase's stage produced (its folders and the version it wrote), or None."""
    if not phase.writes or phases.summary(project, phase) is None:
        return None
    parts = {
        d.name: _path_sha256(d, skip=(phases.STAMP_FILE,))
        for d in phases.output_dirs(project, phase)
    }
    name = (phases.summary(project, phase) or {}).get("writes")
    if phase.writes_version and name:
        parts["version"] = _path_sha256(project.datamodel_dir / f"{name}.yaml")
    return _digest(parts)


def prepare_key(project: Project, phase: phases.Phase) -> str:
    """Everything preparing ``phase`` depends on."""
    earlier = []
    for other in phases.all_phases():
        if other.key == phase.key:
            break
        earlier.append(other)
    candidate_file = lineage.candidate_path(project) or (
        config.DATAMODEL_DIR / f"{project.candidate}.yaml"
    )
    return _digest(
        {
            "toolkit": toolkit(),
            "project": _path_sha256(project.root / PROJECT_FILE),
            "candidate": _path_sha256(candidate_file),
            "inputs": {k: _path_sha256(getattr(project, k)) for k in phase.inputs},
            "also_reads": {p: _path_sha256(project.root / p) for p in phase.also_reads},
            "earlier": {p.key: outputs(project, p) for p in earlier if p.writes},
            # The version it works on: a move (`lscb-nb datamodel adopt`) re-prepares it.
            "basis": phases.basis_version(project, phase),
            # A return falls due with the calendar, not with any file: the quarters
            # whose deadline has passed change what phase 3 concludes.
            "due": _due_periods(project) if "returns" in phase.inputs else [],
        }
    )


def _due_periods(project: Project) -> list[str]:
    """Each collection quarter and deadline (days; agencies may differ) that has
    passed by the project's ``as_of`` date (today unless project.yaml sets one)."""
    from datetime import timedelta

    deadlines = sorted({project.deadline_days, *project.deadline_overrides.values()})
    return [
        f"{p}+{d}"
        for p in project.periods
        for d in deadlines
        if periods.period_end(p) + timedelta(days=d) <= project.as_of
    ]


def report_basis(project: Project, phase: phases.Phase, notebook: Path) -> dict:
    """What every report of ``phase`` depends on (computed once per phase and run)."""
    return {
        "toolkit": toolkit(),
        "notebook": _path_sha256(notebook),
        "project": _path_sha256(project.root / PROJECT_FILE),
        "reads": {k: outputs(project, phases.get(k)) for k in phase.reads},
    }


def report_key(basis: dict, parameters: dict) -> str:
    """Everything one rendered report depends on: its phase's basis and its parameters."""
    return _digest({**basis, "parameters": parameters})
