"""Issue tables as downloads (CSV and Excel), with every cell a spreadsheet would run
as a formula (starting with = + - @, tab or carriage return) neutralised by a
leading apostrophe, as OWASP's CSV-injection advice says."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from lscb_nb.service.collection.models import Submission

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ISSUE_COLUMNS = ("severity", "rule_code", "title", "message", "sheet", "row", "column", "item_id")


def neutralise(value: object) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def issue_rows(sub: Submission) -> list[list[str]]:
    rows = [[*ISSUE_COLUMNS, "explanation"]]
    for issue in sub.issues.all().select_related("explanation"):
        explanation = getattr(issue, "explanation", None)
        row = [getattr(issue, c) for c in ISSUE_COLUMNS] + [explanation.text if explanation else ""]
        rows.append([neutralise(v) for v in row])
    return rows


def table_csv(rows: list[list]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows([[neutralise(v) for v in row] for row in rows])
    return out.getvalue()


def table_xlsx(rows: list[list], title: str = "Issues") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for row in rows:
        sheet.append([neutralise(v) for v in row])  # text cells: never formulae
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
