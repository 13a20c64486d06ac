"""Phase 1's stage: read the boroughs' local datasets, match them, write the draft.

``prepare_mapping`` runs once per batch (``lscb-nb run``, declared in
``data/phases.yaml``): it reads every borough's file, matches local names to the
data model (reviewed crosswalk first), and writes ``data/processed/mapping`` and the
draft data-model version, with the area-wide figures every report shows.
"""

from __future__ import annotations

import logging

from lscb_nb.core import decisions, display, overrules, phases
from lscb_nb.core.fileio import write_json_atomic, write_parquet_atomic
from lscb_nb.core.project import AREA, Project
from lscb_nb.mapping import coverage
from lscb_nb.mapping.context import (
    CONFIDENT,
    PHASE,
    SHARED_FIGURES,
    SUGGEST,
    load_context,
    mapping_dir,
    match_local_items,
    released,
)

log = logging.getLogger(__name__)


def prepare_mapping(
    project: Project, confident: float = CONFIDENT, suggest: float = SUGGEST
) -> dict:
    """Read, match and save phase 1's tables and the draft dataset, once."""
    basis = phases.basis(project, PHASE)
    candidate = basis.datamodel
    matches, local = match_local_items(project, candidate.items, confident, suggest)
    out = mapping_dir(project)
    saved = matches.assign(alternatives=matches["alternatives"].map(lambda a: ",".join(a)))
    write_parquet_atomic(out / "matches.parquet", saved)
    write_parquet_atomic(out / "problems.parquet", local.problems)
    write_parquet_atomic(out / "files.parquet", local.files)
    replied = sorted(local.files["la_code_ons"].dropna().unique())
    readable = sorted(local.items["la_code_ons"].dropna().unique())
    matrix = coverage.coverage_matrix(matches, candidate.items, readable)
    k = coverage.default_min_boroughs(len(readable))
    selection, table = coverage.decide_draft(
        candidate.items,
        coverage.boroughs_collecting(matrix),
        k,
        overrules.read_overrules(project.overrules),
        word=project.word(),
    )
    draft = coverage.draft_datamodel(
        candidate,
        selection,
        k,
        len(readable),
        released(project),
        phases.version_name(project, "draft"),
        table,
    )
    draft, path = phases.release(project, PHASE, basis, draft)  # a new revision if it changed
    decisions.write_stage(
        project.processed, decisions.stage_rows(table, "draft", candidate.version, draft.version)
    )
    summary = {
        "based_on": candidate.version,
        "writes": draft.version,
        "files": len(local.files),
        "replied": len(replied),
        "readable": len(readable),
        "local_items": len(matches),
        "status": matches["status"].value_counts().to_dict(),
        "min_boroughs": k,
        "draft_items": int(selection["in_draft"].sum()),
        "kept_for_partners": int((table["guard"] != "").sum()),
        "overruled": int((table["overruled_by"] == "board").sum()),
        "draft": str(path),
        "confident": confident,
        "suggest": suggest,
    }
    write_json_atomic(out / "summary.json", summary)
    ctx = load_context(project, AREA, None, confident, suggest)
    display.save_shared_figures(out, SHARED_FIGURES, ctx)
    return summary
