"""The deterministic generator of the bundled sample data.

``generate_sample_data(seed=2007)`` writes the inputs of all three phases into
``data/raw/`` and a truth record of everything it planted
(``data/raw/synthetic_truth.json``) so that tests can check the toolkit finds it.
Every file it writes says it is synthetic. The same seed gives the same files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from lscb_nb import config, periods, reference
from lscb_nb.datamodel import load_datamodel
from lscb_nb.fileio import write_json_atomic
from lscb_nb.synthetic.completed_instruments import write_completed_instruments
from lscb_nb.synthetic.figures import enforce_rules, expected_figures
from lscb_nb.synthetic.local_datasets import write_local_datasets
from lscb_nb.synthetic.pilot_returns import write_pilot_returns


def generate_sample_data(root: Path | str | None = None, seed: int = 2007) -> dict:
    """Write the sample inputs of every phase under ``root``/data/raw and return
    the truth record."""
    paths = config.paths(root)
    dm = load_datamodel(config.CANDIDATE_VERSION)
    authorities = reference.authorities()
    pilots = authorities.set_index("la_code_ons").loc[list(config.SAMPLE_PILOTS)].reset_index()
    period_labels = periods.period_range(config.SAMPLE_FIRST_PERIOD, config.SAMPLE_LAST_PERIOD)
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
        reference.population(),
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
        config.DEFAULT_DEADLINE_DAYS,
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
            f"phase 1: {len(phase1['replied'])} local datasets from 33 authorities "
            f"({len(phase1['unreadable'])} unreadable); phase 2: {len(phase2['raters'])} raters' "
            f"instruments, {len(phase2['planted'])} planted defects; phase 3: {len(pilots)} "
            f"pilot boroughs x {len(period_labels)} quarters, {len(phase3['planted'])} planted "
            "defects"
        ),
    }
    write_json_atomic(paths["truth"], truth)
    return truth


def load_truth(root: Path | str | None = None) -> dict:
    import json

    return json.loads(config.paths(root)["truth"].read_text(encoding="utf-8"))
