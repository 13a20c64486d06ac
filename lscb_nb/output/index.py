"""The run's index page: every report by area (the whole area first, then each
authority), one line per report saying what it answers, its status, and links to
the report, its data and, for a failure, the executed notebook kept as its record.

Rendered from a Jinja template (``templates/index.html.j2``) that shares the
reports' stylesheet, banner and navigation (:mod:`lscb_nb.output.chrome`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from lscb_nb.core.project import AREA
from lscb_nb.output import chrome

log = logging.getLogger(__name__)


def _line(job) -> dict:
    """One report's line in the index."""
    line = {
        "phase": job.phase,
        "answers": job.answers,
        "href": job.html,
        "data": job.data,
        "tables": job.tables,
        "record": "",
        "detail": "",
    }
    if job.status == "succeeded":
        line.update(state="ready", status="Ready")
        if job.reused:
            line["detail"] = "(unchanged since the last run, reused)"
    elif job.status == "not ready":
        line.update(state="waiting", status="Not ready", detail=job.reason[:300])
    else:
        line.update(state="failed", status="Failed", href="", data="", detail=job.error[:300])
        line["record"] = job.ipynb
    return line


def areas(jobs: Iterable[Any]) -> list[dict]:
    """The run's reports grouped by area: the whole area first, then each authority
    by name; within an area, reports in phase order."""
    grouped: dict[str, dict] = {}
    for job in sorted(jobs, key=lambda j: j.order):
        area = grouped.setdefault(
            job.la_code,
            {
                "code": job.la_code,
                "name": job.area_name,
                "anchor": chrome.area_anchor(job.la_code),
                "reports": [],
                "failed": 0,
            },
        )
        area["reports"].append(_line(job))
        area["failed"] += job.status not in ("succeeded", "not ready")
    return sorted(grouped.values(), key=lambda a: (a["code"] != AREA, a["name"]))


def summary(manifest: dict) -> str:
    """The run in one sentence: ready, waiting, reused, failed, how long."""
    parts = [f"{manifest['succeeded']} reports ready"]
    if manifest.get("not_ready"):
        parts.append(f"{manifest['not_ready']} waiting for data")
    text = ", ".join(parts)
    if manifest.get("reused"):
        text += f" ({manifest['reused']} unchanged, reused)"
    if manifest.get("failed"):
        text += f", {manifest['failed']} failed (see the areas marked below)"
    return text + f"; the run took {manifest['seconds']:.0f} s."


def render_index(jobs: Iterable[Any], manifest: dict) -> str:
    """The index page of a run from its jobs (``batch.Job``: the index sits below the
    batch, which calls it, so it takes the jobs rather than importing their class)."""
    return (
        chrome.environment()
        .get_template("index.html.j2")
        .render(
            project=manifest.get("project_name") or "LSCB dataset project",
            run={
                "run": manifest["run"],
                "started": manifest["started"],
                "toolkit_version": manifest["toolkit_version"],
                "data_snapshot": str(manifest.get("data_snapshot") or ""),
            },
            summary=summary(manifest),
            areas=areas(jobs),
            synthetic=bool(manifest.get("synthetic_data")),
            page=None,
        )
    )
