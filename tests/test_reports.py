"""The real phase notebooks, run as the consultant runs them: ``lscb-nb run`` on the
sample data, every notebook for London and every authority it applies to. Each
report must succeed, show no code, warnings or tracebacks, carry the synthetic
banner, stay small enough to email, and show what the sample data planted."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from lscb_nb.core import config, disclosure, phases, reference
from lscb_nb.core.project import AREA
from lscb_nb.output import chrome, highlight

pytestmark = pytest.mark.notebook

NOTEBOOKS = sorted(config.NOTEBOOKS_DIR.glob("*.ipynb"))


def _report(sample_run, notebook_prefix: str, la_code: str) -> str:
    jobs = [
        j
        for j in sample_run["manifest"]["jobs"]
        if j["notebook"].startswith(notebook_prefix) and j["la_code"] == la_code
    ]
    assert len(jobs) == 1, (notebook_prefix, la_code)
    assert jobs[0]["status"] == "succeeded", jobs[0]["error"]
    return (sample_run["dir"] / jobs[0]["html"]).read_text(encoding="utf-8")


def test_every_notebook_is_committed_without_outputs():
    assert NOTEBOOKS, "no phase notebooks"
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        meta = nb.metadata["lscb"]  # a phase's report, or the meeting's highlight report
        expected = phases.get(meta["phase"]).notebook if "phase" in meta else highlight.NOTEBOOK
        assert expected == path.name
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1, path.name
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name
                assert "def " not in cell.source and "for " not in cell.source, path.name


def test_batch_runs_every_report_for_every_authority_it_applies_to(sample_run):
    manifest = sample_run["manifest"]
    failed = [(j["slug"], j["error"][:300]) for j in manifest["jobs"] if j["status"] != "succeeded"]
    assert failed == []
    assert sample_run["code"] == 0
    authorities = set(reference.authorities()["la_code_ons"])
    pilots = set(sample_run["root"].pilots)
    assert len(pilots) == 10
    for phase in phases.all_phases():
        runs_for = phase.runs_for
        ran = {j["la_code"] for j in manifest["jobs"] if j["notebook"] == phase.notebook}
        expected = {AREA} | (
            authorities if runs_for == "all" else pilots if runs_for == "pilots" else set()
        )
        assert ran == expected, phase.notebook


def test_reports_are_code_free_clean_small_and_labelled(sample_run):
    run_dir = sample_run["dir"]
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    for job in sample_run["manifest"]["jobs"]:
        html_path = run_dir / job["html"]
        assert job["html"] in index
        html = html_path.read_text(encoding="utf-8")
        assert html_path.stat().st_size < 3 * 1024 * 1024, job["slug"]
        assert 'class="lscb-synthetic"' in html, job["slug"]
        assert "Traceback" not in html and "Warning:" not in html, job["slug"]
        assert "report.show(" not in html and "import " not in html, job["slug"]
        assert "<script src=" not in html, job["slug"]
        executed = nbformat.read(run_dir / job["ipynb"], as_version=4)
        for cell in executed.cells:
            for output in cell.get("outputs", []):
                assert output.get("name") != "stderr", (job["slug"], output.get("text"))
                assert output.get("output_type") != "error", job["slug"]


# ---------------------------------------------------------------- phase 3


def test_pilot_report_shows_planted_defects(sample_run):
    html = _report(sample_run, "03", AREA)
    truth = sample_run["truth"]["phase3"]
    unreadable = next(p for p in truth["planted"] if p["kind"] == "unreadable_file")
    assert unreadable["file"] in html
    for drift in truth["definition_drift"]:
        assert drift["item_id"] in html
    for kind in ("R06", "V01", "V03", "R01", "R03"):
        assert kind in html
    # The markup a borough typed into a note is shown as text, never as markup.
    assert "<script>alert" not in html
    # Health was the least timely agency.
    assert re.search(r"Health was the least timely", html)


def test_a_pilot_authoritys_report_links_its_lists_to_send_back(sample_run):
    from lscb_nb.pilot import stage

    job = next(
        j
        for j in sample_run["manifest"]["jobs"]
        if j["notebook"].startswith("03") and j["la_code"] != AREA and j["status"] == "succeeded"
    )
    page = (sample_run["dir"] / job["html"]).read_text(encoding="utf-8")
    links = re.findall(r'href="(files/feedback-[^"]+)"', page)
    assert links and all(f"feedback-{job['la_code']}-" in link for link in links)
    for link in links:  # the link works from the HTML: the file sits beside the report
        assert (sample_run["dir"] / "reports" / link).exists(), link
    prepared = sorted(p.name for p in stage.feedback_dir(sample_run["root"]).glob("*.xlsx"))
    assert len(prepared) == len(stage.store.pilot_authorities(sample_run["root"])) * len(
        stage.collection_periods(sample_run["root"])
    )


def test_borough_report_benchmarks_with_intervals_and_spine(sample_run):
    html = _report(sample_run, "03", "E09000008")
    assert "Croydon against London" in html
    assert "95% CI" in html and "the light bar spans the pilot boroughs" in html
    assert "Referrals to children" in html and "far outside the funnel" in html


def test_rendered_count_table_cannot_be_undone(sample_run):
    """From the London report's HTML alone, no suppressed count is recoverable."""
    html = _report(sample_run, "03", AREA)
    tables = pd.read_html(io.StringIO(html), match="Pilot total")
    assert tables
    counts = tables[0].set_index("Item")
    boroughs = [c for c in counts.columns if c not in ("Title", "Pilot total", "Boroughs in total")]
    shown = counts[boroughs].astype(str).map(lambda v: v.replace(",", ""))
    assert shown.eq("c").any().any()
    totals = pd.to_numeric(counts["Pilot total"].astype(str).str.replace(",", ""), errors="coerce")
    assert disclosure.can_recover(shown, boroughs, row_totals=totals) == []
    numbers = pd.to_numeric(shown.stack(), errors="coerce").dropna()
    assert not numbers.between(1, config.DEFAULT_SUPPRESSION_THRESHOLD).any()


def _run_alone(notebook: str, la_code: str, root: Path, out: Path) -> str:
    """One notebook for one area outside the batch, rendered as the batch renders it."""
    import papermill as pm

    pm.execute_notebook(
        str(config.NOTEBOOKS_DIR / notebook),
        str(out),
        parameters={"la_code": la_code, "project": str(root.root)},
        kernel_name="python3",
        progress_bar=False,
    )
    return chrome.render_html(out, la_code)


def test_a_borough_without_returns_gets_a_clear_page(sample_run, tmp_path):
    html = _run_alone(
        "03_pilot_evaluation.ipynb", "E09000002", sample_run["root"], tmp_path / "nb.ipynb"
    )
    assert "has no pilot returns on file" in html
    assert "Barking and Dagenham" in html
    assert "Traceback" not in html


def test_index_lists_every_phase(sample_run):
    index = (Path(sample_run["dir"]) / "index.html").read_text(encoding="utf-8")
    for phase in phases.all_phases():
        assert phase.title in index


# ---------------------------------------------------------------- phases 1 and 2


def test_mapping_report_names_non_responders_and_unreadable_files(sample_run):
    truth = sample_run["truth"]["phase1"]
    london = _report(sample_run, "01", AREA)
    for bad in truth["unreadable"]:
        assert bad["file"] in london
    for code in truth["non_responders"]:
        assert reference.find_authority(code)["la_name"] in london
    assert truth["uninterpretable_sheets"][0]["sheet"] in london
    unreadable = truth["unreadable"][0]["la_code_ons"]
    assert "could not be read" in _report(sample_run, "01", unreadable)
    silent = truth["non_responders"][0]
    assert "did not send its current dataset" in _report(sample_run, "01", silent)


def test_assessment_report_shows_planted_instrument_problems(sample_run):
    html = _report(sample_run, "02", AREA)
    for planted in sample_run["truth"]["phase2"]["planted"]:
        assert planted["file"] in html, planted
    assert "Krippendorff" in html and "priority matrix" in html.lower()
    borough = _report(sample_run, "02", "E09000007")
    assert "against all pilot raters" in borough


def test_final_report_sections_are_filled_from_the_phases(sample_run):
    html = _report(sample_run, "04", AREA)
    for version in ("1.1-draft", "1.2-pilot", "1.3-refined"):
        assert version in html
    assert "The least timely agencies in the pilot were Health" in html
    assert "Agree the counting rules for" in html
    assert "Boroughs collecting (phase 1)" in html


def test_assessment_for_a_borough_without_instruments_says_so(sample_run, tmp_path):
    html = _run_alone("02_assessment.ipynb", "E09000002", sample_run["root"], tmp_path / "nb.ipynb")
    assert "No completed instruments from Barking and Dagenham are on file" in html
    assert "Traceback" not in html


BOARD_REPORTS = [
    ("01", AREA),
    ("01", "E09000008"),
    ("02", AREA),
    ("02", "E09000008"),
    ("03", AREA),
    ("03", "E09000008"),
    ("04", AREA),
]


def _board(page: str) -> re.Match:
    found = re.search(r'<div class="lscb-board">(.*?)</div>', page, re.S)
    assert found, "no board block"
    return found


@pytest.mark.parametrize(("phase", "la"), BOARD_REPORTS)
def test_the_board_reads_findings_first_each_linked_to_its_evidence(sample_run, phase, la):
    page = _report(sample_run, phase, la)
    board = _board(page)
    ids = {unescape(i) for i in re.findall(r'<h[1-6][^>]* id="([^"]+)"', page)}
    before = re.findall(r'<h2[^>]* id="([^"]+)"', page[: board.start()])
    after = re.findall(r'<h2[^>]* id="([^"]+)"', page[board.end() :])
    assert before == ["For-the-board"], (phase, la)  # first, before every other section
    assert len(after) >= 6, (phase, la)
    findings = re.search(r'<ul class="lscb-findings">(.*?)</ul>', board.group(1), re.S).group(1)
    assert 3 <= findings.count("<li>") <= 5, (phase, la)
    links = re.findall(r'<a href="#([^"]+)">Evidence:', board.group(1))
    assert len(links) >= 3, (phase, la)
    for target in links:
        assert unescape(target) in ids, (phase, la, target)
    if phase == "04":
        assert "Recommendations:" in board.group(1) and '<ol class="lscb-asks">' in board.group(1)
    else:
        assert "The board is asked to:" in board.group(1), (phase, la)


def test_a_boroughs_board_leads_with_that_borough(sample_run):
    for phase in ("01", "02", "03"):
        board = _board(_report(sample_run, phase, "E09000008")).group(1)
        first = re.search(r"<li>(.*?)</li>", board, re.S).group(1)
        assert first.startswith("Croydon"), (phase, first)
    truth = sample_run["truth"]["phase1"]
    asks = re.search(r'<ul class="lscb-asks">(.*?)</ul>', _report(sample_run, "01", AREA), re.S)
    for code in truth["non_responders"]:
        assert reference.find_authority(code)["la_name"] in unescape(asks.group(1))
    unreadable = truth["unreadable"][0]["la_code_ons"]
    board = unescape(_board(_report(sample_run, "01", unreadable)).group(1))
    name = reference.find_authority(unreadable)["la_name"]
    assert f"<li>{name}'s file could not be read" in board
    assert f"Ask {name} for a readable copy" in board
    final = _report(sample_run, "04", AREA)
    assert final.index("Agree the counting rules for") < final.index('id="1.-The-dataset')


def test_reports_speak_plain_english(sample_run):
    """No field name reaches a reader: no table header is a snake_case name, no text
    outside quoted identifiers (a file's own column header or name, shown in code)
    has one, and no count says 'borough(s)'."""
    from bs4 import BeautifulSoup

    from lscb_nb.core.labels import snake_case_words

    snake_header = re.compile(r"^[a-z]+(_[a-z]+)+$")
    for job in sample_run["manifest"]["jobs"]:
        if job["status"] != "succeeded":
            continue
        soup = BeautifulSoup(
            (sample_run["dir"] / job["html"]).read_text(encoding="utf-8"), "html.parser"
        )
        main = soup.find("main") or soup
        for quoted in main.find_all(["code", "script", "style"]):
            quoted.decompose()
        headers = [th.get_text(" ", strip=True) for th in main.select("thead th")]
        assert [h for h in headers if snake_header.match(h)] == [], job["slug"]
        text = main.get_text(" ")
        assert snake_case_words([text]) == [], (job["slug"], snake_case_words([text])[:5])
        assert "(s)" not in text, job["slug"]
