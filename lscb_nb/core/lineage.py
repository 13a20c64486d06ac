"""The project's ledger of data-model versions: which were written, from what, which
version each phase works on, and which version each template and instrument used.

A version, once written, is released: templates carry its name in their ``_meta``,
returns come back against it and reports cite it, so it never changes. A phase
re-run whose result differs writes the next revision of its role (``1.1-draft`` ->
``1.1-draft.2``, the second draft), and a later phase keeps the version it started
from (its *pin*) until the consultant moves it with ``lscb-nb datamodel adopt``.
The ledger (``data/processed/datamodel/lineage.json``, written atomically) is how
``lscb-nb status`` and every report can say what they rest on. It knows nothing of
the phases (:mod:`lscb_nb.core.phases` uses it), so it sits low in the core layer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

from lscb_nb.core.datamodel import (
    DataModel,
    available_versions,
    from_dict,
    load_datamodel,
    to_dict,
)
from lscb_nb.core.fileio import write_json_atomic
from lscb_nb.core.project import Project

log = logging.getLogger(__name__)

LEDGER_FILE = "lineage.json"
_EMPTY: dict = {"versions": [], "current": {}, "pins": {}, "moves": [], "sent": []}
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_REVISION = re.compile(r"^(?P<base>.+?)(?:\.(?P<n>\d+))?$")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def ledger_path(project: Project) -> Path:
    """Where the project's ledger lives, beside the versions it describes."""
    return project.datamodel_dir / LEDGER_FILE


def load_ledger(project: Project) -> dict:
    """The ledger (empty lists and maps for a project that has written nothing)."""
    path = ledger_path(project)
    ledger = {k: type(v)() for k, v in _EMPTY.items()}
    if path.is_file():
        try:
            ledger.update(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path}: the data-model ledger is not valid JSON ({exc}); restore it from a "
                "backup, or delete it to start a new one (the versions themselves are kept)"
            ) from exc
    return ledger


def _save(project: Project, ledger: dict) -> None:
    write_json_atomic(ledger_path(project), ledger)


# --------------------------------------------------------------------------------------
# Revisions
# --------------------------------------------------------------------------------------


def content_sha256(dm: DataModel) -> str:
    """What a version says, apart from its own name and what it revises."""
    raw = to_dict(dm)
    raw.pop("version", None)
    raw.pop("revises", None)
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()


def revision_number(version: str, base: str) -> int | None:
    """1 for ``base`` itself, n for ``base.n``, None for any other name."""
    if version == base:
        return 1
    m = _REVISION.match(version)
    return int(m["n"]) if m and m["n"] and m["base"] == base else None


def revision_label(version: str, base: str, role: str) -> str:
    """``second draft`` for ``1.1-draft.2``; just the role for the first."""
    n = revision_number(version, base) or 1
    if n == 1:
        return role
    ordinal = _ORDINALS[n - 1] if n <= len(_ORDINALS) else f"revision {n} of the"
    return f"{ordinal} {role}"


def revisions(folder: Path, base: str) -> list[str]:
    """The revisions of ``base`` written in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = [
        (n, p.stem)
        for p in folder.glob("*.yaml")
        if (n := revision_number(p.stem, base)) is not None
    ]
    return [name for _, name in sorted(found)]


def release_name(project: Project, dm: DataModel) -> DataModel:
    """``dm`` as it is to be released: an existing revision with the same content
    (nothing new is written), else ``dm`` itself if its name is free, else the next
    revision of its name, saying which revision it revises."""
    folder = project.datamodel_dir
    base = dm.version
    existing = revisions(folder, base)
    digest = content_sha256(dm)
    for name in reversed(existing):
        written = load_datamodel(name, folder)
        if content_sha256(written) == digest:
            return written
    if not existing:
        return dm
    n = (revision_number(existing[-1], base) or 1) + 1
    raw = to_dict(dm)
    raw["version"] = f"{base}.{n}"
    raw["revises"] = existing[-1]
    return from_dict(raw)


def record_release(project: Project, dm: DataModel, role: str, phase: str, base: str) -> dict:
    """Enter a released version in the ledger (once) and make it its role's newest."""
    ledger = load_ledger(project)
    entry = next((v for v in ledger["versions"] if v["version"] == dm.version), None)
    if entry is None:
        entry = {
            "version": dm.version,
            "role": role,
            "label": revision_label(dm.version, base, role),
            "based_on": dm.meta.get("based_on"),
            "revises": dm.meta.get("revises"),
            "written_by": phase,
            "written_at": _now(),
            "items": len(dm.items),
            "rules": len(dm.rules),
            "sha256": content_sha256(dm),
        }
        ledger["versions"].append(entry)
        log.info("Released data-model version %s (%s, %d items)", dm.version, role, len(dm.items))
    ledger["current"][role] = dm.version
    _save(project, ledger)
    return entry


def current(project: Project, role: str) -> str | None:
    """The version of ``role`` its phase wrote last, if the ledger has it and it exists."""
    name = load_ledger(project)["current"].get(role)
    if name and (project.datamodel_dir / f"{name}.yaml").is_file():
        return name
    return None


def entry(project: Project, version: str) -> dict | None:
    """The ledger's entry for ``version``, or None."""
    return next((v for v in load_ledger(project)["versions"] if v["version"] == version), None)


# --------------------------------------------------------------------------------------
# Finding a version
# --------------------------------------------------------------------------------------


def load_candidate(project: Project) -> DataModel:
    """The project's candidate data model: a shipped version or the project's own YAML."""
    path = candidate_path(project)
    if path is not None:
        return load_datamodel(path.stem, path.parent)
    return load_datamodel(project.candidate)


def candidate_path(project: Project) -> Path | None:
    """The file of the project's own candidate (``datamodel.candidate`` a path, with
    or without ``.yaml``, relative to project.yaml), or None for a shipped one."""
    ref = Path(project.candidate)
    if ref.suffix not in (".yaml", ".yml"):
        if ref.name == str(project.candidate):
            return None  # a version name such as 1.0-candidate
        ref = ref.with_name(f"{ref.name}.yaml")
    return ref if ref.is_absolute() else project.root / ref


def find_version(project: Project | None, ref: str) -> DataModel:
    """A version by name (one the project wrote, its candidate, one shipped with the
    toolkit) or by path to its YAML, with or without ``.yaml``, relative to the
    current folder or the project's."""
    ref = str(ref).strip()
    name = ref[: -len(Path(ref).suffix)] if Path(ref).suffix in (".yaml", ".yml") else ref
    bare = Path(name).name == name  # a version's name, not a path
    if project is not None:
        if bare and (project.datamodel_dir / f"{name}.yaml").is_file():
            return load_datamodel(name, project.datamodel_dir)
        candidate = load_candidate(project)
        if name == candidate.version:
            return candidate
    if bare and name in available_versions():
        return load_datamodel(name)
    roots = [Path.cwd(), *([project.root] if project is not None else [])]
    for root in roots:
        for path in (Path(ref), Path(f"{name}.yaml"), Path(f"{name}.yml")):
            path = path if path.is_absolute() else root / path
            if path.is_file():
                return load_datamodel(path.stem, path.parent)
    known = [*(v["version"] for v in project_versions(project))] if project else []
    raise FileNotFoundError(
        f"No data-model version {ref!r}: not a version "
        + (f"of project {project.name} ({', '.join(known) or 'none written'}), " if project else "")
        + f"not one shipped with the toolkit ({', '.join(available_versions())}), and no "
        f"file {name}.yaml. `lscb-nb datamodel versions` lists them."
    )


def project_versions(project: Project) -> list[dict]:
    """Every version the project wrote, in chain order (1.1-draft, 1.1-draft.2,
    1.2-pilot): the ledger's entries, and any file in the versions folder the ledger
    lacks (written by an older toolkit)."""
    entries = list(load_ledger(project)["versions"])
    listed = {e["version"] for e in entries}
    on_disk = available_versions(project.datamodel_dir)
    for name in on_disk:
        if name in listed:
            continue
        dm = load_datamodel(name, project.datamodel_dir)
        written = (project.datamodel_dir / f"{name}.yaml").stat().st_mtime
        entries.append(
            {
                "version": name,
                "role": dm.meta.get("status"),
                "label": dm.meta.get("status"),
                "based_on": dm.meta.get("based_on"),
                "revises": dm.meta.get("revises"),
                "written_by": None,
                "written_at": datetime.fromtimestamp(written, UTC).isoformat(timespec="seconds"),
                "items": len(dm.items),
                "rules": len(dm.rules),
            }
        )
    order = {name: i for i, name in enumerate(on_disk)}
    return sorted(entries, key=lambda e: order.get(e["version"], len(order)))


# --------------------------------------------------------------------------------------
# Pins: the version each phase works on
# --------------------------------------------------------------------------------------


def pin_of(project: Project, phase: str) -> dict | None:
    """``{version, role, since, how}`` of the version ``phase`` works on, or None."""
    return load_ledger(project)["pins"].get(phase)


def set_pin(project: Project, phase: str, version: str, role: str, how: str) -> dict | None:
    """Pin ``phase`` to ``version``; a move from another version is recorded. Returns
    the previous pin."""
    ledger = load_ledger(project)
    before = ledger["pins"].get(phase)
    if before and before["version"] == version:
        return before
    ledger["pins"][phase] = {"version": version, "role": role, "since": _now(), "how": how}
    if before:
        ledger["moves"].append(
            {"phase": phase, "from": before["version"], "to": version, "at": _now(), "how": how}
        )
    _save(project, ledger)
    return before


def keep_pin(project: Project, phase: str, version: str, role: str, how: str) -> bool:
    """Pin ``phase`` to ``version`` unless it already has a pin; True if it was set."""
    if pin_of(project, phase) is not None:
        return False
    set_pin(project, phase, version, role, how)
    return True


# --------------------------------------------------------------------------------------
# What went out: templates and instruments
# --------------------------------------------------------------------------------------


def record_sent(
    project: Project,
    kind: str,
    phase: str,
    dm: DataModel,
    la_code: str,
    la_name: str,
    file: Path | str,
    period: str | None = None,
) -> dict:
    """Note that a template or instrument for ``dm`` went to an authority."""
    ledger = load_ledger(project)
    sent = {
        "kind": kind,
        "phase": phase,
        "version": dm.version,
        "items": len(dm.items),
        "la_code_ons": la_code,
        "la_name": la_name,
        "period": period,
        "file": str(file),
        "written_at": _now(),
    }
    ledger["sent"].append(sent)
    _save(project, ledger)
    return sent
