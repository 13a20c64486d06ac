"""The project's phases, declared once as data (``lscb_nb/data/phases.yaml``).

Each phase names its notebook, who it runs for, the raw inputs it needs, the
stage that prepares it, the folder it writes and its place in the data-model
version chain (candidate -> draft -> pilot -> refined). The batch, ``lscb-nb
status`` and every stage read the chain from here, never from string constants.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from lscb_nb.core import lineage
from lscb_nb.core.datamodel import DataModel, load_datamodel, save_datamodel
from lscb_nb.core.lineage import (  # re-exported: finding a version is part of the chain
    find_version as find_version,
)
from lscb_nb.core.lineage import (
    load_candidate as load_candidate,
)
from lscb_nb.core.lineage import (
    project_versions as project_versions,
)
from lscb_nb.core.project import RAW_FOLDERS, Project

log = logging.getLogger(__name__)

CANDIDATE = "candidate"
RUNS_FOR = ("area", "all", "pilots")


@dataclass(frozen=True)
class Phase:
    key: str
    number: str
    title: str
    notebook: str
    runs_for: str
    answers: str
    inputs: tuple[str, ...]
    prepare: str | None
    writes: str | None
    starts_from: str | None
    writes_version: str | None
    after: tuple[str, ...] = ()
    also_reads: tuple[str, ...] = ()
    also_writes: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()

    def prepare_function(self) -> Callable[[Project], dict] | None:
        """The stage that prepares this phase's data (``module:function``)."""
        if not self.prepare:
            return None
        module, name = self.prepare.split(":")
        return getattr(importlib.import_module(module), name)

    def matches(self, selector: str) -> bool:
        """``--phases`` accepts the number (01), the key (mapping) or the notebook stem."""
        s = str(selector).strip().casefold()
        return s in (self.number, self.key, Path(self.notebook).stem.casefold()) or (
            s.isdigit() and int(s) == int(self.number)
        )


@cache
def all_phases() -> tuple[Phase, ...]:
    """Every phase, in order, from the declaration."""
    text = (resources.files("lscb_nb") / "data" / "phases.yaml").read_text("utf-8")
    phases = []
    for entry in yaml.safe_load(text):
        entry = dict(entry)
        entry["inputs"] = tuple(entry.get("inputs") or ())
        for key in ("after", "also_reads", "also_writes", "reads"):
            entry[key] = tuple(entry.get(key) or ())
        phase = Phase(**entry)
        if phase.runs_for not in RUNS_FOR:
            raise ValueError(f"phases.yaml: {phase.key}: runs_for {phase.runs_for!r}")
        unknown = set(phase.inputs) - set(RAW_FOLDERS)
        if unknown:
            raise ValueError(f"phases.yaml: {phase.key}: unknown inputs {sorted(unknown)}")
        phases.append(phase)
    return tuple(phases)


def get(key: str) -> Phase:
    for phase in all_phases():
        if phase.key == key or phase.matches(key):
            return phase
    raise KeyError(
        f"No phase {key!r}: use one of " + ", ".join(f"{p.number} ({p.key})" for p in all_phases())
    )


def select(selectors: list[str] | None) -> list[Phase]:
    """The phases ``--phases`` names (all when none)."""
    if not selectors:
        return list(all_phases())
    chosen = [p for p in all_phases() if any(p.matches(s) for s in selectors)]
    unknown = [s for s in selectors if not any(p.matches(s) for p in all_phases())]
    if unknown:
        raise KeyError(
            f"No phase {', '.join(map(repr, unknown))}: use "
            + ", ".join(f"{p.number} ({p.key})" for p in all_phases())
        )
    return chosen


# --------------------------------------------------------------------------------------
# The version chain
# --------------------------------------------------------------------------------------


def chain() -> list[str]:
    """The roles in order: candidate, then each version a phase writes."""
    return [CANDIDATE, *[p.writes_version for p in all_phases() if p.writes_version]]


def version_name(project: Project, role: str) -> str:
    """The version a role's data model carries, numbered on from the candidate's:
    candidate 1.0-candidate -> 1.1-draft, 1.2-pilot, 1.3-refined."""
    candidate = load_candidate(project).version
    if role == CANDIDATE:
        return candidate
    m = re.match(r"^(\d+)\.(\d+)", candidate)
    major, minor = (int(m[1]), int(m[2])) if m else (1, 0)
    return f"{major}.{minor + chain().index(role)}-{role}"


def newest(project: Project, role: str) -> str | None:
    """The newest version of ``role`` the project has: the one its phase wrote last
    (the ledger's), else the highest revision on disk; None if not yet written."""
    if role == CANDIDATE:
        return load_candidate(project).version
    name = lineage.current(project, role)
    if name:
        return name
    found = lineage.revisions(project.datamodel_dir, version_name(project, role))
    return found[-1] if found else None


def load_version(project: Project, role: str) -> DataModel | None:
    """The newest version of ``role`` the project has written, or None if not yet."""
    if role == CANDIDATE:
        return load_candidate(project)
    name = newest(project, role)
    return load_datamodel(name, project.datamodel_dir) if name else None


def role_of(project: Project | None, dm: DataModel) -> str:
    """The chain role of a version: the ledger's, else its ``status``."""
    found = lineage.entry(project, dm.version) if project is not None else None
    if found:
        return found["role"]
    status = str(dm.meta.get("status") or CANDIDATE)
    return status if status in chain() else CANDIDATE


@dataclass(frozen=True)
class Basis:
    """The version a phase works on, and whether it is the one it expects."""

    datamodel: DataModel
    role: str
    expected_role: str
    pinned: bool = False
    newer: str | None = None  # a newer version upstream the phase has not adopted
    number: str = ""  # the phase's number, for the command that moves it on

    @property
    def as_planned(self) -> bool:
        return self.role == self.expected_role

    def note(self) -> str:
        """A sentence for the report when the phase works on another version than the
        newest of the role it expects."""
        if self.newer:
            return (
                f"This phase works on {self.datamodel.version} ({len(self.datamodel.items)} "
                f"items), the version it started from; {self.newer} has been written "
                f"upstream since. `lscb-nb datamodel adopt --phase {self.number}` moves it on."
            )
        if self.as_planned:
            return ""
        missing = [
            p.title
            for p in all_phases()
            if p.writes_version
            and chain().index(self.role)
            < chain().index(p.writes_version)
            <= chain().index(self.expected_role)
        ]
        verb = (
            "have not produced their datasets"
            if len(missing) > 1
            else "has not produced its dataset"
        )
        return (
            f"{' and '.join(missing)} {verb} yet, so this phase works "
            f"on the {self.role} dataset ({self.datamodel.version}, "
            f"{len(self.datamodel.items)} items) instead of the {self.expected_role} dataset."
        )


def _pinnable(phase: Phase) -> bool:
    """A phase that starts from the candidate always takes project.yaml's candidate."""
    return bool(phase.writes_version) and phase.starts_from not in (None, CANDIDATE)


def _newest_basis(phase: Phase) -> list[str]:
    expected = phase.starts_from or chain()[-1]
    return list(reversed(chain()[: chain().index(expected) + 1]))


def basis(project: Project, phase: Phase | str) -> Basis:
    """The version ``phase`` works on: the one it is pinned to (set the first time it
    was prepared, moved by ``lscb-nb datamodel adopt``), else the newest version of
    the role it expects, else the latest earlier one (the candidate at worst)."""
    phase = get(phase) if isinstance(phase, str) else phase
    expected = phase.starts_from or chain()[-1]
    pin = lineage.pin_of(project, phase.key) if _pinnable(phase) else None
    if pin:
        try:
            dm = find_version(project, pin["version"])
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                f"{phase.title} works on data-model version {pin['version']} (since "
                f"{pin['since']}, {lineage.ledger_path(project)}), but that version is not "
                f"in {project.datamodel_dir}: restore the file, or move the phase on with "
                f"`lscb-nb datamodel adopt --phase {phase.number}`."
            ) from exc
        newer = newer_upstream(project, phase)
        return Basis(dm, pin["role"], expected, True, newer, phase.number)
    for role in _newest_basis(phase):
        dm = load_version(project, role)
        if dm is not None:
            return Basis(dm, role, expected)
    raise FileNotFoundError("no candidate data model")  # load_candidate raises first


def basis_version(project: Project, phase: Phase) -> str | None:
    """The name of the version ``phase`` works on, without reading it."""
    pin = lineage.pin_of(project, phase.key) if _pinnable(phase) else None
    return pin["version"] if pin else newest_upstream(project, phase)


def newest_upstream(project: Project, phase: Phase) -> str | None:
    """The version ``phase`` would start from if it were not pinned."""
    for role in _newest_basis(phase):
        name = newest(project, role) if role != CANDIDATE else project.candidate
        if name:
            return name
    return None


def newer_upstream(project: Project, phase: Phase) -> str | None:
    """A newer version than the one ``phase`` is pinned to, if upstream wrote one."""
    pin = lineage.pin_of(project, phase.key) if _pinnable(phase) else None
    if not pin:
        return None
    upstream = newest_upstream(project, phase)
    return upstream if upstream and upstream != pin["version"] else None


def release(
    project: Project, phase: Phase | str, based: Basis, dm: DataModel
) -> tuple[DataModel, Path]:
    """Release the version ``phase`` wrote (:func:`release_name`), save it and
    record it (:func:`record_release`). Returns the version as released and its file."""
    dm = release_name(project, dm)
    path = save_datamodel(dm, project.datamodel_dir)
    record_release(project, phase, based, dm)
    return dm, path


def release_name(project: Project, dm: DataModel) -> DataModel:
    """The version as it will be released: an identical one already written, else
    ``dm``, else the next revision of its name (``1.1-draft.2``)."""
    return lineage.release_name(project, dm)


def record_release(project: Project, phase: Phase | str, based: Basis, dm: DataModel) -> None:
    """Enter ``dm`` in the ledger as ``phase``'s newest, and pin ``phase`` to the
    version it worked on if it was not pinned yet."""
    phase = get(phase) if isinstance(phase, str) else phase
    if _pinnable(phase) and not based.pinned:
        lineage.keep_pin(project, phase.key, based.datamodel.version, based.role, "first prepared")
    role = phase.writes_version or CANDIDATE
    lineage.record_release(project, dm, role, phase.key, version_name(project, role))


def adopt(project: Project, phase: Phase | str, version: str | None = None) -> tuple[str, str]:
    """Move ``phase`` onto ``version`` (default: the newest upstream), recording the
    move; returns (from, to). The phase is re-prepared on the next ``lscb-nb run``."""
    phase = get(phase) if isinstance(phase, str) else phase
    if not _pinnable(phase):
        raise ValueError(
            f"{phase.title} always works on the candidate project.yaml names "
            "(datamodel.candidate); change that, or `lscb-nb datamodel copy` to edit one."
        )
    if version is None:
        version = newest_upstream(project, phase)
    dm = find_version(project, version)
    role = role_of(project, dm)
    expected = phase.starts_from or chain()[-1]
    if chain().index(role) > chain().index(expected):
        raise ValueError(
            f"{dm.version} is a {role} version, written after {phase.title}; the phase "
            f"works on a {expected} version or an earlier one."
        )
    before = basis(project, phase).datamodel.version
    lineage.set_pin(project, phase.key, dm.version, role, "adopted")
    return before, dm.version


def latest(project: Project) -> Basis:
    """The latest version the project has (for the final report)."""
    for role in reversed(chain()):
        dm = load_version(project, role)
        if dm is not None:
            return Basis(dm, role, chain()[-1])
    raise FileNotFoundError("no candidate data model")


def rests_on(project: Project, dm: DataModel) -> list[DataModel]:
    """The versions ``dm`` was derived through (``based_on``), back to the candidate
    and without it, oldest first, ``dm`` last: a draft that was revised but never
    built on is not among them."""
    found: dict[str, DataModel] = {}
    candidate = load_candidate(project).version
    current: DataModel | None = dm
    while current is not None and current.version != candidate and current.version not in found:
        found[current.version] = current
        based = current.meta.get("based_on")
        on_file = bool(based) and (project.datamodel_dir / f"{based}.yaml").is_file()
        current = load_datamodel(based, project.datamodel_dir) if on_file else None
    return list(reversed(found.values()))


def versions_note(project: Project, phase: Phase | str) -> str:
    """The data-model versions a phase's reports rest on, for their banner."""
    phase = get(phase) if isinstance(phase, str) else phase

    def named(version: str) -> str:
        found = lineage.entry(project, version)
        if found is None:
            try:
                found = {"items": len(find_version(project, version).items)}
            except (FileNotFoundError, ValueError):
                return version
        return f"{version} ({found['items']} items)"

    if phase.writes is None:  # the final report: the latest version the phases wrote
        try:
            return f"Data-model version: {named(latest(project).datamodel.version)}."
        except FileNotFoundError:
            return ""
    done = summary(project, phase) or {}
    if not done.get("based_on"):
        return ""
    text = f"Data-model versions: works on {named(done['based_on'])}"
    return text + (f"; wrote {named(done['writes'])}." if done.get("writes") else ".")


# --------------------------------------------------------------------------------------
# State of each phase in a project
# --------------------------------------------------------------------------------------


def output_dir(project: Project, phase: Phase) -> Path | None:
    return project.processed / phase.writes if phase.writes else None


def input_files(project: Project, key: str) -> list[Path]:
    """The files a consultant has put in one raw input folder (READMEs aside)."""
    folder = getattr(project, key)
    if not folder.exists():
        return []
    return sorted(
        p for p in folder.iterdir() if p.name.lower() != "readme.md" and not p.name.startswith(".")
    )


def missing_inputs(project: Project, phase: Phase) -> list[str]:
    """Sentences naming each absent input and how to supply it."""
    missing = []
    for key in phase.inputs:
        if not input_files(project, key):
            folder, about = RAW_FOLDERS[key]
            missing.append(
                f"No files in data/raw/{folder}/. {about.split(chr(10))[0]} "
                f"See data/raw/{folder}/README.md for the form they take."
            )
    if phase.after and not any(is_prepared(project, get(k)) for k in phase.after):
        missing.append(
            "No phase has been prepared yet: run `lscb-nb run` once the first phase's "
            "files are in data/raw."
        )
    return missing


def output_dirs(project: Project, phase: Phase) -> list[Path]:
    """Every processed folder the phase's stage writes."""
    if not phase.writes:
        return []
    return [project.processed / phase.writes, *(project.processed / w for w in phase.also_writes)]


STAMP_FILE = "_stamp.json"


def stamp(project: Project, phase: Phase) -> dict | None:
    """When the phase was last prepared and from what (its fingerprint), or None."""
    folder = output_dir(project, phase)
    if folder is None or not (folder / STAMP_FILE).exists():
        return None
    return json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))


def summary(project: Project, phase: Phase) -> dict | None:
    """What the phase's stage recorded when it last prepared, or None."""
    folder = output_dir(project, phase)
    if folder is None or not (folder / "summary.json").exists():
        return None
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def is_prepared(project: Project, phase: Phase) -> bool:
    return summary(project, phase) is not None


def is_ready(project: Project, phase: Phase) -> bool:
    """The phase's reports can be rendered: its inputs are there and it is prepared
    (a phase that writes nothing, the final report, needs one earlier phase)."""
    if missing_inputs(project, phase):
        return False
    return phase.writes is None or is_prepared(project, phase)


class PhaseNotReadyError(RuntimeError):
    """A report was asked for a phase that has not been prepared (its message says
    what is missing and how to supply it)."""


def not_ready_reason(project: Project, phase: Phase) -> str:
    """Why ``phase`` cannot be shown yet, and what to do, in plain words."""
    missing = missing_inputs(project, phase)
    if missing:
        return " ".join(missing)
    return (
        f"{phase.title} has not been prepared yet. Run `lscb-nb run --phases {phase.number}` "
        "(or `lscb-nb run`), which prepares it before rendering its reports."
    )


def prepared_summary(project: Project, phase: Phase | str) -> dict:
    """The phase's summary, for a notebook's read-only context; raises
    :class:`PhaseNotReadyError` with the reason when it has not been prepared."""
    phase = get(phase) if isinstance(phase, str) else phase
    found = summary(project, phase)
    if found is None:
        raise PhaseNotReadyError(not_ready_reason(project, phase))
    return found
