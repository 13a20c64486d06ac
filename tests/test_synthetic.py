"""The sample data: deterministic, labelled synthetic, realistic in magnitude,
and every defect it plants is found by ingestion, with every row accounted for."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import make_sample_project

from lscb_nb.core import reference
from lscb_nb.core.fileio import folder_sha256
from lscb_nb.pilot import store
from lscb_nb.synthetic import load_truth

pytestmark = pytest.mark.slow  # every test generates a sample of its own


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root, truth = make_sample_project(tmp_path_factory.mktemp("sample"))
    summary = store.ingest(root)
    return root, truth, summary, store.load_returns(root)


def test_same_seed_same_files(sample, tmp_path):
    root, *_ = sample
    again_project, _ = make_sample_project(tmp_path, seed=2007)
    raw = root.raw
    again = again_project.raw
    for folder in ("phase3_returns",):
        assert folder_sha256(raw / folder, "*.csv") == folder_sha256(again / folder, "*.csv")
    assert load_truth(root) == load_truth(again_project)


def test_different_seed_different_figures(sample, tmp_path):
    root, *_ = sample
    other, _ = make_sample_project(tmp_path, seed=1)
    raw = root.raw
    assert folder_sha256(raw / "phase3_returns", "*.csv") != folder_sha256(other.returns, "*.csv")


def test_every_file_says_it_is_synthetic(sample):
    root, truth, *_ = sample
    assert truth["synthetic"] is True
    returns = root.returns
    for path in returns.iterdir():
        if path.name == "README.md":  # the folder's own README says so in its text
            assert "SYNTHETIC SAMPLE DATA" in path.read_text()
            continue
        assert "synthetic" in path.name.lower() or path.name.startswith("README_SYNTHETIC")
    receipts = pd.read_csv(root.receipts)
    assert set(receipts["data_status"]) == {"SYNTHETIC"}
    from openpyxl import load_workbook

    xlsx = sorted(returns.glob("*.xlsx"))[0]
    wb = load_workbook(xlsx, read_only=True)
    assert any(
        "SYNTHETIC" in str(r[0])
        for r in wb["Instructions"].iter_rows(values_only=True)
        if r and r[0]
    )


def test_every_input_row_is_accounted_for(sample):
    _, _, summary, res = sample
    assert summary["rows_read"] == summary["rows_accepted"] + summary["rows_quarantined"]
    assert res.reconciles()
    assert summary["rows_read"] > 3000


def test_every_planted_defect_is_found(sample):
    _, truth, _, res = sample
    issues = res.issues
    accepted = res.accepted
    for p in truth["phase3"]["planted"]:
        rule = p.get("expected_rule")
        if rule is None:  # a return never sent
            sent = accepted[
                (accepted["la_code_ons"] == p["la_code_ons"]) & (accepted["period"] == p["period"])
            ]
            assert sent.empty, p
        elif rule.startswith("state:"):
            row = accepted[
                (accepted["source_file"] == p["file"]) & (accepted["item_id"] == p["item_id"])
            ]
            assert (row["numerator_state"] == rule.split(":")[1]).all() and len(row) == 1, p
        elif rule == "escaped":
            row = accepted[
                (accepted["source_file"] == p["file"]) & (accepted["item_id"] == p["item_id"])
            ]
            assert "<script>" in row["note"].iloc[0]  # kept verbatim; reports escape it
        else:
            hit = issues[(issues["file"] == p["file"]) & (issues["rule_code"] == rule)]
            if "item_id" in p and rule not in ("F01",):
                hit = hit[hit["item_id"] == p["item_id"]]
            assert len(hit) >= 1, p


def test_planted_errors_are_quarantined_not_dropped(sample):
    _, truth, _, res = sample
    for p in truth["phase3"]["planted"]:
        if p.get("expected_rule") in ("V01", "V03", "R01", "R03", "R06"):
            q = res.quarantined[(res.quarantined["source_file"] == p["file"])]
            assert len(q) >= 1, p


def test_nothing_is_flagged_that_was_not_planted(sample):
    """The clean figures satisfy every rule, so every error traces to a plant."""
    _, truth, _, res = sample
    planted_files = {p.get("file") for p in truth["phase3"]["planted"]}
    errors = res.issues[res.issues["severity"] == "error"]
    assert set(errors["file"]) <= planted_files


def test_magnitudes_follow_published_figures(sample):
    """A pilot's referrals over a year are close to its published referrals."""
    _, truth, _, res = sample
    acc = res.accepted
    drifted = {(d["la_code_ons"], d["item_id"]) for d in truth["phase3"]["definition_drift"]}
    pub = reference.published(measure="referral_count", source="dfe_cin_c1")
    pub = pub[pub["year"] == 2025].set_index("area_code")["value"]
    year = acc[(acc["item_id"] == "CSC01") & acc["period"].str.startswith("2024-25")]
    totals = year.groupby("la_code_ons")["numerator"].sum()
    for la, total in totals.items():
        if (la, "CSC01") in drifted or la not in pub.index:
            continue
        assert total == pytest.approx(pub[la], rel=0.35), la


def test_late_returns_are_worst_for_health(sample):
    root, *_ = sample
    receipts = pd.read_csv(root.receipts, parse_dates=["due_date", "received_date"])
    late = (receipts["received_date"] > receipts["due_date"]) | receipts["received_date"].isna()
    by_agency = late.groupby(receipts["agency"]).mean()
    assert by_agency.idxmax() == "health"


def test_truth_file_is_json(sample):
    root, *_ = sample
    json.loads(root.truth.read_text())
