"""The list to send back: for one authority and period, every figure to chase.

The consultant sends it to the authority's lead: every figure that is *missing* (a
blank cell in a return received, an expected item absent, or no return at all),
*rejected* (an error: the figure cannot be used) or *queried* (please check), and
every agency sheet left empty ("nothing supplied for Health"), each with the file,
sheet, cell (``Health!E9``; ``line 9, numerator`` in a CSV) and the reason. The
rejected and queried lines are the issue table's rows for that authority and period,
one for one, so the list and the issue table agree. Written as an Excel workbook and
a CSV, cells that a spreadsheet would run as a formula (starting = + - @) neutralised.
The list quotes the authority's own cells back to it; it is not for publication.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from lscb_nb.core.fileio import write_atomic, write_text_atomic
from lscb_nb.core.returnformat import AGENCIES
from lscb_nb.core.rules import ERROR
from lscb_nb.core.values import MISSING
from lscb_nb.pilot.rawrows import cell_address

log = logging.getLogger(__name__)

FOLDER = "feedback"  # under data/processed/pilot/, and beside the reports that link it
EMPTY_SHEET = "F14"
KINDS = ("nothing supplied", "missing", "rejected", "queried")  # the order of the list
COLUMNS = [
    "la_code_ons",
    "la_name",
    "period",
    "kind",
    "item_id",
    "item_title",
    "file",
    "sheet",
    "cell",
    "rule_code",
    "reason",
]
HEADINGS = {
    "la_code_ons": "Authority code",
    "la_name": "Authority",
    "period": "Period",
    "kind": "What",
    "item_id": "Item",
    "item_title": "Item title",
    "file": "File",
    "sheet": "Sheet",
    "cell": "Cell",
    "rule_code": "Rule",
    "reason": "Reason",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def feedback_name(la_code: str, period: str) -> str:
    """The file name (without suffix) of one authority and period's list."""
    return f"feedback-{la_code}-{period.replace(' ', '-')}"


def feedback_list(
    returns: object, items: pd.DataFrame, la_code: str, la_name: str, period: str
) -> pd.DataFrame:
    """The list for ``la_code`` and ``period`` from ingested ``returns`` (an
    :class:`~lscb_nb.pilot.returns.IngestResult`) and the expected ``items``."""
    rows = pd.concat([returns.accepted, returns.quarantined], ignore_index=True)
    here = rows.loc[(rows["la_code_ons"] == la_code) & (rows["period"] == period)]
    superseded = getattr(returns, "superseded", None)
    files = set(here["source_file"])
    if superseded is not None and len(superseded):
        gone = superseded.loc[
            (superseded["la_code_ons"] == la_code) & (superseded["period"] == period)
        ]
        files |= set(gone["source_file"])
    layout = _layout(getattr(returns, "layout", None))
    issues = _issues_here(returns.issues, files, la_code, period)
    lines = [
        *_issue_lines(issues, layout, items),
        *_blank_cells(returns.accepted, la_code, period, issues, layout, items),
        *_absent_items(here, items, period, bool(files)),
    ]
    out = pd.DataFrame(lines, columns=[c for c in COLUMNS if c not in ("la_code_ons", "la_name")])
    out.insert(0, "la_name", la_name)
    out.insert(0, "la_code_ons", la_code)
    out["period"] = period
    order = {k: i for i, k in enumerate(KINDS)}
    out = out.assign(_k=out["kind"].map(order)).sort_values(
        ["_k", "file", "sheet", "item_id", "cell"], kind="stable"
    )
    return out.drop(columns="_k").reset_index(drop=True)[COLUMNS].fillna("")


def _layout(layout: pd.DataFrame | None) -> dict[tuple[str, str], str]:
    if layout is None or layout.empty:
        return {}
    return {(str(f), str(s)): str(c) for f, s, c in layout.itertuples(index=False)}


def _issues_here(issues: pd.DataFrame, files: set[str], la: str, period: str) -> pd.DataFrame:
    """The issue rows about this authority and period: those naming both, and those of
    its files that name neither (a sheet or file problem) or do not contradict them."""
    own_la = issues["la_code_ons"].isna() | (issues["la_code_ons"] == la)
    own_period = issues["period"].isna() | (issues["period"] == period)
    named = (issues["la_code_ons"] == la) & (issues["period"] == period)
    return issues.loc[named | (issues["file"].isin(files) & own_la & own_period)]


def _issue_lines(issues: pd.DataFrame, layout: dict, items: pd.DataFrame) -> list[dict]:
    out = []
    for i in issues.itertuples(index=False):
        sheet = None if pd.isna(i.sheet) else str(i.sheet)
        column = None if pd.isna(i.column) else str(i.column)
        row = None if pd.isna(i.row) else int(i.row)
        cell = (
            cell_address(sheet, row, column or "", layout.get((str(i.file), str(sheet)), ""))
            if row is not None
            else (sheet or "")
        )
        kind = (
            "nothing supplied"
            if i.rule_code == EMPTY_SHEET
            else ("rejected" if i.severity == ERROR else "queried")
        )
        item = "" if pd.isna(i.item_id) else str(i.item_id)
        out.append(_line(kind, item, items, str(i.file), sheet, cell, i.rule_code, i.message))
    return out


def _blank_cells(
    accepted: pd.DataFrame,
    la: str,
    period: str,
    issues: pd.DataFrame,
    layout: dict,
    items: pd.DataFrame,
) -> list[dict]:
    """Blank figure cells of a return received (an empty sheet is its one line)."""
    sheets = issues.loc[issues["rule_code"] == EMPTY_SHEET]
    empty = set(zip(sheets["file"].astype(str), sheets["sheet"].astype(str), strict=True))
    rows = accepted.loc[
        (accepted["la_code_ons"] == la)
        & (accepted["period"] == period)
        & (accepted["numerator_state"] == MISSING)
    ]
    out = []
    for r in rows.itertuples(index=False):
        sheet = None if pd.isna(r.source_sheet) else str(r.source_sheet)
        if (str(r.source_file), str(sheet)) in empty:
            continue
        cell = cell_address(
            sheet, r.source_row, "numerator", layout.get((str(r.source_file), str(sheet)), "")
        )
        reason = "The cell is blank: please give the figure, or a code (c, x, u, z, low)."
        out.append(_line("missing", r.item_id, items, str(r.source_file), sheet, cell, "", reason))
    return out


def _absent_items(here: pd.DataFrame, items: pd.DataFrame, period: str, received: bool):
    """Expected items with no row at all in this authority's returns for the period."""
    absent = [i for i in items.index if i not in set(here["item_id"])]
    reason = (
        "Not in the return: please add the figure, or a code (c, x, u, z, low)."
        if received
        else f"No return was received for {period}."
    )
    for item in absent:
        agency = items.at[item, "agency"] if "agency" in items.columns else ""
        sheet = AGENCIES.get(agency, "")[:31]
        yield _line("missing", item, items, "", sheet, "", "", reason)


def _line(kind, item, items, file, sheet, cell, rule_code, reason) -> dict:
    title = items.at[item, "title"] if item in items.index and "title" in items.columns else ""
    return {
        "period": "",
        "kind": kind,
        "item_id": item,
        "item_title": title,
        "file": file,
        "sheet": sheet or "",
        "cell": cell,
        "rule_code": rule_code,
        "reason": reason,
    }


def neutralised(value: object) -> str:
    """A cell's text, with a leading apostrophe where a spreadsheet would read it as
    a formula (= + - @), so a borough's text is never run."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_feedback(frame: pd.DataFrame, folder: Path, la_code: str, period: str) -> list[Path]:
    """Write the list as ``feedback-<la>-<period>.xlsx`` and ``.csv`` in ``folder``."""
    folder = Path(folder)
    base = folder / feedback_name(la_code, period)
    header = [HEADINGS[c] for c in COLUMNS]
    cells = [[neutralised(v) for v in row] for row in frame[COLUMNS].itertuples(index=False)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(cells)
    csv_path = write_text_atomic(base.with_suffix(".csv"), buffer.getvalue())

    def save(tmp: Path) -> None:
        wb = Workbook()
        ws = wb.active
        ws.title = "To send back"
        ws.append(header)
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in cells:
            ws.append(row)
            for c in ws[ws.max_row]:
                c.data_type = "s"  # text, whatever it starts with
        ws.freeze_panes = "A2"
        for j, width in enumerate((12, 22, 11, 16, 9, 40, 28, 22, 24, 6, 90), start=1):
            ws.column_dimensions[get_column_letter(j)].width = width
        wb.save(tmp)

    xlsx_path = write_atomic(base.with_suffix(".xlsx"), save)
    return [xlsx_path, csv_path]


def write_all_feedback(
    returns: object,
    items: pd.DataFrame,
    authorities: pd.DataFrame,
    la_codes: list[str],
    labels: list[str],
    folder: Path,
) -> list[Path]:
    """Every authority's list for every period into ``folder`` (phase 3's stage)."""
    names = authorities.set_index("la_code_ons")["la_name"]
    written = []
    for la in la_codes:
        for period in labels:
            frame = feedback_list(returns, items, la, str(names.get(la, la)), period)
            written += write_feedback(frame, folder, la, period)
    return written
