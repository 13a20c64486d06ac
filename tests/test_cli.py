"""The lscb-nb command's subcommands, as a borough officer or consultant uses them."""

from __future__ import annotations

import json

import pytest

from lscb_nb import cli
from lscb_nb.core import reference
from lscb_nb.core.datamodel import load_datamodel
from lscb_nb.pilot import returns


@pytest.fixture
def outside_any_project(tmp_path, monkeypatch):
    """Run from a folder with no project.yaml above it: the shipped candidate, and no
    project's ledger written to (the repository's own sample is a project)."""
    monkeypatch.delenv("LSCB_NB_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_template_is_a_blank_return_the_reader_accepts(outside_any_project, tmp_path, capsys):
    out = tmp_path / "camden.xlsx"
    assert (
        cli.main(["template", "--la", "Camden", "--period", "2024-25 Q1", "--out", str(out)]) == 0
    )
    assert "Camden" in capsys.readouterr().out
    dm = load_datamodel()
    res = returns.read_returns([out], dm.items, dm.rules, reference.authorities(), dm.version)
    # a blank return supplies nothing: one query per agency sheet, and nothing else
    assert set(res.issues["rule_code"]) == {"F14"}
    assert len(res.issues) == dm.items["agency"].nunique()
    assert sorted(res.accepted["item_id"]) == sorted(dm.item_ids)
    assert set(res.accepted["numerator_state"]) == {"missing"}


def test_template_validation_on_input_cells(outside_any_project, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "t.xlsx"
    cli.main(["template", "--la", "202", "--period", "2024-25 Q2", "--out", str(out)])
    wb = load_workbook(out)
    ws = wb["Children's social care"]
    rules = ws.data_validations.dataValidation
    assert len(rules) == 2 and all(r.type == "custom" for r in rules)
    assert wb["_meta"].sheet_state == "hidden"


def test_unknown_authority_is_a_clear_error(capsys):
    assert cli.main(["template", "--la", "Narnia", "--period", "2024-25 Q1"]) == 2
    assert "Narnia" in capsys.readouterr().err


def test_datamodel_exports(tmp_path, capsys):
    assert cli.main(["datamodel", "validate"]) == 0
    assert "valid" in capsys.readouterr().out
    schema = tmp_path / "schema.json"
    assert cli.main(["datamodel", "schema", "--out", str(schema)]) == 0
    fields = [f["name"] for f in json.loads(schema.read_text())["fields"]]
    assert fields[:2] == ["time_period", "time_identifier"]
    dictionary = tmp_path / "dict.md"
    assert cli.main(["datamodel", "dictionary", "--out", str(dictionary)]) == 0
    assert "CSC01" in dictionary.read_text()


def test_a_command_outside_any_project_says_how_to_make_one(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LSCB_NB_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run"]) == 2
    assert "lscb-nb init" in capsys.readouterr().err


def test_run_on_an_empty_project_renders_pages_that_say_what_is_missing(tmp_path, capsys):
    assert cli.main(["init", str(tmp_path / "p"), "--name", "Empty"]) == 0
    code = cli.main(["-q", "run", "--project", str(tmp_path / "p"), "--run-name", "r"])
    assert code == 0
    out = capsys.readouterr().out
    assert "0 of 37 reports ready, 37 waiting for data" in out  # 34 + 3 whole-area pages
    index = (tmp_path / "p" / "outputs" / "r" / "index.html").read_text()
    assert "phase1_catalogues" in index and "Not ready" in index


@pytest.mark.slow  # starts a dask cluster of worker processes
def test_run_on_a_local_dask_cluster_records_the_executor(tmp_path, capsys):
    assert cli.main(["init", str(tmp_path / "p"), "--name", "Empty"]) == 0
    args = ["-q", "run", "--project", str(tmp_path / "p"), "--run-name", "r"]
    assert cli.main([*args, "--scheduler", "local", "--workers", "1"]) == 0
    assert "0 of 37 reports ready" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "p" / "outputs" / "r" / "manifest.json").read_text())
    assert manifest["executor"] == "ClientExecutor"


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys, monkeypatch):
    from lscb_nb.output import executors

    real = executors.dask_executor
    monkeypatch.setattr(
        executors, "dask_executor", lambda address, workers: real(address, workers, timeout=2)
    )
    assert cli.main(["init", str(tmp_path / "p"), "--name", "Empty"]) == 0
    args = ["-q", "run", "--project", str(tmp_path / "p"), "--scheduler", "tcp://127.0.0.1:9"]
    assert cli.main(args) == 2
    assert "No dask scheduler answered at tcp://127.0.0.1:9" in capsys.readouterr().err


def test_feedback_writes_the_list_to_send_back_for_an_authority_and_period(tmp_path, capsys):
    import pandas as pd

    folder = tmp_path / "proj"
    assert cli.main(["init", str(folder)]) == 0
    project = ["--project", str(folder)]
    blank = folder / "data" / "raw" / "phase3_returns" / "camden.xlsx"
    assert cli.main(["template", *project, "--la", "Camden", "--period", "2024-25 Q1", "--out",
                     str(blank)]) == 0  # fmt: skip
    assert cli.main(["ingest", *project]) == 0
    capsys.readouterr()
    out = tmp_path / "lists"
    argv = ["feedback", *project, "--la", "Camden", "--period", "2024-25 Q1", "--out", str(out)]
    assert cli.main(argv) == 0
    said = capsys.readouterr().out
    assert "Camden" in said and "nothing supplied" in said
    lines = pd.read_csv(out / "feedback-E09000007-2024-25-Q1.csv", dtype=str)
    assert (out / "feedback-E09000007-2024-25-Q1.xlsx").exists()
    assert set(lines["What"]) == {"nothing supplied"}
    assert lines["Reason"].str.contains("nothing supplied for Health").any()
