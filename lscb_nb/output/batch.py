"""Run every phase notebook for London and each borough, in parallel, and
publish code-free HTML reports with an index and a manifest.

Uses papermill and nbconvert in-process (a ``jupyter nbconvert`` process per
report costs about a second; a reused exporter costs a few hundredths). Every
executed notebook is kept, failed ones included, as the record of what ran;
HTML is published only for runs that succeeded, and a failure shows in the index
with its error, never as a traceback page.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
import zipfile
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from lscb_nb import __version__
from lscb_nb.core import config, fingerprints, phases
from lscb_nb.core.fileio import write_json_atomic, write_text_atomic
from lscb_nb.core.phases import Phase, all_phases, is_ready, not_ready_reason
from lscb_nb.core.project import AREA, Project
from lscb_nb.output import chrome, notebookrun, reportlogs
from lscb_nb.output.index import render_index

log = logging.getLogger(__name__)

NOT_READY = "not ready"


@dataclass
class Job:
    """One notebook run for one area."""

    notebook: str  # file name in the notebooks folder
    phase: str  # e.g. "Phase 1: Mapping"
    order: int
    la_code: str  # ONS code or project.AREA
    area_name: str
    parameters: dict
    slug: str
    answers: str = ""
    status: str = "pending"
    error: str = ""
    reason: str = ""  # why a phase is not ready, in plain words
    key: str = ""  # fingerprint of everything the report depends on
    reused: bool = False  # copied from an earlier run with the same fingerprint
    seconds: float = 0.0
    ipynb: str = ""
    html: str = ""
    html_bytes: int = 0
    data: str = ""  # the report's tables as CSVs, zipped (path in the run)
    tables: int = 0
    files: list[str] = field(default_factory=list)  # files it links (paths in the run)
    siblings: list[dict] = field(default_factory=list)  # the area's reports: phase, slug
    versions: str = ""  # the data-model versions the report rests on, for its banner


@dataclass
class RunResult:
    run_dir: Path
    jobs: list[Job] = field(default_factory=list)

    @property
    def failed(self) -> list[Job]:
        return [j for j in self.jobs if j.status not in ("succeeded", NOT_READY)]

    @property
    def not_ready(self) -> list[Job]:
        return [j for j in self.jobs if j.status == NOT_READY]


def notebook_metadata(path: Path) -> dict:
    """The ``lscb`` block of a notebook's metadata (its phase key)."""
    nb = nbformat.read(path, as_version=4)
    return dict(nb.metadata.get("lscb", {}))


def plan_jobs(
    project: Project,
    selected: list[Phase] | None = None,
    only: list[str] | None = None,
    extra_parameters: dict | None = None,
    notebooks_dir: Path = config.NOTEBOOKS_DIR,
) -> list[Job]:
    """Every (phase notebook, area) pair to run, from the phases' declaration: a phase
    runs for the whole area, for every authority, or for the pilots. A phase that is
    not ready (inputs absent, not prepared) still gets its jobs, marked not ready
    with the reason, so the index and each page say what is missing."""
    from lscb_nb.pilot import store

    jobs = []
    names = project.authorities.set_index("la_code_ons")["la_name"]
    for phase in selected or list(all_phases()):
        codes = [AREA]
        if phase.runs_for == "all":
            codes += sorted(names.index, key=names.get)
        elif phase.runs_for == "pilots":
            codes += store.pilot_authorities(project)
        ready = is_ready(project, phase)
        reason = "" if ready else not_ready_reason(project, phase)
        basis = (
            fingerprints.report_basis(project, phase, Path(notebooks_dir) / phase.notebook)
            if ready
            else None
        )
        versions = phases.versions_note(project, phase) if ready else ""
        for code in codes:
            if only and code not in only:
                continue
            params = {"la_code": code, "project": str(project.root), **(extra_parameters or {})}
            jobs.append(
                Job(
                    notebook=phase.notebook,
                    phase=phase.title,
                    order=int(phase.number),
                    la_code=code,
                    area_name=project.authority_name(code),
                    parameters=params,
                    slug=f"{Path(phase.notebook).stem}__{code}",
                    answers=phase.answers,
                    status="pending" if ready else NOT_READY,
                    reason=reason,
                    key=fingerprints.report_key(basis, params) if basis else "",
                    versions=versions,
                )
            )
    for job in jobs:  # each report links to its area's other phases in this run
        job.siblings = [
            {"title": j.phase, "slug": j.slug} for j in jobs if j.la_code == job.la_code
        ]
    return jobs


def _page(job: Job) -> chrome.Page:
    """Where a report sits among the run's others (links relative to reports/)."""
    return chrome.Page(
        index="../index.html",
        area=job.area_name,
        area_anchor=chrome.area_anchor(job.la_code),
        versions=job.versions,
        phases=[
            {"title": s["title"], "href": f"{s['slug']}.html", "current": s["slug"] == job.slug}
            for s in job.siblings
        ],
    )


def _write_downloads(job: Job, run_dir: Path, downloads: list[chrome.Download]) -> None:
    """Each table's data as shown (suppressed values as their symbols) under
    ``reports/data/<slug>/``, and all of them zipped as ``reports/data/<slug>.zip``."""
    if not downloads:
        return
    folder = Path(run_dir) / "reports" / "data" / job.slug
    for download in downloads:
        write_text_atomic(folder / download.name, download.csv_text())
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for download in downloads:
            zf.writestr(f"{job.slug}/{download.name}", download.csv_text())
    job.data = str(archive.relative_to(run_dir))
    job.tables = len(downloads)


def _place_attachments(run_dir: Path, files: list[str]) -> list[str]:
    """Copy the files a report links beside it (``reports/files/``), so the links work
    from the HTML; returns their paths in the run."""
    import shutil

    from lscb_nb.core.display import ATTACHMENTS

    placed = []
    for source in files:
        target = run_dir / "reports" / ATTACHMENTS / Path(source).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        placed.append(str(target.relative_to(run_dir)))
    return placed


_RENDER_LOCK = threading.Lock()  # the HTML exporter renders one report at a time


def _execute(
    job: Job,
    notebooks_dir: str,
    run_dir: str,
    kernel: str,
    parent: int | None = None,
) -> Job:
    """Execute one notebook and render its HTML (runs in a worker process).

    The report's log (papermill's cell-by-cell progress, the notebook's printed
    output and any toolkit messages) is written to ``logs/<slug>.log`` in the run.
    In a worker process other than ``parent`` (the one that planned the run: a dask
    worker, say), the kernels' stderr goes to the run's logs, not the console.
    """

    if parent is not None and os.getpid() != parent:
        reportlogs.quiet_worker(str(Path(run_dir) / "logs"))
    with reportlogs.report_log(Path(run_dir) / "logs" / f"{job.slug}.log"):
        log.info("report %s: %s for %s", job.slug, job.notebook, job.area_name)
        job = _execute_logged(job, notebooks_dir, run_dir, kernel)
        log.info("report %s: %s in %.1f s %s", job.slug, job.status, job.seconds, job.error or "")
    return job


def _execute_logged(job: Job, notebooks_dir: str, run_dir: str, kernel: str) -> Job:
    start = time.perf_counter()
    out_nb = Path(run_dir) / "notebooks" / f"{job.slug}.ipynb"
    job.ipynb = str(out_nb.relative_to(run_dir))
    try:
        notebookrun.execute_notebook(
            Path(notebooks_dir) / job.notebook,
            out_nb,
            job.parameters,
            kernel,
            Path(notebooks_dir),
            job.slug,
        )
        out_html = Path(run_dir) / "reports" / f"{job.slug}.html"
        with _RENDER_LOCK:
            rendered = chrome.render_report(
                out_nb,
                title=f"{job.phase}: {job.area_name}",
                page=_page(job),
                data_folder=f"data/{job.slug}",
            )
        body = rendered.html
        _write_downloads(job, Path(run_dir), rendered.downloads)
        job.files = _place_attachments(Path(run_dir), rendered.files)
        write_text_atomic(out_html, body)
        job.html = str(out_html.relative_to(run_dir))
        job.html_bytes = len(body.encode())
        job.status = "succeeded"
    except Exception as exc:
        job.status = "failed"
        job.error = _error_text(exc)
    job.seconds = round(time.perf_counter() - start, 2)
    return job


def _error_text(exc: Exception) -> str:
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def run_batch(
    jobs: list[Job],
    run_dir: Path,
    notebooks_dir: Path = config.NOTEBOOKS_DIR,
    workers: int = 2,
    kernel: str = "python3",
    progress: bool = True,
    manifest_extra: dict | None = None,
    reuse: bool = True,
    executor: Executor | None = None,
) -> RunResult:
    """Execute every job (in parallel), then write ``index.html`` and ``manifest.json``.

    With ``reuse``, a job whose fingerprint matches a succeeded report of an earlier
    run beside ``run_dir`` is copied from it instead of executed.

    ``executor`` is any :class:`concurrent.futures.Executor` (a ``dask.distributed``
    client's ``get_executor()`` spreads a national run over several machines); by
    default a local process pool of ``workers``. An executor passed in is not shut
    down here: its owner does that.

    Every report runs on its own ordinary kernel (:mod:`lscb_nb.output.notebookrun`).
    With ``progress``, a bar on a terminal; when stderr is a file (a log), one line
    per finished report instead."""

    run_dir = Path(run_dir)
    (run_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    (run_dir / "reports").mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    done: list[Job] = []
    for job in jobs:
        if job.status == NOT_READY:
            done.append(_not_ready_page(job, run_dir, manifest_extra or {}))
    jobs = [j for j in jobs if j.status != NOT_READY]
    if reuse:
        earlier = previous_reports(run_dir.parent, exclude=run_dir)
        fresh = []
        for job in jobs:
            if job.key and job.key in earlier and _reuse(job, *earlier[job.key], run_dir):
                done.append(job)
            else:
                fresh.append(job)
        jobs = fresh
    bar = _Progress(len(jobs), progress)
    if executor is None and workers <= 1:
        for job in jobs:
            done.append(_execute(job, str(notebooks_dir), str(run_dir), kernel, None))
            bar.update(done[-1])
    else:
        owned = executor is None
        pool = executor or ProcessPoolExecutor(
            max_workers=workers,
            initializer=reportlogs.quiet_worker,
            initargs=(str(run_dir / "logs"),),
        )
        try:
            futures = {
                pool.submit(_execute, j, str(notebooks_dir), str(run_dir), kernel, os.getpid()): j
                for j in jobs
            }
            for fut in as_completed(futures):
                done.append(_outcome(fut, futures[fut]))
                bar.update(done[-1])
        finally:
            if owned:
                pool.shutdown()
    bar.close()
    done.sort(key=lambda j: (j.order, j.la_code != AREA, j.area_name))
    result = RunResult(run_dir, done)
    manifest = {
        "run": run_dir.name,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 2),
        "toolkit_version": __version__,
        "workers": workers,
        "executor": type(executor).__name__ if executor is not None else "local processes",
        "succeeded": sum(j.status == "succeeded" for j in done),
        "failed": len(result.failed),
        "not_ready": len(result.not_ready),
        "reused": sum(j.reused for j in done),
        **(manifest_extra or {}),
        "jobs": [asdict(j) for j in done],
    }
    write_json_atomic(run_dir / "manifest.json", manifest)
    write_text_atomic(run_dir / "index.html", render_index(result.jobs, manifest))
    return result


class _Progress:
    """How far a batch has got, on stderr: a bar on a terminal; in a log file (stderr
    not a terminal) one plain line per report, never a carriage-return bar. A
    failed report is always said, with its error."""

    def __init__(self, total: int, show: bool):
        self.total, self.count, self.show = total, 0, show
        self.bar = None
        if show and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="reports", unit="nb")

    def update(self, job: Job) -> None:
        self.count += 1
        failed = job.status != "succeeded"
        line = f"report {self.count}/{self.total} {job.slug}: {job.status} in {job.seconds:.1f} s"
        if failed:
            line += f": {job.error[:200]}"
        if self.bar is not None:
            self.bar.update()
            if failed:
                self.bar.write(f"FAILED {job.slug}: {job.error[:200]}")
        elif self.show or failed:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _outcome(future: Future, job: Job) -> Job:
    """A finished job, or ``job`` marked failed when its worker could not return it
    (a worker process killed, a scheduler gone): one lost report never stops the run."""
    try:
        return future.result()
    except Exception as exc:
        log.error("report %s: its worker failed: %s", job.slug, exc)
        job.status, job.error = "failed", f"worker failed: {_error_text(exc)}"
        return job


def previous_reports(outputs: Path, exclude: Path | None = None) -> dict[str, tuple[Path, dict]]:
    """Succeeded reports of earlier runs in ``outputs``, by fingerprint (newest wins)."""
    found: dict[str, tuple[Path, dict]] = {}
    manifests = sorted(Path(outputs).glob("*/manifest.json"), key=lambda p: p.stat().st_mtime)
    for path in manifests:
        if exclude is not None and path.parent.resolve() == Path(exclude).resolve():
            continue
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for job in manifest.get("jobs", []):
            if job.get("key") and job.get("status") == "succeeded" and job.get("html"):
                found[job["key"]] = (path.parent, job)
    return found


def _reuse(job: Job, old_dir: Path, old: dict, run_dir: Path) -> bool:
    """Copy an earlier run's report and executed notebook for ``job`` (hard links
    where the filesystem allows); False if the earlier files are gone."""
    import shutil

    pairs = [(old_dir / old["html"], run_dir / "reports" / f"{job.slug}.html")]
    if old.get("ipynb"):
        pairs.append((old_dir / old["ipynb"], run_dir / "notebooks" / f"{job.slug}.ipynb"))
    data = []  # the tables' CSVs and their zip, which the report links to
    if old.get("data"):
        folder = old_dir / "reports" / "data" / job.slug
        data = [(old_dir / old["data"], run_dir / old["data"])] + [
            (f, run_dir / "reports" / "data" / job.slug / f.name) for f in folder.glob("*.csv")
        ]
    data += [(old_dir / f, run_dir / f) for f in old.get("files", [])]
    if not all(src.exists() for src, _ in pairs + data):
        return False
    for src, dst in [*pairs, *data]:
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.unlink(missing_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    job.html = str(pairs[0][1].relative_to(run_dir))
    job.ipynb = str(pairs[-1][1].relative_to(run_dir)) if old.get("ipynb") else ""
    job.html_bytes = pairs[0][1].stat().st_size
    job.data, job.tables = old.get("data", ""), old.get("tables", 0)
    job.files = list(old.get("files", []))
    job.status, job.reused, job.seconds = "succeeded", True, 0.0
    return True


def _not_ready_page(job: Job, run_dir: Path, extra: dict) -> Job:
    """A clear page for a phase whose inputs are not there yet (no notebook runs)."""
    body = chrome.render_not_ready(job, _page(job), synthetic=bool(extra.get("synthetic_data")))
    out = Path(run_dir) / "reports" / f"{job.slug}.html"
    write_text_atomic(out, body)
    job.html = str(out.relative_to(run_dir))
    job.html_bytes = len(body.encode())
    return job


def load_manifest(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / "manifest.json").read_text())


def execute_job(
    job: Job,
    run_dir: Path,
    notebooks_dir: Path = config.NOTEBOOKS_DIR,
    kernel: str = "python3",
) -> Job:
    """Execute one job into ``run_dir`` in this process, as :func:`run_batch` does each
    (for a report added to an existing run: the highlight report)."""
    return _execute(job, str(notebooks_dir), str(run_dir), kernel, None)
