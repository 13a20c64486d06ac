"""Shared fixtures: a tiny inline data model and authority list, so unit tests of
the reader do not depend on the shipped candidate dataset; the sample project,
generated and prepared once per test run and shared by every module that reads it,
and the sample build every report test reads (built once per run, from it).

Two lanes: ``pytest -m "not slow"`` runs the unit tests on small inline frames;
a test is ``slow`` when it builds or reads the sample, runs a notebook or a browser
(marked here from its fixtures and markers, so none is forgotten). Every test starts
from matplotlib's defaults with no figure open, whatever ran before it.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

# Fixtures that build or read the sample (or a sample of their own): any test that
# uses one is slow.
SAMPLE_FIXTURES = {"sample_project", "sample_run"}
SLOW_MARKERS = {"notebook", "browser"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        markers = {m.name for m in item.iter_markers()}
        if markers & SLOW_MARKERS or SAMPLE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def _own_validation_cache(tmp_path_factory):
    """Validation passes remembered for this run only (kernels inherit it)."""
    import os

    from lscb_nb.core import jsonschemas

    old = os.environ.get(jsonschemas.CACHE_ENV)
    os.environ[jsonschemas.CACHE_ENV] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop(jsonschemas.CACHE_ENV, None)
    else:
        os.environ[jsonschemas.CACHE_ENV] = old


@pytest.fixture(autouse=True)
def _matplotlib_defaults():
    """Each test starts from matplotlib's defaults, no figure open; none leaks on."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.rcdefaults()
    plt.close("all")
    yield
    plt.close("all")
    matplotlib.rcdefaults()


@pytest.fixture(scope="session")
def sample_project(tmp_path_factory):
    """The sample project, generated and every phase prepared, once per test run:
    ``{"root": project, "truth": planted truth}``. Shared: tests only read it."""
    from lscb_nb.output import pipeline

    root, truth = make_sample_project(tmp_path_factory.mktemp("project"))
    pipeline.prepare(root)
    return {"root": root, "truth": truth}


@pytest.fixture(scope="session")
def sample_run(sample_project):
    """``lscb-nb run`` on the sample project, every notebook for every area (its
    phases already prepared: the run finds them up to date)."""
    from lscb_nb import cli

    root, truth = sample_project["root"], sample_project["truth"]
    out = root.outputs
    code = cli.main(
        ["-q", "run", "--project", str(root.root), "--out", str(out), "--run-name", "sample"]
    )
    run_dir = out / "sample"
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    return {"root": root, "truth": truth, "code": code, "dir": run_dir, "manifest": manifest}


@pytest.fixture
def tiny_items() -> pd.DataFrame:
    rows = [
        ("CSC01", "Referrals", "count", "childrens_social_care", {"min": 0, "max": None}),
        (
            "CSC02",
            "Re-referrals within 12 months",
            "percentage",
            "childrens_social_care",
            {"min": 0, "max": 100},
        ),
        (
            "CSC03",
            "Initial child protection conferences",
            "count",
            "childrens_social_care",
            {"min": 0, "max": None},
        ),
        (
            "CSC04",
            "Child protection plans started",
            "count",
            "childrens_social_care",
            {"min": 0, "max": None},
        ),
        (
            "HLT01",
            "A&E attendances for injury, 0-17",
            "rate_per_10k",
            "health",
            {"min": 0, "max": None},
        ),
    ]
    frame = pd.DataFrame(rows, columns=["item_id", "title", "unit", "agency", "valid_range"])
    frame["definition"] = "Definition of " + frame["title"]
    return frame.set_index("item_id")


@pytest.fixture
def tiny_rules() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "rule_id": "XR01",
                "left": "CSC04",
                "operator": "<=",
                "right": "CSC03",
                "severity": "query",
                "message": "Plans started should not exceed conferences held.",
            }
        ]
    )


@pytest.fixture
def tiny_authorities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "la_code_ons": ["E09000001", "E09000002", "E09000007"],
            "la_code_dfe": [201, 301, 202],
            "la_name": ["City of London", "Barking and Dagenham", "Camden"],
        }
    )


@pytest.fixture
def tiny_population() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_code": ["E09000007", "E09000007", "E09000002"],
            "mid_year": [2023, 2024, 2024],
            "population_0_17": [35_000, 35_276, 60_000],
        }
    )


def make_sample_project(folder, seed: int = 2007):
    """A fresh synthetic sample project in ``folder``: (project, truth)."""
    from lscb_nb.synthetic import generate_sample_data, init_sample_project

    project = init_sample_project(folder)
    return project, generate_sample_data(project, seed=seed)
