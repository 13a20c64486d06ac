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

from lscb_nb.core.datamodel import DataModel, load_datamodel
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


def load_candidate(project: Project) -> DataModel:
    """The project's candidate data model: a shipped version or the project's own YAML."""
    ref = project.candidate
    path = Path(ref) if Path(ref).suffix in (".yaml", ".yml") else None
    if path is not None:
        path = path if path.is_absolute() else project.root / path
        return load_datamodel(path.stem, path.parent)
    return load_datamodel(ref)


def load_version(project: Project, role: str) -> DataModel | None:
    """The version of ``role`` the project has written, or None if not yet."""
    if role == CANDIDATE:
        return load_candidate(project)
    name = version_name(project, role)
    if (project.datamodel_dir / f"{name}.yaml").exists():
        return load_datamodel(name, project.datamodel_dir)
    return None


@dataclass(frozen=True)
class Basis:
    """The version a phase works on, and whether it is the one it expects."""

    datamodel: DataModel
    role: str
    expected_role: str

    @property
    def as_planned(self) -> bool:
        return self.role == self.expected_role

    def note(self) -> str:
        """A sentence for the report when the phase starts from another version."""
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


def basis(project: Project, phase: Phase | str) -> Basis:
    """The version ``phase`` starts from: the one it expects if written, else the
    latest earlier version that exists (the candidate at worst)."""
    phase = get(phase) if isinstance(phase, str) else phase
    expected = phase.starts_from or chain()[-1]
    roles = chain()[: chain().index(expected) + 1]
    for role in reversed(roles):
        dm = load_version(project, role)
        if dm is not None:
            return Basis(dm, role, expected)
    raise FileNotFoundError("no candidate data model")  # load_candidate raises first


def latest(project: Project) -> Basis:
    """The latest version the project has (for the final report)."""
    for role in reversed(chain()):
        dm = load_version(project, role)
        if dm is not None:
            return Basis(dm, role, chain()[-1])
    raise FileNotFoundError("no candidate data model")


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
