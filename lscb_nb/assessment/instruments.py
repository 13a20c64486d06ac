"""The phase 2 assessment instrument: writing it, and reading completed ones.

Raters in each borough (LSCB development officer, police, health, children's
social care...) score every item's accessibility and usefulness on the anchored
scales of ``lscb_nb/data/instrument/criteria.yaml``. The reader turns a folder of
completed workbooks into one tidy table of ratings and an issue table with the
same discipline as the returns reader: every problem has a file, sheet, row,
column, code and message, and a rating that cannot be used is quarantined with
its reason, never dropped.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from lscb_nb.core import config
from lscb_nb.core.config import SYNTHETIC_NOTE
from lscb_nb.core.fileio import write_atomic
from lscb_nb.core.inputfiles import (
    DEFAULT_LIMITS,
    InputFileError,
    ReadLimits,
    check_sheet_sizes,
    describe_error,
    open_workbook,
    read_head,
    sheet_rows,
)
from lscb_nb.core.returnformat import AGENCIES
from lscb_nb.core.rules import concat_issues, file_issue, issue_frame, issues_for, rules_for
from lscb_nb.core.rules import get as rule_named
from lscb_nb.core.rules.instrument_rules import (
    InstrumentContext,
    is_dont_know,
    item_twice,
    not_a_score,
    off_the_scale,
    to_number,
    unknown_item,
)

log = logging.getLogger(__name__)

CRITERIA_FILE = config.INSTRUMENT_DIR / "criteria.yaml"
SHEET = "Ratings"
RATER_ROWS = {"name": 3, "role": 4, "agency": 5}  # rows of the rater block (column B)
HEADER_ROW = 7
ITEM_COLUMNS = ["item_id", "title", "definition", "agency"]
DIMENSIONS = ("accessibility", "usefulness")

# Issue codes I01-I09 are declared in lscb_nb.core.rules.instrument_rules.
RATING_COLUMNS = [
    "la_code_ons",
    "rater_id",
    "rater_name",
    "rater_role",
    "rater_agency",
    "item_id",
    "criterion",
    "dimension",
    "score",
    "dont_know",
    "system",
    "comment",
    "file",
    "row",
]


@dataclass
class Criteria:
    criteria: pd.DataFrame  # id, dimension, question, scale
    anchors: pd.DataFrame  # scale, score, anchor
    dont_know: str

    def scores(self, criterion: str) -> list[int]:
        scale = self.criteria.set_index("id").at[criterion, "scale"]
        return sorted(self.anchors.loc[self.anchors["scale"] == scale, "score"])


def load_criteria(path: Path | str = CRITERIA_FILE) -> Criteria:
    """Read and check the criteria file; a ValueError lists every problem."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    problems = []
    scales = raw.get("scales") or {}
    for name, points in scales.items():
        keys = sorted(points)
        if keys != list(range(1, len(keys) + 1)):
            problems.append(f"scale {name!r}: points must be 1, 2, 3... without gaps; got {keys}.")
        for k, text in points.items():
            if not str(text).strip():
                problems.append(f"scale {name!r}: point {k} has no anchor description.")
    seen = set()
    for c in raw.get("criteria") or []:
        cid = c.get("id")
        if cid in seen:
            problems.append(f"criterion {cid!r} is defined twice.")
        seen.add(cid)
        if c.get("dimension") not in DIMENSIONS:
            problems.append(f"criterion {cid!r}: dimension must be one of {', '.join(DIMENSIONS)}.")
        if c.get("scale") not in scales:
            problems.append(f"criterion {cid!r}: unknown scale {c.get('scale')!r}.")
    if problems:
        raise ValueError(f"{Path(path).name}: " + " ".join(problems))
    criteria = pd.DataFrame(raw["criteria"])[["id", "dimension", "question", "scale"]]
    anchors = pd.DataFrame(
        [
            {"scale": s, "score": int(k), "anchor": str(t)}
            for s, points in scales.items()
            for k, t in points.items()
        ]
    )
    return Criteria(criteria, anchors, str(raw.get("dont_know", "DK")))


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def write_instrument(
    path: Path | str,
    la_name: str,
    items: pd.DataFrame,
    criteria: Criteria,
    synthetic: bool = False,
) -> Path:
    """A blank instrument for one borough, with a drop-down on every score cell."""
    wb = Workbook()
    info = wb.active
    info.title = "Instructions"
    lines = [
        f"LSCB Datasets Project, phase 2: assessing the dataset's items ({la_name})",
        "",
        "Fill in your name, role and agency at the top of the Ratings sheet.",
        "Score every item on each criterion from the drop-down: 1 (lowest) to 4 (highest),",
        f"or {criteria.dont_know} if you do not know. The Scales sheet describes every point.",
        "Name the system the figure would come from in the System column, and add any comment.",
        "",
        "Criteria:",
    ]
    lines += [f"  {c.id} ({c.dimension}): {c.question}" for c in criteria.criteria.itertuples()]
    if synthetic:
        lines.insert(0, SYNTHETIC_NOTE)
    for i, text in enumerate(lines, start=1):
        info.cell(row=i, column=1, value=text)
    info.column_dimensions["A"].width = 110
    info["A1"].font = Font(bold=True, color="C00000" if synthetic else "000000")

    scales = wb.create_sheet("Scales")
    scales.append(["criterion", "dimension", "score", "what the score means"])
    for c in criteria.criteria.itertuples():
        for a in criteria.anchors.loc[criteria.anchors["scale"] == c.scale].itertuples():
            scales.append([c.id, c.dimension, a.score, a.anchor])
    scales.append(
        [criteria.dont_know, "", "", "Don't know: counted as missing, not as a low score."]
    )
    for col, width in zip("ABCD", (18, 14, 7, 80), strict=True):
        scales.column_dimensions[col].width = width

    ws = wb.create_sheet(SHEET)
    ws["A1"] = f"{SYNTHETIC_NOTE if synthetic else 'Assessment instrument'} ({la_name})"
    ws["A1"].font = Font(bold=True, color="C00000" if synthetic else "000000")
    for label, row in RATER_ROWS.items():
        ws.cell(row=row, column=1, value=f"Rater {label}").font = Font(bold=True)
        ws.cell(row=row, column=2).fill = PatternFill("solid", fgColor="FFF2CC")
    agency_list = DataValidation(
        type="list", formula1='"' + ",".join(AGENCIES) + '"', allow_blank=False
    )
    ws.add_data_validation(agency_list)
    agency_list.add(f"B{RATER_ROWS['agency']}")

    ids = list(criteria.criteria["id"])
    header = [*ITEM_COLUMNS, *ids, "system", "comment"]
    for j, name in enumerate(header, start=1):
        cell = ws.cell(row=HEADER_ROW, column=j, value=name)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    first, last = HEADER_ROW + 1, HEADER_ROW + len(items)
    for i, (item_id, item) in enumerate(items.iterrows(), start=first):
        for j, value in enumerate([item_id, item["title"], item["definition"], item["agency"]], 1):
            cell = ws.cell(row=i, column=j, value=value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for k, cid in enumerate(ids):
        col = get_column_letter(len(ITEM_COLUMNS) + 1 + k)
        options = [str(s) for s in criteria.scores(cid)] + [criteria.dont_know]
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(options) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Not on the scale",
            error=f"Choose {', '.join(options)} (see the Scales sheet).",
            promptTitle=cid,
            prompt="; ".join(
                f"{a.score}: {a.anchor}"
                for a in criteria.anchors.loc[
                    criteria.anchors["scale"] == criteria.criteria.set_index("id").at[cid, "scale"]
                ].itertuples()
            )[:255],
        )
        ws.add_data_validation(dv)
        dv.add(f"{col}{first}:{col}{last}")
        ws.column_dimensions[col].width = 11
    for col, width in zip("ABCD", (9, 34, 60, 16), strict=True):
        ws.column_dimensions[col].width = width
    ws.column_dimensions[get_column_letter(len(header) - 1)].width = 22
    ws.column_dimensions[get_column_letter(len(header))].width = 40
    ws.freeze_panes = ws.cell(row=first, column=len(ITEM_COLUMNS) + 1)
    return write_atomic(path, wb.save)


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def _issue(file: str, code: str, message: str, la: str | None, sheet=None, row=None, column=None):
    """One row of the shared issue table (:mod:`lscb_nb.core.rules.issues`)."""
    return file_issue(
        file, code, sheet=sheet, row=row, column=column, la_code_ons=la, message=message
    )


def _authority(path: Path, title: object, table: pd.DataFrame | None = None) -> str | None:
    """The rater's authority: its name in the file name or the title, else an ONS code."""
    from lscb_nb.core import reference

    table = reference.authorities() if table is None else table
    text = f"{path.stem} {title or ''}".lower().replace("_", " ")
    for name in sorted(table["la_name"], key=len, reverse=True):
        if name.lower() in text:
            return str(table.loc[table["la_name"] == name, "la_code_ons"].iloc[0])
    m = re.search(r"E0[6-9]\d{6}|E10\d{6}", text.upper())
    return m.group(0) if m else None


def _cell(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _read_one(
    path: Path,
    items: pd.DataFrame,
    criteria: Criteria,
    limits: ReadLimits = DEFAULT_LIMITS,
    authorities: pd.DataFrame | None = None,
):
    """Ratings, quarantined ratings, issues and the blank-row count of one file."""
    issues: list[dict] = []
    head = read_head(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return None, [
            _issue(
                path.name,
                "I01",
                "The workbook is password-protected (or an old .xls); send an unprotected .xlsx.",
                _authority(path, None, authorities),
            )
        ]
    if not head.startswith(b"PK"):
        return None, [
            _issue(
                path.name,
                "I01",
                "Not an Excel workbook (the file is not .xlsx inside).",
                _authority(path, None, authorities),
            )
        ]
    try:
        wb = open_workbook(path, limits)
    except InputFileError as exc:
        return None, [
            _issue(
                path.name,
                "I01",
                f"The workbook could not be opened ({rule_named(exc.code).title}: {exc.detail}).",
                _authority(path, None, authorities),
            )
        ]
    try:
        if SHEET not in wb.sheetnames:
            return None, [
                _issue(
                    path.name,
                    "I02",
                    f"There is no sheet called {SHEET!r}; sheets are: {', '.join(wb.sheetnames)}.",
                    _authority(path, None, authorities),
                )
            ]
        try:
            sized = check_sheet_sizes(wb, [SHEET], limits)
            if SHEET in sized:
                raise sized[SHEET]
            rows = [list(r) for r in sheet_rows(wb[SHEET], limits)]
        except Exception as exc:  # a damaged or oversized sheet raises many types
            detail = (
                f"{rule_named(exc.code).title}: {exc.detail}"
                if isinstance(exc, InputFileError)
                else describe_error(exc)
            )
            return None, [
                _issue(
                    path.name,
                    "I01",
                    f"The {SHEET!r} sheet could not be read ({detail}).",
                    _authority(path, None, authorities),
                    SHEET,
                )
            ]
    finally:
        wb.close()
    title = rows[0][0] if rows and rows[0] else None
    la = _authority(path, title, authorities)

    def at(r: int, c: int) -> object:
        return rows[r - 1][c - 1] if r - 1 < len(rows) and c - 1 < len(rows[r - 1]) else None

    rater = {k: _cell(at(r, 2)) for k, r in RATER_ROWS.items()}
    for key in ("name", "agency"):
        if rater[key] is None:
            issues.append(
                _issue(
                    path.name,
                    "I03",
                    f"The rater's {key} is missing: the ratings cannot be attributed.",
                    la,
                    SHEET,
                    RATER_ROWS[key],
                    "B",
                )
            )
    if rater["role"] is None:
        role = _issue(path.name, "I03", "The rater's role is missing.", la, SHEET, 4, "B")
        issues.append({**role, "severity": "query"})
    if rater["agency"] is not None and rater["agency"] not in AGENCIES:
        issues.append(
            _issue(
                path.name,
                "I03",
                f"Agency {rater['agency']!r} is not one of {', '.join(AGENCIES)}.",
                la,
                SHEET,
                RATER_ROWS["agency"],
                "B",
            )
        )
    unattributable = rater["name"] is None or rater["agency"] is None

    header = [_cell(v) for v in (rows[HEADER_ROW - 1] if len(rows) >= HEADER_ROW else [])]
    col = {name: j for j, name in enumerate(header) if name}
    ids = list(criteria.criteria["id"])
    missing_cols = [c for c in ["item_id", *ids] if c not in col]
    if missing_cols:
        return None, [
            *issues,
            _issue(
                path.name,
                "I02",
                f"The header row {HEADER_ROW} lacks the column(s) {', '.join(missing_cols)}.",
                la,
                SHEET,
                HEADER_ROW,
            ),
        ]
    cells, blank = _score_cells(rows, col, ids, criteria, path.name, la)
    ctx = InstrumentContext(items, {c: set(criteria.scores(c)) for c in ids}, criteria.dont_know)
    found = concat_issues(
        [
            issues_for(rule, cells, rule.check(cells, ctx))
            for rule in rules_for(None, "instrument")
            if rule.check is not None
        ]
    )
    issues += found.to_dict("records")
    base = {
        "rater_name": rater["name"],
        "rater_role": rater["role"],
        "rater_agency": rater["agency"],
    }
    good, bad = _ratings(cells, ctx, criteria, unattributable, base)
    return {"ratings": good, "quarantined": bad, "blank": blank, "rater": rater, "la": la}, issues


def _score_cells(
    rows: list[list], col: dict[str, int], ids: list[str], criteria: Criteria, file: str, la
) -> tuple[pd.DataFrame, int]:
    """The Ratings sheet's item table as one row per score cell (the frame the
    instrument rules check), and the number of wholly blank rows."""
    points = {c: ", ".join(map(str, criteria.scores(c))) for c in ids}
    letters = {c: get_column_letter(col[c] + 1) for c in ids}
    records, blank = [], 0
    for r, row in enumerate(rows[HEADER_ROW:], start=HEADER_ROW + 1):

        def get(name: str, row=row) -> object:
            j = col.get(name)
            return row[j] if j is not None and j < len(row) else None

        item_id = _cell(get("item_id"))
        raw = {c: _cell(get(c)) for c in ids}
        empty = item_id is None and all(v is None for v in raw.values())
        has_text = any(_cell(v) for v in row)
        if empty and not has_text:
            blank += 1
            continue
        shared = {
            "source_file": file,
            "source_sheet": SHEET,
            "source_row": r,
            "la_code_ons": la,
            "item_id": item_id,
            "system": _cell(get("system")),
            "comment": _cell(get("comment")),
            "empty_row": empty,
            "row_has_text": has_text,
            "row_scored": any(v is not None for v in raw.values()),
        }
        for k, c in enumerate(ids[:1] if empty else ids):
            records.append(
                {
                    **shared,
                    "first_in_row": k == 0,
                    "criterion": c,
                    "column": letters[c],
                    "raw": None if empty else raw[c],
                    "scale_text": f"{c} scale ({points[c]})",
                    "scale_points": points[c],
                }
            )
    columns = [
        "source_file", "source_sheet", "source_row", "la_code_ons", "item_id", "system",
        "comment", "empty_row", "row_has_text", "row_scored", "first_in_row", "criterion",
        "column", "raw", "scale_text", "scale_points",
    ]  # fmt: skip
    frame = pd.DataFrame(records, columns=columns).astype(
        {"empty_row": bool, "row_has_text": bool, "row_scored": bool, "first_in_row": bool}
    )
    frame["raw"] = frame["raw"].astype(object)
    return frame, blank


def _ratings(
    cells: pd.DataFrame,
    ctx: InstrumentContext,
    criteria: Criteria,
    unattributable: bool,
    base: dict,
) -> tuple[list[dict], list[dict]]:
    """Every score cell as a rating, or a quarantined rating with the first reason
    it cannot be used (the item, then the rater, then the score)."""
    rows_unknown = set(cells.loc[unknown_item(cells, ctx), "source_row"])
    rows_twice = set(cells.loc[item_twice(cells, ctx), "source_row"])
    scored = cells.loc[cells["raw"].notna()].copy()
    if scored.empty:
        return [], []
    dims = criteria.criteria.set_index("id")["dimension"]
    top = {c: max(v) for c, v in ctx.allowed.items()}
    dont_know = is_dont_know(scored, ctx)
    number = to_number(scored["raw"])
    text, raw = scored["item_id"], scored["raw"]
    reason = np.select(
        [
            scored["source_row"].isin(rows_unknown).to_numpy(),
            scored["source_row"].isin(rows_twice).to_numpy(),
            np.full(len(scored), unattributable),
            not_a_score(scored, ctx).to_numpy(),
            off_the_scale(scored, ctx).to_numpy(),
        ],
        [
            "I05: item " + text.map(repr) + " is not in the data model",
            "I09: item " + text.astype(str) + " is rated twice in this instrument",
            "I03: the rater cannot be identified",
            "I07: " + raw.map(repr) + " is not a score",
            "I06: " + raw + " is off the 1-" + scored["criterion"].map(top).astype(str) + " scale",
        ],
        default="",
    )
    valid = ~dont_know & number.notna() & ~off_the_scale(scored, ctx)
    out = pd.DataFrame(
        {
            "la_code_ons": scored["la_code_ons"],
            **{k: v for k, v in base.items()},
            "item_id": text,
            "system": scored["system"],
            "comment": scored["comment"],
            "file": scored["source_file"],
            "row": scored["source_row"],
            "criterion": scored["criterion"],
            "dimension": scored["criterion"].map(dims),
            "score": pd.Series(
                [int(n) if ok else pd.NA for n, ok in zip(number, valid, strict=True)],
                index=scored.index,
                dtype=object,
            ),
            "dont_know": dont_know.to_numpy(),
        }
    )
    records = out.to_dict("records")
    for rec, score in zip(records, out["score"], strict=True):
        rec["score"] = score  # to_dict writes pd.NA as None, which would make scores floats
    good = [rec for rec, why in zip(records, reason, strict=True) if not why]
    bad = [
        {**rec, "raw": r, "reason": why}
        for rec, r, why in zip(records, raw, reason, strict=True)
        if why
    ]
    return good, bad


@dataclass
class InstrumentResult:
    ratings: pd.DataFrame
    quarantined: pd.DataFrame
    issues: pd.DataFrame
    files: pd.DataFrame


def _safe_authority(path: Path, authorities: pd.DataFrame | None = None) -> str | None:
    try:
        return _authority(path, None, authorities)
    except Exception:
        return None


def read_instruments(
    folder: Path | str,
    items: pd.DataFrame,
    criteria: Criteria | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    authorities: pd.DataFrame | None = None,
) -> InstrumentResult:
    """Read every completed instrument in ``folder``; one bad file never stops the rest.
    ``authorities`` is the project's table (London's 33 by default)."""
    criteria = criteria or load_criteria()
    good, bad, issues, files = [], [], [], []
    raters: dict[tuple, str] = {}
    digests: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.xls*")):
        if path.name.startswith("~$"):
            continue  # Excel's lock file, left while a workbook was open: holds no ratings
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            parsed, found = _read_one(path, items, criteria, limits, authorities)
        except Exception as exc:  # whatever a hostile file provokes stays with that file
            parsed, found = (
                None,
                [
                    _issue(
                        path.name,
                        "I01",
                        f"The file could not be read ({describe_error(exc)}).",
                        _safe_authority(path, authorities),
                    )
                ],
            )
        issues += found
        if parsed is None:
            files.append(
                {
                    "file": path.name,
                    "la_code_ons": found[-1]["la_code_ons"],
                    "status": "unreadable",
                    "ratings": 0,
                    "quarantined": 0,
                    "blank_rows": 0,
                }
            )
            continue
        who = parsed["rater"]
        key = (parsed["la"], (who["name"] or "").strip().lower(), who["agency"])
        # The same file twice, or the same person (name and agency) in two files.
        duplicate = digests.get(digest) or (raters.get(key) if key[1] else None)
        if duplicate:
            issues.append(
                _issue(
                    path.name,
                    "I04",
                    f"This rater's ratings were already read from {duplicate}; "
                    "this file is held back.",
                    parsed["la"],
                    SHEET,
                    RATER_ROWS["name"],
                    "B",
                )
            )
            moved = [
                {**g, "raw": g["score"], "reason": f"I04: duplicate of {duplicate}"}
                for g in parsed["ratings"]
            ]
            parsed["quarantined"] += moved
            parsed["ratings"] = []
        else:
            digests[digest] = path.name
            if key[1]:
                raters[key] = path.name
        rater_id = f"{parsed['la']}:{key[1] or path.stem}"
        for rec in parsed["ratings"] + parsed["quarantined"]:
            rec["rater_id"] = rater_id
        good += parsed["ratings"]
        bad += parsed["quarantined"]
        files.append(
            {
                "file": path.name,
                "la_code_ons": parsed["la"],
                "status": "read" if parsed["ratings"] else "held back",
                "ratings": len(parsed["ratings"]),
                "quarantined": len(parsed["quarantined"]),
                "blank_rows": parsed["blank"],
            }
        )
    ratings = pd.DataFrame(good).reindex(columns=RATING_COLUMNS)
    ratings["score"] = ratings["score"].astype("Int64")
    return InstrumentResult(
        ratings=ratings,
        quarantined=pd.DataFrame(bad)
        .reindex(columns=[*RATING_COLUMNS, "raw", "reason"])
        .astype({"raw": str}),
        issues=issue_frame(issues),
        files=pd.DataFrame(
            files, columns=["file", "la_code_ons", "status", "ratings", "quarantined", "blank_rows"]
        ),
    )
