"""The rules registry: every rule has a passing and a failing example, a data-model
version's rule set is the previous one's plus additions minus retirements, and
README's rule table is the one the registry generates.

Each example writes files into an empty folder and runs the reader the rule
belongs to (returns, instruments or local datasets) on it, as a borough's files
would be read; the failing example must raise the rule's code and the passing
one must not. File rules borrow their failing files from ``hostile_cases.py``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msoffcrypto
import pytest
from hostile_cases import (
    CAMDEN,
    CASES,
    CATALOGUE_ROWS,
    FILLED,
    PERIOD,
    csv_text,
    write_catalogue,
    write_template,
)
from hostile_cases import write_instrument as write_filled_instrument
from openpyxl import load_workbook

from lscb_nb.assessment import completed
from lscb_nb.assessment.instrument import HEADER_ROW, RATER_ROWS, SHEET, load_criteria
from lscb_nb.core import config
from lscb_nb.core.datamodel import load_datamodel
from lscb_nb.core.inputfiles import DEFAULT_LIMITS, ReadLimits, list_folder
from lscb_nb.core.rules import all_rules, registry_for
from lscb_nb.core.rules.markdown import END, START, readme_block, rules_markdown
from lscb_nb.core.rules.registry import STAGES, VERSIONS
from lscb_nb.mapping import localdata
from lscb_nb.pilot import returns

README = Path(__file__).parents[1] / "README.md"
CASE = {c.id: c for c in CASES}

# ---------------------------------------------------------------------------
# Example builders: each writes one borough's file(s) into a folder
# ---------------------------------------------------------------------------

Build = Callable[[Path, dict], None]


def _row(item, num="", den="", *, la=CAMDEN, dfe=None, tp="202425", value="", note=""):
    """One line of a long CSV return (Camden, 2024-25 Q1 unless told)."""
    dfe = str(la["la_code_dfe"]) if dfe is None else dfe
    head = [tp, "Financial year Q1", "Local authority", la["la_code_ons"], dfe, la["la_name"]]
    return [*head, item, num, den, value, note]


def rows(*lines: list) -> Build:
    """A long CSV return holding ``lines``."""

    def build(folder: Path, ctx: dict) -> None:
        (folder / "camden.csv").write_text(csv_text(list(lines)))

    return build


def hostile(case_id: str) -> Build:
    """The entry a hostile case writes (its limits apply to both examples)."""
    return CASE[case_id].build


def clean_template(folder: Path, ctx: dict) -> None:
    write_template(folder / "camden.xlsx", ctx["items"])


def encrypted_template(folder: Path, ctx: dict) -> None:
    plain = folder / "plain.tmp"
    write_template(plain, ctx["items"])
    office = msoffcrypto.OfficeFile(io.BytesIO(plain.read_bytes()))
    with (folder / "locked.xlsx").open("wb") as out:
        office.encrypt("secret", out)
    plain.unlink()


def instrument(
    name: str | None = "Ann Rater", cells: dict | None = None, first_item_again_at: int = 0
) -> Build:
    """One completed instrument for Camden: ``name=None`` leaves the rater unnamed,
    ``cells={(row, column): value}`` overwrites cells of the ratings sheet, and
    ``first_item_again_at`` names the first item again on that row."""

    def build(folder: Path, ctx: dict) -> None:
        path = write_filled_instrument(folder / "camden.xlsx", ctx)
        wb = load_workbook(path)
        ws = wb[SHEET]
        ws.cell(row=RATER_ROWS["name"], column=2).value = name
        for (r, c), value in (cells or {}).items():
            ws.cell(row=r, column=c).value = value
        if first_item_again_at:
            ws.cell(row=first_item_again_at, column=1).value = ctx["instrument_items"].index[0]
        wb.save(path)

    return build


def instrument_twice(folder: Path, ctx: dict) -> None:
    instrument()(folder, ctx)
    (folder / "camden again.xlsx").write_bytes((folder / "camden.xlsx").read_bytes())


def catalogue(name: str = "Camden_dataset.xlsx", sheets: dict | None = None) -> Build:
    def build(folder: Path, ctx: dict) -> None:
        write_catalogue(folder / name, sheets)

    return build


def empty_health_sheet(folder: Path, ctx: dict) -> None:
    filled = {i: (None, None) if i == "HLT01" else v for i, v in FILLED.items()}
    write_template(folder / "camden.xlsx", ctx["items"], filled=filled)


def corrected(figure: str) -> Build:
    """A long CSV return and, a day later, its correction giving CSC01 as ``figure``."""

    def build(folder: Path, ctx: dict) -> None:
        (folder / "camden.csv").write_text(csv_text([_row("CSC01", "5"), _row("CSC03", "6")]))
        (folder / "camden v2.csv").write_text(csv_text([_row("CSC01", figure)]))
        os.utime(folder / "camden.csv", (1_720_000_000, 1_720_000_000))
        os.utime(folder / "camden v2.csv", (1_720_086_400, 1_720_086_400))

    return build


def dated(sent: str) -> Build:
    """A long CSV return whose optional submission_date column says ``sent``."""

    def build(folder: Path, ctx: dict) -> None:
        lines = csv_text([_row("CSC01", "5")]).splitlines()
        text = [lines[0] + ",submission_date", lines[1] + f",{sent}"]
        (folder / "camden.csv").write_text("\n".join(text) + "\n")

    return build


FIRST = HEADER_ROW + 1  # the first item row of an instrument
CLEAN = rows(_row("CSC01", "120"), _row("CSC02", "12", "60"))


@dataclass
class Examples:
    reader: str  # returns | instruments | catalogue
    passing: Build
    failing: Build
    limits: ReadLimits | None = None


def _file(case_id: str, passing: Build = CLEAN) -> Examples:
    return Examples("returns", passing, hostile(case_id), CASE[case_id].limits)


def _rows(passing: list[list], failing: list[list]) -> Examples:
    return Examples("returns", rows(*passing), rows(*failing))


# For every rule: a passing and a failing example (test_every_rule_has_examples).
EXAMPLES: dict[str, Examples] = {
    "F01": _file("csv-with-nul"),
    "F02": Examples("returns", clean_template, encrypted_template),
    "F03": _file("csv-missing-columns"),
    "F04": _file("csv-header-only"),
    "F05": _file("xlsx-damaged-sheet-xml", clean_template),
    "F06": _file("xlsx-agency-sheet-renamed", clean_template),
    "F07": _file("csv-too-many-rows"),
    "F08": _file("csv-too-many-cells"),
    "F09": _file("csv-too-large"),
    "F10": _file("csv-unbalanced-quote-last-line"),
    "F11": _file("csv-two-numerator-columns"),
    "F12": _file("csv-extra-cells"),
    "F13": _file("xlsx-extra-notes-sheet", clean_template),
    "F14": Examples("returns", clean_template, empty_health_sheet),
    "R01": _rows([_row("CSC01", "5")], [_row("XYZ99", "5")]),
    "R02": _rows(
        [_row("CSC01", "5")],
        [_row("CSC01", "5", la={"la_code_ons": "E09000099", "la_code_dfe": 999, "la_name": "X"})],
    ),
    "R03": _rows([_row("CSC01", "5")], [_row("CSC01", "5", dfe="301")]),
    "R04": _rows([_row("CSC01", "5")], [_row("CSC01", "5", tp="2024")]),
    "R05": _rows([_row("CSC01", "5")], [_row("CSC01", "5", tp="202324")]),
    "R06": _rows(
        [_row("CSC01", "5"), _row("CSC03", "5")], [_row("CSC01", "5"), _row("CSC01", "6")]
    ),
    "R07": _rows([_row("CSC01", "5")], [_row("", "5")]),
    "R08": Examples("returns", corrected("5"), corrected("7")),
    "R09": Examples("returns", dated("14/07/2024"), dated("next Tuesday")),
    "V01": _rows([_row("CSC01", "5"), _row("CSC03", "c")], [_row("CSC01", "five")]),
    "V02": _rows([_row("CSC01", "0")], [_row("CSC01", "-1")]),
    "V03": _rows([_row("CSC02", "60", "60")], [_row("CSC02", "61", "60")]),
    "V04": _rows([_row("CSC02", "0", "60")], [_row("CSC01", "-3")]),
    "V05": _rows([_row("CSC02", "12", "60")], [_row("CSC02", "12")]),
    "V06": _rows([_row("CSC02", "12", "60", value="20")], [_row("CSC02", "12", "60", value="25")]),
    "V07": _rows([_row("CSC01", "10"), _row("CSC02", "2.5", "10")], [_row("CSC01", "10.5")]),
    "V08": _file("xlsx-formula-without-value", clean_template),
    "V09": _rows([_row("CSC01", "15")], [_row("CSC01", "1,5")]),
    "V10": _rows([_row("CSC01", "1234")], [_row("CSC01", "1,234")]),
    "V11": _rows([_row("CSC02", "12", "60")], [_row("CSC02", "12%", "60")]),
    "V12": _rows([_row("CSC01", "5")], [_row("CSC01", "inf")]),
    "V13": _rows([_row("CSC01", "123456789012")], [_row("CSC01", "9007199254740993")]),
    "V14": _rows([_row("CSC01", "999999")], [_row("CSC01", "1000001")]),
    "V15": _rows([_row("CSC02", "0", "5")], [_row("CSC02", "0", "0")]),
    "V16": _rows(
        [_row("CSC01", "5", note="includes 2 late referrals")],
        [_row("CSC01", "5", note="child born 03/11/2015")],
    ),
    "X": _rows(
        [_row("CSC03", "10"), _row("CSC04", "8")], [_row("CSC03", "10"), _row("CSC04", "12")]
    ),
    "I01": Examples("instruments", instrument(), hostile("instrument-random-bytes")),
    "I02": Examples("instruments", instrument(), hostile("instrument-no-ratings-sheet")),
    "I03": Examples("instruments", instrument(), instrument(name=None)),
    "I04": Examples("instruments", instrument(), instrument_twice),
    "I05": Examples("instruments", instrument(), instrument(cells={(FIRST, 1): "XYZ99"})),
    "I06": Examples(
        "instruments", instrument(cells={(FIRST, 5): 4}), instrument(cells={(FIRST, 5): 9})
    ),
    "I07": Examples(
        "instruments", instrument(cells={(FIRST, 6): "DK"}), instrument(cells={(FIRST, 6): "high"})
    ),
    "I08": Examples("instruments", instrument(), instrument(cells={(FIRST + 20, 14): "hi"})),
    "I09": Examples("instruments", instrument(), instrument(first_item_again_at=FIRST + 1)),
    "M01": Examples("catalogue", catalogue(), hostile("catalogue-random-bytes")),
    "M02": Examples("catalogue", catalogue(), catalogue("dataset.xlsx")),
    "M03": Examples(
        "catalogue",
        catalogue(),
        catalogue(
            sheets={"Dataset": CATALOGUE_ROWS, "Totals": [["Total", 4, 5], ["Change", 1, 2]]}
        ),
    ),
}


# ---------------------------------------------------------------------------
# Running an example through its reader
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def instrument_ctx():
    items = load_datamodel(config.CANDIDATE_VERSION).items.head(6)
    return {"instrument_items": items, "criteria": load_criteria()}


def _codes(
    ex: Examples, build: Build, folder: Path, version: str, tiny: dict, instrument_ctx: dict
) -> set[str]:
    """The rule codes the example's reader raises on what ``build`` writes."""
    folder.mkdir()
    if ex.reader == "returns":
        build(folder, {"items": tiny["items"]})
        res = returns.read_returns(
            [e.path for e in list_folder(folder)],
            tiny["items"],
            tiny["rules"],
            tiny["authorities"],
            version,
            expected_periods=[PERIOD],
            root=folder,
            limits=ex.limits or DEFAULT_LIMITS,
        )
        assert res.reconciles()
        codes = set(res.issues["rule_code"])
    elif ex.reader == "instruments":
        build(folder, instrument_ctx)
        res = completed.read_instruments(
            folder, instrument_ctx["instrument_items"], instrument_ctx["criteria"]
        )
        codes = set(res.issues["rule_code"])
    else:
        build(folder, {})
        codes = set(localdata.read_local_datasets(folder).problems["rule_code"])
    # The data model's cross-item rules carry their own ids (XRnn) under rule X.
    return {"X" if c.startswith("XR") else c for c in codes}


@pytest.fixture
def tiny(tiny_items, tiny_rules, tiny_authorities):
    return {"items": tiny_items, "rules": tiny_rules, "authorities": tiny_authorities}


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------


def test_every_rule_has_examples():
    assert set(all_rules()) == set(EXAMPLES)


@pytest.mark.parametrize("code", sorted(all_rules()))
def test_rule_passes_and_fails_on_its_examples(code, tmp_path, tiny, instrument_ctx):
    rule = all_rules()[code]
    assert code in EXAMPLES, f"rule {code} has no passing and failing example"
    ex = EXAMPLES[code]
    version = rule.since  # a retired rule is tested in the versions it held for
    passed = _codes(ex, ex.passing, tmp_path / "pass", version, tiny, instrument_ctx)
    failed = _codes(ex, ex.failing, tmp_path / "fail", version, tiny, instrument_ctx)
    assert code not in passed, passed
    assert code in failed, failed


@pytest.mark.parametrize("code", sorted(all_rules()))
def test_rule_is_declared_in_full(code):
    rule = all_rules()[code]
    assert rule.severity in ("error", "query")
    assert rule.stage in STAGES
    assert rule.title and rule.message and rule.summary
    assert rule.since in VERSIONS and (rule.retired is None or rule.retired in VERSIONS)
    if rule.stage in ("row", "duplicate", "cross-item"):  # the rest a reader raises
        assert callable(rule.check)


def test_a_version_inherits_the_previous_rule_set_plus_additions_minus_retirements():
    old, new = registry_for("1.0"), registry_for("2.0")
    assert set(new) - set(old) == {"V16"}
    assert set(old) - set(new) == {"V15"}
    # A version numbered between takes the latest rule set not after it.
    assert set(registry_for("1.2-pilot")) == set(old)
    assert set(registry_for("2.1-draft")) == set(new)
    assert set(registry_for("test")) == set(old)


def test_a_retired_rule_no_longer_runs_and_an_added_one_only_from_its_version(
    tmp_path, tiny, instrument_ctx
):
    zero = EXAMPLES["V15"]
    assert "V15" not in _codes(zero, zero.failing, tmp_path / "a", "2.0", tiny, instrument_ctx)
    note = EXAMPLES["V16"]
    assert "V16" not in _codes(note, note.failing, tmp_path / "b", "1.0", tiny, instrument_ctx)


def test_readme_rule_table_is_generated_from_the_registry():
    text = README.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1
    block = text[text.index(START) : text.index(END) + len(END)]
    assert block == readme_block()
    assert len(rules_markdown().splitlines()) == 2 + len(all_rules())  # header, rule, rules
