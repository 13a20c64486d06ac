"""The phase 2 assessment instrument: its criteria, its layout and the workbook raters fill in.

Raters in each borough (LSCB development officer, police, health, children's
social care...) score every item's accessibility and usefulness on the anchored
scales of ``lscb_nb/data/instrument/criteria.yaml``. Reading completed workbooks back
is ``completed``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import yaml
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from lscb_nb.core import config
from lscb_nb.core.config import SYNTHETIC_NOTE
from lscb_nb.core.fileio import write_atomic
from lscb_nb.core.returnformat import AGENCIES

log = logging.getLogger(__name__)


CRITERIA_FILE = config.INSTRUMENT_DIR / "criteria.yaml"
SHEET = "Ratings"
RATER_ROWS = {"name": 3, "role": 4, "agency": 5}  # rows of the rater block (column B)
HEADER_ROW = 7
ITEM_COLUMNS = ["item_id", "title", "definition", "agency"]
DIMENSIONS = ("accessibility", "usefulness")


@dataclass
class Criteria:
    criteria: pd.DataFrame  # id, dimension, question, scale
    anchors: pd.DataFrame  # scale, score, anchor
    dont_know: str

    def scores(self, criterion: str) -> list[int]:
        scale = self.criteria.set_index("id").at[criterion, "scale"]
        return sorted(self.anchors.loc[self.anchors["scale"] == scale, "score"])


def load_criteria(path: Path | str = CRITERIA_FILE, authorities: str = "authorities") -> Criteria:
    """Read and check the criteria file; a ValueError lists every problem.

    ``{authorities}`` in a question or anchor becomes ``authorities``: what the
    project calls its authorities ('boroughs' in a London project)."""
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
    criteria["question"] = criteria["question"].str.replace("{authorities}", authorities)
    anchors = pd.DataFrame(
        [
            {"scale": s, "score": int(k), "anchor": str(t).replace("{authorities}", authorities)}
            for s, points in scales.items()
            for k, t in points.items()
        ]
    )
    return Criteria(criteria, anchors, str(raw.get("dont_know", "DK")))


@cache
def shipped_criteria(authorities: str = "authorities") -> Criteria:
    """The criteria the toolkit ships, read once per wording."""
    return load_criteria(authorities=authorities)


def criterion_label(criterion: str) -> str:
    """A criterion's name in words, as reports and explorers show it:
    ``definition_match`` is "Definition match"."""
    return str(criterion).replace("_", " ").strip().capitalize()


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def write_instrument(
    path: Path | str,
    la_name: str,
    items: pd.DataFrame,
    criteria: Criteria,
    synthetic: bool = False,
    project_name: str | None = None,
) -> Path:
    """A blank instrument for one authority, with a drop-down on every score cell,
    headed with the project's name (a neutral heading outside a project). Load
    ``criteria`` with the project's word for its authorities."""
    wb = Workbook()
    info = wb.active
    info.title = "Instructions"
    lines = [
        f"{project_name or 'Multi-agency safeguarding dataset'}, phase 2: assessing the "
        f"dataset's items ({la_name})",
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
