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

# The 2007 London project's candidate dataset, kept as history: the bundled sample and
# the tests of its items use it; a project may name any shipped version or its own file.
CANDIDATE_VERSION = "1.0-candidate"
# The candidate a project made with `lscb-nb init` starts from: today's collections and
# the partners of Working Together 2023 (lscb_nb/data/datamodel/CHANGES-2.0.md).
CURRENT_CANDIDATE_VERSION = "2.0-candidate"

# DfE / GSS convention: counts 1..5 are suppressed in published tables. A project
# sets its own in project.yaml (suppression_threshold).
DEFAULT_SUPPRESSION_THRESHOLD = 5

# Written at the head of every generated file that holds synthetic figures.
SYNTHETIC_NOTE = "SYNTHETIC DATA: generated for testing and demonstration, not real figures."
