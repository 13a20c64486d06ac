"""Released data-model versions never change (lscb_nb/core/lineage.py, core/phases.py):
a phase re-run writes the next revision, later phases keep their version until it is
adopted, templates are recorded by version, and `lscb-nb datamodel` and `status` act
on the project's versions. Small projects made with `init_project`; one end-to-end
case of issue 23 on a small synthetic project with the real stages."""

from __future__ import annotations

import hashlib
import re

import nbformat
import pytest
import yaml
from openpyxl import load_workbook

from lscb_nb import cli
from lscb_nb.core import datamodel, fingerprints, lineage, phases
from lscb_nb.core.datamodel import VersionReleasedError, from_dict, keep_items, to_dict
from lscb_nb.core.project import PROJECT_FILE, ProjectError, load_project
from lscb_nb.core.workspace import copy_candidate, init_project
from lscb_nb.output import chrome, status


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def project(tmp_path):
    return init_project(
        tmp_path / "proj",
        name="Testshire",
        pilots=["Camden", "Islington"],
        candidate="1.0-candidate",
    )


def _derived(project, role: str, n: int, based_on: str | None = None, note: str = "") -> object:
    """A version of ``role`` keeping the candidate's first ``n`` items, as a phase
    would derive it (named by the chain, based on ``based_on``)."""
    candidate = phases.load_candidate(project)
    raw = keep_items(to_dict(candidate), candidate.item_ids[:n])
    raw.update(
        version=phases.version_name(project, role),
        status=role,
        based_on=based_on or candidate.version,
        description=f"{role} with {n} items. {note}".strip(),
    )
    return from_dict(raw)


def _prepare(project, key: str, n: int):
    """Do what a phase's stage does with the data model: work on its basis, release
    a version of ``n`` items of its role."""
    phase = phases.get(key)
    based = phases.basis(project, phase)
    dm = _derived(project, phase.writes_version, n, based.datamodel.version)
    return phases.release(project, phase, based, dm)


# --------------------------------------------------------------------------------------
# save_datamodel: a written version is released
# --------------------------------------------------------------------------------------


def test_save_never_replaces_a_written_version_with_other_content(project, tmp_path):
    dm = _derived(project, "draft", 5)
    path = datamodel.save_datamodel(dm, tmp_path)
    before = path.read_bytes()
    assert datamodel.save_datamodel(dm, tmp_path) == path  # the same again: nothing to do
    changed = to_dict(dm) | {"description": "something else"}
    with pytest.raises(VersionReleasedError, match="never changed"):
        datamodel.save_datamodel(changed, tmp_path)
    assert path.read_bytes() == before


def test_save_accepts_the_same_version_written_by_an_older_toolkit(project, tmp_path):
    raw = to_dict(_derived(project, "draft", 3))
    del raw["revises"]  # files from before `revises` existed lack the key
    path = tmp_path / f"{raw['version']}.yaml"
    path.write_text("# hand-made\n" + yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    before = path.read_bytes()
    assert datamodel.save_datamodel(from_dict(raw), tmp_path) == path
    assert path.read_bytes() == before


# --------------------------------------------------------------------------------------
# Revisions and pins
# --------------------------------------------------------------------------------------


def test_a_changed_rerun_writes_the_next_revision_beside_the_first(project):
    first, path = _prepare(project, "mapping", 62)
    assert first.version == "1.1-draft" and first.meta["revises"] is None
    original = _sha(path)
    again, _ = _prepare(project, "mapping", 62)
    assert again.version == "1.1-draft"
    assert [v["version"] for v in lineage.load_ledger(project)["versions"]] == ["1.1-draft"]

    second, path2 = _prepare(project, "mapping", 28)
    assert second.version == "1.1-draft.2"
    assert second.meta["revises"] == "1.1-draft"
    assert second.meta["based_on"] == first.meta["based_on"]
    assert len(second.items) == 28 and path2.name == "1.1-draft.2.yaml"
    assert _sha(path) == original
    assert len(datamodel.load_datamodel("1.1-draft", project.datamodel_dir).items) == 62
    entry = lineage.entry(project, "1.1-draft.2")
    assert entry["label"] == "second draft" and entry["items"] == 28
    assert phases.newest(project, "draft") == "1.1-draft.2"

    back, _ = _prepare(project, "mapping", 62)  # the evidence went back: no third draft
    assert back.version == "1.1-draft"
    assert phases.newest(project, "draft") == "1.1-draft"
    assert not (project.datamodel_dir / "1.1-draft.3.yaml").exists()


def test_a_later_phase_keeps_its_version_until_the_consultant_moves_it(project):
    _prepare(project, "mapping", 62)
    pilot, pilot_path = _prepare(project, "assessment", 62)
    assert pilot.meta["based_on"] == "1.1-draft"
    assert lineage.pin_of(project, "assessment")["version"] == "1.1-draft"
    pilot_sha = _sha(pilot_path)

    _prepare(project, "mapping", 28)  # phase 1 again, on new evidence
    based = phases.basis(project, "assessment")
    assert based.datamodel.version == "1.1-draft" and based.pinned
    assert len(based.datamodel.items) == 62
    assert phases.newer_upstream(project, phases.get("assessment")) == "1.1-draft.2"
    _prepare(project, "assessment", 62)  # re-prepared on its pin: the same pilot
    assert _sha(pilot_path) == pilot_sha
    assert phases.newest(project, "pilot") == "1.2-pilot"

    text = status.format_status(status.project_status(project))
    assert "1.1-draft.2: second draft from 1.0-candidate, revises 1.1-draft, 28 items" in text
    assert "phase 02 works on 1.1-draft (since" in text
    assert "Newer evidence upstream: 1.1-draft.2 written" in text
    assert "`lscb-nb datamodel adopt --phase 02`" in text
    assert "Next: " in text and "move phase 02 on with `lscb-nb datamodel adopt --phase 02`" in text

    key = fingerprints.prepare_key(project, phases.get("assessment"))
    assert phases.adopt(project, "02") == ("1.1-draft", "1.1-draft.2")
    assert phases.basis(project, "assessment").datamodel.version == "1.1-draft.2"
    assert fingerprints.prepare_key(project, phases.get("assessment")) != key  # re-prepares
    moves = lineage.load_ledger(project)["moves"]
    assert [(m["phase"], m["from"], m["to"]) for m in moves] == [
        ("assessment", "1.1-draft", "1.1-draft.2")
    ]
    moved, _ = _prepare(project, "assessment", 20)
    assert (moved.version, moved.meta["revises"]) == ("1.2-pilot.2", "1.2-pilot")
    assert moved.meta["based_on"] == "1.1-draft.2"
    assert "Newer evidence" not in status.format_status(status.project_status(project))


def test_a_phase_never_pinned_starts_from_the_newest_version_of_its_role(project):
    _prepare(project, "mapping", 62)
    _prepare(project, "mapping", 30)
    based = phases.basis(project, "assessment")
    assert (based.datamodel.version, based.role, based.pinned) == ("1.1-draft.2", "draft", False)
    # Phase 3 before phase 2: it falls back to the draft, and says so.
    fallback = phases.basis(project, "pilot")
    assert fallback.role == "draft" and "Phase 2: Assessment" in fallback.note()


def test_adopt_refuses_what_a_phase_cannot_work_on(project):
    _prepare(project, "mapping", 62)
    _prepare(project, "assessment", 40)
    _prepare(project, "pilot", 30)
    with pytest.raises(ValueError, match=r"candidate project\.yaml names"):
        phases.adopt(project, "01")
    with pytest.raises(ValueError, match="refined version, written after Phase 2"):
        phases.adopt(project, "02", "1.3-refined")
    with pytest.raises(FileNotFoundError, match=r"'9\.9-nope'"):
        phases.adopt(project, "02", "9.9-nope")


def test_a_pinned_version_that_went_missing_is_a_clear_error(project):
    _prepare(project, "mapping", 62)
    _prepare(project, "assessment", 40)
    (project.datamodel_dir / "1.1-draft.yaml").unlink()
    with pytest.raises(FileNotFoundError, match=r"1\.1-draft.*adopt --phase 02"):
        phases.basis(project, "assessment")


# --------------------------------------------------------------------------------------
# Templates and instruments are recorded by version
# --------------------------------------------------------------------------------------


def _meta(path) -> dict:
    ws = load_workbook(path)["_meta"]
    return {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row and row[0]}


def test_a_template_records_its_version_and_keeps_phase_3_on_it(project, tmp_path):
    _prepare(project, "mapping", 62)
    _prepare(project, "assessment", 62)
    first = tmp_path / "camden-q1.xlsx"
    args = ["template", "--project", str(project.root), "--la", "Camden"]
    assert cli.main([*args, "--period", "2025-26 Q1", "--out", str(first)]) == 0
    assert _meta(first)["datamodel_version"] == "1.2-pilot"
    sent = lineage.load_ledger(project)["sent"]
    assert [(s["kind"], s["version"], s["items"], s["period"]) for s in sent] == [
        ("template", "1.2-pilot", 62, "2025-26 Q1")
    ]
    assert lineage.pin_of(project, "pilot")["how"] == "template sent"

    _prepare(project, "mapping", 28)  # new evidence upstream, and phase 2 moved on to it
    phases.adopt(project, "02")
    _prepare(project, "assessment", 20)
    later = tmp_path / "camden-q2.xlsx"
    assert cli.main([*args, "--period", "2025-26 Q2", "--out", str(later)]) == 0
    assert _meta(later)["datamodel_version"] == "1.2-pilot"  # still the piloted version
    assert phases.basis(project, "pilot").datamodel.version == "1.2-pilot"
    text = status.format_status(status.project_status(project))
    assert "templates of 1.2-pilot (62 items): 1 authority for 2025-26 Q1, 2025-26 Q2" in text
    assert "Phase 3: Pilot evaluation still works on 1.2-pilot" in text


def test_an_instrument_records_its_version(project, tmp_path):
    _prepare(project, "mapping", 40)
    out = tmp_path / "inst.xlsx"
    assert (
        cli.main(
            ["instrument", "--project", str(project.root), "--la", "Camden", "--out", str(out)]
        )
        == 0
    )
    sent = lineage.load_ledger(project)["sent"]
    assert [(s["kind"], s["phase"], s["version"], s["items"]) for s in sent] == [
        ("instrument", "assessment", "1.1-draft", 40)
    ]
    assert lineage.pin_of(project, "assessment")["version"] == "1.1-draft"


# --------------------------------------------------------------------------------------
# lscb-nb datamodel acts on the project
# --------------------------------------------------------------------------------------


def test_datamodel_versions_lists_shipped_and_project_versions(project, capsys):
    _prepare(project, "mapping", 62)
    _prepare(project, "mapping", 28)
    assert cli.main(["datamodel", "versions", "--project", str(project.root)]) == 0
    out = capsys.readouterr().out
    assert "Shipped with the toolkit:\n  1.0-candidate  candidate" in out
    assert "1.1-draft  draft, based on 1.0-candidate, 62 items" in out
    assert "1.1-draft.2  second draft, based on 1.0-candidate, revises 1.1-draft, 28 items" in out


def test_datamodel_commands_open_the_project_versions(project, tmp_path, capsys):
    _prepare(project, "mapping", 62)
    _prepare(project, "assessment", 40)
    _prepare(project, "pilot", 30)
    where = ["--project", str(project.root)]
    out = tmp_path / "dict.md"
    assert (
        cli.main(["datamodel", "dictionary", *where, "--version", "1.3-refined", "--out", str(out)])
        == 0
    )
    assert out.read_text(encoding="utf-8").count("\n") > 30
    assert cli.main(["datamodel", "validate", *where, "--version", "1.2-pilot"]) == 0
    assert "1.2-pilot: 40 items" in capsys.readouterr().out
    assert (
        cli.main(["datamodel", "diff", *where, "--version", "1.2-pilot", "--other", "1.3-refined"])
        == 0
    )
    diff = capsys.readouterr().out
    assert diff.count("removed") >= 1 and "CSC" in diff
    file = project.datamodel_dir / "1.2-pilot.yaml"
    for ref in (str(file), str(file.with_suffix(""))):
        assert cli.main(["datamodel", "validate", *where, "--version", ref]) == 0
        assert "1.2-pilot: 40 items" in capsys.readouterr().out
    assert cli.main(["datamodel", "validate", *where, "--version", "nope.yaml"]) == 2
    err = capsys.readouterr().err
    assert "'nope.yaml'" in err and "nope.yaml.yaml" not in err and "1.3-refined" in err


def test_datamodel_adopt_moves_a_phase_and_says_what_to_run(project, capsys):
    _prepare(project, "mapping", 62)
    _prepare(project, "assessment", 40)
    _prepare(project, "mapping", 28)
    where = ["--project", str(project.root)]
    assert cli.main(["datamodel", "adopt", *where]) == 2
    assert "adopt needs --phase" in capsys.readouterr().err
    assert cli.main(["datamodel", "adopt", *where, "--phase", "02"]) == 0
    out = capsys.readouterr().out
    assert "Phase 2: Assessment now works on 1.1-draft.2 (before: 1.1-draft)" in out
    assert "`lscb-nb run --phases 02`" in out
    assert cli.main(["datamodel", "adopt", *where, "--phase", "02"]) == 0
    assert "already works on 1.1-draft.2" in capsys.readouterr().out


def test_load_datamodel_takes_a_name_with_its_suffix(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        datamodel.load_datamodel("9.9-x.yaml", tmp_path)
    assert "9.9-x.yaml.yaml" not in str(caught.value)
    assert datamodel.load_datamodel("1.0-candidate.yaml").version == "1.0-candidate"


def test_copy_puts_an_editable_candidate_in_the_project(project, capsys):
    before = (project.root / PROJECT_FILE).read_text(encoding="utf-8")
    assert cli.main(["datamodel", "copy", "--project", str(project.root)]) == 0
    after = (project.root / PROJECT_FILE).read_text(encoding="utf-8")
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert changed == [
        ('  candidate: "1.0-candidate"', '  candidate: "datamodel/1.0-candidate.yaml"')
    ]
    reloaded = load_project(project.root)
    assert phases.load_candidate(reloaded).version == "1.0-candidate"
    copy = reloaded.root / "datamodel" / "1.0-candidate.yaml"
    raw = yaml.safe_load(copy.read_text(encoding="utf-8"))
    raw["description"] = "Edited. " + raw["description"]
    copy.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    assert phases.basis(reloaded, "mapping").datamodel.meta["description"].startswith("Edited.")
    with pytest.raises(ProjectError, match="already exists"):
        copy_candidate(reloaded)


def test_init_with_a_datamodel_copies_it(tmp_path, capsys):
    folder = tmp_path / "new"
    assert cli.main(["init", str(folder), "--datamodel", "1.0-candidate"]) == 0
    project = load_project(folder)
    assert project.candidate == "datamodel/1.0-candidate.yaml"
    assert (folder / "datamodel" / "1.0-candidate.yaml").is_file()
    assert "# The candidate dataset the project starts from" in (folder / PROJECT_FILE).read_text()


# --------------------------------------------------------------------------------------
# Reports state the versions they rest on
# --------------------------------------------------------------------------------------


def test_reports_state_the_versions_they_rest_on(project, tmp_path):
    from lscb_nb.core.fileio import write_json_atomic

    _prepare(project, "mapping", 62)
    pilot, _ = _prepare(project, "assessment", 40)
    write_json_atomic(
        project.processed / "assessment" / "summary.json",
        {"based_on": "1.1-draft", "writes": pilot.version},
    )
    candidate_items = len(phases.load_candidate(project).items)
    assert phases.versions_note(project, "mapping") == ""  # not prepared: nothing to state
    note = phases.versions_note(project, "assessment")
    assert note == "Data-model versions: works on 1.1-draft (62 items); wrote 1.2-pilot (40 items)."
    assert phases.versions_note(project, "final") == "Data-model version: 1.2-pilot (40 items)."
    write_json_atomic(
        project.processed / "mapping" / "summary.json",
        {"based_on": "1.0-candidate", "writes": "1.1-draft"},
    )
    assert phases.versions_note(project, "mapping") == (
        f"Data-model versions: works on 1.0-candidate ({candidate_items} items); "
        "wrote 1.1-draft (62 items)."
    )

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A report")])
    path = tmp_path / "r.ipynb"
    nbformat.write(nb, path)
    page = chrome.Page(versions="Data-model versions: works on <1.1-draft>")
    html = chrome.render_html(path, "A report", page)
    assert 'class="lscb-versions">Data-model versions: works on &lt;1.1-draft&gt;</p>' in html


# --------------------------------------------------------------------------------------
# Issue 23, end to end: phase 1 re-run after phases 2 and 3, with the real stages
# --------------------------------------------------------------------------------------


def test_phase_1_rerun_after_phase_3_leaves_the_pilot_and_its_templates_alone(tmp_path):
    from lscb_nb.output import pipeline
    from lscb_nb.synthetic import SAMPLE_SETTINGS, generate_sample_data

    project = init_project(tmp_path / "small", **SAMPLE_SETTINGS)
    generate_sample_data(project)
    for path in sorted(project.returns.rglob("*.*"))[16:]:  # a few returns keep it quick
        if path.is_file() and path.name.lower() != "readme.md":
            path.unlink()
    first = pipeline.prepare(project)
    assert {k: v["status"] for k, v in first.items()} == dict.fromkeys(
        ("mapping", "assessment", "pilot"), "prepared"
    )
    folder = project.datamodel_dir
    pilot_name = phases.summary(project, phases.get("assessment"))["writes"]
    refined_name = phases.summary(project, phases.get("pilot"))["writes"]
    pilot_items = len(datamodel.load_datamodel(pilot_name, folder).items)
    kept = {name: _sha(folder / f"{name}.yaml") for name in ("1.1-draft", pilot_name)}
    template = ["template", "--project", str(project.root), "--la", "Camden"]
    sent = tmp_path / "sent.xlsx"
    assert cli.main([*template, "--period", "2024-25 Q1", "--out", str(sent)]) == 0

    # New evidence for phase 1 (most boroughs' catalogues withdrawn), then a plain run.
    for path in sorted(project.catalogues.iterdir())[6:]:
        if path.name.lower() != "readme.md":
            path.unlink()
    again = pipeline.prepare(project)
    assert again["mapping"]["status"] == "prepared"
    draft2 = phases.summary(project, phases.get("mapping"))["writes"]
    assert draft2 == "1.1-draft.2"
    assert datamodel.load_datamodel(draft2, folder).meta["revises"] == "1.1-draft"
    assert {name: _sha(folder / f"{name}.yaml") for name in kept} == kept
    assert phases.summary(project, phases.get("assessment"))["based_on"] == "1.1-draft"
    assert phases.summary(project, phases.get("pilot"))["based_on"] == pilot_name
    assert phases.summary(project, phases.get("pilot"))["writes"] == refined_name
    assert sorted(p.stem for p in folder.glob("*.yaml")) == sorted(
        ["1.1-draft", "1.1-draft.2", pilot_name, refined_name]
    )

    later = tmp_path / "later.xlsx"
    assert cli.main([*template, "--period", "2024-25 Q2", "--out", str(later)]) == 0
    for path in (sent, later):
        assert _meta(path)["datamodel_version"] == pilot_name
    assert lineage.load_ledger(project)["sent"][-1]["items"] == pilot_items
    text = status.format_status(status.project_status(project))
    assert "Newer evidence upstream: 1.1-draft.2 written" in text
    assert "Phase 2: Assessment still works on 1.1-draft" in text
    assert f"phase 03 works on {pilot_name} (since" in text

    # The final report's advice for the refined version's dictionary works as written.
    from lscb_nb.final import context as final_context
    from lscb_nb.final import sections as final_sections

    section = final_sections.section_dataset(final_context.load_context(project))
    advice = next(p for p in section.parts if isinstance(p, str) and "datamodel dictionary" in p)
    command = re.search(r"`lscb-nb (datamodel dictionary --version \S+)`", advice)[1].split()
    out = tmp_path / "dictionary.md"
    assert command[-1] == refined_name
    assert cli.main([*command, "--project", str(project.root), "--out", str(out)]) == 0
    assert out.is_file()


def test_the_final_report_rests_on_the_chain_not_on_every_revision(project):
    _prepare(project, "mapping", 62)
    _prepare(project, "assessment", 40)
    _prepare(project, "mapping", 28)  # a second draft nothing was built on
    refined, _ = _prepare(project, "pilot", 30)
    chain = [dm.version for dm in phases.rests_on(project, refined)]
    assert chain == ["1.1-draft", "1.2-pilot", "1.3-refined"]
    assert phases.latest(project).datamodel.version == "1.3-refined"


def test_a_pinned_phase_says_in_its_report_that_newer_evidence_waits(project):
    _prepare(project, "mapping", 62)
    _prepare(project, "assessment", 40)
    assert phases.basis(project, "assessment").note() == ""
    _prepare(project, "mapping", 28)
    note = phases.basis(project, "assessment").note()
    assert note.startswith("This phase works on 1.1-draft (62 items), the version it started")
    assert "1.1-draft.2 has been written upstream since" in note
    assert "`lscb-nb datamodel adopt --phase 02`" in note
