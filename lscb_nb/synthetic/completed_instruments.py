"""Phase 2 sample data: completed assessment instruments, 2-4 raters per pilot.

Each item has a latent accessibility and usefulness: statutory-return items of
children's social care are easy to get; health items come from several trusts'
systems and are hard; the voluntary sector's are hardest. Raters see the latent
level through their own bias and noise, less noisily for their own agency's
items, and answer "DK" more often outside it, so they agree only moderately, as
real raters did. A handful of defects are planted for the reader to find.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from lscb_nb.assessment.instrument import (
    HEADER_ROW,
    ITEM_COLUMNS,
    RATER_ROWS,
    SHEET,
    load_criteria,
    write_instrument,
)

log = logging.getLogger(__name__)

ROLES: tuple[tuple[str, str], ...] = (
    ("LSCB development officer", "lscb"),
    ("Detective inspector, Child Abuse Investigation Team", "police"),
    ("Designated nurse for safeguarding children", "health"),
    ("Head of performance, children's social care", "childrens_social_care"),
    ("Education safeguarding lead", "education"),
)
FIRST = ("Sam", "Priya", "Tom", "Aisha", "Gareth", "Mei", "Ruth", "Kwame", "Jo", "Dev")
LAST = ("Okafor", "Patel", "Hughes", "Begum", "Lewis", "Chen", "Morris", "Mensah", "Shaw", "Rao")
ACCESS: dict[str, float] = {
    "childrens_social_care": 3.3,
    "police": 2.7,
    "health": 1.9,
    "education": 2.9,
    "youth_justice": 3.0,
    "probation": 2.4,
    "cafcass": 2.3,
    "voluntary_sector": 1.5,
    "lscb": 3.2,
}
OFFSETS = {
    "held": 0.3,
    "effort": -0.2,
    "timeliness": -0.1,
    "definition_match": 0.0,
    "quality": -0.1,
}
SYSTEMS = {
    "childrens_social_care": "ICS (CareFirst)",
    "police": "CRIS",
    "health": "Trust PAS / spreadsheets",
    "education": "School census (SIMS)",
    "youth_justice": "YOIS",
    "probation": "OASys / Delius",
    "cafcass": "Cafcass CMS",
    "voluntary_sector": "Provider returns",
    "lscb": "LSCB records",
}


def latent_scores(items: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Each item's true accessibility and usefulness (1-4 scale)."""
    access = items["agency"].map(ACCESS) + rng.normal(0, 0.5, len(items))
    access += np.where(items["statutory_return"] != "none", 0.3, 0.0)
    useful = 2.7 + rng.normal(0, 0.75, len(items))
    useful += np.where(items["theme"] == "children_views_and_participation", 0.4, 0.0)
    useful += np.where(items["essential"], 0.3, 0.0)
    return pd.DataFrame(
        {"accessibility": np.clip(access, 1, 4), "usefulness": np.clip(useful, 1, 4)},
        index=items.index,
    )


def write_completed_instruments(
    out_dir: Path, items: pd.DataFrame, pilots: pd.DataFrame, rng: np.random.Generator
) -> dict:
    """Write every rater's completed instrument; return the truth (raters, latent
    scores, planted defects)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    criteria = load_criteria()
    ids = list(criteria.criteria["id"])
    dims = criteria.criteria.set_index("id")["dimension"]
    latent = latent_scores(items, rng)
    truth: dict = {"raters": [], "planted": [], "latent": latent.round(3).to_dict(orient="index")}
    files: list[Path] = []
    for pilot in pilots.itertuples():
        k = int(rng.integers(2, 5))
        roles = [
            ROLES[0],
            *[ROLES[i] for i in rng.choice(np.arange(1, len(ROLES)), k - 1, replace=False)],
        ]
        names = rng.choice(len(FIRST) * len(LAST), len(roles), replace=False)
        for (role, agency), n in zip(roles, names, strict=True):
            name = f"{FIRST[n // len(LAST)]} {LAST[n % len(LAST)]}"
            path = out_dir / f"{pilot.la_name} - {agency} - instrument.xlsx"
            write_instrument(path, pilot.la_name, items, criteria, synthetic=True)
            wb = load_workbook(path)
            ws = wb[SHEET]
            ws.cell(row=RATER_ROWS["name"], column=2, value=name)
            ws.cell(row=RATER_ROWS["role"], column=2, value=role)
            ws.cell(row=RATER_ROWS["agency"], column=2, value=agency)
            bias = rng.normal(0, 0.2)
            for r, (item_id, item) in enumerate(items.iterrows(), start=HEADER_ROW + 1):
                own = item["agency"] == agency or agency == "lscb"
                for j, cid in enumerate(ids):
                    col = len(ITEM_COLUMNS) + 1 + j
                    if rng.random() < (0.04 if own else 0.12):
                        ws.cell(row=r, column=col, value="DK")
                        continue
                    level = latent.at[item_id, dims[cid]] + OFFSETS.get(cid, 0.0) + bias
                    score = level + rng.normal(0, 0.4 if own else 0.6)
                    ws.cell(row=r, column=col, value=int(np.clip(np.rint(score), 1, 4)))
                if own and rng.random() < 0.7:
                    ws.cell(
                        row=r,
                        column=len(ITEM_COLUMNS) + len(ids) + 1,
                        value=SYSTEMS[item["agency"]],
                    )
            wb.save(path)
            files.append(path)
            truth["raters"].append(
                {
                    "la_code_ons": pilot.la_code_ons,
                    "file": path.name,
                    "name": name,
                    "role": role,
                    "agency": agency,
                }
            )
    _plant(files, items, ids, truth, rng)
    return truth


def _plant(files: list[Path], items: pd.DataFrame, ids: list[str], truth: dict, rng) -> None:
    """The defects real instruments had, one of each, recorded for the tests."""
    picks = rng.choice(len(files), 5, replace=False)
    first_col = len(ITEM_COLUMNS) + 1

    def edit(path: Path, fn) -> None:
        wb = load_workbook(path)
        fn(wb[SHEET])
        wb.save(path)

    row = HEADER_ROW + 3
    path = files[picks[0]]
    edit(path, lambda ws: ws.cell(row=row, column=first_col, value=7))
    truth["planted"].append(
        {
            "kind": "out_of_range",
            "file": path.name,
            "row": row,
            "column": get_column_letter(first_col),
            "code": "I06",
        }
    )
    path = files[picks[1]]
    edit(path, lambda ws: ws.cell(row=row + 1, column=first_col + 5, value="high"))
    truth["planted"].append(
        {
            "kind": "not_a_number",
            "file": path.name,
            "row": row + 1,
            "column": get_column_letter(first_col + 5),
            "code": "I07",
        }
    )
    path = files[picks[2]]
    edit(path, lambda ws: ws.cell(row=row + 2, column=1, value="HLT99"))
    truth["planted"].append(
        {
            "kind": "unknown_item",
            "file": path.name,
            "row": row + 2,
            "column": "item_id",
            "code": "I05",
        }
    )
    path = files[picks[3]]

    def drop_role(ws) -> None:
        ws.cell(row=RATER_ROWS["role"], column=2).value = None

    edit(path, drop_role)
    truth["planted"].append(
        {
            "kind": "missing_role",
            "file": path.name,
            "row": RATER_ROWS["role"],
            "column": "B",
            "code": "I03",
        }
    )
    path = files[picks[4]]
    blank_row = HEADER_ROW + len(items) + 2

    def blank_then_note(ws) -> None:
        ws.cell(row=blank_row, column=len(ITEM_COLUMNS) + len(ids) + 2, value="see covering email")

    edit(path, blank_then_note)
    truth["planted"].append(
        {
            "kind": "row_without_item",
            "file": path.name,
            "row": blank_row,
            "column": None,
            "code": "I08",
        }
    )
    # A rater sent the same completed instrument twice, under another name.
    source = files[picks[0] + 1 if picks[0] + 1 < len(files) else 0]
    copy = source.with_name(f"{source.stem}_resent.xlsx")
    shutil.copyfile(source, copy)
    truth["planted"].append(
        {"kind": "duplicate_rater", "file": copy.name, "duplicate_of": source.name, "code": "I04"}
    )
