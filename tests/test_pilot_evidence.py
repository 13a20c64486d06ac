"""Phase 3 on a project's real life, not the sample: returns not yet due or not yet
received, annual items the collection has not reached, one pilot of three in the
latest quarter, and rare events reported as 0 of 0 (issue 23). Each case is a
project made with ``init``, prepared by phase 3's own stage, with long-CSV returns
written here."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from lscb_nb.core import periods, phases
from lscb_nb.core.project import PROJECT_FILE, load_project
from lscb_nb.core.workspace import init_project
from lscb_nb.pilot import completeness, context, refinement, stage

NORTH_EAST = ["E08000021", "E08000037", "E08000024", "E08000022"]  # Newcastle, Gateshead ...
PILOTS = NORTH_EAST[:3]


def _project(folder: Path, as_of: str, quorum: float = 0.5):
    init_project(folder, name="North East dataset pilot")
    text = (folder / PROJECT_FILE).read_text()
    text = re.sub(r"(?m)^area: .*$", 'area: "North East"', text)
    text = re.sub(r"(?m)^authorities: .*$", f"authorities: {NORTH_EAST}", text)
    text = re.sub(r"(?m)^pilots: .*$", f"pilots: {PILOTS}", text)
    text = re.sub(r"(?m)^  (first|last)_period: .*\n", "", text)
    text = text.replace(
        "collection:\n", 'collection:\n  first_period: "2025-26 Q1"\n  last_period: "2025-26 Q2"\n'
    )
    text = re.sub(r"(?m)^  as_of: .*$", f"  as_of: {as_of}", text)
    text = re.sub(r"(?m)^  quorum: .*$", f"  quorum: {quorum}", text)
    text = re.sub(r"(?m)^  candidate: .*$", '  candidate: "1.0-candidate"', text)
    (folder / PROJECT_FILE).write_text(text)
    return load_project(folder)


def _write_return(project, la: str, period: str, zero_item: str | None = None) -> None:
    """A long-CSV return carrying every quarterly item of the candidate; ``zero_item``
    (a percentage) is reported as 0 of 0, as a rare event that did not happen is."""
    items = phases.load_candidate(project).items
    tp, q = period.split(" ")
    start = tp.split("-")[0]
    rows = []
    for item_id, item in items.iterrows():
        if item["frequency"] == "annual":
            continue
        num, den = ("12", "40") if item["unit"] == "percentage" else ("12", "")
        if item_id == zero_item:
            num, den = "0", "0"
        rows.append(
            {
                "time_period": f"{start}{int(start[2:]) + 1:02d}",
                "time_identifier": f"Financial year {q}",
                "new_la_code": la,
                "item_id": item_id,
                "numerator": num,
                "denominator": den,
            }
        )
    project.returns.mkdir(parents=True, exist_ok=True)
    path = project.returns / f"{la}_{period.replace(' ', '_')}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _zero_item(project) -> str:
    items = phases.load_candidate(project).items
    pct = items.loc[(items["unit"] == "percentage") & (items["frequency"] != "annual")]
    return str(pct.index[0])


@pytest.fixture(scope="module")
def late_q2(tmp_path_factory):
    """Q1 from every pilot; Q2 from one of three, well past its deadline; one
    percentage item 0 of 0 everywhere."""
    project = _project(tmp_path_factory.mktemp("ne") / "p", as_of="2026-01-31")
    zero = _zero_item(project)
    for la in PILOTS:
        _write_return(project, la, "2025-26 Q1", zero)
    _write_return(project, PILOTS[0], "2025-26 Q2", zero)
    summary = stage.prepare_pilot(project)
    return project, summary, zero


def test_a_return_not_yet_received_is_late_not_an_item_authorities_cannot_supply(late_q2):
    project, _, _ = late_q2
    cells = pd.read_parquet(stage.pilot_dir(project) / "cells.parquet")
    q2 = cells.loc[cells["period"] == "2025-26 Q2"]
    waiting = q2.loc[q2["la_code_ons"].isin(PILOTS[1:])]
    assert set(waiting["status"]) == {completeness.NOT_RECEIVED}
    due = periods.period_end("2025-26 Q2") + pd.Timedelta(days=project.deadline_days)
    assert (waiting["days_late"] == (pd.Timestamp("2026-01-31") - pd.Timestamp(due)).days).all()
    recs = pd.read_parquet(stage.pilot_dir(project) / "recommendations.parquet")
    quarterly = recs.loc[recs["expected"] > 0]
    # Every quarterly item came in full in the returns that arrived: none is made a
    # local option or dropped for the returns that did not.
    assert (quarterly["supplied_pct"] == 100).all()
    assert not quarterly["disposition"].isin([refinement.DROP]).any()
    assert not quarterly["reasons"].str.contains("can supply it|could supply it").any()


def test_annual_items_are_not_dropped_before_the_collection_reaches_them(late_q2):
    project, _, _ = late_q2
    items = stage.base_datamodel(project).items
    annual = items.index[items["frequency"] == "annual"]
    assert len(annual)
    recs = pd.read_parquet(stage.pilot_dir(project) / "recommendations.parquet")
    recs = recs.set_index("item_id").loc[annual]
    assert (recs["disposition"] == refinement.NOT_ENOUGH).all()
    assert recs["reasons"].str.contains("not enough evidence yet").all()
    refined = phases.load_version(project, "refined")
    assert set(annual) <= set(refined.items.index)


def test_the_quarter_benchmarked_waits_for_a_quorum_of_pilots(late_q2):
    project, summary, _ = late_q2
    area = summary["benchmark_quarter"]
    assert area["latest"] == "2025-26 Q2" and area["period"] == "2025-26 Q1"
    assert area["pilots_with_returns"] == 3 and area["quorum"] == 2
    # The one pilot that sent Q2 is still benchmarked on Q1, with the others.
    assert summary["benchmark_quarters"][PILOTS[0]]["period"] == "2025-26 Q1"
    ctx = context.load_context(project, PILOTS[0])
    assert ctx.period == "2025-26 Q1" and ctx.judged
    assert "2025-26 Q2 is not: too few pilots have sent it yet" in ctx.benchmark_sentence
    area_ctx = context.load_context(project)
    assert area_ctx.period == "2025-26 Q1"


def test_an_authority_without_the_quarter_asked_for_is_told_so_and_not_judged(late_q2):
    from lscb_nb.pilot import sections_benchmark

    project, _, _ = late_q2
    ctx = context.load_context(project, PILOTS[1], period="2025-26 Q2")
    assert not ctx.judged
    parts = sections_benchmark.section_benchmark(ctx).parts
    html = " ".join(str(getattr(part, "data", part)) for part in parts)
    assert "not judged" in html and "better" not in html


def test_rare_events_at_zero_are_supplied_figures_not_errors_or_gaps(late_q2):
    project, _, zero = late_q2
    cells = pd.read_parquet(stage.pilot_dir(project) / "cells.parquet")
    mine = cells.loc[(cells["item_id"] == zero) & (cells["period"] == "2025-26 Q1")]
    assert set(mine["status"]) == {completeness.ON_TIME}
    returns = stage.store.load_returns(project)
    rows = returns.accepted.loc[returns.accepted["item_id"] == zero]
    assert set(rows["value_state"]) == {"zero_denominator"}
    errors = returns.issues.loc[
        (returns.issues["item_id"] == zero) & (returns.issues["severity"] == "error")
    ]
    assert errors.empty
    recs = pd.read_parquet(stage.pilot_dir(project) / "recommendations.parquet")
    rec = recs.set_index("item_id").loc[zero]
    assert rec["quality_issues"] == 0 and rec["supplied_pct"] == 100
    assert rec["disposition"] not in (refinement.DROP, refinement.LOCAL, refinement.AMEND)


def test_returns_not_yet_due_are_neither_missing_nor_decided_on(tmp_path):
    """Before Q2's deadline, Q2 is not yet due: not expected, not late, no decision."""
    project = _project(tmp_path / "p", as_of="2025-10-15")
    for la in PILOTS:
        _write_return(project, la, "2025-26 Q1")
    stage.prepare_pilot(project)
    cells = pd.read_parquet(stage.pilot_dir(project) / "cells.parquet")
    q2 = cells.loc[cells["period"] == "2025-26 Q2"]
    assert set(q2["status"]) == {completeness.NOT_DUE}
    by_q = completeness.summarise(cells, "period")
    assert by_q.at["2025-26 Q2", "expected"] == 0
    assert by_q.at["2025-26 Q1", "supplied_pct"] == 100
    recs = pd.read_parquet(stage.pilot_dir(project) / "recommendations.parquet")
    # One quarter of evidence is less than the project's two: nothing is decided yet.
    assert (recs["disposition"] == refinement.NOT_ENOUGH).all()
    assert recs["reasons"].str.contains("1 quarter so far").any()
