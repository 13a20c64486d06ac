"""Every page a run publishes meets WCAG 2.2 AA, as axe-core finds it in headless
Chromium at a desktop (1400 px) and a narrow (800 px) width: every report and the
index of the full sample build, the pages the sample never shows (not ready,
failed, reused), and a report printed. The checker is ``scripts/check_accessibility.py``,
which a maintainer runs over any run folder."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from lscb_nb.core.phases import all_phases
from lscb_nb.core.project import AREA
from lscb_nb.core.workspace import init_project
from lscb_nb.output import batch, index

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]


def _checker():
    spec = importlib.util.spec_from_file_location(
        "check_accessibility", ROOT / "scripts/check_accessibility.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


checker = _checker()


@pytest.fixture(scope="module")
def axe_page():
    """One Chromium page for every check of this module."""
    with checker.browser_page() as page:
        yield page


def _listing(violations) -> str:
    return "WCAG 2.2 AA violations:\n" + "\n".join(str(v) for v in violations)


def test_every_report_and_the_index_meet_wcag_22_aa(sample_run, axe_page):
    assert sample_run["code"] == 0
    pages = checker.pages_of(sample_run["dir"])
    published = [j for j in sample_run["manifest"]["jobs"] if j["html"]]
    assert len(pages) == 1 + len(published) > 50  # the index and every report
    found = [v for path in pages for v in checker.check(axe_page, path)]
    assert not found, _listing(found)


def test_a_printed_borough_report_meets_wcag_22_aa(sample_run, axe_page):
    job = next(
        j
        for j in sample_run["manifest"]["jobs"]
        if j["notebook"].startswith("03") and j["la_code"] != AREA
    )
    found = checker.check(axe_page, sample_run["dir"] / job["html"], (1400,), media="print")
    assert not found, _listing(found)


def test_not_ready_failed_and_reused_pages_meet_wcag_22_aa(tmp_path, axe_page):
    """Not-ready pages, and an index with a failed, a reused and a waiting report
    under the synthetic banner (the sample's run has every report ready)."""
    project = init_project(tmp_path / "empty", pilots=["Camden"])
    jobs = batch.plan_jobs(project, list(all_phases()))
    result = batch.run_batch(jobs, tmp_path / "run", workers=1, progress=False)
    assert len(result.not_ready) == len(jobs)
    shown = list(result.jobs)
    shown[0] = replace(
        shown[0], status="failed", error="InputFileError: <not> a workbook", ipynb="n.ipynb"
    )
    shown[1] = replace(
        shown[1], status="succeeded", reused=True, html="r.html", data="r.zip", tables=2
    )
    manifest = {
        **batch.load_manifest(tmp_path / "run"),
        "failed": 1,
        "succeeded": 1,
        "reused": 1,
        "synthetic_data": True,
    }
    states = tmp_path / "states.html"
    states.write_text(index.render_index(shown, manifest), encoding="utf-8")
    html = states.read_text(encoding="utf-8")
    assert "lscb-failed" in html and "lscb-waiting" in html and "Synthetic data" in html
    pages = [states, *checker.pages_of(tmp_path / "run")[:3]]
    found = [v for path in pages for v in checker.check(axe_page, path)]
    assert not found, _listing(found)


_BROKEN = """<!DOCTYPE html><html lang="en"><head><title>Broken</title></head><body><main>
<h1>Broken</h1>
<p style="color:#bbbbbb">Pale grey text on white.</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<div id="wide" style="overflow-x:auto;width:200px"><p style="white-space:nowrap">{}</p></div>
</main></body></html>""".format("A row far too wide for its box. " * 20)

_CLEAN = """<!DOCTYPE html><html lang="en"><head><title>Clean</title></head><body><main>
<h1>Clean</h1><p>Dark text on white.</p></main></body></html>"""


def test_the_check_names_the_rule_the_page_and_the_element(tmp_path, axe_page):
    page = tmp_path / "broken.html"
    page.write_text(_BROKEN, encoding="utf-8")
    found = checker.check(axe_page, page)
    rules = {(v.rule, v.width) for v in found}
    for rule in ("color-contrast", "image-alt", "scrollable-region-focusable"):
        assert {(rule, 1400), (rule, 800)} <= rules, rules
    line = str(next(v for v in found if v.rule == "scrollable-region-focusable"))
    assert "broken.html" in line and "#wide" in line and "serious" in line


def test_the_script_exits_1_on_a_violation_and_0_on_a_clean_run(tmp_path):
    (tmp_path / "broken.html").write_text(_BROKEN, encoding="utf-8")
    clean = tmp_path / "run"
    (clean / "reports").mkdir(parents=True)
    (clean / "index.html").write_text(_CLEAN, encoding="utf-8")
    (clean / "reports" / "one.html").write_text(_CLEAN, encoding="utf-8")

    def run(target: Path) -> subprocess.CompletedProcess:
        script = ROOT / "scripts/check_accessibility.py"
        command = [sys.executable, str(script), str(target)]
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    broken = run(tmp_path / "broken.html")
    assert broken.returncode == 1, broken.stderr
    assert "broken.html [1400px screen] image-alt (critical)" in broken.stdout
    ok = run(clean)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 violation(s) over 2 page(s)" in ok.stderr
