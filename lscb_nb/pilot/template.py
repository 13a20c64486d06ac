"""The Excel return template a borough fills in for one period.

An instructions sheet, one sheet per agency, and a hidden ``_meta`` sheet that
tells the reader which authority, period and data-model version the workbook is
for. Every input cell sits beside the item's id, title, definition and unit, and
carries Excel data validation so that a typo is caught when it is typed, not a
quarter later.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from lscb_nb.core import periods
from lscb_nb.core.config import SYNTHETIC_NOTE
from lscb_nb.core.fileio import write_atomic
from lscb_nb.core.returnformat import (
    AGENCIES,
    DATE_SENT_LABEL,
    INSTRUCTIONS_SHEET,
    META_SHEET,
    TEMPLATE_TABLE_HEADER,
    TEMPLATE_VERSION,
)
from lscb_nb.core.values import CODES

log = logging.getLogger(__name__)

HEADER_ROW = 6  # row of the table header on each agency sheet
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_GREY_FILL = PatternFill("solid", fgColor="EDEDED")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_WIDTHS = {
    "item_id": 10,
    "title": 42,
    "definition": 80,
    "unit": 14,
    "numerator": 14,
    "denominator": 14,
    "note": 40,
}
_UNIT_LABEL = {"count": "count", "percentage": "percentage", "rate_per_10k": "rate per 10,000"}


def _validation(col: str, first: int, last: int) -> DataValidation:
    """Accept a number >= 0 or one of the documented codes."""
    cell = f"{col}{first}"
    codes = ",".join(f'{cell}="{c}"' for c in ("c", "x", "u", "z", "low"))
    dv = DataValidation(
        type="custom",
        formula1=f"OR(AND(ISNUMBER({cell}),{cell}>=0),{codes})",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Not a valid figure",
        error="Enter a number of 0 or more, or a code: c (suppressed), x (not available), "
        "u (low reliability), z (not applicable), low (rounds to zero).",
        promptTitle="Figure for this period",
        prompt="A number, or c / x / u / z / low.",
        showInputMessage=True,
    )
    dv.add(f"{col}{first}:{col}{last}")
    return dv


def build_return_workbook(
    items: pd.DataFrame,
    la: Mapping[str, object],
    period: str,
    datamodel_version: str,
    values: pd.DataFrame | None = None,
    synthetic: bool = False,
    deadline: date | None = None,
    date_sent: date | None = None,
    project_name: str | None = None,
) -> Workbook:
    """Build the workbook for one authority and period.

    ``items`` is the data model's item table (index ``item_id``); ``la`` has
    ``la_code_ons``, ``la_code_dfe`` and ``la_name``. ``values`` (optional, index
    ``item_id``, columns ``numerator``, ``denominator``, ``note``) pre-fills the
    input cells: the sample generator uses it; authorities receive it blank.
    The instructions are headed with ``project_name`` (a neutral heading without one).
    input cells: the sample generator uses it; boroughs receive it blank.
    ``date_sent`` pre-fills the Instructions sheet's "Date sent" cell.
    """
    periods.parse_period(period)
    wb = Workbook()
    ins = wb.active
    ins.title = INSTRUCTIONS_SHEET
    _write_instructions(
        ins, la, period, datamodel_version, synthetic, deadline, project_name, date_sent
    )

    for agency, label in AGENCIES.items():
        agency_items = items[items["agency"] == agency]
        if agency_items.empty:
            continue
        ws = wb.create_sheet(label[:31])
        _write_agency_sheet(ws, agency_items, label, la, period, values, synthetic)

    meta = wb.create_sheet(META_SHEET)
    for key, val in (
        ("template_version", TEMPLATE_VERSION),
        ("la_code_ons", la["la_code_ons"]),
        ("la_code_dfe", int(la["la_code_dfe"])),
        ("la_name", la["la_name"]),
        ("period", period),
        ("datamodel_version", datamodel_version),
        ("synthetic", "yes" if synthetic else "no"),
    ):
        meta.append([key, val])
    meta.sheet_state = "hidden"
    return wb


def write_return_template(
    path: Path | str,
    items: pd.DataFrame,
    la: Mapping[str, object],
    period: str,
    datamodel_version: str,
    **kwargs: object,
) -> Path:
    """Write the template (or a pre-filled return) to ``path`` atomically."""
    wb = build_return_workbook(items, la, period, datamodel_version, **kwargs)  # type: ignore[arg-type]
    return write_atomic(path, wb.save)


def _write_instructions(
    ws, la, period, version, synthetic, deadline, project_name=None, date_sent=None
) -> None:
    lines = [
        (
            f"{project_name or 'Safeguarding children partnership'}: multi-agency dataset return",
            Font(bold=True, size=14),
        ),
        (f"Authority: {la['la_name']} (ONS {la['la_code_ons']}, DfE {la['la_code_dfe']})", None),
        (f"Period: {period} (quarter ending {periods.period_end(period):%d %B %Y})", None),
        (f"Data model version: {version}", None),
    ]
    if deadline:
        lines.append((f"Please return by: {deadline:%d %B %Y}", Font(bold=True)))
    lines.append((f"{DATE_SENT_LABEL}:", Font(bold=True)))
    date_row = len(lines) + (1 if synthetic else 0)
    if synthetic:
        lines.insert(0, (SYNTHETIC_NOTE, Font(bold=True, color="C00000")))
    lines += [
        ("", None),
        ("How to fill in this return", Font(bold=True)),
        (
            "1. Each agency has its own sheet. Fill in the yellow cells only; "
            "do not change item ids or add rows.",
            None,
        ),
        (
            "2. Numerator: the count defined beside it. Denominator: only where the unit is a "
            "percentage. Rates per 10,000 use ONS population figures supplied centrally.",
            None,
        ),
        ("3. If a figure cannot be given, write a code instead of leaving it blank:", None),
    ]
    lines += [
        (f"      {code}  =  {reason}", None)
        for code, (_, reason) in CODES.items()
        if code in ("c", "x", "u", "z", "low")
    ]
    lines += [
        (
            "4. Use the note column to explain anything unusual (a system change, a different "
            "definition, a one-off event). Do not include names or any detail that could identify "
            "a child or family.",
            None,
        ),
        (
            "5. Small numbers (1 to 5) may be given as they are: the toolkit "
            "suppresses them before anything is published.",
            None,
        ),
        (
            f"6. Write the day you send this return in the yellow '{DATE_SENT_LABEL}' cell above. "
            "To correct a return, send the whole workbook again with a later date: each agency "
            "sheet you fill replaces the same sheet of the earlier return; a sheet left blank "
            "replaces nothing.",
            None,
        ),
    ]
    for i, (text, font) in enumerate(lines, start=1):
        cell = ws.cell(row=i, column=1, value=text)
        if font:
            cell.font = font
    ws.column_dimensions["A"].width = 110
    sent = ws.cell(row=date_row, column=2, value=date_sent)
    sent.fill = _INPUT_FILL
    sent.protection = Protection(locked=False)
    sent.number_format = "DD/MM/YYYY"
    ws.column_dimensions["B"].width = 14
    dv = DataValidation(
        type="date",
        operator="greaterThan",
        formula1="DATE(2000,1,1)",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Not a date",
        error="Enter the date you send this return, e.g. 14/07/2025.",
    )
    dv.add(sent.coordinate)
    ws.add_data_validation(dv)


def _write_agency_sheet(ws, agency_items, label, la, period, values, synthetic) -> None:
    ws["A1"] = f"{label}: {la['la_name']}, {period}"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = f"Authority: {la['la_code_ons']}"
    ws["A3"] = f"Period: {period}"
    if synthetic:
        ws["A4"] = SYNTHETIC_NOTE
        ws["A4"].font = Font(bold=True, color="C00000")
    for j, name in enumerate(TEMPLATE_TABLE_HEADER, start=1):
        cell = ws.cell(row=HEADER_ROW, column=j, value=name)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEADER_FILL
        ws.column_dimensions[get_column_letter(j)].width = _WIDTHS[name]
    col = {name: j for j, name in enumerate(TEMPLATE_TABLE_HEADER, start=1)}
    first = HEADER_ROW + 1
    for i, (item_id, item) in enumerate(agency_items.iterrows(), start=first):
        ws.cell(row=i, column=col["item_id"], value=item_id)
        ws.cell(row=i, column=col["title"], value=item["title"])
        d = ws.cell(row=i, column=col["definition"], value=item["definition"])
        d.alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row=i, column=col["unit"], value=_UNIT_LABEL.get(item["unit"], item["unit"]))
        for name in ("numerator", "denominator", "note"):
            cell = ws.cell(row=i, column=col[name])
            cell.protection = Protection(locked=False)
            needs_input = name != "denominator" or item["unit"] == "percentage"
            cell.fill = _INPUT_FILL if needs_input else _GREY_FILL
        if values is not None and item_id in values.index:
            row = values.loc[item_id]
            for name in ("numerator", "denominator", "note"):
                v = row.get(name)
                if v is not None and not (isinstance(v, float) and pd.isna(v)) and v != "":
                    ws.cell(row=i, column=col[name], value=v)
    last = first + len(agency_items) - 1
    ws.add_data_validation(_validation(get_column_letter(col["numerator"]), first, last))
    ws.add_data_validation(_validation(get_column_letter(col["denominator"]), first, last))
    ws.freeze_panes = ws.cell(row=first, column=col["numerator"])
