"""The bundled published sources, declared once in ``data/reference/sources.yaml``.

Every reader finds its file here by the source's id, the data model takes the
sources an item may cite from here, and the provenance shown in reports and the
README is rendered from here, so a new release of a table changes one line.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from lscb_nb.core import config

log = logging.getLogger(__name__)

MANIFEST_FILE = "sources.yaml"
MANIFEST_FIELDS: tuple[str, ...] = (
    "id",
    "title",
    "label",
    "publisher",
    "url",
    "licence",
    "file",
    "year",
    "role",
    "origin",
)
# What a source is for: a table of published() or one of the lookups beside them.
ROLES: tuple[str, ...] = ("published", "population", "neighbours", "authorities", "dictionary")
LICENCE_NAMES: dict[str, str] = {"OGL-UK-3.0": "Open Government Licence v3.0"}


@cache
def _manifest() -> tuple[dict, ...]:
    text = (config.REFERENCE_DIR / MANIFEST_FILE).read_text(encoding="utf-8")
    entries = tuple(yaml.safe_load(text))
    for entry in entries:
        missing = [f for f in MANIFEST_FIELDS if f not in entry]
        if missing or entry["role"] not in ROLES:
            raise ValueError(
                f"{MANIFEST_FILE}: source {entry.get('id')!r} needs {', '.join(MANIFEST_FIELDS)} "
                f"with role one of {', '.join(ROLES)} (missing: {', '.join(missing) or 'none'})."
            )
    return entries


def sources() -> pd.DataFrame:
    """The manifest as a table, one row per source, in file order (columns MANIFEST_FIELDS)."""
    return pd.DataFrame(list(_manifest()), columns=list(MANIFEST_FIELDS))


def source(source_id: str) -> dict:
    """One source's entry; KeyError naming the ids there are."""
    for entry in _manifest():
        if entry["id"] == source_id:
            return dict(entry)
    known = ", ".join(e["id"] for e in _manifest())
    raise KeyError(f"No bundled source {source_id!r}: the sources are {known}.")


def ids(role: str | None = None) -> tuple[str, ...]:
    """Source ids in manifest order, optionally only those with ``role``."""
    return tuple(e["id"] for e in _manifest() if role is None or e["role"] == role)


def file_name(source_id: str) -> str:
    return str(source(source_id)["file"])


def path(source_id: str) -> Path:
    """Where a source's file is on this machine."""
    return config.REFERENCE_DIR / file_name(source_id)


def labels(role: str | None = None) -> dict[str, str]:
    """Short label per source id, for tables and data dictionaries."""
    return {e["id"]: e["label"] for e in _manifest() if role is None or e["role"] == role}


def read_csv(source_id: str) -> pd.DataFrame:
    """A bundled CSV as text: every cell a string, blanks as missing, codes kept."""
    return pd.read_csv(
        path(source_id),
        dtype=str,
        encoding="utf-8-sig",  # several DfE files start with a byte-order mark
        keep_default_na=False,
        na_values=[""],
    )


def citation(source_ids) -> str:
    """One line naming the sources a table or chart draws on, for under it in a report:
    'Source: Department for Education, Children in need census, table C1 (2025). Open
    Government Licence v3.0.'"""
    entries = [source(s) for s in dict.fromkeys(source_ids)]
    if not entries:
        return ""
    by_publisher: dict[str, list[str]] = {}
    for e in entries:
        by_publisher.setdefault(e["publisher"], []).append(f"{e['title']} ({e['year']})")
    parts = [f"{who}, {'; '.join(titles)}" for who, titles in by_publisher.items()]
    licences = dict.fromkeys(LICENCE_NAMES.get(e["licence"], e["licence"]) for e in entries)
    noun = "Sources" if len(entries) > 1 else "Source"
    return f"{noun}: {'. '.join(parts)}. {', '.join(licences)}."


def sources_markdown() -> str:
    """The provenance of the bundled data as a Markdown table, for reports and the README."""
    lines = [
        "| Source | Publisher | Latest year | Licence | File |",
        "|---|---|---|---|---|",
    ]
    for e in _manifest():
        licence = LICENCE_NAMES.get(e["licence"], e["licence"])
        lines.append(
            f"| [{e['title']}]({e['url']}) | {e['publisher']} | {e['year']} | {licence} | "
            f"`{e['file']}` |"
        )
    return "\n".join(lines) + "\n"
