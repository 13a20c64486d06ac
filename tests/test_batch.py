"""The batch runner: parallel runs, a failure isolated and reported, code-free
offline HTML, an index that links every report, a manifest of what ran."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import lxml.html
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lscb_nb.core.phases import Phase
from lscb_nb.core.project import AREA
from lscb_nb.core.workspace import init_project
from lscb_nb.output import batch

pytestmark = pytest.mark.slow  # its tests run notebooks on kernels

GOOD, BROKEN = "E09000007", "E09000019"


def _notebook(folder: Path) -> Path:
    """A small phase notebook that reads one borough's return file."""
    params = new_code_cell(
        'la_code: str = "area"  # ONS code, or area\nproject: str | None = None  # project folder'
    )
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(
        cells=[
            params,
            new_code_cell(
                "from pathlib import Path\nfrom lscb_nb.core import display as report\n"
                "from lscb_nb.pilot import returns\nreport.setup_figures()"
            ),
            new_markdown_cell("## What the return holds"),
            new_code_cell(
                "import pandas as pd\n"
                "rows = pd.DataFrame({'item': ['A'], 'figure': [1234.5]}) if la_code == 'area' "
                "else returns.read_raw_return(Path(project) / 'data/raw/phase3_returns' / "
                "f'{la_code}.csv')\n"
                "report.show(report.banner(True), report.table(rows.head(3), caption='Rows'))"
            ),
            new_code_cell(
                "sent = Path(project) / 'data' / 'processed' / f'list-{la_code}.csv'\n"
                "report.show(report.Attachments('The list:', [(sent, 'The list (CSV)')]))"
            ),
            new_markdown_cell("## A figure"),
            new_code_cell(
                "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
                "ax.plot([1, 2, 3])\nreport.show(fig)"
            ),
        ]
    )
    nb.metadata["lscb"] = {"phase": "test"}
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / "09_test.ipynb"
    nbformat.write(nb, path)
    return path


TEST_PHASE = Phase(
    key="test",
    number="09",
    title="Phase 9: Test",
    notebook="09_test.ipynb",
    runs_for="pilots",
    answers="What one return holds.",
    inputs=("returns",),
    prepare=None,
    writes=None,
    starts_from=None,
    writes_version=None,
)


def _project(folder: Path):
    project = init_project(folder, name="Batch test", pilots=[GOOD, BROKEN], synthetic=True)
    returns = project.returns
    (returns / f"{GOOD}.csv").write_text(
        "time_period,time_identifier,new_la_code,item_id,numerator\n"
        f"202425,Financial year Q1,{GOOD},CSC01,10\n"
    )
    (returns / f"{BROKEN}.csv").write_bytes(b"")  # the deliberately broken input
    for code in (AREA, GOOD, BROKEN):  # a prepared file each report links
        path = project.processed / f"list-{code}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"What\nmissing for {code}\n")
    return project


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory):
    project = _project(tmp_path_factory.mktemp("root"))
    nbdir = tmp_path_factory.mktemp("notebooks")
    _notebook(nbdir)
    out = tmp_path_factory.mktemp("outputs")
    jobs = batch.plan_jobs(project, [TEST_PHASE])
    result = batch.run_batch(
        jobs,
        out / "t",
        notebooks_dir=nbdir,
        workers=2,
        progress=False,
        manifest_extra={"data_snapshot": "abc123", "synthetic_data": True},
    )
    return (1 if result.failed else 0), out / "t"


def test_one_failure_gives_non_zero_exit_and_the_others_render(batch_run):
    code, run_dir = batch_run
    assert code == 1
    manifest = batch.load_manifest(run_dir)
    status = {j["la_code"]: j["status"] for j in manifest["jobs"]}
    assert status == {AREA: "succeeded", GOOD: "succeeded", BROKEN: "failed"}
    failed = next(j for j in manifest["jobs"] if j["la_code"] == BROKEN)
    assert "InputFileError" in failed["error"] and failed["html"] == ""
    for job in manifest["jobs"]:  # every executed notebook is kept, failed ones too
        assert (run_dir / job["ipynb"]).exists()
        assert job["seconds"] > 0
    assert manifest["toolkit_version"] and manifest["data_snapshot"]


def test_index_links_every_report_and_shows_the_failure(batch_run):
    _, run_dir = batch_run
    index = (run_dir / "index.html").read_text()
    links = re.findall(r'href="([^"#][^"]*)"', index)
    reports = [link for link in links if link.startswith("reports/") and link.endswith(".html")]
    assert len(reports) == 2
    assert all((run_dir / link).exists() for link in links)
    assert "Failed" in index and "Islington" in index and "InputFileError" in index
    assert "Traceback" not in index


def test_index_is_by_area_one_line_per_report_saying_what_it_answers(batch_run):
    _, run_dir = batch_run
    tree = lxml.html.parse(str(run_dir / "index.html"))
    areas = [h.text_content().split()[0] for h in tree.xpath("//section/h2")]
    assert areas == ["London", "Camden", "Islington"]  # the whole area, then by name
    for section in tree.xpath("//section"):
        lines = section.xpath(".//li[contains(@class, 'lscb-report-line')]")
        assert len(lines) == 1
        assert "What one return holds." in lines[0].text_content()
        assert not re.search(r"\d s\b", lines[0].text_content())  # no build times
    camden = tree.xpath("//section[h2[@id='area-E09000007']]//li")[0].text_content()
    assert "Ready" in camden and "its data (CSV" in camden


def test_each_report_links_to_the_index_and_its_area(batch_run):
    _, run_dir = batch_run
    page = lxml.html.parse(str(run_dir / "reports" / f"09_test__{GOOD}.html"))
    nav = page.xpath("//nav[@aria-label='Reports']")[0]
    hrefs = nav.xpath(".//a/@href")
    assert hrefs[:2] == ["../index.html", f"../index.html#area-{GOOD}"]
    index = lxml.html.parse(str(run_dir / "index.html"))
    assert index.xpath(f"//*[@id='area-{GOOD}']")
    contents = page.xpath("//nav[contains(@class, 'lscb-toc')]//a")
    assert [a.text_content() for a in contents] == ["What the return holds", "A figure"]
    for a in contents:  # every entry of the contents leads to its heading
        assert page.xpath(f"//h2[@id='{a.get('href')[1:]}']")


def test_every_table_links_to_its_data_as_shown(batch_run):
    _, run_dir = batch_run
    manifest = batch.load_manifest(run_dir)
    for job in (j for j in manifest["jobs"] if j["status"] == "succeeded"):
        page = lxml.html.parse(str(run_dir / job["html"]))
        tables = page.xpath("//table[contains(@class, 'lscb-table')]")
        links = page.xpath("//p[@class='lscb-download']/a/@href")
        assert tables and len(links) == len(tables)
        for table, href in zip(tables, links, strict=True):
            assert table.xpath("./caption") and table.xpath(".//th[@scope='col']")
            csv = (run_dir / "reports" / href).read_text().splitlines()
            shown = [
                [c.text_content() for c in row.xpath("./th|./td")] for row in table.xpath(".//tr")
            ]
            assert csv[0].split(",") == shown[0]
            assert len(csv) == len(shown)
        assert job["tables"] == len(tables) and (run_dir / job["data"]).exists()


def test_a_file_a_report_links_is_placed_beside_it(batch_run):
    _, run_dir = batch_run
    manifest = batch.load_manifest(run_dir)
    for job in (j for j in manifest["jobs"] if j["status"] == "succeeded"):
        page = lxml.html.parse(str(run_dir / job["html"]))
        links = page.xpath("//div[@class='lscb-attachments']//a/@href")
        assert links == [f"files/list-{job['la_code']}.csv"]
        placed = run_dir / "reports" / links[0]
        assert placed.read_text() == f"What\nmissing for {job['la_code']}\n"
        assert job["files"] == [str(placed.relative_to(run_dir))]


def test_figures_carry_alt_text_written_from_their_data(batch_run):
    _, run_dir = batch_run
    page = lxml.html.parse(str(run_dir / "reports" / f"09_test__{GOOD}.html"))
    alts = page.xpath("//img/@alt")
    assert alts == ["Chart. A line of 3 points from 1 to 3."]
    assert "No description" not in (run_dir / "reports" / f"09_test__{GOOD}.html").read_text()


def test_reports_are_code_free_offline_and_small(batch_run):
    _, run_dir = batch_run
    for path in (run_dir / "reports").glob("*.html"):
        body = path.read_text()
        assert "read_raw_return" not in body and "import pandas" not in body
        assert not re.search(r'<script[^>]+src="https?://', body)
        assert not re.search(r"import\(\s*[\"']https?://", body)
        assert 'class="lscb-toc"' in body
        assert "Synthetic data" in body and body.count('class="lscb-synthetic"') == 1
        assert "<script" not in body  # no require.js, MathJax or anything else
        assert "data:image/png;base64" in body
        assert path.stat().st_size < 3_000_000


def test_plan_respects_runs_for_and_selection(tmp_path):
    project = _project(tmp_path / "p")
    jobs = batch.plan_jobs(project, [TEST_PHASE])
    assert [j.la_code for j in jobs] == [AREA, GOOD, BROKEN]
    assert all(j.parameters["project"] == str(project.root) for j in jobs)
    only = batch.plan_jobs(project, [TEST_PHASE], only=[GOOD])
    assert [j.la_code for j in only] == [GOOD]
    everyone = replace(TEST_PHASE, runs_for="all")
    assert len(batch.plan_jobs(project, [everyone])) == 1 + 33


def test_a_phase_without_its_inputs_is_planned_not_ready_with_the_reason(tmp_path):
    project = init_project(tmp_path / "empty", pilots=["Camden"])
    jobs = batch.plan_jobs(project, [TEST_PHASE])
    assert {j.status for j in jobs} == {batch.NOT_READY}
    assert "No files in data/raw/phase3_returns/" in jobs[0].reason
    result = batch.run_batch(jobs, tmp_path / "run", workers=1, progress=False)
    assert result.failed == [] and len(result.not_ready) == 2
    page = (tmp_path / "run" / jobs[0].html).read_text()
    assert "Not ready yet" in page and "phase3_returns" in page


@pytest.mark.browser
def test_index_and_report_render_in_headless_chromium(batch_run, tmp_path):
    _, run_dir = batch_run
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed (scripts/test.sh installs it)"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", (run_dir / "index.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    hrefs = re.findall(r'href="(reports/[^"]+)"', dom)
    pages = [h for h in hrefs if h.endswith(".html")]
    assert len(pages) == 2, hrefs  # one line per report, each linking its page and data
    assert all((run_dir / h).exists() for h in hrefs)
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            chromium,
            *flags,
            f"--screenshot={shot}",
            "--window-size=1200,1600",
            (run_dir / hrefs[0]).as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
    report_dom = subprocess.run(
        [chromium, *flags, "--dump-dom", (run_dir / hrefs[0]).as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "Contents" in report_dom and "Synthetic data" in report_dom


def test_manifest_is_valid_json_with_timings(batch_run):
    _, run_dir = batch_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["failed"] == 1 and manifest["succeeded"] == 2
    assert manifest["seconds"] > 0


def _executor_run(tmp_path: Path, executor) -> tuple[Path, batch.RunResult]:
    """The test phase for the area and both pilots (one broken) on ``executor``."""
    project = _project(tmp_path / "p")
    nbdir = tmp_path / "nb"
    nbdir.mkdir()
    _notebook(nbdir)
    jobs = batch.plan_jobs(project, [TEST_PHASE], notebooks_dir=nbdir)
    run_dir = tmp_path / "run"
    result = batch.run_batch(
        jobs, run_dir, notebooks_dir=nbdir, progress=False, reuse=False, executor=executor
    )
    return run_dir, result


def _assert_ran_everywhere(run_dir: Path, result: batch.RunResult, executor: str) -> None:
    status = {j.la_code: j.status for j in result.jobs}
    assert status == {AREA: "succeeded", GOOD: "succeeded", BROKEN: "failed"}
    for job in result.jobs:
        assert (run_dir / job.ipynb).exists() and (run_dir / "logs" / f"{job.slug}.log").exists()
        if job.status == "succeeded":
            body = (run_dir / job.html).read_text()
            assert "What the return holds" in body and "data:image/png;base64" in body
    manifest = batch.load_manifest(run_dir)
    assert manifest["executor"] == executor and manifest["succeeded"] == 2
    assert "Islington" in (run_dir / "index.html").read_text()


@pytest.mark.notebook
def test_a_batch_runs_on_a_dask_cluster_of_worker_processes(tmp_path):
    """run_batch takes any concurrent.futures.Executor: here a dask.distributed
    LocalCluster of two worker processes, the path by which a national run spreads
    over several machines (a remote scheduler's client is used the same way)."""
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        run_dir, result = _executor_run(tmp_path, client.get_executor())
        ran_on = {w["id"] for w in client.scheduler_info()["workers"].values()}
    _assert_ran_everywhere(run_dir, result, "ClientExecutor")
    assert len(ran_on) == 2
    # The workers' kernels wrote their stderr to the run's logs, not the console.
    assert list((run_dir / "logs").glob("worker-*.log"))


@pytest.mark.notebook
def test_a_batch_runs_on_a_thread_pool_each_report_with_its_own_log(tmp_path):
    """Threads work too (each report's kernel is its own process): the reports
    render one at a time and each log keeps only its own report's records."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=3) as pool:
        run_dir, result = _executor_run(tmp_path, pool)
    _assert_ran_everywhere(run_dir, result, "ThreadPoolExecutor")
    for job in result.jobs:
        text = (run_dir / "logs" / f"{job.slug}.log").read_text()
        others = [j.slug for j in result.jobs if j.slug != job.slug]
        assert f"report {job.slug}:" in text and not any(f"report {o}:" in text for o in others)


def test_a_lost_worker_fails_its_report_not_the_run(tmp_path):
    """An executor whose task cannot come back (a killed worker, a scheduler gone)
    marks that report failed; the others, the index and the manifest still appear."""
    from concurrent.futures import Future

    class LosesTheArea:
        def submit(self, fn, job, *args):
            fut: Future = Future()
            if job.la_code == AREA:
                fut.set_exception(RuntimeError("worker tcp://10.0.0.7 died"))
            else:
                job.status, job.html = "succeeded", ""
                fut.set_result(job)
            return fut

    project = _project(tmp_path / "p")
    jobs = batch.plan_jobs(project, [TEST_PHASE])
    result = batch.run_batch(
        jobs, tmp_path / "run", progress=False, reuse=False, executor=LosesTheArea()
    )
    lost = next(j for j in result.jobs if j.la_code == AREA)
    assert lost.status == "failed" and "worker tcp://10.0.0.7 died" in lost.error
    assert [j.status for j in result.jobs if j.la_code != AREA] == ["succeeded", "succeeded"]
    assert batch.load_manifest(tmp_path / "run")["failed"] == 1


def test_a_second_run_reuses_what_did_not_change_and_reruns_what_did(tmp_path):
    project = _project(tmp_path / "p")
    nbdir = tmp_path / "nb"
    nbdir.mkdir()
    _notebook(nbdir)
    out = tmp_path / "out"

    def run(name: str) -> batch.RunResult:
        jobs = batch.plan_jobs(project, [TEST_PHASE], notebooks_dir=nbdir)
        return batch.run_batch(jobs, out / name, notebooks_dir=nbdir, workers=1, progress=False)

    first = run("one")
    assert not any(j.reused for j in first.jobs)
    second = run("two")
    reused = {j.la_code: j.reused for j in second.jobs}
    assert reused == {AREA: True, GOOD: True, BROKEN: False}  # a failure is always retried
    assert batch.load_manifest(out / "two")["reused"] == 2
    for job in second.jobs:
        if job.reused:
            assert (out / "two" / job.html).read_bytes() == (out / "one" / job.html).read_bytes()
            assert job.files and all((out / "two" / f).exists() for f in job.files)
    nb = nbformat.read(nbdir / "09_test.ipynb", as_version=4)
    nb.cells.append(new_markdown_cell("## One more section"))
    nbformat.write(nb, nbdir / "09_test.ipynb")
    third = run("three")
    assert not any(j.reused for j in third.jobs)  # the notebook changed: every report redone
