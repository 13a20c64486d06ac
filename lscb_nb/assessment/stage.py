"""Phase 2's stage: read the completed instruments, score the items, write the pilot dataset.

``prepare_assessment`` runs once per batch (``lscb-nb run``, declared in
``data/phases.yaml``): it reads the instruments, scores the items, measures agreement
and writes ``data/processed/assessment`` and the pilot data-model version, with the
area-wide figures every report shows.
"""

from __future__ import annotations

import logging

from lscb_nb.assessment import completed, ratings
from lscb_nb.assessment.context import (
    PHASE,
    SHARED_FIGURES,
    assessment_dir,
    load_context,
    released,
)
from lscb_nb.core import decisions as record
from lscb_nb.core import display, overrules, phases
from lscb_nb.core.fileio import write_json_atomic, write_parquet_atomic
from lscb_nb.core.project import AREA, Project

log = logging.getLogger(__name__)


def prepare_assessment(
    project: Project,
    useful: float = ratings.USEFUL,
    accessible: float = ratings.ACCESSIBLE,
) -> dict:
    """Read, score and save phase 2's tables and the pilot dataset, once.

    Instruments are read against the candidate (so a rating of any known item is
    read, not lost); only the items of the version phase 2 assesses are scored, and
    the ratings of other items are counted as set aside.
    """
    basis = phases.basis(project, PHASE)
    base = basis.datamodel
    items = base.items
    result = completed.read_instruments(
        project.instruments,
        phases.load_candidate(project).items,
        authorities=project.authorities,
    )
    outside = ~result.ratings["item_id"].isin(items.index)
    set_aside = result.ratings.loc[outside]
    result.ratings = result.ratings.loc[~outside].reset_index(drop=True)
    out = assessment_dir(project)
    for name in ("ratings", "quarantined", "issues", "files"):
        write_parquet_atomic(out / f"{name}.parquet", getattr(result, name))
    scores = ratings.item_scores(result.ratings)
    write_parquet_atomic(out / "scores.parquet", scores)
    write_parquet_atomic(
        out / "scores_by_borough.parquet", ratings.item_scores(result.ratings, ["la_code_ons"])
    )
    write_parquet_atomic(out / "agreement.parquet", ratings.agreement_table(result.ratings))
    write_parquet_atomic(out / "disputed.parquet", ratings.most_disputed(result.ratings, 15))
    agreed = ratings.item_agreement(result.ratings, items)
    write_parquet_atomic(out / "item_agreement.parquet", agreed)
    decisions, table = ratings.decide_pilot(
        scores,
        items,
        agreed,
        useful,
        accessible,
        project.min_alpha_lower,
        overrules.read_overrules(project.overrules),
    )
    write_parquet_atomic(
        out / "item_decisions.parquet",
        decisions.reset_index()[["item_id", "accessibility", "usefulness", "decision", "reason"]]
        .rename(columns={"decision": "phase2_decision"})
        .astype({"phase2_decision": str}),
    )
    pilot = ratings.pilot_datamodel(
        base,
        decisions.loc[decisions.index.intersection(base.items.index)],
        released(project),
        phases.version_name(project, "pilot"),
        overrules.guard_note(table) + overrules.overrule_note(table),
    )
    pilot, path = phases.release(project, PHASE, basis, pilot)  # a new revision if it changed
    record.write_stage(
        project.processed, record.stage_rows(table, "pilot", base.version, pilot.version)
    )
    summary = {
        "writes": pilot.version,
        "basis_note": basis.note(),
        "released": pilot.meta.get("released"),
        "ratings_set_aside": len(set_aside),
        "items_set_aside": sorted(set_aside["item_id"].unique().tolist()),
        "instruments": len(result.files),
        "raters": int(result.ratings["rater_id"].nunique()),
        "ratings": len(result.ratings),
        "quarantined": len(result.quarantined),
        "issues": len(result.issues),
        "decisions": decisions["decision"].astype(str).value_counts().to_dict(),
        "pilot": str(path),
        "based_on": base.version,
        "useful": useful,
        "accessible": accessible,
        "min_alpha_lower": project.min_alpha_lower,
        "kept_for_partners": int((table["guard"] != "").sum()),
        "overruled": int((table["overruled_by"] == "board").sum()),
    }
    write_json_atomic(out / "summary.json", summary)
    ctx = load_context(project, AREA, useful, accessible)
    display.save_shared_figures(out, SHARED_FIGURES, ctx)
    return summary
