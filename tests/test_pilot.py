"""Phase 3 on the sample data: completeness, quality, benchmarking and refinement
find what the generator planted, and the functions behave on small frames."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from conftest import make_sample_project

from lscb_nb.core import config, reference, states
from lscb_nb.core.datamodel import validate_datamodel
from lscb_nb.pilot import (
    change,
    comparators,
    completeness,
    funnels,
    observations,
    published,
    quality,
    refinement,
)
from lscb_nb.pilot.context import load_context
from lscb_nb.pilot.sections import count_table
from lscb_nb.pilot.stage import datamodel_dir, prepare_pilot

pytestmark = pytest.mark.slow  # generates and prepares a sample of its own

CROYDON, EALING, SOUTHWARK, CAMDEN = "E09000008", "E09000009", "E09000028", "E09000007"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A sample of its own, phase 3 prepared from the candidate data model alone (the
    shared sample prepares every phase, so its phase 3 starts from phase 2's dataset)."""
    project, truth = make_sample_project(tmp_path_factory.mktemp("pilot"))
    prepare_pilot(project)
    return project, truth


@pytest.fixture(scope="module")
def london(sample):
    root, _ = sample
    return load_context(root)


# ---------------------------------------------------------------- completeness


def test_expected_cells_ask_for_annual_items_in_q4_only(tiny_items):
    items = tiny_items.assign(frequency=["quarterly", "quarterly", "annual", "quarterly", "annual"])
    cells = completeness.expected_cells(items, ["A"], ["2024-25 Q3", "2024-25 Q4"])
    q3 = set(cells.loc[cells["period"] == "2024-25 Q3", "item_id"])
    q4 = set(cells.loc[cells["period"] == "2024-25 Q4", "item_id"])
    assert q3 == {"CSC01", "CSC02", "CSC04"}
    assert q4 == set(items.index)


def test_cell_status_distinguishes_every_status():
    expected = pd.DataFrame(
        {
            "la_code_ons": ["A"] * 5,
            "period": ["2024-25 Q1"] * 5,
            "item_id": ["I1", "I2", "I3", "I4", "I5"],
            "agency": ["health", "police", "police", "police", "police"],
        }
    )
    accepted = pd.DataFrame(
        {
            "la_code_ons": ["A", "A", "A"],
            "period": ["2024-25 Q1"] * 3,
            "item_id": ["I1", "I2", "I3"],
            "value_state": ["reported", "reported", "suppressed"],
        }
    )
    quarantined = pd.DataFrame({"la_code_ons": ["A"], "period": ["2024-25 Q1"], "item_id": ["I4"]})
    # The quarter ends 30 June; due 30 July. Health arrived 10 days late, police on time.
    receipts = pd.DataFrame(
        {
            "la_code_ons": ["A", "A"],
            "period": ["2024-25 Q1", "2024-25 Q1"],
            "agency": ["health", "police"],
            "received_date": ["2024-08-09", "2024-07-20"],
        }
    )
    cells = completeness.cell_status(expected, accepted, quarantined, receipts, 30)
    status = dict(zip(cells["item_id"], cells["status"], strict=True))
    assert status == {
        "I1": "late",
        "I2": "on time",
        "I3": "suppressed",
        "I4": "quarantined",
        "I5": "not supplied",  # the return came (A sent Q1), the figure did not
    }
    assert cells.loc[cells["item_id"] == "I1", "days_late"].item() == 10
    # A longer deadline turns the late return into an on-time one.
    relaxed = completeness.cell_status(expected, accepted, quarantined, receipts, 45)
    assert relaxed.loc[relaxed["item_id"] == "I1", "status"].item() == "on time"


def test_a_figure_with_no_return_is_not_yet_due_or_not_received_by_the_calendar():
    expected = pd.DataFrame(
        {
            "la_code_ons": ["A", "B", "B"],
            "period": ["2024-25 Q1"] * 3,
            "item_id": ["I1", "I1", "I2"],
            "agency": ["police"] * 3,
        }
    )
    accepted = pd.DataFrame(
        {
            "la_code_ons": ["A"],
            "period": ["2024-25 Q1"],
            "item_id": ["I1"],
            "value_state": ["zero_denominator"],  # 0 of 0: a figure, supplied
        }
    )
    none = pd.DataFrame(columns=["la_code_ons", "period", "item_id"])
    # Due 30 July 2024: before then B's return is not yet due, after it not received.
    early = completeness.cell_status(expected, accepted, none, None, 30, as_of=date(2024, 7, 1))
    assert early["status"].tolist() == ["on time", "not yet due", "not yet due"]
    later = completeness.cell_status(expected, accepted, none, None, 30, as_of=date(2024, 8, 9))
    assert later["status"].tolist() == ["on time", "not received", "not received"]
    assert later["days_late"].tolist()[1:] == [10, 10]
    counts = completeness.summarise(early, "la_code_ons")
    assert counts.at["B", "expected"] == 0 and counts.at["A", "supplied_pct"] == 100
    late = completeness.summarise(later, "la_code_ons")
    assert late.at["B", "expected"] == 2 and late.at["B", "received"] == 0
    assert pd.isna(late.at["B", "supplied_received_pct"])


def test_completeness_on_sample_finds_missing_return_and_health_lateness(london, sample):
    _, truth = sample
    cells = london.cells
    missing = truth["phase3"]["planted"][0]
    assert missing["kind"] == "missing_return"
    gone = cells.loc[
        (cells["la_code_ons"] == missing["la_code_ons"]) & (cells["period"] == missing["period"])
    ]
    assert (gone["status"] == "not received").all() and len(gone) > 50
    assert (gone["days_late"] > 0).all()
    by_agency = completeness.summarise(cells, "agency")
    assert by_agency["on_time_pct"].idxmin() == "health"
    assert by_agency["expected"].sum() == len(cells)
    suppressed = [p for p in truth["phase3"]["planted"] if p["kind"] == "suppressed_small_count"]
    assert (cells["status"] == "suppressed").sum() == len(suppressed)


def test_trend_reports_the_chi_square_test(london):
    result = completeness.trend(london.cells)
    assert len(result["by_quarter"]) == 8
    assert 0 <= result["p_value"] <= 1
    assert result["by_quarter"].index[0] == "2023-24 Q1"


# ---------------------------------------------------------------- quality


def test_definition_flags_find_both_planted_drifts(london, sample):
    _, truth = sample
    flagged = set(zip(london.flags["la_code_ons"], london.flags["item_id"], strict=True))
    for drift in truth["phase3"]["definition_drift"]:
        assert (drift["la_code_ons"], drift["item_id"]) in flagged, drift
    # Few false alarms: a conversation per flag is affordable, one per item is not.
    assert len(london.flags) <= 5


def test_level_shift_needs_a_lasting_change():
    quarters = [f"2023-24 Q{q}" for q in range(1, 5)] + [f"2024-25 Q{q}" for q in range(1, 5)]
    rows = []
    for la, level in (("A", 100), ("B", 110), ("C", 90)):
        for i, p in enumerate(quarters):
            count = level * (0.4 if la == "A" and i >= 4 else 1.0)
            rows.append((la, p, "X01", count, 10_000))
    obs = pd.DataFrame(rows, columns=["la_code_ons", "period", "item_id", "count", "base"])
    obs = obs.assign(value=obs["count"], kind="rate", frequency="quarterly")
    flags = quality.level_shift_flags(obs)
    assert list(flags["la_code_ons"]) == ["A"]
    assert flags["from_period"].item() == "2024-25 Q1"
    # A one-quarter blip is not a level shift.
    blip = obs.copy()
    blip.loc[blip["la_code_ons"] == "A", "count"] = 100
    blip.loc[(blip["la_code_ons"] == "A") & (blip["period"] == "2024-25 Q2"), "count"] = 30
    blip["value"] = blip["count"]
    assert quality.level_shift_flags(blip).empty


def test_issue_summary_counts_every_planted_error(london):
    by_rule = quality.issue_summary(london.returns.issues, london.items, "rule")
    assert by_rule["total"].sum() == len(london.returns.issues)
    assert {"R06 Duplicate row", "V03 Numerator above denominator"} <= set(by_rule.index)


# ---------------------------------------------------------------- benchmarking


def test_borough_benchmark_has_intervals_comparators_and_change(london):
    neighbours = reference.statistical_neighbours(CAMDEN)["la_code_ons"].tolist()
    bb = comparators.borough_benchmark(
        london.obs, CAMDEN, "2024-25 Q4", reference.authorities(), neighbours
    )
    assert len(bb) > 60
    ok = bb.dropna(subset=["value", "lower", "upper"])
    assert (ok["lower"] <= ok["value"] + 1e-9).all() and (ok["value"] <= ok["upper"] + 1e-9).all()
    assert set(bb["vs_london"]) <= {"higher", "similar", "lower", "not compared"}
    assert bb["change"].notna().sum() > 40
    assert bb["rank"].dropna().between(1, 10).all()
    # A lower figure than London on a "high is good" item is worse, never better.
    high = bb.loc[(bb["polarity"] == "high") & (bb["vs_london"] == "lower")]
    assert (high["rag"] == "worse").all()


def test_comparators_leave_out_a_different_definition_and_count_what_they_rest_on(london):
    """Croydon's referrals are flagged as a different definition: the London average
    beside every borough's figure leaves them out and says so; the neighbour figure
    says how many boroughs it rests on, and below 3 takes DfE's published figure."""
    flags = london.flags
    assert ((flags["la_code_ons"] == CROYDON) & (flags["item_id"] == "CSC01")).any()
    near = reference.statistical_neighbours(CROYDON)["la_code_ons"].tolist()
    args = (london.obs, CROYDON, "2024-25 Q4", reference.authorities(), near)
    with_all = comparators.borough_benchmark(*args).set_index("item_id")
    without = comparators.borough_benchmark(*args, exclude=flags, items=london.items)
    without = without.set_index("item_id")
    now = london.obs.loc[
        (london.obs["period"] == "2024-25 Q4") & (london.obs["item_id"] == "CSC01")
    ]
    rest = now.loc[now["la_code_ons"] != CROYDON]
    expected = rest["count"].sum() / rest["base"].sum() * 10_000
    assert without.at["CSC01", comparators.AREA_AVERAGE] == pytest.approx(expected)
    assert with_all.at["CSC01", comparators.AREA_AVERAGE] > expected * 1.2
    assert without.at["CSC01", "london_excluded"] == 1 and without.at["CSC01", "own_excluded"]
    assert without.at["CSC02", "london_excluded"] == 0
    # Croydon has one pilot neighbour (Barnet): DfE's ten neighbours stand in.
    assert (without["neighbours_n"] < comparators.MIN_NEIGHBOURS).all()
    assert without.at["CSC01", "dfe_neighbours_n"] == 10
    assert np.isfinite(without.at["CSC01", "dfe_neighbours"])
    assert (
        without["dfe_neighbours"].notna().sum()
        == without.index.isin(reference.published_for_items(london.items)["item_id"]).sum()
    )
    # No rank for an item with no better direction (referrals are neither).
    assert pd.isna(without.at["CSC01", "rank"]) and without.at["CSC01", "rag"] == "not compared"


def test_funnels_allow_for_overdispersion_and_leave_out_flagged_figures(london):
    positions = funnels.funnel_positions(london.obs, exclude=london.flags)
    plain = funnels.funnel_positions(london.obs, adjustment="none")
    latest = "2024-25 Q4"
    outside, total = funnels.outside_share(positions, latest)
    before, _ = funnels.outside_share(plain, latest)
    assert total > 500 and outside / total < 0.01 < before / total
    f = funnels.funnel(london.obs, "CSC01", latest, exclude=london.flags)
    assert f["points"].set_index("la_code_ons").at[CROYDON, "excluded"]
    assert "Limits" in f["dispersion"].describe()


def test_trend_words_never_call_a_constant_series_a_trend():
    assert change.trend_words({"direction": "not computable", "p_value": np.nan}) == (
        "no change to test"
    )
    assert change.trend_words({"direction": "increasing", "p_value": 0.2}) == (
        "no significant change"
    )
    assert change.trend_words({"direction": "increasing", "p_value": 0.01}) == "increasing"


def test_pooled_comparator_is_total_over_total():
    obs = pd.DataFrame(
        {
            "item_id": ["X", "X"],
            "period": ["p", "p"],
            "la_code_ons": ["A", "B"],
            "count": [10.0, 30.0],
            "base": [1_000.0, 3_000.0],
            "kind": ["rate", "rate"],
        }
    )
    assert observations.pooled(obs, ["item_id"])["value"].item() == pytest.approx(100.0)


def test_croydon_pilot_referrals_disagree_with_its_published_figure(london):
    check = london.published_check
    croydon = check.loc[(check["la_code_ons"] == CROYDON) & (check["item_id"] == "CSC01")]
    assert (croydon["ratio"] > 2).all()
    others = check.loc[check["item_id"] == "CSC11", "ratio"]
    assert others.between(0.8, 1.25).mean() > 0.9


def test_london_standing_ranks_among_33(london):
    st = published.london_standing(london.items, CAMDEN, reference.authorities())
    assert not st.empty
    # Ranked among the London boroughs DfE publishes a figure for (some suppress).
    assert st["of"].max() == 33 and (st["of"] <= 33).all()
    directed = london.items.loc[st["item_id"], "polarity"].to_numpy() != "neutral"
    ranked = st.loc[directed]
    assert not ranked.empty
    assert (ranked["rank"] >= 1).all() and (ranked["rank"] <= ranked["of"]).all()
    # An item with no better direction has no best: it is never ranked.
    assert st.loc[~directed, "rank"].isna().all()
    assert (st.loc[~directed, "quartile_band"] == "not ranked").all()


# ---------------------------------------------------------------- refinement


def test_refinement_amends_drifting_items_and_writes_a_valid_version(london, sample):
    root, truth = sample
    recs = london.recommendations
    for drift in truth["phase3"]["definition_drift"]:
        assert recs.at[drift["item_id"], "disposition"] == refinement.AMEND
    assert recs["reasons"].str.len().gt(20).all()
    refined = london.refined
    assert refined is not None and refined.meta["status"] == "refined"
    assert refined.meta["based_on"] == london.base_version
    dropped = set(recs.index[recs["disposition"] == refinement.DROP])
    assert not dropped & set(refined.items.index)
    local = recs.index[recs["disposition"] == refinement.LOCAL]
    assert (
        refined.items.loc[local.intersection(refined.items.index), "tier"] == "local_option"
    ).all()
    log = datamodel_dir(root) / "1.3-refined-changelog.md"
    assert "CSC01" in log.read_text(encoding="utf-8")
    raw = (datamodel_dir(root) / "1.3-refined.yaml").read_text()
    import yaml

    assert validate_datamodel(yaml.safe_load(raw)) == []


def test_recommend_never_drops_an_essential_item():
    ev = pd.DataFrame(
        {
            "title": ["a", "b"],
            "agency": ["health", "health"],
            "essential": [True, False],
            "supplied_pct": [20.0, 20.0],
            "on_time_pct": [10.0, 10.0],
            "quality_issues": [0, 0],
            "boroughs_flagged": [0, 0],
            "discriminating": [0.5, 0.5],
            "accessibility": [np.nan, np.nan],
            "usefulness": [np.nan, np.nan],
            "phase2_decision": [None, None],
        },
        index=["HLT01", "HLT02"],
    )
    recs = refinement.recommend(ev)
    assert recs.at["HLT02", "disposition"] == refinement.DROP
    assert recs.at["HLT01", "disposition"] != refinement.DROP


# ---------------------------------------------------------------- disclosure


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.map(lambda v: v if v in states.MEANING else float(str(v).replace(",", "")))


def test_count_table_hides_small_counts_and_cannot_be_undone(london):
    from lscb_nb.core import disclosure

    display, _ = count_table(london)
    raw = london.returns.accepted
    raw = raw.loc[(raw["period"] == london.period) & (raw["unit"] == "count")]
    small = raw.loc[raw["numerator"].between(1, config.DEFAULT_SUPPRESSION_THRESHOLD)]
    assert not small.empty
    for row in small.itertuples():
        assert display.at[row.item_id, london.name(row.la_code_ons)] == "c"
    boroughs = [c for c in display.columns if c not in ("Pilot total", "Boroughs in total")]
    shown = _numbers(display.drop(columns="Boroughs in total"))
    totals = shown["Pilot total"].replace("c", np.nan).astype(float)
    assert disclosure.can_recover(shown, boroughs, row_totals=totals) == []
    # No row has exactly one hidden cell beside a shown total.
    hidden = shown[boroughs].eq("c").sum(axis=1)
    assert not ((hidden == 1) & totals.notna()).any()


def test_count_table_never_shows_a_missing_figure_as_zero(london):
    """A figure a borough left blank shows ns (not supplied) and stays out of the pilot total,
    which adds up the reported figures and says how many boroughs it covers."""
    display, _ = count_table(london)
    raw = london.returns.accepted
    raw = raw.loc[(raw["period"] == london.period) & (raw["unit"] == "count")]
    missing = raw.loc[raw["value_state"] == "missing"]
    assert not missing.empty
    for row in missing.itertuples():
        assert display.at[row.item_id, london.name(row.la_code_ons)] == "ns"
    reported = raw.loc[raw["value_state"] == "reported"]
    sums = reported.groupby("item_id")["numerator"].sum()
    counted = reported.groupby("item_id").size()
    for item_id, shown in display["Pilot total"].items():
        if shown != "c":
            assert float(shown.replace(",", "")) == sums.get(item_id, 0)
        assert display.at[item_id, "Boroughs in total"].startswith(f"{counted.get(item_id, 0)} of")
    # The borough's own c no longer withholds a total nothing can be recovered from.
    own_c = raw.loc[raw["value_state"] == "suppressed", "item_id"]
    assert (display.loc[own_c.unique(), "Pilot total"] != "c").any()


def test_a_longer_deadline_counts_more_returns_on_time(sample, london):
    root, _ = sample
    relaxed = load_context(root, deadline_days=90)
    on_time = (london.cells["status"] == "on time").sum()
    assert (relaxed.cells["status"] == "on time").sum() > on_time
    assert len(relaxed.cells) == len(london.cells)


def test_a_shorter_span_of_quarters_is_evaluated_on_its_own(sample):
    root, _ = sample
    ctx = load_context(root, periods_shown=["2024-25 Q1", "2024-25 Q2"])
    assert set(ctx.cells["period"]) == {"2024-25 Q1", "2024-25 Q2"}
    assert ctx.period == "2024-25 Q2"
