"""Where things live.

Every path the toolkit uses is derived here from the package location, so no
notebook or module hard-codes one. Set ``LSCB_NB_ROOT`` to point the toolkit at
another project folder (for example a copy holding a borough's real returns).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

PROJECT_ROOT: Path = Path(os.environ.get("LSCB_NB_ROOT", Path(__file__).resolve().parent.parent))

# What ships with the toolkit (reference tables, the candidate data model, the
# instrument criteria) lives inside the package, so `pip install` carries it.
SHIPPED_DIR: Path = Path(str(resources.files("lscb_nb") / "data"))
REFERENCE_DIR = SHIPPED_DIR / "reference"
DATAMODEL_DIR = SHIPPED_DIR / "datamodel"
INSTRUMENT_DIR = SHIPPED_DIR / "instrument"

DATA_DIR = PROJECT_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
OUTPUTS_DIR = PROJECT_ROOT / "outputs"

# Raw inputs of each phase, as the sample generator writes them and a consultant
# would lay out real ones.
CATALOGUES_DIR = RAW_DIR / "phase1_catalogues"
INSTRUMENTS_DIR = RAW_DIR / "phase2_instruments"
RETURNS_DIR = RAW_DIR / "phase3_returns"
SYNTHETIC_TRUTH_FILE = RAW_DIR / "synthetic_truth.json"

# The candidate dataset the project starts from (see lscb_nb/data/datamodel/).
CANDIDATE_VERSION = "1.0-candidate"

# The sample data's pilot: ten boroughs, eight quarters (financial years 2023-24
# and 2024-25, so the pilot figures sit beside DfE's published 2024 and 2025 ones).
SAMPLE_PILOTS: tuple[str, ...] = (
    "E09000007",  # Camden
    "E09000019",  # Islington
    "E09000022",  # Lambeth
    "E09000028",  # Southwark
    "E09000030",  # Tower Hamlets
    "E09000003",  # Barnet
    "E09000008",  # Croydon
    "E09000009",  # Ealing
    "E09000010",  # Enfield
    "E09000029",  # Sutton
)
SAMPLE_FIRST_PERIOD = "2023-24 Q1"
SAMPLE_LAST_PERIOD = "2024-25 Q4"
# Days after the quarter ends by which a return is due (the pilot's agreement).
DEFAULT_DEADLINE_DAYS = 30

# DfE / GSS convention: counts 1..5 are suppressed in published tables.
DEFAULT_SUPPRESSION_THRESHOLD = 5


def paths(root: Path | str | None = None) -> dict[str, Path]:
    """The standard folders under ``root`` (the project root by default).

    Tests and batch runs pass a temporary root so they never touch the user's data.
    """
    base = Path(root) if root is not None else PROJECT_ROOT
    data = base / "data"
    return {
        "root": base,
        "raw": data / "raw",
        "processed": data / "processed",
        "reference": REFERENCE_DIR,
        "datamodel": DATAMODEL_DIR,
        "catalogues": data / "raw" / "phase1_catalogues",
        "instruments": data / "raw" / "phase2_instruments",
        "returns": data / "raw" / "phase3_returns",
        "truth": data / "raw" / "synthetic_truth.json",
        "outputs": base / "outputs",
    }
