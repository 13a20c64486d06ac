"""Data-model versions as YAML files: which exist, reading one, writing one.

Each version lives in ``<folder>/<version>.yaml`` (``lscb_nb/data/datamodel`` by
default; the format is ``SCHEMA.md`` there). Reading validates; writing validates and
puts every field in the schema's order, so two versions diff line by line in git.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import yaml

from lscb_nb.core import config
from lscb_nb.core.datamodel.model import DataModel, DataModelError, from_dict, to_dict
from lscb_nb.core.datamodel.schema import validate_datamodel
from lscb_nb.core.fileio import write_text_atomic

log = logging.getLogger(__name__)


def _folder(folder: Path | str | None) -> Path:
    return Path(folder) if folder is not None else config.DATAMODEL_DIR


def _version_key(version: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", version)]


def _strip_suffix(version: str) -> str:
    """A version named with its file's suffix (``1.1-draft.yaml``) means the version."""
    for suffix in (".yaml", ".yml"):
        if version.lower().endswith(suffix):
            return version[: -len(suffix)]
    return version


class VersionReleasedError(DataModelError):
    """A version was about to be written over a different one of the same name: a
    version once written is released (templates, returns and reports name it), so it
    never changes; the phase writes the next revision instead."""


def available_versions(folder: Path | str | None = None) -> list[str]:
    """The versions in ``folder`` (``lscb_nb/data/datamodel`` by default), in version order."""
    path = _folder(folder)
    if not path.is_dir():
        return []
    stems = [p.stem for p in path.glob("*.yaml") if not p.name.startswith(".")]
    return sorted(stems, key=_version_key)


def load_datamodel(
    version: str = config.CANDIDATE_VERSION, folder: Path | str | None = None
) -> DataModel:
    """Read and validate ``<folder>/<version>.yaml``.

    Raises FileNotFoundError naming the versions that exist, or DataModelError
    listing every problem in the file (not just the first).
    """
    version = _strip_suffix(str(version))
    path = _folder(folder) / f"{version}.yaml"
    if not path.is_file():
        available = available_versions(folder)
        raise FileNotFoundError(
            f"No data-model version {version!r}: there is no {path.name} in {path.parent}. "
            f"Available versions: {', '.join(available) if available else 'none'}."
        )
    stat = path.stat()
    return copy.deepcopy(_load_file(path.resolve(), stat.st_mtime_ns, stat.st_size))


# libyaml's C loader when PyYAML has it: ten times faster, and every report loads a model.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=16)
def _load_file(path: Path, mtime_ns: int, size: int) -> DataModel:
    """Parse and validate a version once per process (re-read when the file changes)."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise DataModelError([f"the file is not valid YAML: {exc}"], path.name) from exc
    return from_dict(raw, file_name=path.name)


class _Dumper(yaml.SafeDumper):
    """Writes long texts (definitions, descriptions) as folded blocks, not quoted lines."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = ">" if len(text) > 80 and "\n" not in text and text == text.strip() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def _dump_yaml(data: dict) -> str:
    header = (
        f"# {data['dataset']}, version {data['version']}.\n"
        "# Written by lscb_nb.core.datamodel.save_datamodel; the format is\n"
        "# lscb_nb/data/datamodel/SCHEMA.md.\n"
    )
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=88,
        default_flow_style=False,
    )
    return header + body


def dump_datamodel(dm: DataModel | Mapping) -> str:
    """The text :func:`save_datamodel` writes for ``dm`` (validated first)."""
    raw = to_dict(dm) if isinstance(dm, DataModel) else dict(dm)
    problems = validate_datamodel(raw)
    if problems:
        raise DataModelError(problems, "save_datamodel")
    return _dump_yaml(to_dict(from_dict(raw)))


def _same_content(path: Path, text: str) -> bool:
    """The file holds the same version as ``text`` (written by an older toolkit,
    say, with other layout or comments)."""
    try:
        written = load_datamodel(path.stem, path.parent)
    except (DataModelError, FileNotFoundError):
        return False
    return to_dict(written) == to_dict(from_dict(yaml.load(text, Loader=_YAML_LOADER)))


def save_datamodel(dm: DataModel | Mapping, folder: Path | str | None = None) -> Path:
    """Validate and write a version to ``<folder>/<version>.yaml`` atomically.

    Fields are written in SCHEMA.md's order, every field explicitly, so two
    versions diff line by line in git. Returns the path written. A version once
    written never changes: writing the same content again does nothing, and other
    content under an existing name raises :class:`VersionReleasedError`.
    """
    text = dump_datamodel(dm)
    version = to_dict(dm)["version"] if isinstance(dm, DataModel) else dict(dm)["version"]
    path = _folder(folder) / f"{version}.yaml"
    if path.is_file():
        if path.read_text(encoding="utf-8") == text or _same_content(path, text):
            return path
        raise VersionReleasedError(
            [
                f"version {version} is already written ({path}) with other content, and a "
                "version once written is never changed; write the change as a new version "
                "(a phase re-run does this itself: its next revision, e.g. "
                f"{version}.2)"
            ],
            "save_datamodel",
        )
    return write_text_atomic(path, text)
