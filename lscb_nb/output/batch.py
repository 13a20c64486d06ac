"""Run every phase notebook for London and each borough, in parallel, and
publish code-free HTML reports with an index and a manifest.

Uses papermill and nbconvert in-process (a ``jupyter nbconvert`` process per
report costs about a second; a reused exporter costs a few hundredths). Every
executed notebook is kept, failed ones included, as the record of what ran;
HTML is published only for runs that succeeded, and a failure shows in the index
with its error, never as a traceback page.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import re
import threading
import time
import traceback
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from lscb_nb import __version__
from lscb_nb.core import config, fingerprints
from lscb_nb.core.fileio import write_json_atomic, write_text_atomic
from lscb_nb.core.phases import Phase, all_phases, is_ready, not_ready_reason
from lscb_nb.core.project import AREA, Project

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
                )
            )
    return jobs


def _quiet_worker(log_dir: str) -> None:
    """Send a worker's stderr (and its kernels') to a log file, not the console."""
    import os

    Path(log_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(
        Path(log_dir) / f"worker-{os.getpid()}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND
    )
    os.dup2(fd, 2)
    os.close(fd)


# Reports running side by side on threads share these: the loggers' levels (raised
# while any report runs) and the HTML exporter (one render at a time).
_LOG_LOCK = threading.Lock()
_LOGGING_REPORTS = 0
_SAVED_LEVELS: list[int] = []
_RENDER_LOCK = threading.Lock()


@contextlib.contextmanager
def _report_log(path: Path):
    """Everything the toolkit and papermill log while one report runs, in its own file.

    The handler keeps only records from the thread that runs the report, so reports
    run side by side on a thread pool do not share a log.
    """
    global _LOGGING_REPORTS, _SAVED_LEVELS
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    thread = threading.get_ident()
    handler.addFilter(lambda record: record.thread == thread)
    loggers = [logging.getLogger("lscb_nb"), logging.getLogger("papermill")]
    with _LOG_LOCK:  # the first report in raises the levels, the last one out restores them
        if _LOGGING_REPORTS == 0:
            _SAVED_LEVELS = [lg.level for lg in loggers]
            for lg in loggers:
                lg.setLevel(min(lg.getEffectiveLevel(), logging.INFO))
        _LOGGING_REPORTS += 1
        for lg in loggers:
            lg.addHandler(handler)
    try:
        yield
    finally:
        with _LOG_LOCK:
            for lg in loggers:
                lg.removeHandler(handler)
            _LOGGING_REPORTS -= 1
            if _LOGGING_REPORTS == 0:
                for lg, level in zip(loggers, _SAVED_LEVELS, strict=True):
                    lg.setLevel(level)
        handler.close()


def _execute(job: Job, notebooks_dir: str, run_dir: str, kernel: str) -> Job:
    """Execute one notebook and render its HTML (runs in a worker process).

    The report's log (papermill's cell-by-cell progress, the notebook's printed
    output and any toolkit messages) is written to ``logs/<slug>.log`` in the run.
    """
    with _report_log(Path(run_dir) / "logs" / f"{job.slug}.log"):
        log.info("report %s: %s for %s", job.slug, job.notebook, job.area_name)
        job = _execute_logged(job, notebooks_dir, run_dir, kernel)
        log.info("report %s: %s in %.1f s %s", job.slug, job.status, job.seconds, job.error or "")
    return job


def _execute_logged(job: Job, notebooks_dir: str, run_dir: str, kernel: str) -> Job:
    import papermill as pm

    start = time.perf_counter()
    out_nb = Path(run_dir) / "notebooks" / f"{job.slug}.ipynb"
    job.ipynb = str(out_nb.relative_to(run_dir))
    try:
        pm.execute_notebook(
            str(Path(notebooks_dir) / job.notebook),
            str(out_nb),
            parameters=job.parameters,
            kernel_name=kernel,
            progress_bar=False,
            log_output=True,
            cwd=notebooks_dir,
        )
        out_html = Path(run_dir) / "reports" / f"{job.slug}.html"
        with _RENDER_LOCK:
            body = render_html(out_nb, title=f"{job.phase}: {job.area_name}")
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


_EXPORTER = None


def render_html(notebook_path: Path, title: str) -> str:
    """Code-free, self-contained HTML for an executed notebook, with a table of contents."""
    global _EXPORTER
    from nbconvert import HTMLExporter

    if _EXPORTER is None:
        _EXPORTER = HTMLExporter(
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            embed_images=True,
            mathjax_url="",
            require_js_url="",
            jquery_url="",
            widget_renderer_url="",
            jupyter_widgets_base_url="",
        )
    nb = nbformat.read(notebook_path, as_version=4)
    for cell in nb.cells:  # warnings and logging never reach the steering group
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    body, _ = _EXPORTER.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return _offline(add_toc(body))


_EXTERNAL = re.compile(
    r'<script[^>]+src="(?:https?://[^"]*)?"[^>]*>\s*</script>|<link[^>]+href="https?://[^"]*"[^>]*>',
    re.IGNORECASE,
)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)


def _offline(body: str) -> str:
    """Drop any script or stylesheet the template would load from the internet
    (the lab template imports Mermaid from a CDN when a diagram is present)."""
    body = _EXTERNAL.sub("", body)
    return _SCRIPT.sub(lambda m: "" if re.search(r"https?://", m.group(1)) else m.group(0), body)


_HEADING = re.compile(r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.DOTALL)


def add_toc(body: str) -> str:
    """Insert a table of contents of the report's section headings."""
    entries = []
    for level, anchor, text in _HEADING.findall(body):
        label = re.sub(r"<[^>]+>", "", text).replace("¶", "").strip()
        if label:
            entries.append((int(level), anchor, label))
    if len(entries) < 2:
        return body
    items = "".join(
        f'<li style="margin-left:{(lvl - 2) * 18}px"><a href="#{anchor}">{label}</a></li>'
        for lvl, anchor, label in entries
    )
    toc = (
        '<nav class="lscb-toc" style="border:1px solid #ddd;padding:8px 16px;margin:12px 0;'
        f'max-width:60em"><strong>Contents</strong><ul>{items}</ul></nav>'
    )
    marker = re.search(r"<h2 id=", body)
    return body[: marker.start()] + toc + body[marker.start() :] if marker else body


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
    down here: its owner does that."""
    from tqdm.auto import tqdm

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
    bar = tqdm(total=len(jobs), desc="reports", unit="nb", disable=not progress)
    if executor is None and workers <= 1:
        for job in jobs:
            done.append(_execute(job, str(notebooks_dir), str(run_dir), kernel))
            bar.update()
    else:
        owned = executor is None
        pool = executor or ProcessPoolExecutor(
            max_workers=workers, initializer=_quiet_worker, initargs=(str(run_dir / "logs"),)
        )
        try:
            futures = {
                pool.submit(_execute, j, str(notebooks_dir), str(run_dir), kernel): j for j in jobs
            }
            for fut in as_completed(futures):
                done.append(_outcome(fut, futures[fut]))
                bar.update()
                if done[-1].status != "succeeded":
                    bar.write(f"FAILED {done[-1].slug}: {done[-1].error[:200]}")
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
    write_text_atomic(run_dir / "index.html", render_index(result, manifest))
    return result


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
    import os
    import shutil

    pairs = [(old_dir / old["html"], run_dir / "reports" / f"{job.slug}.html")]
    if old.get("ipynb"):
        pairs.append((old_dir / old["ipynb"], run_dir / "notebooks" / f"{job.slug}.ipynb"))
    if not all(src.exists() for src, _ in pairs):
        return False
    for src, dst in pairs:
        dst.unlink(missing_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    job.html = str(pairs[0][1].relative_to(run_dir))
    job.ipynb = str(pairs[-1][1].relative_to(run_dir)) if old.get("ipynb") else ""
    job.html_bytes = pairs[0][1].stat().st_size
    job.status, job.reused, job.seconds = "succeeded", True, 0.0
    return True


def render_index(result: RunResult, manifest: dict) -> str:
    """One page linking every report, grouped by phase and borough, with status."""
    e = html.escape
    sections = []
    phases: dict[str, list[Job]] = {}
    for job in result.jobs:
        phases.setdefault(job.phase, []).append(job)
    for phase, jobs in phases.items():
        rows = []
        for j in jobs:
            if j.status == "succeeded":
                link = f'<a href="{e(j.html)}">{e(j.area_name)}</a>'
                status = '<span class="ok">report ready</span>' + (
                    " (unchanged, reused)" if j.reused else ""
                )
            elif j.status == NOT_READY:
                link = f'<a href="{e(j.html)}">{e(j.area_name)}</a>'
                status = f'<span class="waiting">not ready</span>: {e(j.reason[:300])}'
            else:
                link = e(j.area_name)
                status = (
                    f'<span class="failed">failed</span> <code>{e(j.error[:300])}</code> '
                    f'(record: <a href="{e(j.ipynb)}">executed notebook</a>)'
                )
            rows.append(
                f"<tr><td>{link}</td><td>{e(j.la_code)}</td><td>{status}</td>"
                f"<td>{j.seconds:.1f} s</td></tr>"
            )
        ok = sum(j.status == "succeeded" for j in jobs)
        if jobs and all(j.status == NOT_READY for j in jobs):
            sections.append(
                f"<h2>{e(phase)}</h2><p><span class='waiting'>Not ready</span>: "
                f"{e(jobs[0].reason)}</p>"
            )
            continue
        sections.append(
            f"<h2>{e(phase)}</h2><p>{ok} of {len(jobs)} reports ready.</p>"
            "<table><thead><tr><th>Area</th><th>Code</th><th>Status</th><th>Time</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>"
        )
    synthetic = manifest.get("synthetic_data")
    banner = (
        (
            '<div class="synthetic">SYNTHETIC DATA: these reports are built from generated '
            "sample data, not real borough returns.</div>"
        )
        if synthetic
        else ""
    )
    failed = manifest["failed"]
    summary = (
        f"{manifest['succeeded']} reports ready"
        + (f", {manifest.get('not_ready')} waiting for data" if manifest.get("not_ready") else "")
        + (f" ({manifest.get('reused')} unchanged, reused)" if manifest.get("reused") else "")
        + (f", <strong class='failed'>{failed} failed</strong>" if failed else "")
        + f"; run took {manifest['seconds']:.0f} s."
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>LSCB dataset reports: {e(manifest["run"])}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; margin: 2em auto;
       max-width: 60em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }}
th, td {{ text-align: left; padding: 4px 10px; border-bottom: 1px solid #e3e3e3; }}
th {{ background: #f2f2f2; }}
.ok {{ color: #1b5e20; }} .failed {{ color: #b00020; font-weight: 600; }}
.waiting {{ color: #8a4b00; font-weight: 600; }}
.synthetic {{ border: 3px solid #b00020; background: #fdecea; color: #6d0015; padding: 10px;
              font-weight: 600; margin-bottom: 1em; }}
code {{ font-size: 0.85em; }}
</style></head><body>
<h1>{e(manifest.get("project_name") or "LSCB dataset project")}: reports</h1>
{banner}
<p>Run <code>{e(manifest["run"])}</code>, started {e(manifest["started"])}; toolkit version
{e(manifest["toolkit_version"])};
data snapshot <code>{e(str(manifest.get("data_snapshot", ""))[:12])}</code>.</p>
<p>{summary}</p>
{"".join(sections)}
</body></html>
"""


_NOT_READY_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ job.phase }}: {{ job.area_name }}</title>
<style>body { font-family: system-ui, Arial, sans-serif; margin: 2em auto; max-width: 50em;
color: #222; } .note { border-left: 6px solid #8a4b00; background: #fff4e5; padding: 12px 16px; }
.synthetic { border: 3px solid #b00020; background: #fdecea; color: #6d0015; padding: 10px;
font-weight: 600; }</style></head><body>
{% if synthetic %}<div class="synthetic" role="note">SYNTHETIC DATA: generated sample data,
not real borough returns.</div>{% endif %}
<p><a href="../index.html">All reports</a></p>
<h1>{{ job.phase }}: {{ job.area_name }}</h1>
<p>{{ job.answers }}</p>
<div class="note" role="status"><p><strong>Not ready yet.</strong> {{ job.reason }}</p>
<p>When the files are in place, run <code>lscb-nb run</code> again; <code>lscb-nb status</code>
shows what the project has so far.</p></div>
</body></html>
"""


def _not_ready_page(job: Job, run_dir: Path, extra: dict) -> Job:
    """A clear page for a phase whose inputs are not there yet (no notebook runs)."""
    from jinja2 import Environment

    env = Environment(autoescape=True)
    body = env.from_string(_NOT_READY_PAGE).render(
        job=job, synthetic=bool(extra.get("synthetic_data"))
    )
    out = Path(run_dir) / "reports" / f"{job.slug}.html"
    write_text_atomic(out, body)
    job.html = str(out.relative_to(run_dir))
    job.html_bytes = len(body.encode())
    return job


def load_manifest(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / "manifest.json").read_text())
