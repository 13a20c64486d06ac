"""The deterministic generator of the bundled sample data.

``generate_sample_data(seed=2007)`` writes the inputs of all three phases into
``data/raw/`` and a truth record of everything it planted
(``data/raw/synthetic_truth.json``) so that tests can check the toolkit finds it.
Every file it writes says it is synthetic. The same seed gives the same files.
"""

from __future__ import annotations

import logging
import shutil
from importlib import resources
from pathlib import Path

import numpy as np

from lscb_nb.core import phases, reference
from lscb_nb.core.fileio import write_json_atomic
from lscb_nb.core.project import (
    Project,
    ProjectError,
    load_project,
)
from lscb_nb.core.workspace import init_project, write_folder_readmes
from lscb_nb.synthetic.completed_instruments import write_completed_instruments
from lscb_nb.synthetic.figures import enforce_rules, expected_figures
from lscb_nb.synthetic.local_datasets import write_local_datasets
from lscb_nb.synthetic.pilot_returns import write_pilot_returns

log = logging.getLogger(__name__)

# The sample project's settings (written into its project.yaml by
# `lscb-nb init --sample`): ten pilot boroughs, eight quarters (financial years
# 2023-24 and 2024-25, so the pilot figures sit beside DfE's published 2024 and
# 2025 ones). Nothing outside this generator reads them: the toolkit reads the
# project's own project.yaml.
SAMPLE_SETTINGS: dict = {
    "name": "London LSCB Datasets Project (synthetic sample)",
    "area": reference.LONDON_NAME,
    "authorities": "london",
    "pilots": [
        "Camden",
        "Islington",
        "Lambeth",
        "Southwark",
        "Tower Hamlets",
        "Barnet",
        "Croydon",
        "Ealing",
        "Enfield",
        "Sutton",
    ],
    "first_period": "2023-24 Q1",
    "last_period": "2024-25 Q4",
    "deadline_days": 30,
    "suppression_threshold": 5,
    "candidate": "1.0-candidate",
    "released": {"draft": "2007-12-31", "pilot": "2008-06-30"},
    "title": "The London LSCB Datasets Project: final report (synthetic sample)",
    "synthetic": True,
}


def init_sample_project(folder: Path | str, overwrite: bool = False) -> Project:
    """A new project folder set up as the bundled sample (``synthetic: true``)."""
    return init_project(folder, overwrite=overwrite, **SAMPLE_SETTINGS)


def generate_sample_data(project: Project | Path | str, seed: int = 2007) -> dict:
    """Write the sample inputs of every phase into a synthetic ``project``'s
    data/raw and return the truth record. The pilots, periods and deadline are
    the project's own, so a sample can be made for any synthetic project."""
    project = load_project(project)
    if not project.synthetic:
        raise ProjectError(
            f"{project.root} is not marked `synthetic: true` in project.yaml; the sample "
            "generator writes only into synthetic projects, so real data is never mixed with "
            "generated data. Create one with `lscb-nb init DIR --sample`."
        )
    paths = project.paths()
    dm = phases.load_candidate(project)
    authorities = project.authorities
    if not project.pilots or not project.periods:
        raise ProjectError(
            "project.yaml: a sample needs `pilots` and `collection.first_period`/`last_period`."
        )
    pilots = authorities.set_index("la_code_ons").loc[project.pilots].reset_index()
    period_labels = list(project.periods)
    # Independent streams per phase, so changing one phase leaves the others as they were.
    streams = np.random.SeedSequence(seed).spawn(4)

    for key in ("catalogues", "instruments", "returns"):
        if paths[key].exists():
            shutil.rmtree(paths[key])

    figures = expected_figures(
        dm.items,
        pilots,
        period_labels,
        reference.published(),
        reference.population(areas="all"),
        np.random.default_rng(streams[0]),
    )
    figures = enforce_rules(figures, dm.rules)
    phase3 = write_pilot_returns(
        paths["returns"],
        figures,
        dm.items,
        pilots,
        period_labels,
        dm.version,
        np.random.default_rng(streams[1]),
        project.deadline_days,
    )
    # PHASE 1 (streams[2]): catalogues of what every authority already collects.
    phase1 = write_local_datasets(
        paths["catalogues"], dm.items, authorities, np.random.default_rng(streams[2])
    )
    # PHASE 2 (streams[3]): completed accessibility and usefulness instruments.
    phase2 = write_completed_instruments(
        paths["instruments"], dm.items, pilots, np.random.default_rng(streams[3])
    )
    truth = {
        "synthetic": True,
        "seed": seed,
        "datamodel_version": dm.version,
        "phase1": phase1,
        "phase2": phase2,
        "phase3": phase3,
        "summary": (
            f"phase 1: {len(phase1['replied'])} local datasets from {len(authorities)} "
            "authorities "
            f"({len(phase1['unreadable'])} unreadable); phase 2: {len(phase2['raters'])} raters' "
            f"instruments, {len(phase2['planted'])} planted defects; phase 3: {len(pilots)} "
            f"pilot boroughs x {len(period_labels)} quarters, {len(phase3['planted'])} planted "
            "defects"
        ),
    }
    write_json_atomic(paths["truth"], truth)
    write_folder_readmes(project.root, synthetic=True, authorities=project.authorities)
    if not project.crosswalk.exists():
        # The sample's reviewed crosswalk: decisions a consultant made on this sample.
        project.crosswalk.parent.mkdir(parents=True, exist_ok=True)
        sample = resources.files("lscb_nb.synthetic") / "sample_crosswalk.csv"
        project.crosswalk.write_bytes(sample.read_bytes())
    return truth


def load_truth(project: Project | Path | str) -> dict:
    import json

    return json.loads(load_project(project).truth.read_text(encoding="utf-8"))
