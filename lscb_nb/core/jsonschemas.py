"""JSON Schema validation for the toolkit's declared files, imported at the right cost.

``project.yaml`` and every data-model version are checked against JSON Schemas in
every report's kernel. When ``rfc3987-syntax`` is installed (Jupyter's servers pull
it in), importing jsonschema compiles an Earley grammar for the ``iri`` formats:
about a second, paid by every kernel, for formats none of our schemas uses. The
grammar is skipped only for jsonschema's own import; a process that imported
jsonschema already keeps it as it is.
"""

from __future__ import annotations

import logging
import sys
from types import ModuleType

log = logging.getLogger(__name__)


def jsonschema() -> ModuleType:
    """The jsonschema module, imported without its optional IRI grammar."""
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # "not installed"
        try:
            import jsonschema as module
        finally:
            del sys.modules["rfc3987_syntax"]
    import jsonschema as module

    return module
