"""Where the toolkit's own files live.

What ships with the toolkit (reference tables, the candidate data model, the
instrument criteria, the phase notebooks) lives inside the package and is found
with ``importlib.resources``, so ``pip install`` carries it. Everything a project
decides or holds lives in the project's folder (:mod:`lscb_nb.core.project`).
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

log = logging.getLogger(__name__)

PACKAGE_DIR: Path = Path(str(resources.files("lscb_nb")))
SHIPPED_DIR: Path = PACKAGE_DIR / "data"
REFERENCE_DIR = SHIPPED_DIR / "reference"
DATAMODEL_DIR = SHIPPED_DIR / "datamodel"
INSTRUMENT_DIR = SHIPPED_DIR / "instrument"
NOTEBOOKS_DIR = PACKAGE_DIR / "notebooks"

# The candidate dataset shipped with the toolkit; a project may name another.
CANDIDATE_VERSION = "1.0-candidate"

# DfE / GSS convention: counts 1..5 are suppressed in published tables. A project
# sets its own in project.yaml (suppression_threshold).
DEFAULT_SUPPRESSION_THRESHOLD = 5

# Written at the head of every generated file that holds synthetic figures.
SYNTHETIC_NOTE = "SYNTHETIC DATA: generated for testing and demonstration, not real figures."
