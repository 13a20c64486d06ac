"""``lscb-nb highlight``: the highlight report for a meeting, rendered like the phase
reports into the latest run folder (or a new one) and listed first in its index.

The report is one notebook run (:mod:`lscb_nb.output.highlight` works out what it
shows) added to a run the batch already wrote: its executed notebook, HTML and log go
where the batch puts a report's, its job joins the run's ``manifest.json``, and the
index is written again from the manifest, so the phase reports it links to sit beside
it. A meeting's report replaces the one written for the same meeting before.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, fields
from datetime import date
from pathlib import Path

from lscb_nb.core import phases
from lscb_nb.core.fileio import write_json_atomic, write_text_atomic
from lscb_nb.core.project import AREA, Project
from lscb_nb.output import batch, highlight
from lscb_nb.output.index import render_index

log = logging.getLogger(__name__)


def latest_run(project: Project) -> Path | None:
    """The project's most recent run folder (the newest manifest), or None."""
    manifests = sorted(project.outputs.glob("*/manifest.json"), key=lambda p: p.stat().st_mtime)
    return manifests[-1].parent if manifests else None


def _manifest(run_dir: Path, project: Project) -> dict:
    path = run_dir / "manifest.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    from lscb_nb import __version__

    return {
        "run": run_dir.name,
        "started": date.today().isoformat(),
        "seconds": 0.0,
        "toolkit_version": __version__,
        "synthetic_data": project.synthetic,
        "project": str(project.root),
        "project_name": project.name,
        "jobs": [],
    }


def _job_of(record: dict) -> batch.Job:
    known = {f.name for f in fields(batch.Job)}
    return batch.Job(**{k: v for k, v in record.items() if k in known})


def report_slug(phase: phases.Phase) -> str:
    """The slug the batch gives a phase's report about the whole area."""
    return f"{Path(phase.notebook).stem}__{AREA}"


def highlight_job(
    project: Project, meeting: date, as_of: str | None, linked: list[str]
) -> batch.Job:
    """The highlight report's job: about the whole area, ordered before every phase
    report and the later meeting first (its order is minus the meeting's day number)."""
    return batch.Job(
        notebook=highlight.NOTEBOOK,
        phase=f"{highlight.TITLE}: steering group meeting of {meeting.isoformat()}",
        order=-meeting.toordinal(),
        la_code=AREA,
        area_name=project.area_name,
        parameters={
            "la_code": AREA,
            "project": str(project.root),
            "meeting": meeting.isoformat(),
            "as_of": as_of,
            "linked": linked,
        },
        slug=f"{Path(highlight.NOTEBOOK).stem}__{meeting.isoformat()}",
        answers="Where the project stands against its plan, what arrived, the open risks "
        "and issues, the decisions asked and the recommended next steps.",
    )


def write_highlight(
    project: Project,
    meeting: str | None = None,
    as_of: str | None = None,
    run_dir: Path | None = None,
) -> tuple[batch.Job, Path]:
    """Render the meeting's highlight report into ``run_dir`` (default the latest run,
    else ``outputs/highlight-<meeting>``) and write the run's manifest and index again;
    the job and the run folder."""
    today = date.fromisoformat(as_of) if as_of else date.today()
    when = highlight.meeting_date(project, meeting, today)
    run_dir = Path(run_dir or latest_run(project) or project.outputs / f"highlight-{when}")
    for folder in ("reports", "notebooks"):
        (run_dir / folder).mkdir(parents=True, exist_ok=True)
    manifest = _manifest(run_dir, project)
    others = [_job_of(r) for r in manifest["jobs"]]
    ready = {j.slug for j in others if j.status in ("succeeded", batch.NOT_READY) and j.html}
    linked = [p.key for p in phases.all_phases() if report_slug(p) in ready]
    job = highlight_job(project, when, as_of, linked)
    others = [j for j in others if j.slug != job.slug]
    area = [j for j in [job, *others] if j.la_code == AREA]
    job.siblings = [{"title": j.phase, "slug": j.slug} for j in sorted(area, key=lambda j: j.order)]
    job = batch.execute_job(job, run_dir)
    jobs = sorted([job, *others], key=lambda j: (j.order, j.la_code != AREA, j.area_name))
    manifest["jobs"] = [asdict(j) for j in jobs]
    manifest["succeeded"] = sum(j.status == "succeeded" for j in jobs)
    manifest["not_ready"] = sum(j.status == batch.NOT_READY for j in jobs)
    manifest["failed"] = len(jobs) - manifest["succeeded"] - manifest["not_ready"]
    manifest.setdefault("reused", 0)
    write_json_atomic(run_dir / "manifest.json", manifest)
    write_text_atomic(run_dir / "index.html", render_index(jobs, manifest))
    return job, run_dir
