"""Reading completed assessment instruments into one tidy table of ratings and an issue table.

The same discipline as the returns reader: every problem has a file, sheet, row,
column, code and message, and a rating that cannot be used is quarantined with its
reason, never dropped. The instrument itself (criteria, layout, writer) is
``instrument``; turning score cells into ratings is ``scores``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lscb_nb.assessment.instrument import (
    HEADER_ROW,
    RATER_ROWS,
    SHEET,
    Criteria,
    load_criteria,
)
from lscb_nb.assessment.scores import cell_text, ratings_from_cells, score_cells
from lscb_nb.core.inputfiles import (
    DEFAULT_LIMITS,
    InputFileError,
    ReadLimits,
    describe_error,
    read_head,
)
from lscb_nb.core.returnformat import AGENCIES
from lscb_nb.core.rules import concat_issues, file_issue, issue_frame, issues_for, rules_for
from lscb_nb.core.rules import get as rule_named
from lscb_nb.core.rules.instrument_rules import (
    InstrumentContext,
)
from lscb_nb.core.workbooks import check_sheet_sizes, open_workbook, sheet_rows

log = logging.getLogger(__name__)


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

    rater = {k: cell_text(at(r, 2)) for k, r in RATER_ROWS.items()}
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

    header = [cell_text(v) for v in (rows[HEADER_ROW - 1] if len(rows) >= HEADER_ROW else [])]
    col = {name: j for j, name in enumerate(header) if name}
    ids = list(criteria.criteria["id"])
    missing_cols = [c for c in ["item_id", *ids] if c not in col]
    if missing_cols:
        return None, [
            *issues,
            _issue(
                path.name,
                "I02",
                f"The header row {HEADER_ROW} lacks the "
                f"{'column' if len(missing_cols) == 1 else 'columns'} {', '.join(missing_cols)}.",
                la,
                SHEET,
                HEADER_ROW,
            ),
        ]
    cells, blank = score_cells(rows, col, ids, criteria, path.name, la)
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
    good, bad = ratings_from_cells(cells, ctx, criteria, unattributable, base)
    return {"ratings": good, "quarantined": bad, "blank": blank, "rater": rater, "la": la}, issues


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
