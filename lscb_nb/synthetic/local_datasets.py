"""Phase 1 sample data: each authority's current local dataset, in its own layout.

What boroughs sent the 2007 project looked like this: a spreadsheet per LSCB,
header rows wherever the author put them, their own column names and sheet
splits, items named in local shorthand ("No. of refs to CSC", "NI68 IA within
7 days", "LAC 3+ placements") with typos, plus measures the candidate dataset
does not have. Some boroughs did not reply; one sent a password-protected
workbook, one a file that is not a spreadsheet, and one a workbook with a sheet
no reader could make sense of. The truth record lists every local item and the
data-model item it really is (or none), so matching can be measured.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from lscb_nb.core.config import SYNTHETIC_NOTE

log = logging.getLogger(__name__)

# How likely a borough was to collect an item of each agency before the project.
COVERAGE: dict[str, float] = {
    "childrens_social_care": 0.85,
    "police": 0.55,
    "health": 0.35,
    "education": 0.55,
    "youth_justice": 0.6,
    "probation": 0.3,
    "cafcass": 0.25,
    "voluntary_sector": 0.1,
    "lscb": 0.5,
}
# Children's views and participation were rarely measured at all.
THEME_FACTOR: dict[str, float] = {"children_views_and_participation": 0.25}
# Items no borough collected: new asks of the candidate dataset.
NEVER_COLLECTED: tuple[str, ...] = ("CSC14", "VOL01", "LSCB09")

# Local shorthand: (pattern in a title, what boroughs wrote instead).
SHORTHAND: tuple[tuple[str, str], ...] = (
    (r"children's social care", "CSC"),
    (r"child protection plans?", "CPP"),
    (r"child protection", "CP"),
    (r"initial child protection conferences?", "ICPC"),
    (r"initial conferences?", "ICPC"),
    (r"looked-after children", "LAC"),
    (r"children looked after", "CLA"),
    (r"youth justice system", "YJS"),
    (r"young offenders", "YOT clients"),
    (r"not in education, employment or training", "NEET"),
    (r"serious case reviews?", "SCRs"),
    (r"child death overview panel", "CDOP"),
    (r"domestic violence", "DV"),
    (r"common assessments", "CAFs"),
    (r"specialist camhs", "Tier 3 CAMHS"),
    (r"hospital admissions", "A&E / admissions"),
    (r"number", "No."),
    (r"within", "w/in"),
    (r"and", "&"),
)

LOCAL_ONLY: tuple[tuple[str, str, str], ...] = (
    ("Missing from home episodes (MISPER)", "police", "Episodes reported to police"),
    ("Young carers identified", "childrens_social_care", "Young carers known to CSC"),
    ("CSE referrals", "childrens_social_care", "Child sexual exploitation referrals"),
    ("Trafficked children identified", "police", "Children identified as trafficked"),
    ("FGM cases known", "health", "Female genital mutilation cases"),
    ("E-safety incidents in schools", "education", "Incidents logged by schools"),
    ("Gang-affected young people", "youth_justice", "Young people assessed as gang-affected"),
    ("Family Intervention Project families", "childrens_social_care", "Families worked with"),
    ("Faith-based abuse concerns", "police", "Concerns linked to belief in witchcraft"),
    ("Children in temporary accommodation", "childrens_social_care", "Snapshot, housing"),
    ("Bullying incidents recorded by schools", "education", "Incidents logged by schools"),
    ("Parenting programme completions", "voluntary_sector", "Parents completing a course"),
)

# Column names boroughs used, per tidy field.
HEADERS: dict[str, tuple[str, ...]] = {
    "local_name": ("Indicator", "Measure", "Data item", "Local name", "PI description"),
    "local_definition": ("Definition", "Description", "How counted", "Notes / definition"),
    "source_agency": ("Source", "Agency", "Provider", "Data owner"),
    "frequency": ("Frequency", "How often", "Reporting frequency"),
    "reported_to_board": ("Reported to LSCB?", "To board (Y/N)", "Board report"),
}
AGENCY_WORDS: dict[str, tuple[str, ...]] = {
    "childrens_social_care": ("Children's Social Care", "CSC", "Social Care (ICS)"),
    "police": ("Police", "MPS", "CAIT / Police"),
    "health": ("Health", "PCT", "NHS Trust"),
    "education": ("Education", "Schools", "LA Education"),
    "youth_justice": ("YOT", "Youth Offending Service", "Youth Justice"),
    "probation": ("Probation", "London Probation", "Probation Service"),
    "cafcass": ("CAFCASS", "Cafcass", "CAFCASS London"),
    "voluntary_sector": ("Voluntary sector", "VCS", "Third sector"),
    "lscb": ("LSCB", "LSCB business unit", "Board"),
}
FREQUENCIES = ("Quarterly", "Monthly", "Annual", "quarterly", "Qtrly", "6-monthly")


def _typo(word: str, rng: np.random.Generator) -> str:
    """Swap two adjacent letters or drop one, as a hurried author does."""
    if len(word) < 6 or not word.isalpha():
        return word
    i = int(rng.integers(1, len(word) - 2))
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + word[i + 1 :]


def local_name(title: str, ni_codes: list[str], rng: np.random.Generator) -> str:
    """A borough's own name for an item: shorthand, NI code, reordering, typos, case."""
    name = title
    for pattern, short in SHORTHAND:
        if rng.random() < 0.6:
            name = re.sub(pattern, short, name, flags=re.IGNORECASE)
    style = rng.random()
    if style < 0.2:
        name = f"No. of {name[0].lower()}{name[1:]}"
    elif style < 0.3 and " " in name:
        first, rest = name.split(" ", 1)
        name = f"{rest} - {first}"
    if ni_codes and rng.random() < 0.35:
        code = ni_codes[0].replace(" ", "" if rng.random() < 0.5 else " ")
        name = f"{code} {name}" if rng.random() < 0.6 else f"{name} ({code})"
    if rng.random() < 0.3:
        words = name.split(" ")
        j = int(rng.integers(0, len(words)))
        words[j] = _typo(words[j], rng)
        name = " ".join(words)
    case = rng.random()
    if case < 0.15:
        name = name.upper()
    elif case < 0.3:
        name = name.lower()
    return name.replace("'", "" if rng.random() < 0.5 else "'")


def borough_items(items: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One borough's local dataset: which items it collects, named its way."""
    p = items["agency"].map(COVERAGE) * items["theme"].map(THEME_FACTOR).fillna(1.0)
    p = p.where(~items.index.isin(NEVER_COLLECTED), 0.0)
    take = rng.random(len(items)) < p.to_numpy()
    rows = []
    for item_id, item in items.loc[take].iterrows():
        rows.append(
            {
                "local_name": local_name(item["title"], list(item["national_indicators"]), rng),
                "local_definition": item["definition"].split(".")[0][:120],
                "agency": item["agency"],
                "item_id": item_id,
            }
        )
    for k in rng.choice(len(LOCAL_ONLY), size=int(rng.integers(2, 6)), replace=False):
        name, agency, definition = LOCAL_ONLY[k]
        rows.append(
            {"local_name": name, "local_definition": definition, "agency": agency, "item_id": None}
        )
    frame = pd.DataFrame(rows)
    frame["source_agency"] = [AGENCY_WORDS[a][int(rng.integers(0, 3))] for a in frame["agency"]]
    frame["frequency"] = [FREQUENCIES[int(rng.integers(0, len(FREQUENCIES)))] for _ in frame.index]
    frame["reported_to_board"] = np.where(rng.random(len(frame)) < 0.6, "Y", "N")
    return frame.sample(frac=1.0, random_state=int(rng.integers(0, 2**31))).reset_index(drop=True)


def _sheet_rows(frame: pd.DataFrame, rng: np.random.Generator, la_name: str) -> list[list]:
    """Title block of 0-7 lines, then a header in the borough's words and order."""
    fields = list(HEADERS)
    if rng.random() < 0.5:
        fields = [fields[0], *rng.permutation(fields[1:]).tolist()]
    if rng.random() < 0.3:
        fields.remove("local_definition")
    header = [HEADERS[f][int(rng.integers(0, len(HEADERS[f])))] for f in fields]
    block = [[SYNTHETIC_NOTE], [f"{la_name} LSCB: current dataset"]]
    block += [[]] * int(rng.integers(0, 4))
    if rng.random() < 0.4:
        block.append(["Compiled by the LSCB business unit for the Datasets Project"])
    body = [[row[f] for f in fields] for _, row in frame.iterrows()]
    if len(body) > 6 and rng.random() < 0.5:  # a blank spacer row mid-table
        body.insert(int(rng.integers(2, len(body) - 2)), [None] * len(fields))
    return [*block, header, *body]


def _write_xlsx(path: Path, sheets: dict[str, list[list]], password: str | None = None) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name[:31])
        for row in rows:
            ws.append(list(row))
    if password is None:
        wb.save(path)
        return
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO()
    wb.save(plain)
    plain.seek(0)
    with path.open("wb") as out:
        OOXMLFile(plain).encrypt(password, out)


def write_local_datasets(
    out_dir: Path, items: pd.DataFrame, authorities: pd.DataFrame, rng: np.random.Generator
) -> dict:
    """Write every replying authority's local dataset and return the truth record."""
    out_dir.mkdir(parents=True, exist_ok=True)
    codes = authorities["la_code_ons"].tolist()
    names = dict(zip(authorities["la_code_ons"], authorities["la_name"], strict=True))
    order = rng.permutation(len(codes))
    non_responders = sorted(codes[i] for i in order[:3])
    protected, corrupt, odd_sheet = (codes[i] for i in order[3:6])
    truth: dict = {
        "non_responders": non_responders,
        "replied": [],
        "unreadable": [],
        "uninterpretable_sheets": [],
        "items": [],
    }
    for code in codes:
        if code in non_responders:
            continue
        la_name = names[code]
        truth["replied"].append(code)
        frame = borough_items(items, rng)
        style = rng.random()
        if code == corrupt:
            path = out_dir / f"{la_name} LSCB dataset.xlsx"
            path.write_bytes(b"SYNTHETIC. Sorry, the file did not attach properly.\r\n" * 20)
            truth["unreadable"].append(
                {"la_code_ons": code, "file": path.name, "reason": "not a spreadsheet"}
            )
            continue
        if code == protected:
            path = out_dir / f"{la_name}_current_dataset.xlsx"
            _write_xlsx(path, {"Dataset": _sheet_rows(frame, rng, la_name)}, password="lscb2007")
            truth["unreadable"].append(
                {"la_code_ons": code, "file": path.name, "reason": "password-protected"}
            )
            continue
        if code == odd_sheet or style < 0.3:
            # One sheet per agency group, plus a notes sheet.
            sheets = {"Notes": [[SYNTHETIC_NOTE], ["Figures are provisional."]]}
            for agency, part in frame.groupby("agency"):
                sheets[AGENCY_WORDS[agency][0]] = _sheet_rows(part, rng, la_name)
            if code == odd_sheet:
                sheets["Summary pivot"] = [
                    [SYNTHETIC_NOTE],
                    [None, "Q1", "Q2", "Q3", "Q4"],
                    ["Total", 412, 398, 455, 430],
                    ["Change", None, -14, 57, -25],
                ]
                truth["uninterpretable_sheets"].append(
                    {
                        "la_code_ons": code,
                        "file": f"{la_name} - LSCB data items.xlsx",
                        "sheet": "Summary pivot",
                    }
                )
            path = out_dir / f"{la_name} - LSCB data items.xlsx"
            _write_xlsx(path, sheets)
        elif style < 0.7:
            path = out_dir / f"{la_name} LSCB dataset.xlsx"
            _write_xlsx(path, {"Dataset": _sheet_rows(frame, rng, la_name)})
        else:
            path = out_dir / f"{la_name.lower().replace(' ', '_')}_lscb_indicators.csv"
            rows = _sheet_rows(frame, rng, la_name)
            width = max(len(r) for r in rows)
            padded = [list(r) + [None] * (width - len(r)) for r in rows]
            pd.DataFrame(padded).to_csv(path, index=False, header=False, encoding="utf-8")
        for row in frame.itertuples():
            truth["items"].append(
                {
                    "la_code_ons": code,
                    "local_name": row.local_name,
                    "item_id": None if pd.isna(row.item_id) else row.item_id,
                }
            )
    return truth
