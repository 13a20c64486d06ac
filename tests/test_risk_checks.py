"""What the toolkit logs by itself (lscb_nb/output/risk_checks.py), each check on tiny
prepared tables written into a project made with ``init``: an agency missing from
every return that arrived, ratings too unreliable to decide on, and a version
changed upstream of a phase that works on an older one."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from lscb_nb.core.project import load_project
from lscb_nb.core.workspace import init_project
from lscb_nb.output import risk_checks

AS_OF = date(2026, 9, 7)


@pytest.fixture
def project(tmp_path):
    init_project(tmp_path / "p", name="Checks")
    return load_project(tmp_path / "p")


def _cells(project, rows: list[tuple[str, str, str]]) -> None:
    folder = project.processed / "pilot"
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=["la_code_ons", "agency", "status"]).assign(
        period="2025-26 Q1", item_id="X", days_late=pd.NA
    )
    frame.to_parquet(folder / "cells.parquet")


def test_an_agency_with_no_figure_in_any_return_that_arrived_is_an_issue(project):
    _cells(
        project,
        [
            ("E09000007", "health", "not supplied"),
            ("E09000019", "health", "not available"),
            ("E09000007", "police", "on time"),
            ("E09000019", "police", "not supplied"),
            ("E09000007", "probation", "not received"),  # no return: not evidence either way
        ],
    )
    found = risk_checks.missing_agencies(project, AS_OF)
    assert [e.id for e in found] == ["T-agency-health"]
    assert found[0].source == "toolkit" and found[0].type == "issue"


def test_ratings_whose_whole_interval_is_too_low_are_logged_and_others_are_not(project):
    folder = project.processed / "assessment"
    folder.mkdir(parents=True)
    pd.DataFrame(
        {
            "level": ["overall", "borough", "borough"],
            "group": ["all", "E09000007", "E09000019"],
            "alpha": [0.55, 0.50, 0.75],
            "alpha_lower": [0.50, 0.40, 0.60],
            "alpha_upper": [0.60, 0.62, 0.85],
        }
    ).to_parquet(folder / "agreement.parquet")
    found = {e.id: e for e in risk_checks.unreliable_ratings(project, AS_OF)}
    assert set(found) == {"T-agreement-overall", "T-agreement-authorities"}
    assert "alpha 0.55" in found["T-agreement-overall"].description
    assert "Camden" in found["T-agreement-authorities"].description
    assert "Islington" not in found["T-agreement-authorities"].description


def test_a_phase_pinned_to_an_older_version_than_the_one_released_is_a_risk(project):
    project.datamodel_dir.mkdir(parents=True)
    (project.datamodel_dir / "lineage.json").write_text(
        json.dumps(
            {
                "current": {"draft": "1.1-draft.2", "pilot": "1.2-pilot"},
                "pins": {
                    "assessment": {"version": "1.1-draft", "role": "draft"},
                    "pilot": {"version": "1.2-pilot", "role": "pilot"},
                },
            }
        )
    )
    found = risk_checks.version_changed_upstream(project, AS_OF)
    assert [e.id for e in found] == ["T-upstream-assessment"]
    assert "works on 1.1-draft, but 1.1-draft.2 has been released" in found[0].description


def test_nothing_prepared_means_nothing_logged(project):
    assert risk_checks.toolkit_entries(project, AS_OF) == []
