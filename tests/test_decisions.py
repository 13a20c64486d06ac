"""The decision record, the partner guard and the board's overrules (issue 24, items 3-5),
on small purpose-built tables: a draft rule that would remove an agency, a kept share
whose total would go, ratings too unreliable to decide on, an overrule file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lscb_nb.assessment import findings as assessment_findings
from lscb_nb.assessment import ratings
from lscb_nb.core import decisions, overrules
from lscb_nb.mapping import coverage
from lscb_nb.pilot import refinement


def _items(rows) -> pd.DataFrame:
    """(item_id, agency, essential, denominator_item, denominator text)."""
    frame = pd.DataFrame(
        rows, columns=["item_id", "agency", "essential", "denominator_item", "denominator"]
    ).set_index("item_id")
    frame["title"] = [f"Title of {i}" for i in frame.index]
    frame["theme"] = "referral_and_assessment"
    return frame


ITEMS = _items(
    [
        ("CSC01", "childrens_social_care", False, None, "Children aged 0-17"),
        ("CSC04", "childrens_social_care", False, "CSC01", "Referrals in the quarter (CSC01)"),
        ("CSC14", "childrens_social_care", False, None, "Conferences in the quarter (CSC12)"),
        ("CSC12", "childrens_social_care", False, None, ""),
        ("PRB01", "probation", False, None, ""),
        ("PRB02", "probation", False, None, ""),
        ("CAF01", "cafcass", False, None, ""),
    ]
)


# ---- recomputing a decision from its evidence (the rules as the docs state them) ----


def _draft_from(e: dict) -> str:
    if e["authorities_collecting"] >= e["at_least"]:
        return "core"
    if e["essential"] or e["priority_theme"] or e["denominator_of"]:
        return "develop"
    return "drop"


def _pilot_from(e: dict) -> str:
    if e["min_alpha_lower"] is not None and not (
        e["alpha_lower"] is not None and e["alpha_lower"] >= e["min_alpha_lower"]
    ):
        return "for discussion"
    if e["usefulness"] is None:
        return "for discussion"
    useful, accessible = e["usefulness"] >= e["useful"], e["accessibility"] >= e["accessible"]
    if useful and accessible:
        return "core"
    if useful:
        return "develop"
    if accessible:
        return "local option"
    return "develop" if e["essential"] else "drop"


def _refined_from(e: dict) -> str:
    if e["supplied_pct"] is None or (
        e["quarters"] is not None and e["quarters"] < e["min_quarters"]
    ):
        return "not enough evidence yet"
    if e["pilots"] is not None and e["pilots"] < e["min_pilots"]:
        return "not enough evidence yet"
    if e["supplied_pct"] < e["drop_below_supplied"] and not e["essential"]:
        return "drop"
    if e["boroughs_flagged"] >= e["amend_flags"] or e["quality_issues"] >= e["amend_issues"]:
        return "amend definition"
    if e["supplied_pct"] < e["local_below_supplied"] and not e["essential"]:
        return "local option"
    d = e["discriminating"]
    if d is not None and d < e["min_discriminating"] and not e["essential"]:
        return "local option"
    return "keep"


RECOMPUTE = {"draft": _draft_from, "pilot": _pilot_from, "refined": _refined_from}


def assert_each_decision_follows_from_its_evidence(rows: pd.DataFrame) -> None:
    """Every row: the rule's proposal recomputed from the named figures, and a final
    decision that differs from it only with an overrule or the guard saying why."""
    assert not rows.empty
    for row in rows.itertuples():
        evidence = json.loads(row.evidence)
        assert RECOMPUTE[row.stage](evidence) == row.proposed, (row.item_id, evidence)
        if row.decision != row.proposed:
            assert row.overruled_by == "board" or row.guard, row.item_id
        if row.guard:
            assert row.decision in decisions.GUARD_DECISIONS


# ---- the partner guard ------------------------------------------------------------


def _counts(**n) -> pd.Series:
    return pd.Series({i: n.get(i, 0) for i in ITEMS.index})


def test_a_draft_rule_that_would_remove_agencies_keeps_each_ones_best_supported_item():
    counts = _counts(CSC01=1, CSC04=5, CSC14=4, CSC12=0, PRB01=1, PRB02=2, CAF01=0)
    old = coverage.draft_selection(ITEMS, counts, 3)
    assert not old.loc[["PRB01", "PRB02", "CAF01"], "in_draft"].any()  # the old rule loses them

    selection, table = coverage.decide_draft(ITEMS, counts, 3)
    assert selection.loc["PRB02", "in_draft"] and not selection.loc["PRB01", "in_draft"]
    assert selection.loc["CAF01", "in_draft"]  # the only Cafcass item, collected by none
    assert table.loc["PRB02", "decision"] == decisions.KEPT_FOR_PARTNER
    assert "every Probation item (2)" in table.loc["PRB02", "guard"]
    # The kept shares keep their totals: the denominator item and the total named in words.
    assert selection.loc["CSC01", "in_draft"] and selection.loc["CSC12", "in_draft"]
    assert table.loc["CSC12", "decision"] == decisions.KEPT_AS_TOTAL
    assert "CSC14" in table.loc["CSC12", "guard"]
    rows = decisions.stage_rows(table, "draft", "1.0-candidate", "1.1-draft")
    assert_each_decision_follows_from_its_evidence(rows)


def test_the_first_screen_names_the_agencies_the_evidence_would_remove_and_asks():
    counts = _counts(CSC01=5, CSC04=5, CSC14=5, CSC12=5, PRB01=1)
    _, table = coverage.decide_draft(ITEMS, counts, 3)
    rows = decisions.stage_rows(table, "draft", "c", "1.1-draft")
    found = decisions.partners_finding(rows, "1.1-draft", "The draft dataset")
    assert "Children's social care 4 → 4" in found.text
    assert "Probation 2 → 1" in found.text and "CAFCASS 1 → 1" in found.text
    assert "would have removed every item of Probation and CAFCASS" in found.text
    assert "Title of PRB01 (PRB01)" in found.text
    assert found.ask.startswith("Decide whether Probation and CAFCASS stay in the dataset")
    every = decisions.partners_finding(
        rows.assign(decision="core"), "1.1-draft", "The draft dataset"
    )
    assert "would have removed" not in every.text and every.ask == ""
    assert decisions.partners_finding(rows.iloc[:0], "v", "h") is None


def test_the_board_can_drop_an_agency_and_the_guard_respects_it(tmp_path):
    path = tmp_path / "overrules.csv"
    path.write_text(
        "item_id,stage,decision,reason,who,date\n"
        "CAF01,draft,drop,Cafcass reports nationally,Board chair,2026-01-15\n"
        "prb01,draft,core,Probation asked for it,Board chair,2026-01-15\n"
    )
    board = overrules.read_overrules(path)
    selection, table = coverage.decide_draft(ITEMS, _counts(CSC01=5, CSC04=5), 3, board)
    assert not selection.loc["CAF01", "in_draft"]  # the board decided: not kept by the guard
    assert table.loc["CAF01", "guard"] == "" and table.loc["CAF01", "overruled_by"] == "board"
    assert selection.loc["PRB01", "tier"] == "core" and selection.loc["PRB01", "in_draft"]
    assert "the board decided core (Board chair, 2026-01-15)" in selection.loc["PRB01", "reason"]
    assert not selection.loc["PRB02", "in_draft"]  # probation is not lost: PRB01 is kept
    rows = decisions.stage_rows(table, "draft", "c", "d")
    found = decisions.partners_finding(rows, "d", "h")
    assert "The board's overrules removed every item of CAFCASS." in found.text
    assert_each_decision_follows_from_its_evidence(rows)
    note = overrules.overrule_note(table)
    assert "CAF01 drop → drop (Board chair" in note and "PRB01 drop → core (Board chair" in note


# ---- the overrule file ------------------------------------------------------------


def test_overrule_errors_name_the_file_row_column_and_reason(tmp_path):
    path = tmp_path / "overrules.csv"
    path.write_text(
        "item_id,stage,decision,reason,who,date\n"
        "CSC01,pilot,keep,,Chair,2026-01-15\n"
        "CSC01,final,drop,why,Chair,15/01/2026\n"
        "CSC04,refined,keep,why,,2026-01-15\n"
        "CSC04,refined,drop,why,Chair,2026-01-15\n"
    )
    with pytest.raises(overrules.OverruleError) as err:
        overrules.read_overrules(path)
    text = str(err.value)
    assert f"{path}, row 2, column decision: 'keep' is not a decision at stage pilot" in text
    assert f"{path}, row 2, column reason: reason is empty" in text
    assert f"{path}, row 3, column stage: 'final' is not a stage" in text
    assert f"{path}, row 3, column date: '15/01/2026' is not a date" in text
    assert f"{path}, row 4, column who: who is empty" in text
    assert f"{path}, row 5, column item_id: CSC04 is overruled twice at stage refined" in text
    path.write_text("item_id,stage,decision\nCSC01,draft,core\n")
    with pytest.raises(overrules.OverruleError, match="lacks the columns reason, who, date"):
        overrules.read_overrules(path)
    assert overrules.read_overrules(tmp_path / "none.csv").empty


def test_an_overrule_of_an_item_the_stage_does_not_decide_is_an_error(tmp_path):
    path = tmp_path / "overrules.csv"
    path.write_text("item_id,stage,decision,reason,who,date\nXYZ99,draft,core,r,w,2026-01-01\n")
    with pytest.raises(overrules.OverruleError, match=r"row 2, column item_id: XYZ99 is not in"):
        coverage.decide_draft(ITEMS, _counts(), 3, overrules.read_overrules(path))


# ---- the record ------------------------------------------------------------------


def test_each_stage_replaces_only_its_own_rows_of_the_record(tmp_path):
    _, table = coverage.decide_draft(ITEMS, _counts(CSC01=5), 3)
    decisions.write_stage(tmp_path, decisions.stage_rows(table, "draft", "c", "d1"))
    refined = table.assign(proposed="keep", decision="keep", evidence=[{}] * len(table))
    decisions.write_stage(tmp_path, decisions.stage_rows(refined, "refined", "p", "r"))
    decisions.write_stage(tmp_path, decisions.stage_rows(table, "draft", "c", "d2"))
    record = decisions.read_record(tmp_path)
    assert list(record.columns) == [*decisions.COLUMNS, decisions.IN_VERSION]
    assert record.groupby("stage").size().to_dict() == {"draft": 7, "refined": 7}
    assert set(record.loc[record["stage"] == "draft", "version"]) == {"d2"}
    assert record["stage"].tolist() == ["draft"] * 7 + ["refined"] * 7
    in_draft = record.loc[record["stage"] == "draft"].set_index("item_id")[decisions.IN_VERSION]
    assert in_draft.to_dict() == (table["decision"] != "drop").to_dict()


# ---- phase 2: decisions that respect their uncertainty -------------------------------

CRITERIA = {"c1": "usefulness", "c2": "usefulness", "c3": "accessibility", "c4": "accessibility"}


def _ratings(scores_for, raters=("r1", "r2", "r3"), boroughs=("A", "B"), agency="health"):
    """Every rater of every borough scores items X1 (probation) and X2 (health)."""
    rows = []
    for la in boroughs:
        for rater in raters:
            for item in ("X1", "X2"):
                for criterion, dim in CRITERIA.items():
                    score = scores_for(la, rater, item, criterion)
                    rows.append((la, f"{la}:{rater}", agency, item, criterion, dim, score))
    cols = ["la_code_ons", "rater_id", "rater_agency", "item_id", "criterion", "dimension"]
    return pd.DataFrame(rows, columns=[*cols, "score"])


X_ITEMS = _items([("X1", "probation", False, None, ""), ("X2", "health", False, None, "")])
BASE = {"c1": 4, "c2": 3, "c3": 1, "c4": 2}  # useful, hard to get: develop


def test_unreliable_ratings_leave_items_for_discussion_not_placed():
    rng = np.random.default_rng(7)
    noisy = _ratings(lambda la, r, i, c: float(rng.integers(1, 5)))
    agreed = ratings.item_agreement(noisy, X_ITEMS, n_boot=200)
    assert (agreed["alpha_lower"] < ratings.MIN_ALPHA_LOWER).all()
    placed, table = ratings.decide_pilot(ratings.item_scores(noisy), X_ITEMS, agreed)
    assert set(placed["decision"].astype(str)) == {ratings.DISCUSS}
    assert placed.loc["X1", "reason"].startswith("for discussion: raters' agreement α")
    assert "the scores alone suggest" in placed.loc["X1", "reason"]
    found = assessment_findings.placements(placed, "1.2-pilot")
    assert "raters did not agree well enough to place 2" in found.text
    assert "would be dropped" not in found.text
    assert found.ask.startswith("Discuss the 2 items raters did not agree on")
    rows = decisions.stage_rows(table, "pilot", "1.1-draft", "1.2-pilot")
    assert_each_decision_follows_from_its_evidence(rows)
    # Without the agreement the old rule would have placed them on the same scores.
    old = ratings.classify(ratings.item_scores(noisy), X_ITEMS)
    assert ratings.DISCUSS not in set(old["decision"].astype(str))


def test_raters_who_agree_place_the_item_and_no_rater_of_its_agency_is_marked():
    agree = _ratings(lambda la, r, i, c: float(BASE[c]))
    agreed = ratings.item_agreement(agree, X_ITEMS, n_boot=200)
    assert (agreed["alpha_lower"] >= 0.667).all()
    assert agreed.set_index("item_id")["own_agency_raters"].to_dict() == {"X1": 0, "X2": 6}
    placed, table = ratings.decide_pilot(ratings.item_scores(agree), X_ITEMS, agreed)
    assert set(placed["decision"].astype(str)) == {"develop"}
    assert placed.loc["X1", "reason"].endswith("no rater is from Probation")
    assert "no rater is from" not in placed.loc["X2", "reason"]
    assert_each_decision_follows_from_its_evidence(
        decisions.stage_rows(table, "pilot", "1.1-draft", "1.2-pilot")
    )


def test_the_board_overrules_a_phase_2_drop_of_a_projects_own_item(tmp_path):
    drop = {"c1": 1, "c2": 2, "c3": 1, "c4": 2}
    agree = _ratings(lambda la, r, i, c: float(drop[c]))
    agreed = ratings.item_agreement(agree, X_ITEMS, n_boot=200)
    placed, table = ratings.decide_pilot(ratings.item_scores(agree), X_ITEMS, agreed)
    # Both dropped on their scores would lose probation and health: the guard keeps both.
    assert set(table["proposed"]) == {"drop"}
    assert set(table["decision"]) == {decisions.KEPT_FOR_PARTNER}
    path = tmp_path / "overrules.csv"
    path.write_text(
        "item_id,stage,decision,reason,who,date\n"
        "X2,pilot,core,Our own item: the board wants it piloted,J Smith,2026-02-01\n"
    )
    placed, table = ratings.decide_pilot(
        ratings.item_scores(agree), X_ITEMS, agreed, board=overrules.read_overrules(path)
    )
    assert placed.loc["X2", "decision"] == "core"
    assert placed.loc["X2", "reason"].startswith("the board decided core (J Smith, 2026-02-01)")
    assert table.loc["X2", ["overrule_who", "overrule_date"]].tolist() == ["J Smith", "2026-02-01"]
    assert "X2 drop → core (J Smith, 2026-02-01: Our own item" in overrules.overrule_note(table)


# ---- phase 3: the refined version keeps its partners and totals -----------------------


def test_the_refined_version_keeps_a_partner_and_a_kept_shares_total():
    ev = pd.DataFrame(
        {
            "title": ITEMS["title"],
            "agency": ITEMS["agency"],
            "essential": False,
            "supplied_pct": [40.0, 90.0, 90.0, 30.0, 20.0, 45.0, 95.0],
            "on_time_pct": 80.0,
            "received": 8,
            "quarters": 4,
            "pilots": 3,
            "not_yet_due": False,
            "boroughs_flagged": 0,
            "quality_issues": 0,
            "discriminating": 0.5,
        },
        index=ITEMS.index,
    )
    t = refinement.Thresholds(min_pilots=2)
    recs = refinement.recommend(ev, t)
    assert recs.loc[["CSC01", "PRB01", "PRB02"], "disposition"].astype(str).eq("drop").all()
    out, table = refinement.decide_refined(recs, ITEMS, t)
    assert out.loc["PRB02", "disposition"] == decisions.KEPT_FOR_PARTNER  # 45% beats 20%
    assert out.loc["PRB01", "disposition"] == "drop"
    assert out.loc["CSC01", "disposition"] == decisions.KEPT_AS_TOTAL  # CSC04's denominator
    assert out.loc["CSC12", "disposition"] == decisions.KEPT_AS_TOTAL  # CSC14's named total
    assert out.loc["CSC01", "proposed"] == "drop"
    assert_each_decision_follows_from_its_evidence(
        decisions.stage_rows(table, "refined", "1.2-pilot", "1.3-refined")
    )


# ---- a project made with init: phase 1's stage writes the record ---------------------


def test_phase_1_on_an_init_project_keeps_every_partner_and_records_each_decision(tmp_path):
    from lscb_nb.core import phases
    from lscb_nb.core.project import load_project
    from lscb_nb.core.workspace import init_project
    from lscb_nb.mapping import findings as mapping_findings
    from lscb_nb.mapping.context import load_context
    from lscb_nb.mapping.stage import prepare_mapping

    project = init_project(
        tmp_path / "gm",
        name="Greater Manchester pilot",
        area="Greater Manchester",
        authorities=["Manchester", "Salford", "Bolton", "Wigan"],
    )
    names = ["Referrals to children's social care", "Re-referrals within 12 months"]
    for la in ("Manchester", "Salford", "Bolton"):
        pd.DataFrame(
            {"Indicator": names, "Definition": names, "Source": "Children's social care"}
        ).to_csv(project.catalogues / f"{la}_current_dataset.csv", index=False)
    # The board keeps Cafcass's care applications in the draft, whatever the rule says.
    (project.root / "overrules.csv").write_text(
        "item_id,stage,decision,reason,who,date\n"
        "CAF01,draft,core,Cafcass asked to be in from the start,Board chair,2026-01-20\n"
    )
    project = load_project(project.root)
    prepare_mapping(project)

    candidate = phases.load_candidate(project)
    draft = phases.load_version(project, "draft")
    record = decisions.read_record(project.processed)
    assert set(record["stage"]) == {"draft"}
    assert sorted(record["item_id"]) == sorted(candidate.items.index)
    assert_each_decision_follows_from_its_evidence(record)
    # No partner lost: every agency of the candidate has an item in the draft written.
    assert set(draft.items["agency"]) == set(candidate.items["agency"])
    assert set(record.loc[record[decisions.IN_VERSION], "item_id"]) == set(draft.items.index)
    for item_id in draft.items.index:  # no kept item without its denominator
        assert set(decisions.totals_needed(candidate.items, item_id)) <= set(draft.items.index)
    guarded = record.loc[record["decision"] == decisions.KEPT_FOR_PARTNER]
    assert not guarded.empty and guarded["agency"].is_unique
    caf = record.set_index("item_id").loc["CAF01"]
    assert (caf["decision"], caf["overruled_by"], caf["overrule_who"]) == (
        "core",
        "board",
        "Board chair",
    )
    assert "Overruled by the board: CAF01" in draft.meta["description"]
    # The first screen says how the draft is spread and asks about the guarded agencies.
    ctx = load_context(project)
    found = [f for f in mapping_findings.findings(ctx) if "Items per partner agency" in f.text]
    assert len(found) == 1 and "would have removed every item of" in found[0].text
    assert "CAFCASS" not in found[0].ask  # the board decided about Cafcass already


def test_each_items_path_shows_every_stage_and_the_boards_overrules(tmp_path):
    _, draft = coverage.decide_draft(ITEMS, _counts(CSC01=5, CSC04=5, CSC14=5, CSC12=5), 3)
    decisions.write_stage(tmp_path, decisions.stage_rows(draft, "draft", "c", "d"))
    kept = draft.loc[decisions.kept(draft["decision"])]
    refined = kept.assign(proposed="keep", decision="keep", evidence=[{}] * len(kept))
    refined.loc["CSC12", ["decision", "overruled_by"]] = ["drop", "board"]
    decisions.write_stage(tmp_path, decisions.stage_rows(refined, "refined", "d", "r"))
    paths = decisions.item_paths(decisions.read_record(tmp_path)).set_index("item_id")
    assert list(paths.columns) == ["title", "agency", "draft", "refined"]
    assert paths.loc["CSC12", ["draft", "refined"]].tolist() == ["core", "drop (board)"]
    dropped = draft.index[draft["decision"] == "drop"]
    assert len(dropped) and (paths.loc[dropped, "refined"] == "").all()
    assert paths.loc["CAF01", "draft"] == decisions.KEPT_FOR_PARTNER


# ---- the sample, built as users build it ------------------------------------------


@pytest.mark.notebook
def test_the_samples_record_recomputes_and_no_version_loses_a_partner_or_a_total(sample_run):
    from lscb_nb.core import phases
    from lscb_nb.core.project import AREA

    project = sample_run["root"]
    record = decisions.read_record(project.processed)
    assert set(record["stage"]) == set(decisions.STAGES)
    assert_each_decision_follows_from_its_evidence(record)
    candidate = phases.load_candidate(project)
    for stage in decisions.STAGES:
        version = phases.load_version(project, stage)
        rows = record.loc[record["stage"] == stage]
        assert set(rows.loc[rows[decisions.IN_VERSION], "item_id"]) == set(version.items.index)
        assert set(version.items["agency"]) == set(candidate.items["agency"]), stage
        for item_id in version.items.index:
            needed = decisions.totals_needed(candidate.items, item_id)
            assert set(needed) <= set(version.items.index), (stage, item_id)
    for job in sample_run["manifest"]["jobs"]:
        if job["notebook"][:2] in ("01", "02", "03") and job["status"] == "succeeded":
            page = (sample_run["dir"] / job["html"]).read_text(encoding="utf-8")
            board = page[: page.find("</div>", page.find('class="lscb-board"'))]
            assert "Items per partner agency" in board, job["slug"]
            if job["la_code"] == AREA:
                assert "Decision record, " in page, job["slug"]
