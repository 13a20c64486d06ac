"""Hostile input: the generated cases of ``tests/hostile_cases.py`` against the
three readers, fuzzing with random and mutated files, and kill -9 during
ingestion. The standard (issue 11): no crash, no row unaccounted for, no value
changed without an issue row, every issue naming its file (and for a cell its
sheet, row and column), and the previous processed data readable after a kill."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from hostile_cases import CASES, CATALOGUE_ROWS, csv_row, csv_text, write_catalogue, write_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lscb_nb.assessment import completed, instrument
from lscb_nb.core import config, fileio
from lscb_nb.core.datamodel import load_datamodel
from lscb_nb.core.inputfiles import DEFAULT_LIMITS, list_folder
from lscb_nb.core.rules import all_rules
from lscb_nb.mapping import localdata
from lscb_nb.pilot import returns

CITY = {"la_code_ons": "E09000001", "la_code_dfe": 201, "la_name": "City of London"}
STATUSES = {"read", "partly read", "unreadable", "not a return", "not read"}
FUZZ = settings(
    max_examples=25,
    deadline=timedelta(seconds=20),  # a reader that hangs on an input fails, not waits
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_there_are_at_least_80_cases_across_the_three_readers():
    readers = pd.Series([c.reader for c in CASES]).value_counts()
    assert len(CASES) >= 80
    assert set(readers.index) == {"returns", "instruments", "catalogue"}
    assert len({c.id for c in CASES}) == len(CASES)


def check_invariants(res: returns.IngestResult, folder: Path | None = None) -> None:
    """What must hold whatever the input."""
    assert res.reconciles()
    assert set(res.files["status"]) <= STATUSES
    if folder is not None:
        listed = {e.name for e in list_folder(folder)}
        assert listed == set(res.files["file"])
    issues = res.issues
    assert issues["file"].notna().all() and (issues["file"] != "").all()
    assert (
        issues["rule_code"]
        .isin([*all_rules(), *issues["rule_code"].loc[lambda s: s.str.startswith("XR")]])
        .all()
    )
    # every issue about a row names its cell (F12's extra cells lie beyond the header)
    cells = issues.loc[issues["row"].notna() & (issues["rule_code"] != "F12")]
    assert cells["column"].notna().all()
    xlsx_files = set(
        res.files["file"][res.files["file"].str.lower().str.endswith((".xlsx", ".xlsm"))]
    )
    assert cells.loc[cells["file"].isin(xlsx_files), "sheet"].notna().all()
    errors = issues.loc[issues["severity"] == "error"]
    error_keys = set(zip(errors["file"], errors["sheet"].fillna(""), errors["row"], strict=True))
    q = res.quarantined
    q_keys = set(zip(q["source_file"], q["source_sheet"].fillna(""), q["source_row"], strict=True))
    assert q_keys <= error_keys  # nothing quarantined without an error naming its row
    a = res.accepted
    a_keys = set(zip(a["source_file"], a["source_sheet"].fillna(""), a["source_row"], strict=True))
    assert not (a_keys & error_keys)


# ---------------------------------------------------------------------------
# The generated cases
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in CASES if c.reader == "returns"], ids=lambda c: c.id)
def test_hostile_return(case, tmp_path, tiny_items, tiny_rules, tiny_authorities):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "control.csv").write_text(csv_text([csv_row("CSC01", "7", la=CITY)]))
    case.build(folder, {"items": tiny_items})
    res = returns.read_returns(
        [e.path for e in list_folder(folder)],
        tiny_items,
        tiny_rules,
        tiny_authorities,
        "test",
        root=folder,
        limits=case.limits or DEFAULT_LIMITS,
    )
    check_invariants(res, folder)
    files = res.files.set_index("file")
    assert files.loc["control.csv", "status"] == "read"
    assert files.loc["control.csv", "rows_accepted"] == 1
    exp = case.expect
    got = files.loc[case.entry]
    assert got["status"] == exp.status, got["error"]
    if exp.status != "read":
        assert got["error"], "a file not read says why"
    mine = res.issues.loc[res.issues["file"] == case.entry]
    codes = set(mine["rule_code"])
    assert exp.codes <= codes, mine[["rule_code", "sheet", "row", "message"]]
    assert not (exp.absent & codes), mine[["rule_code", "message"]]
    where = {
        (
            r.rule_code,
            None if pd.isna(r.sheet) else r.sheet,
            None if pd.isna(r.row) else int(r.row),
            r.column if isinstance(r.column, str) else None,
        )
        for r in mine.itertuples()
    }
    assert exp.where <= where, where
    if exp.accepted is not None:
        assert got["rows_accepted"] == exp.accepted
    if exp.quarantined is not None:
        assert got["rows_quarantined"] == exp.quarantined
    acc = res.accepted.loc[res.accepted["source_file"] == case.entry].set_index("item_id")
    for item, value in exp.values.items():
        assert acc.loc[item, "value"] == pytest.approx(value)
    for item, note in exp.notes.items():
        assert acc.loc[item, "note"] == note  # stored exactly as written
    if exp.message:
        assert mine["message"].str.contains(exp.message, regex=False).any(), mine[
            "message"
        ].tolist()


@pytest.fixture(scope="module")
def instrument_ctx():
    return {
        "instrument_items": load_datamodel(config.CANDIDATE_VERSION).items.head(6),
        "criteria": instrument.load_criteria(),
    }


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.reader == "instruments"], ids=lambda c: c.id
)
def test_hostile_instrument(case, tmp_path, instrument_ctx):
    from hostile_cases import write_instrument

    folder = tmp_path / "in"
    folder.mkdir()
    write_instrument(folder / "camden.xlsx", instrument_ctx)
    case.build(folder, instrument_ctx)
    res = completed.read_instruments(
        folder,
        instrument_ctx["instrument_items"],
        instrument_ctx["criteria"],
        case.limits or DEFAULT_LIMITS,
    )
    files = res.files.set_index("file")
    assert files.loc["camden.xlsx", "status"] == "read" and files.loc["camden.xlsx", "ratings"] > 0
    assert res.issues["file"].notna().all()
    mine = res.issues.loc[res.issues["file"] == case.entry]
    if case.expect.status == "absent":
        assert case.entry not in files.index and mine.empty
        return
    assert files.loc[case.entry, "status"] == case.expect.status
    assert case.expect.codes <= set(mine["rule_code"]), mine


@pytest.mark.parametrize("case", [c for c in CASES if c.reader == "catalogue"], ids=lambda c: c.id)
def test_hostile_catalogue(case, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_catalogue(folder / "Camden_dataset.xlsx")
    case.build(folder, {})
    res = localdata.read_local_datasets(folder)
    files = res.files.set_index("file")
    assert files.loc["Camden_dataset.xlsx", "status"] == "read"
    assert (res.items["file"] == "Camden_dataset.xlsx").sum() == len(CATALOGUE_ROWS) - 1
    if case.expect.status == "absent":
        assert case.entry not in files.index
        return
    assert files.loc[case.entry, "status"] == case.expect.status, files.loc[case.entry, "reason"]
    mine = res.problems.loc[res.problems["file"] == case.entry]
    if case.expect.status != "read":
        assert not mine.empty and mine["message"].str.len().gt(0).all()
    for (sheet,) in case.expect.where:
        assert (mine["sheet"].fillna("(none)") == (sheet or "(none)")).any(), mine


# ---------------------------------------------------------------------------
# Fuzzing: no input makes a reader raise
# ---------------------------------------------------------------------------


def _read_folder(folder, items, rules, authorities) -> returns.IngestResult:
    res = returns.read_returns(
        [e.path for e in list_folder(folder)], items, rules, authorities, "test", root=folder
    )
    check_invariants(res, folder)
    return res


@pytest.mark.slow  # a property, fuzz or real-data test: the slow lane
@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".xlsx", ".tsv", ".xls"]))
def test_random_bytes_never_make_a_reader_raise(
    tmp_path_factory, tiny_items, tiny_rules, tiny_authorities, instrument_ctx, data, suffix
):
    folder = tmp_path_factory.mktemp("rnd")
    (folder / f"Hackney{suffix}").write_bytes(data)
    _read_folder(folder, tiny_items, tiny_rules, tiny_authorities)
    completed.read_instruments(
        folder, instrument_ctx["instrument_items"], instrument_ctx["criteria"]
    )
    localdata.read_local_datasets(folder)


_CSV_JUNK = st.sampled_from(
    ['"', ",", "\n", "\r", ";", "\t", "\x00", "%", "1,5", "inf", "é", "\ufeff", ""]
)


@pytest.mark.slow  # a property, fuzz or real-data test: the slow lane
@FUZZ
@given(edits=st.lists(st.tuples(st.floats(0, 1), _CSV_JUNK), min_size=1, max_size=8))
def test_mutated_csv_never_loses_a_row_or_raises(
    tmp_path_factory, tiny_items, tiny_rules, tiny_authorities, edits
):
    text = csv_text(
        [csv_row("CSC01", "5"), csv_row("CSC02", "3", "9", note="a, b"), csv_row("CSC03", "4")]
    )
    for where, junk in edits:
        at = int(where * len(text))
        text = text[:at] + junk + text[at:]
    folder = tmp_path_factory.mktemp("csv")
    (folder / "m.csv").write_text(text, encoding="utf-8", newline="")
    res = _read_folder(folder, tiny_items, tiny_rules, tiny_authorities)
    row = res.files.set_index("file").loc["m.csv"]
    # a readable file's rows are all accounted for, at real line numbers of the file
    lines = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    rows = pd.concat([res.accepted["source_row"], res.quarantined["source_row"]])
    assert rows.between(1, lines).all()
    assert row["rows_read"] == row["rows_accepted"] + row["rows_quarantined"]


@pytest.fixture(scope="module")
def template_bytes(tmp_path_factory, request):
    items = pd.DataFrame(
        {
            "title": ["Referrals", "Re-referrals", "Conferences", "Plans", "A&E"],
            "unit": ["count", "percentage", "count", "count", "rate_per_10k"],
            "agency": ["childrens_social_care"] * 4 + ["health"],
            "valid_range": [{"min": 0, "max": None}] * 5,
            "definition": "d",
        },
        index=pd.Index(["CSC01", "CSC02", "CSC03", "CSC04", "HLT01"], name="item_id"),
    )
    path = write_template(tmp_path_factory.mktemp("tpl") / "t.xlsx", items)
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i.filename) for i in zf.infolist()}


@pytest.mark.slow  # a property, fuzz or real-data test: the slow lane
@FUZZ
@given(
    member=st.sampled_from(
        [
            "xl/worksheets/sheet2.xml",
            "xl/worksheets/sheet3.xml",
            "xl/worksheets/sheet4.xml",
            "xl/workbook.xml",
            "xl/sharedStrings.xml",
            "xl/styles.xml",
            "[Content_Types].xml",
        ]
    ),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.binary(min_size=0, max_size=6)), min_size=1, max_size=6
    ),
    cut=st.booleans(),
)
def test_mutated_workbook_never_makes_the_reader_raise(
    tmp_path_factory, tiny_items, tiny_rules, tiny_authorities, template_bytes, member, edits, cut
):
    parts = dict(template_bytes)
    data = parts.get(member, b"")
    for where, junk in edits:
        at = int(where * len(data))
        data = data[:at] + junk + data[at + len(junk) :]
    if cut:
        data = data[: len(data) // 2]
    parts[member] = data
    folder = tmp_path_factory.mktemp("xlsx")
    with zipfile.ZipFile(folder / "camden.xlsx", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    res = _read_folder(folder, tiny_items, tiny_rules, tiny_authorities)
    row = res.files.set_index("file").loc["camden.xlsx"]
    assert row["status"] in STATUSES
    if row["status"] != "read":
        assert row["error"]


# ---------------------------------------------------------------------------
# kill -9 during ingestion
# ---------------------------------------------------------------------------

_CHILD = r"""
import os, signal, sys
from pathlib import Path
import pandas as pd
from lscb_nb.core import fileio
from lscb_nb.pilot import returns
items, rules, las = pd.read_pickle(sys.argv[4])
kill_at = int(sys.argv[3])
count = [0]
def wrap(obj, name):
    original = getattr(obj, name)
    def wrapped(*a, **k):
        count[0] += 1
        if count[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*a, **k)
    setattr(obj, name, wrapped)
if kill_at > 0:
    for obj, name in ((Path, "replace"), (Path, "rename"), (Path, "symlink_to"), (Path, "mkdir"),
                      (Path, "unlink"), (Path, "touch"), (Path, "write_text"),
                      (fileio.shutil, "rmtree"), (pd.DataFrame, "to_parquet")):
        wrap(obj, name)
returns.ingest_returns(Path(sys.argv[1]), Path(sys.argv[2]), items, rules, las, "test")
print("done")
"""


def _inputs(folder: Path, n_files: int, value: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        (folder / f"r{i:03d}.csv").write_text(
            csv_text(
                [
                    csv_row(item, value, "9" if item == "CSC02" else "")
                    for item in ("CSC01", "CSC02", "CSC03")
                ]
            )
        )


def _child(tmp_path: Path, src: Path, out: Path, kill_at: int) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
    }
    return subprocess.Popen(
        [sys.executable, str(script), str(src), str(out), str(kill_at), str(tmp_path / "m.pkl")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _assert_readable(out: Path, allowed: set[int]) -> int:
    loaded = returns.load_processed(out)
    summary = returns.read_summary(out)
    # copies written a second apart are ordered by their file times: later supersedes
    kept = len(loaded.accepted) + len(loaded.quarantined) + len(loaded.superseded)
    assert summary["rows_read"] == kept
    assert summary["rows_read"] in allowed
    return summary["rows_read"]


@pytest.mark.slow  # a property, fuzz or real-data test: the slow lane
def test_kill_at_every_step_of_publishing_leaves_previous_data_readable(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    """The child kills itself (SIGKILL) just before or after its k-th file-system
    step of writing the outputs, for every k until a run completes."""
    old_src, new_src, out = tmp_path / "old", tmp_path / "new", tmp_path / "processed" / "returns"
    _inputs(old_src, 2, "5")
    _inputs(new_src, 3, "6")
    returns.ingest_returns(old_src, out, tiny_items, tiny_rules, tiny_authorities, "test")
    pd.to_pickle((tiny_items, tiny_rules, tiny_authorities), tmp_path / "m.pkl")
    old_rows, new_rows = 6, 9
    for kill_at in range(1, 200):
        proc = _child(tmp_path, new_src, out, kill_at)
        stdout, stderr = proc.communicate(timeout=120)
        seen = _assert_readable(out, {old_rows, new_rows})
        if proc.returncode == 0:
            assert b"done" in stdout and seen == new_rows
            break
        assert proc.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
        # go back to the old data for the next attempt
        returns.ingest_returns(old_src, out, tiny_items, tiny_rules, tiny_authorities, "test")
    else:
        pytest.fail("the child never completed")
    assert kill_at > 10  # the steps were really interrupted, one by one
    _assert_tidy(out)


@pytest.mark.slow  # a property, fuzz or real-data test: the slow lane
def test_kill_at_random_times_leaves_previous_data_readable(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    old_src, new_src, out = tmp_path / "old", tmp_path / "new", tmp_path / "processed" / "returns"
    _inputs(old_src, 2, "5")
    _inputs(new_src, 60, "6")
    pd.to_pickle((tiny_items, tiny_rules, tiny_authorities), tmp_path / "m.pkl")
    returns.ingest_returns(old_src, out, tiny_items, tiny_rules, tiny_authorities, "test")
    t0 = time.perf_counter()
    full = _child(tmp_path, new_src, tmp_path / "timing" / "returns", 0)
    full.communicate(timeout=300)
    span = time.perf_counter() - t0
    rng = random.Random(11)
    for _ in range(6):
        proc = _child(tmp_path, new_src, out, 0)
        time.sleep(rng.uniform(0.3, 1.0) * span)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        _assert_readable(out, {6, 180})
    returns.ingest_returns(new_src, out, tiny_items, tiny_rules, tiny_authorities, "test")
    assert _assert_readable(out, {180}) == 180
    _assert_tidy(out)


def _assert_tidy(out: Path) -> None:
    """After a completed run nothing of the killed runs is left."""
    beside = sorted(p.name for p in out.parent.iterdir())
    assert beside == [".returns.versions", "returns"]
    versions = list((out.parent / ".returns.versions").iterdir())
    assert 1 <= len(versions) <= 2
    assert all((v / ".complete").exists() for v in versions)


def test_an_old_plain_output_folder_is_taken_over(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    """Outputs written by an earlier release (a plain folder) stay readable and
    become the first version."""
    src, out = tmp_path / "src", tmp_path / "processed" / "returns"
    _inputs(src, 1, "5")
    returns.ingest_returns(src, out, tiny_items, tiny_rules, tiny_authorities, "test")
    plain = tmp_path / "plain"
    import shutil

    shutil.copytree(out.resolve(), plain)
    shutil.rmtree(out.parent)
    out.parent.mkdir(parents=True)
    shutil.copytree(plain, out)
    (out.parent / ".returns.x1y2").mkdir()  # a staging folder of the old code, killed
    assert returns.read_summary(out)["rows_read"] == 3
    _inputs(src, 2, "6")
    returns.ingest_returns(src, out, tiny_items, tiny_rules, tiny_authorities, "test")
    assert returns.read_summary(out)["rows_read"] == 6
    _assert_tidy(out)
    assert json.loads((fileio.current_version(out) / "summary.json").read_text())


@pytest.mark.slow  # a property, fuzz or real-data test: the slow lane
def test_one_folder_holding_every_hostile_return_is_ingested_whole(
    tmp_path, tiny_items, tiny_rules, tiny_authorities
):
    """All the cases side by side, as a messy shared drive: ingestion finishes,
    lists every entry, accounts for every row and writes readable outputs."""
    root = tmp_path / "raw"
    for c in CASES:
        if c.reader == "returns":
            (root / c.id).mkdir(parents=True)
            c.build(root / c.id, {"items": tiny_items})
    out = tmp_path / "processed" / "returns"
    # Each case sits in its own subfolder, so subfolders are read here (as documented,
    # they are not by default); the case whose point is a subfolder is then read.
    res = returns.ingest_returns(
        root, out, tiny_items, tiny_rules, tiny_authorities, "test", read_subfolders=True
    )
    check_invariants(res, root)
    loaded = returns.load_processed(out)
    assert len(loaded.files) == len(res.files) and len(loaded.issues) == len(res.issues)
    status = res.files.set_index("file")["status"]
    for c in CASES:
        if c.reader == "returns" and c.limits is None:
            expected = "read" if c.id == "return-in-sub-folder" else c.expect.status
            assert status[f"{c.id}/{c.entry}"] == expected, c.id


def test_without_symbolic_links_the_newest_complete_version_is_read(
    tmp_path, tiny_items, tiny_rules, tiny_authorities, monkeypatch
):
    def refuse(*args, **kwargs):
        raise OSError("symbolic links are not available")

    monkeypatch.setattr(Path, "symlink_to", refuse)
    src, out = tmp_path / "src", tmp_path / "processed" / "returns"
    _inputs(src, 1, "5")
    returns.ingest_returns(src, out, tiny_items, tiny_rules, tiny_authorities, "test")
    _inputs(src, 2, "6")
    returns.ingest_returns(src, out, tiny_items, tiny_rules, tiny_authorities, "test")
    assert not out.exists()
    assert returns.read_summary(out)["rows_read"] == 6
    loaded = returns.load_processed(out)
    assert len(loaded.accepted) + len(loaded.quarantined) == 6
