"""JSON Schema validation for the toolkit's declared files, done once per document.

``project.yaml`` and every data-model version are checked against JSON Schemas in
every report's kernel. Importing jsonschema can cost seconds (with
``rfc3987-syntax`` installed, as Jupyter's servers install it, it compiles a grammar
for IRI formats), paid by every kernel of a batch for documents the batch's
preparation already checked. So a document found valid is remembered by a digest of
the toolkit's version, the schema and the document, in a cache folder
(``$LSCB_NB_CACHE``, else the user's cache folder); the same document against the
same schema is then known valid without importing jsonschema. Only a pass is
remembered: a document with problems is checked, and its problems listed, every time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from lscb_nb import __version__

log = logging.getLogger(__name__)

CACHE_ENV = "LSCB_NB_CACHE"


def cache_folder() -> Path:
    """Where passes are remembered: ``$LSCB_NB_CACHE``, else ``$XDG_CACHE_HOME/lscb-nb``
    (``~/.cache/lscb-nb``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]) / "jsonschema"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lscb-nb" / "jsonschema"


def _typed(value: object) -> str:
    """A value JSON cannot write, with its type, so a date and its text differ."""
    return f"<{type(value).__module__}.{type(value).__qualname__}>{value!r}"


def digest(schema: dict, document: object, formats: bool) -> str:
    """What a pass is remembered by: toolkit version, schema, document and formats."""
    text = json.dumps(
        [__version__, schema, document, formats], sort_keys=True, default=_typed, ensure_ascii=True
    )
    return hashlib.sha256(text.encode()).hexdigest()


def errors(schema: dict, document: object, *, formats: bool = False) -> list[Any]:
    """jsonschema's errors for ``document`` against ``schema`` (Draft 2020-12, format
    checks with ``formats``); [] when it is valid. A document that passed before
    against the same schema returns [] without importing jsonschema."""
    key = digest(schema, document, formats)
    marker = cache_folder() / key[:2] / key
    if marker.exists():
        return []
    import jsonschema

    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER if formats else None)
    found = list(validator.iter_errors(document))
    if not found:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError as exc:  # a read-only home: validate again next time
            log.debug("could not remember a valid document in %s: %s", marker, exc)
    return found
