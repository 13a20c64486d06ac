"""The final report's board block: key findings from every phase run so far and the
recommendations, each pointing to a heading of the notebook; a phase not run is said
in words, never a crash."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import nbformat
import numpy as np
import pandas as pd

from lscb_nb.core import config
from lscb_nb.core.projectfile import say_authority
from lscb_nb.final import findings
from lscb_nb.output import chrome


def _model(version: str, tiers: list[str]) -> SimpleNamespace:
    ids = [f"X{i}" for i in range(len(tiers))]
    return SimpleNamespace(version=version, items=pd.DataFrame({"tier": tiers}, index=ids))


def _ctx(mapping=None, assessment=None, pilot=None) -> SimpleNamespace:
    return SimpleNamespace(
        candidate=_model("1.0-candidate", ["core"] * 4),
        final=_model("1.1-draft", ["core", "core", "develop"]),
        project=SimpleNamespace(authorities=pd.DataFrame({"la_code_ons": list("ABCDEF")})),
        mapping=mapping,
        assessment=assessment,
        pilot=pilot,
        area="Inner South",
        word=partial(say_authority, "authority"),
    )


MAPPING = {
    "matches": pd.DataFrame({"la_code_ons": ["A", "A", "B"], "item_id": ["X0", "X1", "X1"]}),
    "summary": {"readable": 3},
}


def test_a_project_with_only_phase_1_says_what_has_not_run():
    ctx = _ctx(mapping=MAPPING)
    found = findings.findings(ctx)
    assert found[0].text == (
        "The project began with a candidate dataset of 4 items and stands so far with version "
        "1.1-draft: 3 items, of which 2 core, 1 to develop and 0 local options."
    )
    assert found[1].text == (
        "Before the project, 2 of the 4 candidate items were collected by none of the 3 "
        "authorities whose current dataset could be read (of 6)."
    )
    assert found[2].text.startswith("Phase 2 (assessment) has not been run")
    assert found[3].text == findings.PILOT_NOT_RUN
    recs = findings.recommendations(ctx)
    assert [r.evidence for r in recs] == [findings.GAPS, findings.DATASET, findings.DATASET]
    assert "(X2 and X3)" in recs[0].text and recs[-1].text.startswith("Pilot version 1.1-draft")


def test_the_phase_1_finding_changes_with_what_authorities_collect():
    mapping = {**MAPPING, "matches": MAPPING["matches"].assign(item_id=["X0", "X1", "X2"])}
    found = findings.findings(_ctx(mapping=mapping))
    assert found[1].text.startswith("Before the project, 1 of the 4 candidate items was")
    assert findings.findings(_ctx())[1].text.startswith("Phase 1 (mapping) has not been run")


def test_phase_2_is_told_with_its_agreement_and_what_it_kept():
    assessment = {
        "summary": {"raters": 1, "decisions": {"core": 2, "develop": 1, "drop": 1}},
        "ratings": pd.DataFrame({"la_code_ons": ["A"]}),
        "agreement": pd.DataFrame(
            {"level": ["overall"], "alpha": [0.9], "alpha_lower": [0.85], "alpha_upper": [0.95]}
        ),
    }
    found = findings.rated(assessment)
    assert found.text.startswith(
        "Phase 2's 1 rater in 1 pilot authority kept 3 of the 4 items they rated for the pilot. "
        "They agreed well enough to rely on"
    )
    assessment["agreement"]["alpha"] = np.nan
    assert "agreed" not in findings.rated(assessment).text


def test_the_pilot_leads_to_recommendations_each_linked_to_evidence():
    cells = pd.DataFrame(
        {
            "la_code_ons": "A",
            "item_id": ["X0", "X1", "X2", "X0"],
            "period": "Q1",
            "agency": ["health", "health", "police", "police"],
            "status": ["late", "not supplied", "on time", "on time"],
        }
    )
    recs = pd.DataFrame({"disposition": ["keep", "amend definition", "local option"]})
    recs.index = ["X0", "X1", "X2"]
    pilot = SimpleNamespace(
        cells=cells,
        flags=pd.DataFrame({"la_code_ons": ["A"], "item_id": ["X1"]}),
        recommendations_in_scope=recs,
    )
    ctx = _ctx(mapping=MAPPING, pilot=pilot)
    texts = [f.text for f in findings.findings(ctx)]
    assert texts[3].startswith(
        "The pilot authorities supplied 75% of the figures the dataset expects, 50%"
    )
    assert texts[4] == "1 item looks counted to a different definition across 1 authority."
    found = findings.recommendations(ctx)
    assert found[0].text.startswith("Adopt version 1.1-draft (3 items) as the Inner South")
    assert "counting rules for X1" in found[1].text and found[1].evidence == findings.GAPS
    assert "with Health partners: only 0% of their figures" in found[2].text
    assert found[3].text.startswith("Leave 1 item to local choice")


def test_every_finding_points_to_a_heading_of_the_notebook():
    nb = nbformat.read(config.NOTEBOOKS_DIR / "04_final_report.ipynb", as_version=4)
    headings = [h["text"] for h in chrome.headings(nb) if h["level"] == 2]
    assert headings[0] == "For the board"
    for name in ("DATASET", "SHARING", "GOOD_PRACTICE", "GAPS"):
        assert getattr(findings, name) in headings, name
