"""A project workspace: project.yaml checked by its schema, found the way the
README says, phases declared once, and a project that is not the sample run
phase by phase from its own files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from lscb_nb import cli
from lscb_nb.core import phases
from lscb_nb.core.project import (
    AREA,
    PROJECT_FILE,
    ProjectError,
    find_project,
    load_project,
    validate_settings,
)
from lscb_nb.core.workspace import init_project
from lscb_nb.output import status
from lscb_nb.pilot import completeness, store

GREATER_MANCHESTER = ["Manchester", "Salford", "Trafford", "Stockport", "Bolton", "Wigan"]


# ---------------------------------------------------------------- project.yaml


def test_init_writes_a_commented_project_yaml_and_the_raw_folders(tmp_path):
    project = init_project(tmp_path / "p", name="Test project")
    text = (tmp_path / "p" / PROJECT_FILE).read_text()
    settings = yaml.safe_load(text)
    for key in ("name", "area", "authorities", "pilots", "collection", "suppression_threshold"):
        assert key in settings
        # every key has a comment line above it
        above = text.split(f"\n{key}:")[0].rstrip().splitlines()[-1]
        assert above.lstrip().startswith("#"), key
    for sub in ("phase1_catalogues", "phase2_instruments", "phase3_returns"):
        readme = tmp_path / "p" / "data" / "raw" / sub / "README.md"
        assert readme.exists() and len(readme.read_text()) > 100
    assert project.name == "Test project" and not project.synthetic
    assert len(project.authorities) == 33 and project.area_name == "London"
    with pytest.raises(ProjectError, match="already exists"):
        init_project(tmp_path / "p")


def _schema_keys(schema: dict, prefix: str = "") -> list[str]:
    """Every key the schema declares, dotted ('collection.first_period'); a key whose
    value may be a mapping or a number (deadline_days) counts as one key."""
    keys = []
    for key, sub in schema.get("properties", {}).items():
        keys.append(prefix + key)
        if "properties" in sub:
            keys += _schema_keys(sub, f"{prefix}{key}.")
    return keys


def test_init_writes_every_key_the_schema_declares_and_it_loads(tmp_path):
    from importlib import resources

    schema = yaml.safe_load(
        (resources.files("lscb_nb") / "data" / "project" / "project.schema.yaml").read_text()
    )
    init_project(tmp_path / "p", name="Test project")
    text = (tmp_path / "p" / PROJECT_FILE).read_text()
    written = yaml.safe_load(text)
    for dotted in _schema_keys(schema):
        if dotted == "synthetic":  # only the sample says it
            continue
        if dotted.split(".")[0] == "plan":  # a commented example, the consultant's to date
            last = dotted.split(".")[-1]
            shown = re.search(rf"(?m)^#[ -]*{last}:", text)
            assert "\n# plan:" in text and shown, f"init's example plan lacks {dotted}"
            continue
        node = written
        for part in dotted.split("."):
            assert isinstance(node, dict) and part in node, f"init left out {dotted}"
            node = node[part]
    project = load_project(tmp_path / "p")
    assert project.periods == [] and project.released("draft") is None


def test_init_names_the_area_from_its_authorities_or_from_area(tmp_path):
    north_east = ["Durham", "Newcastle", "Gateshead", "Sunderland"]
    assert init_project(tmp_path / "ne", authorities=north_east).area_name == "North East"
    mixed = init_project(tmp_path / "mix", name="Tees and Thames", authorities=["Durham", "Camden"])
    assert mixed.area_name == "Tees and Thames"
    some_london = init_project(tmp_path / "ldn", authorities=["Camden", "Islington"])
    assert some_london.area_name == "London"
    named = init_project(tmp_path / "named", area="Tees Valley", authorities=north_east)
    assert named.area_name == "Tees Valley"


def test_cli_init_takes_area_authorities_pilots_and_periods(tmp_path, capsys):
    code = cli.main(
        [
            "init",
            str(tmp_path / "ne"),
            "--authorities",
            "Durham",
            "Stockton on Tees",
            "840",
            "--pilots",
            "Stockton",
            "--first-period",
            "2025-26 Q1",
            "--last-period",
            "2025-26 Q4",
        ]
    )
    assert code == 0
    project = load_project(tmp_path / "ne")
    assert project.area_name == "North East"
    assert sorted(project.authorities["la_name"]) == ["County Durham", "Stockton-on-Tees"]
    assert [project.authority_name(c) for c in project.pilots] == ["Stockton-on-Tees"]
    assert project.periods[0] == "2025-26 Q1" and len(project.periods) == 4


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"name": "x", "collection": {"first_period": "2025/26 Q1"}}, "collection.first_period"),
        ({"name": "x", "suppression_threshold": -1}, "suppression_threshold: -1"),
        ({"name": "x", "pilot": ["Camden"]}, "Allowed keys here"),
        ({"name": "x", "collection": {"deadline_days": {"helth": 5}}}, "deadline_days"),
        (
            {
                "name": "x",
                "collection": {"first_period": "2025-26 Q3", "last_period": "2025-26 Q1"},
            },
            "comes after",
        ),
        ({"name": "x", "collection": {"first_period": "2025-26 Q1"}}, "give both"),
    ],
)
def test_invalid_settings_name_the_key_the_value_and_what_is_allowed(settings, says):
    with pytest.raises(ProjectError) as err:
        validate_settings(settings)
    assert says in str(err.value)


def test_unknown_pilot_and_authority_are_clear_errors(tmp_path):
    init_project(tmp_path / "a", pilots=["Camden"])
    (tmp_path / "a" / PROJECT_FILE).write_text(
        (tmp_path / "a" / PROJECT_FILE).read_text().replace('["Camden"]', '["Narnia"]')
    )
    with pytest.raises(ProjectError, match="pilots: 'Narnia'"):
        load_project(tmp_path / "a")
    with pytest.raises(ProjectError, match="authorities"):
        init_project(tmp_path / "b", authorities=["Camden", "Atlantis"])


def test_every_problem_of_project_yaml_is_reported_at_once():
    settings = {
        "name": "x",
        "authorities": ["Durham", "Narnia", "Gateshed", "Stockton on Tees"],
        "pilots": ["Camden", "Atlantis", "Stockton"],
        "suppression_threshold": -1,
        "collection": {"first_period": "2025-26 Q3", "last_period": "2025-26 Q1"},
        "datamodel": {"released": {"draft": "2026-01-01", "pilot": "2025-01-01"}},
    }
    with pytest.raises(ProjectError) as err:
        validate_settings(settings)
    lines = [line for line in str(err.value).splitlines() if line.startswith("  - ")]
    says = [
        "suppression_threshold: -1",
        "first_period '2025-26 Q3' comes after",
        "pilot '2025-01-01' is before draft",
        "authorities: No authority 'Narnia'",
        "Did you mean 'Gateshead'",
        "pilots: 'Camden' is not one of the project's authorities; a pilot must also",
        "pilots: 'Atlantis'",
    ]
    for text in says:
        assert sum(text in line for line in lines) == 1, text
    assert len(lines) == len(says)  # 'Stockton' (a short form of a listed one) is fine


def test_short_forms_of_names_are_accepted_in_project_yaml(tmp_path):
    project = init_project(
        tmp_path / "ne",
        authorities=["Durham", "Newcastle", "Stockton on Tees", "Gateshead"],
        pilots=["Durham County Council", "Stockton"],
    )
    assert sorted(project.authorities["la_name"]) == [
        "County Durham",
        "Gateshead",
        "Newcastle upon Tyne",
        "Stockton-on-Tees",
    ]
    assert [project.authority_name(c) for c in project.pilots] == [
        "County Durham",
        "Stockton-on-Tees",
    ]


def test_a_project_outside_london_takes_its_authorities_and_area_from_project_yaml(tmp_path):
    project = init_project(
        tmp_path / "gm",
        area="Greater Manchester",
        authorities=GREATER_MANCHESTER,
        pilots=["Manchester", 355, "E08000009"],  # a name, a DfE code and an ONS code
    )
    assert sorted(project.authorities["la_name"]) == sorted(GREATER_MANCHESTER)
    assert [project.authority_name(c) for c in project.pilots] == [
        "Manchester",
        "Salford",
        "Trafford",
    ]
    assert project.area_name == "Greater Manchester"
    assert project.area_code("Greater Manchester") == AREA == project.area_code("area")
    england = init_project(tmp_path / "eng", authorities="england")
    assert len(england.authorities) > 150


def test_the_reports_word_for_an_authority_is_borough_only_in_london(tmp_path):
    london = init_project(tmp_path / "ldn", authorities=["Camden", "Islington"])
    north_east = init_project(tmp_path / "ne", authorities=["Durham", "Gateshead"])
    mixed = init_project(tmp_path / "mix", authorities=["Camden", "Durham"])
    assert london.in_london and london.authority_word == "borough"
    assert london.word(3) == "3 boroughs" and london.word(plural=True, capital=True) == "Boroughs"
    assert not north_east.in_london and north_east.authority_word == "authority"
    assert north_east.word(1) == "1 authority" and north_east.word(plural=True) == "authorities"
    assert mixed.authority_word == "authority"
    assert london.regions == {"London"} and north_east.regions == {"North East"}


def _workbook_texts(path: Path) -> list[str]:
    wb = load_workbook(path)
    return [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value]


@pytest.mark.parametrize(
    ("authorities", "la", "word", "other"),
    [
        (["Durham", "Gateshead"], "Durham", "authorities", "boroughs"),
        (["Camden", "Islington"], "Camden", "boroughs", "authorities"),
    ],
)
def test_template_and_instrument_carry_the_projects_name_and_word(
    tmp_path, authorities, la, word, other
):
    folder = tmp_path / "p"
    init_project(folder, name="Tees dataset pilot", authorities=authorities)
    template, form = tmp_path / "t.xlsx", tmp_path / "i.xlsx"
    common = ["--project", str(folder), "--la", la]
    assert cli.main(["template", *common, "--period", "2025-26 Q1", "--out", str(template)]) == 0
    assert cli.main(["instrument", *common, "--out", str(form)]) == 0
    returns, rating = _workbook_texts(template), _workbook_texts(form)
    assert returns[0] == "Tees dataset pilot: multi-agency dataset return"
    assert rating[0].startswith("Tees dataset pilot, phase 2")
    comparable = [t for t in rating if "compared across" in t]
    assert comparable == [f"  comparability (usefulness): Can it be compared across {word}?"]
    assert not any(other in t for t in rating if "compar" in t.lower())
    if word == "authorities":  # nothing of London's in another region's forms
        assert not [t for t in returns + rating if re.search(r"(?i)\bboroughs?\b|London", t)]


def test_find_project_explicit_then_environment_then_parents(tmp_path, monkeypatch):
    a = init_project(tmp_path / "a")
    b = init_project(tmp_path / "b")
    deep = tmp_path / "a" / "data" / "raw"
    monkeypatch.delenv("LSCB_NB_PROJECT", raising=False)
    assert find_project(start=deep).root == a.root
    monkeypatch.setenv("LSCB_NB_PROJECT", str(b.root))
    assert find_project(start=deep).root == b.root
    assert find_project(a.root).root == a.root
    monkeypatch.delenv("LSCB_NB_PROJECT")
    with pytest.raises(ProjectError, match="lscb-nb init"):
        find_project(start=tmp_path)


def test_per_agency_deadlines_reach_the_completeness_cells(tmp_path):
    project = init_project(
        tmp_path / "d", deadline_days={"default": 30, "health": 45}, pilots=["Camden"]
    )
    assert project.deadline_for("health") == 45 and project.deadline_for("police") == 30
    items = pd.DataFrame(
        {"agency": ["health", "police"], "frequency": ["quarterly", "quarterly"]},
        index=pd.Index(["HLT01", "POL01"], name="item_id"),
    )
    expected = completeness.expected_cells(items, ["E09000007"], ["2025-26 Q1"])
    empty = pd.DataFrame(columns=["la_code_ons", "period", "item_id", "value_state"])
    cells = completeness.cell_status(expected, empty, empty, None, {"default": 30, "health": 45})
    due = cells.set_index("agency")["due"]
    assert (due["health"] - due["police"]).days == 15


# ---------------------------------------------------------------- phases as data


def test_phases_and_the_version_chain_are_declared_once(tmp_path):
    keys = [p.key for p in phases.all_phases()]
    assert keys == ["mapping", "assessment", "pilot", "final"]
    assert phases.chain() == ["candidate", "draft", "pilot", "refined"]
    project = init_project(tmp_path / "p")  # init's default: the current candidate
    assert [phases.version_name(project, r) for r in phases.chain()] == [
        "2.0-candidate",
        "2.1-draft",
        "2.2-pilot",
        "2.3-refined",
    ]
    history = init_project(tmp_path / "h", candidate="1.0-candidate")  # the 2007 project's
    assert phases.version_name(history, "pilot") == "1.2-pilot"
    basis = phases.basis(project, "pilot")  # nothing written yet: the candidate
    assert basis.role == "candidate" and not basis.as_planned
    assert "Phase 1: Mapping and Phase 2: Assessment" in basis.note()
    assert [p.key for p in phases.select(["01", "pilot"])] == ["mapping", "pilot"]
    with pytest.raises(KeyError, match="No phase"):
        phases.select(["07"])


# ---------------------------------------------------------------- a real project, end to end


def _catalogue(path: Path, names: list[str]) -> None:
    rows = pd.DataFrame(
        {
            "Indicator": names,
            "Definition": [f"As recorded locally: {n.lower()}" for n in names],
            "Source": ["Children's social care"] * len(names),
            "Frequency": ["Quarterly"] * len(names),
        }
    )
    rows.to_csv(path, index=False)


def _fill_template(path: Path) -> int:
    """Fixed figures in every input row of a blank template; returns the rows filled."""
    wb = load_workbook(path)
    filled = 0
    for ws in wb.worksheets:
        if ws.title in ("Instructions", "_meta"):
            continue
        header = [c.value for c in ws[6]]
        col = {name: i + 1 for i, name in enumerate(header)}
        for row in range(7, ws.max_row + 1):
            if not ws.cell(row, col["item_id"]).value:
                continue
            unit = ws.cell(row, col["unit"]).value
            ws.cell(row, col["numerator"], 12)
            if unit in ("percentage", "%"):
                ws.cell(row, col["denominator"], 40)
            filled += 1
    wb.save(path)
    return filled


@pytest.mark.notebook
def test_a_project_that_is_not_the_sample_runs_phase_by_phase(tmp_path, capsys):
    folder = tmp_path / "gm"
    init = ["init", str(folder), "--name", "Greater Manchester dataset pilot"]
    init += ["--area", "Greater Manchester", "--authorities", *GREATER_MANCHESTER]
    init += ["--pilots", "Manchester", "Salford", "358", "Wigan"]
    init += ["--first-period", "2025-26 Q1", "--last-period", "2025-26 Q2"]
    assert cli.main(init) == 0
    project = load_project(folder)
    assert project.periods == ["2025-26 Q1", "2025-26 Q2"] and len(project.pilots) == 4
    capsys.readouterr()

    # The first weeks: only phase 1 catalogues have arrived.
    names = [
        "Referrals to children's social care",
        "Re-referrals within 12 months",
        "Children subject to a child protection plan at the end of the quarter",
        "Number of contacts",
    ]
    for la in ("Manchester", "Salford", "Bolton"):
        _catalogue(project.catalogues / f"{la}_current_dataset.csv", names)
    assert cli.main(["status", "--project", str(folder)]) == 0
    assert "Next: Phase 1: Mapping: run `lscb-nb run --phases 01`" in capsys.readouterr().out
    args = ["-q", "run", "--project", str(folder), "--workers", "2"]
    assert cli.main([*args, "--phases", "01", "--run-name", "p1"]) == 0
    manifest = json.loads((folder / "outputs" / "p1" / "manifest.json").read_text())
    assert {j["status"] for j in manifest["jobs"]} == {"succeeded"}
    assert len(manifest["jobs"]) == 1 + 6
    area = next(j for j in manifest["jobs"] if j["la_code"] == AREA)
    html = (folder / "outputs" / "p1" / area["html"]).read_text()
    assert "3 of the 6 authorities in Greater Manchester sent the dataset" in html
    assert 'class="lscb-synthetic"' not in html  # real data carries no synthetic banner
    assert "Synthetic data:" not in html
    for job in manifest["jobs"]:  # phase 1's words are the project's: authorities
        page = (folder / "outputs" / "p1" / job["html"]).read_text()
        assert not re.findall(r"(?i)\bboroughs?\b|London", page), job["slug"]
    assert "% of authorities" in html
    assert not (project.processed / "assessment").exists()  # phase 1 prepared alone

    # Phase 3's returns arrive before phase 2's instruments.
    draft = phases.load_version(project, "draft")
    assert draft is not None
    rows = 0
    for la in project.pilots:
        for period in project.periods:
            out = project.returns / f"{la}_{period.replace(' ', '_')}.xlsx"
            code = cli.main(
                [
                    *("template", "--project", str(folder), "--la", la),
                    *("--period", period, "--out", str(out)),
                ]
            )
            assert code == 0
            rows += _fill_template(out)
    assert rows == 4 * 2 * len(draft.items)
    assert cli.main([*args, "--phases", "02", "03", "04", "--run-name", "p3"]) == 0
    manifest = json.loads((folder / "outputs" / "p3" / "manifest.json").read_text())
    by_phase = {}
    for job in manifest["jobs"]:
        by_phase.setdefault(job["notebook"][:2], set()).add(job["status"])
    assert by_phase == {"02": {"not ready"}, "03": {"succeeded"}, "04": {"succeeded"}}

    summary = store.load_returns(project)
    issues = summary.issues
    assert not (issues["rule_code"] == "R05").any()
    assert len(summary.accepted) + len(summary.quarantined) == rows
    assert len(summary.accepted) >= rows - len(issues.loc[issues["severity"] == "error"])
    pilot = next(j for j in manifest["jobs"] if j["notebook"][:2] == "03" and j["la_code"] == AREA)
    html = (folder / "outputs" / "p3" / pilot["html"]).read_text()
    assert "4 authorities in Greater Manchester piloted" in html
    assert "2025-26 Q1 to 2025-26 Q2" in html
    assert "Phase 2: Assessment has not produced its dataset yet" in html
    assert f"{draft.version} ({len(draft.items)} items)" in html
    final = next(j for j in manifest["jobs"] if j["notebook"][:2] == "04")
    final_html = (folder / "outputs" / "p3" / final["html"]).read_text()
    assert "Greater Manchester" in final_html
    for job in manifest["jobs"]:  # the project's area, never London, in every report
        text = (folder / "outputs" / "p3" / job["html"]).read_text()
        assert not re.search(r"(?<!City of )London", text), job["slug"]
        # nor London's word for its authorities, nor its police forces' systems
        assert not re.findall(r"(?i)\bboroughs?\b", text), job["slug"]
        assert "Metropolitan Police" not in text, job["slug"]
    waiting = next(j for j in manifest["jobs"] if j["notebook"][:2] == "02")
    page = (folder / "outputs" / "p3" / waiting["html"]).read_text()
    assert "phase2_instruments" in page and "Not ready yet" in page

    facts = status.project_status(project)
    pilot_phase = next(p for p in facts["phases"] if p["key"] == "pilot")
    assert pilot_phase["periods_found"] == ["2025-26 Q1", "2025-26 Q2"]
    assert pilot_phase["authorities_with_returns"] == 4


def test_the_repository_root_holds_the_sample_project_as_init_writes_it():
    from lscb_nb.core.workspace import render_settings
    from lscb_nb.synthetic import SAMPLE_SETTINGS

    root = Path(__file__).resolve().parent.parent / PROJECT_FILE
    assert root.read_text() == render_settings(**SAMPLE_SETTINGS)
    assert load_project(root).synthetic


def test_no_notebook_markdown_holds_a_count_a_name_or_a_period():
    """Sentences that depend on the data are built from it, never typed in a notebook."""
    import nbformat

    from lscb_nb.core import config, reference

    names = set(reference.england_authorities()["la_name"]) | {"London"}
    for path in sorted(config.NOTEBOOKS_DIR.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            text = re.sub(r"^#+ \d+\. |Phase \d", "", cell.source, flags=re.M)  # structure
            assert not re.search(r"\d", text), (path.name, cell.source)
            assert not [n for n in names if re.search(rf"\b{re.escape(n)}\b", text)], cell.source
            assert not re.search(r"\b(ten|thirty-three)\b", text, re.I), cell.source
