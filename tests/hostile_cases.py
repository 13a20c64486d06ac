"""A generator of hostile input files, each with its expected outcome.

The kinds of file boroughs really send (renamed, damaged, oversized, in other
formats, with numbers written in ways that change their meaning) for the three
readers: phase 3 returns, phase 2 instruments and phase 1 catalogues. Each case
writes one hostile entry into a folder beside a good control file; the runner
(``tests/test_hostile.py``) checks the reader does not raise, the control is
still read, and the hostile entry has the outcome given here.
"""

from __future__ import annotations

import io
import os
import random
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import msoffcrypto
import pandas as pd
from openpyxl import Workbook, load_workbook

from lscb_nb.core.inputfiles import ReadLimits
from lscb_nb.core.returnformat import RETURN_CSV_COLUMNS
from lscb_nb.pilot import template

CAMDEN = {"la_code_ons": "E09000007", "la_code_dfe": 202, "la_name": "Camden"}
BARKING = {"la_code_ons": "E09000002", "la_code_dfe": 301, "la_name": "Barking and Dagenham"}
PERIOD = "2024-25 Q1"
# The template's agency sheets for the tiny data model of tests/conftest.py.
CSC, HEALTH = "Children's social care", "Health"
FILLED = {
    "CSC01": (100, None),
    "CSC02": (12, 60),
    "CSC03": (10, None),
    "CSC04": (8, None),
    "HLT01": (50, None),
}


@dataclass
class Expect:
    """What must happen to the hostile entry."""

    status: str  # its row of the files table: read, partly read, unreadable, not a return
    codes: set[str] = field(default_factory=set)  # rule codes raised for it (at least)
    absent: set[str] = field(default_factory=set)  # rule codes that must not be raised
    where: set[tuple] = field(default_factory=set)  # (code, sheet, row, column) issues
    values: dict[str, float] = field(default_factory=dict)  # accepted item -> value
    notes: dict[str, str] = field(default_factory=dict)  # accepted item -> note, exactly
    accepted: int | None = None  # rows of it accepted
    quarantined: int | None = None  # rows of it quarantined
    message: str | None = None  # text one of its issue messages contains


@dataclass
class Case:
    id: str
    reader: str  # returns | instruments | catalogue
    entry: str  # the hostile entry's name in the folder
    build: Callable[[Path, dict], None]  # (folder, context) writes the entry
    expect: Expect
    limits: ReadLimits | None = None


CASES: list[Case] = []


def case(id: str, reader: str, entry: str, expect: Expect, limits: ReadLimits | None = None):
    def register(build: Callable[[Path, dict], None]) -> Callable[[Path, dict], None]:
        CASES.append(Case(id, reader, entry, build, expect, limits))
        return build

    return register


# ---------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------


def csv_row(item, num="", den="", la=CAMDEN, tp="202425", ti="Financial year Q1", note=""):
    return [
        tp,
        ti,
        "Local authority",
        la["la_code_ons"],
        str(la["la_code_dfe"]),
        la["la_name"],
        item,
        num,
        den,
        "",
        note,
    ]


def csv_text(rows, header=RETURN_CSV_COLUMNS, sep=",", newline="\n") -> str:
    buf = io.StringIO()
    pd.DataFrame(rows, columns=list(header)).to_csv(
        buf, index=False, sep=sep, lineterminator=newline
    )
    return buf.getvalue()


def write_template(path: Path, items: pd.DataFrame, la=CAMDEN, filled=FILLED, period=PERIOD):
    values = pd.DataFrame(
        {
            "numerator": [filled[i][0] for i in items.index],
            "denominator": [filled[i][1] for i in items.index],
            "note": "",
        },
        index=items.index,
    )
    template.write_return_template(path, items, la, period, "test", values=values)
    return path


def edit_workbook(path: Path, edit: Callable) -> None:
    wb = load_workbook(path)
    edit(wb)
    wb.save(path)


def rewrite_member(path: Path, member: str, change: Callable[[bytes], bytes]) -> None:
    with zipfile.ZipFile(path) as zf:
        parts = [(i, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in parts:
            zf.writestr(info.filename, change(data) if info.filename == member else data)


def sheet_member(path: Path, title: str) -> str:
    """The zip member holding the sheet called ``title``."""
    with zipfile.ZipFile(path) as zf:
        book = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    title_xml = title.replace("'", "&apos;")
    rid = re.search(rf'<sheet [^>]*name="{re.escape(title_xml)}"[^>]*r:id="([^"]+)"', book)
    if rid is None:
        rid = re.search(rf'name="{re.escape(title)}"[^>]*id="([^"]+)"', book)
    target = re.search(rf'Id="{rid[1]}"[^>]*Target="([^"]+)"', rels) or re.search(
        rf'Target="([^"]+)"[^>]*Id="{rid[1]}"', rels
    )
    return "xl/" + target[1].lstrip("/").removeprefix("xl/")


def set_dimension(path: Path, title: str, ref: str) -> None:
    rewrite_member(
        path,
        sheet_member(path, title),
        lambda b: re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>'.encode(), b),
    )


def random_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def set_cell(sheet: str, coord: str, value) -> Callable:
    def edit(wb):
        wb[sheet][coord] = value

    return edit


# ---------------------------------------------------------------------------
# Returns: numbers written in ways that would change their meaning
# ---------------------------------------------------------------------------

# (raw text, rule code, value when the row is kept with a query, else None)
NUMBER_FORMS: list[tuple[str, str, float | None]] = [
    ("1,5", "V09", None),
    ("0,25", "V09", None),
    ("1.234,5", "V09", None),
    ("12%", "V11", None),
    ("12 %", "V11", None),
    ("inf", "V12", None),
    ("-inf", "V12", None),
    ("nan", "V12", None),
    ("Infinity", "V12", None),
    ("1e400", "V12", None),
    ("99999999999999999999", "V13", None),
    ("9007199254740993", "V13", None),
    ("1e300", "V14", None),
    ("5000000", "V14", None),
    ("1,234", "V10", 1234.0),
    ("12 345", "V10", 12345.0),
    ("£5", "V01", None),
    ("twelve", "V01", None),
    ("5 (est)", "V01", None),
    ("1 5", "V01", None),
    ("0x1A", "V01", None),
    ("\uff11\uff12", "V01", None),  # full-width digits
]


def _number_expect(code: str, value: float | None, column: str, row: int, sheet=None) -> Expect:
    kept = value is not None
    item = "CSC01" if column == "numerator" else "CSC02"
    return Expect(
        status="read",
        codes={code},
        absent=set() if code == "V01" else {"V01"},
        where={(code, sheet, row, column)},
        accepted=1 if kept else 0,
        quarantined=0 if kept else 1,
        values={item: value if column == "numerator" else 5 / value * 100} if kept else {},
    )


for _i, (_raw, _code, _value) in enumerate(NUMBER_FORMS):

    def _num(folder: Path, ctx: dict, raw=_raw) -> None:
        (folder / "number.csv").write_text(csv_text([csv_row("CSC01", raw)]), encoding="utf-8")

    def _den(folder: Path, ctx: dict, raw=_raw) -> None:
        (folder / "number.csv").write_text(csv_text([csv_row("CSC02", "5", raw)]), encoding="utf-8")

    CASES.append(
        Case(
            f"csv-numerator-{_i:02d}-{_code}",
            "returns",
            "number.csv",
            _num,
            _number_expect(_code, _value, "numerator", 2),
        )
    )
    CASES.append(
        Case(
            f"csv-denominator-{_i:02d}-{_code}",
            "returns",
            "number.csv",
            _den,
            _number_expect(_code, _value, "denominator", 2),
        )
    )

for _raw, _code, _value in [NUMBER_FORMS[i] for i in (0, 3, 5, 10, 14, 17)]:

    def _wb_text(folder: Path, ctx: dict, raw=_raw) -> None:
        path = write_template(folder / "text.xlsx", ctx["items"])
        edit_workbook(path, set_cell(CSC, "E7", raw))

    expect = _number_expect(_code, _value, "numerator", 7, CSC)
    expect.accepted = 5 if _value is not None else 4
    CASES.append(Case(f"xlsx-text-number-{_code}-{_raw}", "returns", "text.xlsx", _wb_text, expect))


@case(
    "xlsx-numeric-1e300",
    "returns",
    "big.xlsx",
    Expect("read", {"V14"}, where={("V14", CSC, 7, "numerator")}, accepted=4, quarantined=1),
)
def _(folder, ctx):
    edit_workbook(write_template(folder / "big.xlsx", ctx["items"]), set_cell(CSC, "E7", 1e300))


@case(
    "xlsx-numeric-2e60",
    "returns",
    "big.xlsx",
    Expect("read", {"V13"}, where={("V13", CSC, 7, "numerator")}, accepted=4, quarantined=1),
)
def _(folder, ctx):
    edit_workbook(write_template(folder / "big.xlsx", ctx["items"]), set_cell(CSC, "E7", 2.0**60))


@case("xlsx-boolean-cell", "returns", "b.xlsx", Expect("read", {"V01"}, quarantined=1))
def _(folder, ctx):
    edit_workbook(write_template(folder / "b.xlsx", ctx["items"]), set_cell(CSC, "E7", True))


@case("xlsx-date-cell", "returns", "d.xlsx", Expect("read", {"V01"}, quarantined=1))
def _(folder, ctx):
    import datetime

    path = write_template(folder / "d.xlsx", ctx["items"])
    edit_workbook(path, set_cell(CSC, "E7", datetime.datetime(2024, 5, 1)))


@case(
    "pct-zero-over-zero",
    "returns",
    "z.csv",
    Expect("read", {"V15"}, absent={"V03", "V05"}, accepted=1, quarantined=0),
)
def _(folder, ctx):
    (folder / "z.csv").write_text(csv_text([csv_row("CSC02", "0", "0")]))


@case("pct-over-zero", "returns", "z.csv", Expect("read", {"V03"}, accepted=0, quarantined=1))
def _(folder, ctx):
    (folder / "z.csv").write_text(csv_text([csv_row("CSC02", "3", "0")]))


# ---------------------------------------------------------------------------
# Returns: duplicates
# ---------------------------------------------------------------------------


@case("dup-c-and-x", "returns", "dup.csv", Expect("read", {"R06"}, accepted=0, quarantined=2))
def _(folder, ctx):
    (folder / "dup.csv").write_text(csv_text([csv_row("CSC01", "c"), csv_row("CSC01", "x")]))


@case(
    "dup-same-code",
    "returns",
    "dup.csv",
    Expect("read", {"R06"}, accepted=1, quarantined=1, message="an exact copy of dup.csv row 2"),
)
def _(folder, ctx):
    (folder / "dup.csv").write_text(csv_text([csv_row("CSC01", "c"), csv_row("CSC01", "C")]))


@case(
    "dup-across-files",
    "returns",
    "dup_b.csv",
    Expect("read", {"R06"}, quarantined=1, message="dup_a.csv row 3"),
)
def _(folder, ctx):
    (folder / "dup_a.csv").write_text(csv_text([csv_row("CSC03", "4"), csv_row("CSC01", "10")]))
    (folder / "dup_b.csv").write_text(csv_text([csv_row("CSC01", "11")]))
    for name in ("dup_a.csv", "dup_b.csv"):  # sent at the same time: not a correction
        os.utime(folder / name, (1_720_000_000, 1_720_000_000))


@case(
    "corrected-file-beside-the-original",
    "returns",
    "camden v2.csv",
    Expect("read", {"R08"}, absent={"R06"}, accepted=1, values={"CSC01": 11.0}),
)
def _(folder, ctx):
    (folder / "camden.csv").write_text(csv_text([csv_row("CSC03", "4"), csv_row("CSC01", "10")]))
    (folder / "camden v2.csv").write_text(csv_text([csv_row("CSC01", "11")]))
    os.utime(folder / "camden.csv", (1_720_000_000, 1_720_000_000))
    os.utime(folder / "camden v2.csv", (1_720_090_000, 1_720_090_000))  # a day later


@case(
    "dup-five-and-five-point-zero",
    "returns",
    "dup.csv",
    Expect("read", {"R06"}, accepted=1, quarantined=1, message="exact copy"),
)
def _(folder, ctx):
    (folder / "dup.csv").write_text(csv_text([csv_row("CSC01", "5"), csv_row("CSC01", "5.0")]))


# ---------------------------------------------------------------------------
# Returns: CSV structure
# ---------------------------------------------------------------------------


@case("csv-two-numerator-columns", "returns", "two.csv", Expect("unreadable", {"F11"}))
def _(folder, ctx):
    header = [*RETURN_CSV_COLUMNS, "Numerator"]
    (folder / "two.csv").write_text(csv_text([[*csv_row("CSC01", "5"), "6"]], header=header))


@case("csv-spaced-header", "returns", "h.csv", Expect("read", set(), accepted=2))
def _(folder, ctx):
    header = [c.replace("_", " ").title() for c in RETURN_CSV_COLUMNS]
    header[header.index("Item Id")] = "Item ID"
    rows = [csv_row("CSC01", "5"), csv_row("CSC03", "6")]
    (folder / "h.csv").write_text(csv_text(rows, header=header))


@case("csv-reordered-and-extra-columns", "returns", "r.csv", Expect("read", accepted=2))
def _(folder, ctx):
    frame = pd.DataFrame([csv_row("CSC01", "5"), csv_row("CSC03", "6")], columns=RETURN_CSV_COLUMNS)
    frame["comments from team"] = "x"
    frame = frame[list(reversed(frame.columns))]
    frame.to_csv(folder / "r.csv", index=False)


@case(
    "csv-title-lines-and-blank-lines",
    "returns",
    "t.csv",
    Expect("read", {"V01"}, where={("V01", None, 7, "numerator")}, accepted=1, quarantined=1),
)
def _(folder, ctx):
    body = csv_text([csv_row("CSC01", "5"), csv_row("CSC03", "bad")]).split("\n")
    text = "Camden return\nQ1 2024-25\n" + body[0] + "\n\n" + body[1] + "\n\n" + body[2] + "\n"
    (folder / "t.csv").write_text(text)  # header line 3, rows on lines 5 and 7


@case(
    "csv-unbalanced-quote",
    "returns",
    "q.csv",
    Expect(
        "read",
        {"F10", "V01"},
        where={("F10", None, 3, "note"), ("V01", None, 5, "numerator")},
        accepted=2,
        quarantined=2,
    ),
)
def _(folder, ctx):
    rows = [
        csv_row("CSC01", "5"),
        csv_row("CSC02", "1", "2", note="QUOTE"),
        csv_row("CSC03", "6"),
        csv_row("CSC04", "oops"),
    ]
    text = csv_text(rows).replace("QUOTE", '"see the note, it says')
    (folder / "q.csv").write_text(text)


@case(
    "csv-unbalanced-quote-last-line",
    "returns",
    "q.csv",
    Expect("read", {"F10"}, where={("F10", None, 3, "note")}, accepted=1, quarantined=1),
)
def _(folder, ctx):
    rows = [csv_row("CSC01", "5"), csv_row("CSC03", "6", note="QUOTE")]
    (folder / "q.csv").write_text(csv_text(rows).replace("QUOTE", '"never closed'))


@case(
    "csv-multiline-note",
    "returns",
    "m.csv",
    Expect(
        "read",
        {"V01"},
        where={("V01", None, 4, "numerator")},
        accepted=1,
        quarantined=1,
        notes={"CSC01": "first line\nsecond line"},
    ),
)
def _(folder, ctx):
    rows = [csv_row("CSC01", "5", note="first line\nsecond line"), csv_row("CSC03", "bad")]
    (folder / "m.csv").write_text(csv_text(rows))  # row 1 on lines 2-3, row 2 on line 4


@case(
    "csv-extra-cells",
    "returns",
    "e.csv",
    Expect("read", {"F12"}, where={("F12", None, 3, None)}, accepted=1, quarantined=1),
)
def _(folder, ctx):
    text = csv_text([csv_row("CSC01", "5"), csv_row("CSC03", "6")]).rstrip("\n") + ",7,8\n"
    (folder / "e.csv").write_text(text)


@case("csv-trailing-empty-cells", "returns", "e.csv", Expect("read", absent={"F12"}, accepted=2))
def _(folder, ctx):
    text = csv_text([csv_row("CSC01", "5"), csv_row("CSC03", "6")]).replace("\n", ",,\n")
    (folder / "e.csv").write_text(text)


@case("csv-crlf", "returns", "c.csv", Expect("read", accepted=2))
def _(folder, ctx):
    rows = [csv_row("CSC01", "5"), csv_row("CSC03", "6")]
    (folder / "c.csv").write_text(csv_text(rows, newline="\r\n"), newline="")


@case(
    "csv-cr-only",
    "returns",
    "c.csv",
    Expect("read", {"V01"}, where={("V01", None, 3, "numerator")}, accepted=1),
)
def _(folder, ctx):
    rows = [csv_row("CSC01", "5"), csv_row("CSC03", "bad")]
    (folder / "c.csv").write_text(csv_text(rows, newline="\r"), newline="")


@case(
    "csv-semicolons-decimal-comma",
    "returns",
    "s.csv",
    Expect("read", {"V09"}, accepted=1, quarantined=1),
)
def _(folder, ctx):
    rows = [csv_row("CSC01", "5"), csv_row("CSC03", "6,5")]
    (folder / "s.csv").write_text(csv_text(rows, sep=";"))


@case("tsv-file", "returns", "r.tsv", Expect("read", accepted=2))
def _(folder, ctx):
    rows = [csv_row("CSC01", "5"), csv_row("CSC03", "6")]
    (folder / "r.tsv").write_text(csv_text(rows, sep="\t"))


@case("csv-utf16", "returns", "u.csv", Expect("read", accepted=2))
def _(folder, ctx):
    rows = [csv_row("CSC01", "5"), csv_row("CSC03", "6", note="café")]
    (folder / "u.csv").write_bytes(csv_text(rows, sep="\t").encode("utf-16"))


@case("csv-windows-1252", "returns", "w.csv", Expect("read", accepted=1))
def _(folder, ctx):
    (folder / "w.csv").write_bytes(
        csv_text([csv_row("CSC01", "5", note="£ café")]).encode("cp1252")
    )


@case("csv-bom", "returns", "b.csv", Expect("read", accepted=1))
def _(folder, ctx):
    (folder / "b.csv").write_bytes(b"\xef\xbb\xbf" + csv_text([csv_row("CSC01", "5")]).encode())


@case("csv-header-only", "returns", "h.csv", Expect("unreadable", {"F04"}))
def _(folder, ctx):
    (folder / "h.csv").write_text(",".join(RETURN_CSV_COLUMNS) + "\n")


@case("csv-with-nul", "returns", "n.csv", Expect("unreadable", {"F01"}))
def _(folder, ctx):
    (folder / "n.csv").write_bytes(csv_text([csv_row("CSC01", "5")]).encode() + b"\x00\x00")


@case("csv-undecodable", "returns", "x.csv", Expect("unreadable", {"F01"}))
def _(folder, ctx):
    (folder / "x.csv").write_bytes(csv_text([csv_row("CSC01", "5")]).encode() + b"\x81\x8d\xff")


@case("csv-missing-columns", "returns", "m.csv", Expect("not a return", {"F03"}))
def _(folder, ctx):
    (folder / "m.csv").write_text("la,item,figure\nCamden,CSC01,5\n")


@case(
    "csv-too-many-rows",
    "returns",
    "big.csv",
    Expect("unreadable", {"F07"}),
    limits=ReadLimits(max_rows_per_sheet=100),
)
def _(folder, ctx):
    (folder / "big.csv").write_text(csv_text([csv_row("CSC01", str(i)) for i in range(200)]))


@case(
    "csv-too-large",
    "returns",
    "big.csv",
    Expect("unreadable", {"F09"}),
    limits=ReadLimits(max_unpacked_bytes=2_000),
)
def _(folder, ctx):
    (folder / "big.csv").write_text(csv_text([csv_row("CSC01", str(i)) for i in range(60)]))


@case(
    "csv-too-many-cells",
    "returns",
    "big.csv",
    Expect("unreadable", {"F08"}),
    limits=ReadLimits(max_cells_per_file=200),
)
def _(folder, ctx):
    (folder / "big.csv").write_text(csv_text([csv_row("CSC01", str(i)) for i in range(30)]))


# ---------------------------------------------------------------------------
# Returns: workbooks
# ---------------------------------------------------------------------------


@case(
    "xlsx-damaged-sheet-xml",
    "returns",
    "dmg.xlsx",
    Expect("partly read", {"F05"}, where={("F05", HEALTH, None, None)}, accepted=4),
)
def _(folder, ctx):
    path = write_template(folder / "dmg.xlsx", ctx["items"])
    rewrite_member(path, sheet_member(path, HEALTH), lambda b: b[: len(b) // 2])


@case(
    "xlsx-garbage-sheet",
    "returns",
    "dmg.xlsx",
    Expect("partly read", {"F05"}, where={("F05", CSC, None, None)}, accepted=1),
)
def _(folder, ctx):
    path = write_template(folder / "dmg.xlsx", ctx["items"])
    rewrite_member(path, sheet_member(path, CSC), lambda b: b"\x00\xff<worksheet" + b[:40])


@case("xlsx-inserted-column", "returns", "ins.xlsx", Expect("read", absent={"F05"}, accepted=5))
def _(folder, ctx):
    path = write_template(folder / "ins.xlsx", ctx["items"])
    edit_workbook(path, lambda wb: wb[CSC].insert_cols(1))


@case(
    "xlsx-header-case-and-spacing",
    "returns",
    "hdr.xlsx",
    Expect("read", absent={"F05"}, accepted=5, values={"CSC01": 100.0}),
)
def _(folder, ctx):
    def edit(wb):
        for sheet in (CSC, HEALTH):
            wb[sheet]["A6"], wb[sheet]["E6"] = "Item ID", "  NUMERATOR "

    edit_workbook(write_template(folder / "hdr.xlsx", ctx["items"]), edit)


@case(
    "xlsx-rows-inserted-above-header",
    "returns",
    "rows.xlsx",
    Expect("read", {"V01"}, where={("V01", CSC, 10, "numerator")}, accepted=4),
)
def _(folder, ctx):
    def edit(wb):
        wb[CSC]["E7"] = "bad"
        wb[CSC].insert_rows(1, 3)

    edit_workbook(write_template(folder / "rows.xlsx", ctx["items"]), edit)


@case(
    "xlsx-agency-sheet-deleted",
    "returns",
    "del.xlsx",
    Expect("partly read", {"F06"}, where={("F06", HEALTH, None, None)}, accepted=4),
)
def _(folder, ctx):
    path = write_template(folder / "del.xlsx", ctx["items"])
    edit_workbook(path, lambda wb: wb.remove(wb[HEALTH]))


@case(
    "xlsx-agency-sheet-renamed", "returns", "ren.xlsx", Expect("partly read", {"F06"}, accepted=5)
)
def _(folder, ctx):
    def edit(wb):
        wb[HEALTH].title = "Health data"

    edit_workbook(write_template(folder / "ren.xlsx", ctx["items"]), edit)


@case(
    "xlsx-extra-notes-sheet",
    "returns",
    "notes.xlsx",
    Expect("read", {"F13"}, where={("F13", "Notes", None, None)}, accepted=5),
)
def _(folder, ctx):
    def edit(wb):
        ws = wb.create_sheet("Notes")
        ws["A1"], ws["B2"] = "Our notes", 17

    edit_workbook(write_template(folder / "notes.xlsx", ctx["items"]), edit)


@case("xlsx-meta-deleted", "returns", "nometa.xlsx", Expect("not a return", {"F03"}))
def _(folder, ctx):
    path = write_template(folder / "nometa.xlsx", ctx["items"])
    edit_workbook(path, lambda wb: wb.remove(wb["_meta"]))


@case(
    "xlsx-meta-other-authority",
    "returns",
    "meta.xlsx",
    Expect("read", {"R03"}, where={("R03", CSC, 7, "new_la_code")}, accepted=0, quarantined=5),
)
def _(folder, ctx):
    def edit(wb):
        for row in wb["_meta"].iter_rows():
            key = row[0].value
            if key in BARKING:
                row[1].value = BARKING[key]

    edit_workbook(write_template(folder / "meta.xlsx", ctx["items"]), edit)


@case(
    "xlsx-meta-other-period",
    "returns",
    "meta.xlsx",
    Expect("read", {"R03"}, accepted=0, quarantined=5, message="2024-25 Q1"),
)
def _(folder, ctx):
    def edit(wb):
        for row in wb["_meta"].iter_rows():
            if row[0].value == "period":
                row[1].value = "2024-25 Q2"

    edit_workbook(write_template(folder / "meta.xlsx", ctx["items"]), edit)


@case(
    "xlsx-formula-without-value",
    "returns",
    "f.xlsx",
    Expect("read", {"V08"}, where={("V08", CSC, 7, "numerator")}, accepted=4, quarantined=1),
)
def _(folder, ctx):
    edit_workbook(write_template(folder / "f.xlsx", ctx["items"]), set_cell(CSC, "E7", "=60+40"))


@case(
    "xlsx-formula-with-saved-value",
    "returns",
    "f.xlsx",
    Expect("read", absent={"V08"}, accepted=5, values={"CSC01": 100.0}),
)
def _(folder, ctx):
    path = write_template(folder / "f.xlsx", ctx["items"])
    edit_workbook(path, set_cell(CSC, "E7", "=60+40"))
    rewrite_member(
        path,
        sheet_member(path, CSC),
        lambda b: b.replace(b"<f>60+40</f><v></v>", b"<f>60+40</f><v>100</v>"),
    )


@case(
    "xlsx-numerator-column-twice",
    "returns",
    "two.xlsx",
    Expect("partly read", {"F11"}, where={("F11", CSC, None, None)}, accepted=1),
)
def _(folder, ctx):
    edit_workbook(
        write_template(folder / "two.xlsx", ctx["items"]), set_cell(CSC, "H6", "Numerator")
    )


@case(
    "xlsx-agency-sheet-without-header",
    "returns",
    "nohdr.xlsx",
    Expect("partly read", {"F05"}, where={("F05", HEALTH, None, None)}, accepted=4),
)
def _(folder, ctx):
    path = write_template(folder / "nohdr.xlsx", ctx["items"])
    edit_workbook(path, set_cell(HEALTH, "A6", None))


@case(
    "xlsx-extra-sheet-declares-3m-rows",
    "returns",
    "huge.xlsx",
    Expect("partly read", {"F07"}, where={("F07", "Big", None, None)}, accepted=5),
)
def _(folder, ctx):
    def edit(wb):
        ws = wb.create_sheet("Big")
        for r in range(1, 4):
            ws.cell(row=r, column=1, value=r)

    path = write_template(folder / "huge.xlsx", ctx["items"])
    edit_workbook(path, edit)
    set_dimension(path, "Big", "A1:C3000000")


@case(
    "xlsx-lying-dimension-many-rows",
    "returns",
    "lie.xlsx",
    Expect("partly read", {"F07"}, where={("F07", CSC, None, None)}, accepted=1),
    limits=ReadLimits(max_rows_per_sheet=500),
)
def _(folder, ctx):
    def edit(wb):
        for r in range(11, 1500):
            wb[CSC].cell(row=r, column=7, value="padding")

    path = write_template(folder / "lie.xlsx", ctx["items"])
    edit_workbook(path, edit)
    set_dimension(path, CSC, "A1:G10")


@case(
    "xlsx-rows-beyond-dimension-are-read",
    "returns",
    "lie.xlsx",
    Expect("read", {"R01"}, accepted=5, quarantined=1),
)
def _(folder, ctx):
    path = write_template(folder / "lie.xlsx", ctx["items"])
    edit_workbook(path, lambda wb: wb[CSC].append(["ZZZ9", "", "", "", 5]))
    set_dimension(path, CSC, "A1:G10")


@case(
    "xlsx-too-many-cells",
    "returns",
    "cells.xlsx",
    Expect("unreadable", {"F08"}),
    limits=ReadLimits(max_cells_per_file=50),
)
def _(folder, ctx):
    write_template(folder / "cells.xlsx", ctx["items"])


@case(
    "xlsx-unpacked-too-large",
    "returns",
    "zip.xlsx",
    Expect("unreadable", {"F09"}),
    limits=ReadLimits(max_unpacked_bytes=5_000_000),
)
def _(folder, ctx):
    path = write_template(folder / "zip.xlsx", ctx["items"])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.bin", b"\0" * 8_000_000)  # a zip bomb in miniature


@case("xlsx-renamed-csv", "returns", "camden.csv", Expect("read", accepted=5))
def _(folder, ctx):
    write_template(folder / "camden.xlsx", ctx["items"]).rename(folder / "camden.csv")


@case("csv-renamed-xlsx", "returns", "camden.xlsx", Expect("unreadable", {"F01"}))
def _(folder, ctx):
    (folder / "camden.xlsx").write_text(csv_text([csv_row("CSC01", "5")]))


@case("xlsx-truncated", "returns", "cut.xlsx", Expect("unreadable", {"F01"}))
def _(folder, ctx):
    path = write_template(folder / "cut.xlsx", ctx["items"])
    path.write_bytes(path.read_bytes()[:3000])


@case("xlsx-random-bytes", "returns", "rnd.xlsx", Expect("unreadable", {"F01"}))
def _(folder, ctx):
    (folder / "rnd.xlsx").write_bytes(b"PK\x03\x04" + random_bytes(4000, 1))


@case("csv-random-bytes", "returns", "rnd.csv", Expect("unreadable", {"F01"}))
def _(folder, ctx):
    (folder / "rnd.csv").write_bytes(random_bytes(4000, 2))


@case("zip-not-workbook", "returns", "z.xlsx", Expect("unreadable", {"F01"}))
def _(folder, ctx):
    with zipfile.ZipFile(folder / "z.xlsx", "w") as zf:
        zf.writestr("a.txt", "hello")


def _ods_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    return buf.getvalue()


@case("ods-file", "returns", "r.ods", Expect("unreadable", {"F01"}, message="OpenDocument"))
def _(folder, ctx):
    (folder / "r.ods").write_bytes(_ods_bytes())


@case("ods-named-xlsx", "returns", "r.xlsx", Expect("unreadable", {"F01"}, message="OpenDocument"))
def _(folder, ctx):
    (folder / "r.xlsx").write_bytes(_ods_bytes())


@case("xlsb-file", "returns", "r.xlsb", Expect("unreadable", {"F01"}, message=".xlsb"))
def _(folder, ctx):
    (folder / "r.xlsb").write_bytes(b"PK\x03\x04" + random_bytes(200, 3))


@case("old-xls", "returns", "old.xls", Expect("unreadable", {"F01"}, message=".xls"))
def _(folder, ctx):
    (folder / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)


@case("encrypted-xlsx", "returns", "locked.xlsx", Expect("unreadable", {"F02"}))
def _(folder, ctx):
    plain = write_template(folder / "plain.tmp", ctx["items"])
    office = msoffcrypto.OfficeFile(io.BytesIO(plain.read_bytes()))
    with (folder / "locked.xlsx").open("wb") as out:
        office.encrypt("secret", out)
    plain.unlink()


@case("empty-xlsx", "returns", "e.xlsx", Expect("unreadable", {"F04"}))
def _(folder, ctx):
    (folder / "e.xlsx").write_bytes(b"")


@case("empty-csv", "returns", "e.csv", Expect("unreadable", {"F04"}))
def _(folder, ctx):
    (folder / "e.csv").write_bytes(b"")


@case("blank-lines-csv", "returns", "e.csv", Expect("unreadable", {"F04"}))
def _(folder, ctx):
    (folder / "e.csv").write_text("\n\n   \n\n")


@case("dangling-symlink", "returns", "gone.xlsx", Expect("unreadable", {"F01"}, message="link"))
def _(folder, ctx):
    (folder / "gone.xlsx").symlink_to(folder / "nowhere.xlsx")


@case("symlink-to-return", "returns", "link.csv", Expect("read", accepted=1))
def _(folder, ctx):
    target = folder.parent / f"{folder.name}-outside.csv"
    target.write_text(csv_text([csv_row("CSC03", "5")]))
    (folder / "link.csv").symlink_to(target)


@case("symlink-to-folder", "returns", "loop", Expect("not a return"))
def _(folder, ctx):
    (folder / "loop").symlink_to(folder, target_is_directory=True)


@case("sub-folder", "returns", "archive", Expect("not a return"))
def _(folder, ctx):
    (folder / "archive").mkdir()


@case("return-in-sub-folder", "returns", "archive/old.csv", Expect("not read", accepted=0))
def _(folder, ctx):
    (folder / "archive").mkdir()
    (folder / "archive" / "old.csv").write_text(csv_text([csv_row("CSC03", "5")]))


@case("folder-named-csv", "returns", "q1.csv", Expect("not a return"))
def _(folder, ctx):
    (folder / "q1.csv").mkdir()


@case("excel-lock-file", "returns", "~$camden.xlsx", Expect("not a return", absent={"F01"}))
def _(folder, ctx):
    (folder / "~$camden.xlsx").write_bytes(b"\x0bAnn Rater" + b"\x20" * 40 + random_bytes(100, 4))


@case("hidden-file", "returns", ".DS_Store", Expect("not a return", absent={"F01"}))
def _(folder, ctx):
    (folder / ".DS_Store").write_bytes(random_bytes(64, 5))


@case("readme", "returns", "README.md", Expect("not a return", absent={"F01"}))
def _(folder, ctx):
    (folder / "README.md").write_text("# what these files are\n")


@case("pdf", "returns", "scan.pdf", Expect("not a return", {"F01"}))
def _(folder, ctx):
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4\n" + random_bytes(100, 6))


@case("named-pipe", "returns", "pipe.csv", Expect("unreadable", {"F01"}, message="pipe"))
def _(folder, ctx):
    os.mkfifo(folder / "pipe.csv")


# ---------------------------------------------------------------------------
# Phase 2 instruments
# ---------------------------------------------------------------------------


def write_instrument(path: Path, ctx: dict) -> Path:
    from lscb_nb.assessment import instrument

    instrument.write_instrument(path, "Camden", ctx["instrument_items"], ctx["criteria"])
    wb = load_workbook(path)
    ws = wb[instrument.SHEET]
    for value, row in zip(
        ("Ann Rater", "Designated nurse", "health"), instrument.RATER_ROWS.values(), strict=True
    ):
        ws.cell(row=row, column=2).value = value
    first = len(instrument.ITEM_COLUMNS) + 1
    for r in range(instrument.HEADER_ROW + 1, ws.max_row + 1):
        for j in range(len(ctx["criteria"].criteria)):
            ws.cell(row=r, column=first + j).value = 3
    wb.save(path)
    return path


@case("instrument-damaged-sheet", "instruments", "hackney.xlsx", Expect("unreadable", {"I01"}))
def _(folder, ctx):
    path = write_instrument(folder / "hackney.xlsx", ctx)
    rewrite_member(path, sheet_member(path, "Ratings"), lambda b: b[: len(b) // 2])


@case("instrument-random-bytes", "instruments", "hackney.xlsx", Expect("unreadable", {"I01"}))
def _(folder, ctx):
    (folder / "hackney.xlsx").write_bytes(b"PK\x03\x04" + random_bytes(3000, 7))


@case("instrument-empty", "instruments", "hackney.xlsx", Expect("unreadable", {"I01"}))
def _(folder, ctx):
    (folder / "hackney.xlsx").write_bytes(b"")


@case("instrument-dangling-link", "instruments", "hackney.xlsx", Expect("unreadable", {"I01"}))
def _(folder, ctx):
    (folder / "hackney.xlsx").symlink_to(folder / "nowhere.xlsx")


@case("instrument-huge-sheet", "instruments", "hackney.xlsx", Expect("unreadable", {"I01"}))
def _(folder, ctx):
    path = write_instrument(folder / "hackney.xlsx", ctx)
    set_dimension(path, "Ratings", "A1:M3000000")


@case("instrument-no-ratings-sheet", "instruments", "hackney.xlsx", Expect("unreadable", {"I02"}))
def _(folder, ctx):
    wb = Workbook()
    wb.active.title = "Scores"
    wb.save(folder / "hackney.xlsx")


@case("instrument-ods", "instruments", "hackney.xlsx", Expect("unreadable", {"I01"}))
def _(folder, ctx):
    (folder / "hackney.xlsx").write_bytes(_ods_bytes())


@case(
    "instrument-zip-bomb",
    "instruments",
    "hackney.xlsx",
    Expect("unreadable", {"I01"}),
    limits=ReadLimits(max_unpacked_bytes=5_000_000),
)
def _(folder, ctx):
    path = write_instrument(folder / "hackney.xlsx", ctx)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.bin", b"\0" * 8_000_000)


@case("instrument-lock-file", "instruments", "~$hackney.xlsx", Expect("absent"))
def _(folder, ctx):
    (folder / "~$hackney.xlsx").write_bytes(b"\x0bAnn" + random_bytes(150, 8))


# ---------------------------------------------------------------------------
# Phase 1 catalogues (boroughs' current datasets)
# ---------------------------------------------------------------------------


def write_catalogue(path: Path, sheets: dict[str, list[list]] | None = None) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in (sheets or {"Dataset": CATALOGUE_ROWS}).items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


CATALOGUE_ROWS = [
    ["Indicator", "Definition", "Source"],
    ["Referrals to children's social care", "Count in the quarter", "CSC"],
    ["Children on a child protection plan", "At the quarter end", "CSC"],
]


@case(
    "catalogue-damaged-sheet",
    "catalogue",
    "Hackney_dataset.xlsx",
    Expect("partly read", where={("Broken",)}),
)
def _(folder, ctx):
    path = write_catalogue(
        folder / "Hackney_dataset.xlsx", {"Good": CATALOGUE_ROWS, "Broken": CATALOGUE_ROWS}
    )
    rewrite_member(path, sheet_member(path, "Broken"), lambda b: b[: len(b) // 2])


@case("catalogue-random-bytes", "catalogue", "Hackney.xlsx", Expect("unreadable"))
def _(folder, ctx):
    (folder / "Hackney.xlsx").write_bytes(b"PK\x03\x04" + random_bytes(3000, 9))


@case("catalogue-empty-csv", "catalogue", "Hackney.csv", Expect("unreadable"))
def _(folder, ctx):
    (folder / "Hackney.csv").write_bytes(b"")


@case("catalogue-ods", "catalogue", "Hackney.ods", Expect("unreadable"))
def _(folder, ctx):
    (folder / "Hackney.ods").write_bytes(_ods_bytes())


@case("catalogue-dangling-link", "catalogue", "Hackney.xlsx", Expect("unreadable"))
def _(folder, ctx):
    (folder / "Hackney.xlsx").symlink_to(folder / "nowhere.xlsx")


@case(
    "catalogue-huge-sheet",
    "catalogue",
    "Hackney_dataset.xlsx",
    Expect("partly read", where={("Big",)}),
)
def _(folder, ctx):
    path = write_catalogue(
        folder / "Hackney_dataset.xlsx", {"Good": CATALOGUE_ROWS, "Big": CATALOGUE_ROWS}
    )
    set_dimension(path, "Big", "A1:C3000000")


@case("catalogue-unbalanced-quote", "catalogue", "Hackney.csv", Expect("read", where={(None,)}))
def _(folder, ctx):
    (folder / "Hackney.csv").write_text(
        'Indicator,Definition,Source\n"Referrals,count,CSC\nPlans,"at the end",CSC\n'
    )


@case("catalogue-lock-file", "catalogue", "~$Hackney.xlsx", Expect("absent"))
def _(folder, ctx):
    (folder / "~$Hackney.xlsx").write_bytes(b"\x0bAnn" + random_bytes(150, 10))


@case("catalogue-renamed-csv", "catalogue", "Hackney.csv", Expect("read"))
def _(folder, ctx):
    write_catalogue(folder / "Hackney.xlsx").rename(folder / "Hackney.csv")
