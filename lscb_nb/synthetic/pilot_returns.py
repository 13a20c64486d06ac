"""Write the pilot boroughs' synthetic quarterly returns, with the defects real
pilots had, and record every defect planted so tests can check it is found.

Six pilots send the Excel template, four the long CSV. A receipts log (what the
LSCB business unit keeps: which agency's figures arrived when) drives timeliness.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from lscb_nb.core import periods
from lscb_nb.core.config import SYNTHETIC_NOTE
from lscb_nb.core.fileio import write_atomic
from lscb_nb.core.returnformat import GEOGRAPHIC_LEVEL, RETURN_CSV_COLUMNS
from lscb_nb.pilot.template import build_return_workbook

log = logging.getLogger(__name__)

# Chance an agency's figures for a quarter arrive late, at the start and at the end
# of the pilot (returns improved as the pilot went on; health was the hardest).
LATE_CHANCE = {
    "health": (0.55, 0.2),
    "police": (0.25, 0.1),
    "probation": (0.3, 0.15),
    "voluntary_sector": (0.3, 0.15),
    "cafcass": (0.2, 0.1),
}
MISSING_CHANCE = {
    "health": (0.2, 0.05),
    "probation": (0.15, 0.05),
    "voluntary_sector": (0.25, 0.1),
    "cafcass": (0.1, 0.05),
}
DEFAULT_LATE, DEFAULT_MISSING = (0.1, 0.05), (0.02, 0.0)


def return_file_name(la_code: str, period: str, fmt: str) -> str:
    return f"synthetic_return_{la_code}_{period.replace(' ', '_')}.{fmt}"


def _nth(las: pd.DataFrame, n: int) -> str:
    """The ``n``-th pilot's code, counting round when a project has fewer pilots than
    the sample's ten (a defect then lands on an earlier pilot rather than failing)."""
    return las["la_code_ons"].iloc[n % len(las)]


def write_pilot_returns(
    out_dir: Path,
    figures: pd.DataFrame,
    items: pd.DataFrame,
    pilots: pd.DataFrame,
    period_labels: list[str],
    datamodel_version: str,
    rng: np.random.Generator,
    deadline_days: int,
) -> dict:
    """Write every pilot return and the receipts log; return the truth record."""
    out_dir.mkdir(parents=True, exist_ok=True)
    planted: list[dict] = []
    fig = figures.merge(items[["agency"]], left_on="item_id", right_index=True)
    fig["numerator"] = fig["numerator"].astype(object)
    fig["denominator"] = fig["denominator"].astype(object)
    fig["note"] = ""
    las = pilots.reset_index(drop=True)
    fmt = {la: ("xlsx" if i < 6 else "csv") for i, la in enumerate(las["la_code_ons"])}
    names = dict(zip(las["la_code_ons"], las["la_name"], strict=True))
    n = len(period_labels)

    # --- receipts: late and missing agency submissions -------------------------
    receipts, missing_agency = [], set()
    agencies = sorted(items["agency"].unique())
    for la in las["la_code_ons"]:
        for k, period in enumerate(period_labels):
            progress = k / max(n - 1, 1)
            due = periods.period_end(period) + timedelta(days=deadline_days)
            for agency in agencies:
                m0, m1 = MISSING_CHANCE.get(agency, DEFAULT_MISSING)
                l0, l1 = LATE_CHANCE.get(agency, DEFAULT_LATE)
                if rng.random() < m0 + (m1 - m0) * progress:
                    missing_agency.add((la, period, agency))
                    received = None
                elif rng.random() < l0 + (l1 - l0) * progress:
                    received = due + timedelta(days=int(rng.integers(3, 60)))
                else:
                    received = due - timedelta(days=int(rng.integers(0, 25)))
                receipts.append(
                    {
                        "la_code_ons": la,
                        "la_name": names[la],
                        "period": period,
                        "agency": agency,
                        "due_date": due,
                        "received_date": received,
                        "data_status": "SYNTHETIC",
                    }
                )
    receipts = pd.DataFrame(receipts)
    gone = pd.Series(
        list(zip(fig["la_code_ons"], fig["period"], fig["agency"], strict=True)), index=fig.index
    ).isin(missing_agency)
    fig.loc[gone, ["numerator", "denominator"]] = ""

    # A whole quarter never sent by one borough
    no_return = (_nth(las, 7), period_labels[2])
    receipts.loc[
        (receipts["la_code_ons"] == no_return[0]) & (receipts["period"] == no_return[1]),
        "received_date",
    ] = None
    planted.append(
        {
            "kind": "missing_return",
            "la_code_ons": no_return[0],
            "period": no_return[1],
            "expected": "no file; every item missing",
        }
    )

    # --- defects in the figures ------------------------------------------------
    def pick(mask: pd.Series) -> int:
        idx = fig.index[mask & ~gone & (fig["numerator"] != "")]
        return int(rng.choice(idx))

    def plant(kind: str, i: int, column: str, rule: str, **extra: object) -> None:
        planted.append(
            {
                "kind": kind,
                "la_code_ons": fig.at[i, "la_code_ons"],
                "period": fig.at[i, "period"],
                "item_id": fig.at[i, "item_id"],
                "column": column,
                "expected_rule": rule,
                **extra,
            }
        )

    # Suppressed small counts: two boroughs suppress their own counts of 1-5.
    for la, code in ((las["la_code_ons"].iloc[0], "c"), (_nth(las, 8), "<5")):
        small = (
            (fig["la_code_ons"] == la)
            & (fig["unit"] != "percentage")
            & fig["numerator"].map(lambda v: isinstance(v, float) and 1 <= v <= 5)
        )
        for i in fig.index[small & ~gone]:
            fig.at[i, "numerator"] = code
            plant("suppressed_small_count", i, "numerator", "state:suppressed")

    # One borough counts referrals under a different definition (contacts too),
    # and one changes a health definition part-way through the pilot.
    drift = []
    ref_item = "CSC01" if "CSC01" in items.index else items.index[0]
    la = _nth(las, 6)
    mask = (fig["la_code_ons"] == la) & (fig["item_id"] == ref_item) & (fig["numerator"] != "")
    fig.loc[mask, "numerator"] = fig.loc[mask, "numerator"].astype(float).mul(2.6).round()
    drift.append(
        {
            "la_code_ons": la,
            "item_id": ref_item,
            "kind": "different_definition",
            "from_period": period_labels[0],
            "factor": 2.6,
        }
    )
    health = [
        i
        for i in items.index[
            (items["agency"] == "health")
            & (items["unit"] != "percentage")
            & (items["frequency"] == "quarterly")
        ]
    ]
    if health:
        la, item = _nth(las, 7), health[0]
        mask = (
            (fig["la_code_ons"] == la)
            & (fig["item_id"] == item)
            & (fig["period"] >= period_labels[n // 2])
            & (fig["numerator"] != "")
        )
        fig.loc[mask, "numerator"] = fig.loc[mask, "numerator"].astype(float).mul(0.35).round()
        drift.append(
            {
                "la_code_ons": la,
                "item_id": item,
                "kind": "level_shift",
                "from_period": period_labels[n // 2],
                "factor": 0.35,
            }
        )

    numeric = fig["numerator"].map(lambda v: isinstance(v, float) and v >= 6)
    pct_rows = (
        (fig["unit"] == "percentage")
        & numeric
        & fig["denominator"].map(lambda v: isinstance(v, float) and v > 0)
    )
    for _ in range(3):  # numerator above denominator: the two figures swapped
        i = pick(pct_rows & (fig["numerator"] != fig["denominator"]))
        fig.at[i, "numerator"], fig.at[i, "denominator"] = (
            fig.at[i, "denominator"],
            fig.at[i, "numerator"],
        )
        if fig.at[i, "numerator"] == fig.at[i, "denominator"]:
            fig.at[i, "numerator"] = float(fig.at[i, "denominator"]) + 7
        plant("numerator_above_denominator", i, "numerator", "V03")
        pct_rows.at[i] = False
    for text in ("tbc", "12 (provisional)", "see note"):  # text in a numeric cell
        i = pick(numeric & (fig["unit"] == "count"))
        fig.at[i, "numerator"] = text
        plant("text_in_number", i, "numerator", "V01", value=text)
        numeric.at[i] = False

    # A note with mark-up in it, which every report must escape.
    i = pick(numeric)
    fig.at[i, "note"] = "<b>New system</b> from this quarter & <script>alert(1)</script>"
    plant("markup_in_note", i, "note", "escaped")

    # --- write the files ---------------------------------------------------------
    files = {}
    for (la, period), part in fig.groupby(["la_code_ons", "period"], sort=True):
        if (la, period) == no_return:
            continue
        la_row = las.set_index("la_code_ons").loc[la]
        name = return_file_name(la, period, fmt[la])
        files[(la, period)] = name
        path = out_dir / name
        vals = part.set_index("item_id")[["numerator", "denominator", "note"]]
        if fmt[la] == "xlsx":
            la_map = {
                "la_code_ons": la,
                "la_code_dfe": int(la_row["la_code_dfe"]),
                "la_name": la_row["la_name"],
            }
            wb = build_return_workbook(
                items, la_map, period, datamodel_version, values=vals, synthetic=True
            )
            write_atomic(path, wb.save)
        else:
            _write_csv(path, la, la_row, period, vals)

    # CSV-only defects: duplicates, unknown item, wrong authority code, a bad file.
    csv_las = [la for la in las["la_code_ons"] if fmt[la] == "csv"]
    planted += _plant_csv_defects(out_dir, files, csv_las, period_labels, las, rng)
    xlsx_la = [la for la in las["la_code_ons"] if fmt[la] == "xlsx"][3]
    bad = out_dir / files[(xlsx_la, period_labels[5])]
    bad.write_text(
        "<html><body>SYNTHETIC: return exported from the case-management system as "
        "a web page by mistake</body></html>",
        encoding="utf-8",
    )
    planted.append(
        {
            "kind": "unreadable_file",
            "la_code_ons": xlsx_la,
            "period": period_labels[5],
            "file": bad.name,
            "expected_rule": "F01",
        }
    )
    for p in planted:
        if "file" not in p and (p["la_code_ons"], p.get("period")) in files:
            p["file"] = files[(p["la_code_ons"], p["period"])]

    receipts["received_date"] = pd.to_datetime(receipts["received_date"])
    write_atomic(
        out_dir.parent / "phase3_receipts.csv",
        lambda p: receipts.to_csv(p, index=False, date_format="%Y-%m-%d"),
    )
    (out_dir / "README_SYNTHETIC.txt").write_text(
        f"{SYNTHETIC_NOTE}\nPilot returns for {len(las)} boroughs, {period_labels[0]} to "
        f"{period_labels[-1]}, written by `lscb-nb generate`.\n",
        encoding="utf-8",
    )
    return {
        "pilots": list(las["la_code_ons"]),
        "formats": fmt,
        "periods": period_labels,
        "deadline_days": deadline_days,
        "planted": planted,
        "definition_drift": drift,
        "missing_agency_returns": len(missing_agency),
        "late_agency_returns": int(
            (receipts["received_date"].dt.date > receipts["due_date"]).sum()
        ),
    }


def _write_csv(path: Path, la: str, la_row: pd.Series, period: str, vals: pd.DataFrame) -> None:
    tp, ti = periods.to_ees(period)
    present = vals.loc[(vals["numerator"] != "") | (vals["denominator"] != "")]
    frame = pd.DataFrame(
        {
            "time_period": tp,
            "time_identifier": ti,
            "geographic_level": GEOGRAPHIC_LEVEL,
            "new_la_code": la,
            "old_la_code": int(la_row["la_code_dfe"]),
            "la_name": la_row["la_name"],
            "item_id": present.index,
            "numerator": present["numerator"].map(_fmt),
            "denominator": present["denominator"].map(_fmt),
            "value": "",
            "note": present["note"],
        },
        columns=list(RETURN_CSV_COLUMNS),
    )
    write_atomic(path, lambda p: frame.to_csv(p, index=False))


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return "" if np.isnan(v) else f"{v:.0f}"
    return "" if v is None else str(v)


def _plant_csv_defects(out_dir, files, csv_las, period_labels, las, rng) -> list[dict]:
    planted = []

    def edit(la: str, period: str, fn) -> str:
        path = out_dir / files[(la, period)]
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame = fn(frame)
        write_atomic(path, lambda p: frame.to_csv(p, index=False))
        return path.name

    def record(kind, la, period, item, rule, file, column="item_id"):
        planted.append(
            {
                "kind": kind,
                "la_code_ons": la,
                "period": period,
                "item_id": item,
                "column": column,
                "expected_rule": rule,
                "file": file,
            }
        )

    # exact duplicate rows (a copy-and-paste twice)
    for la, period in ((csv_las[0], period_labels[1]), (csv_las[1], period_labels[4])):
        holder = {}

        def dup(f, holder=holder):
            j = int(rng.integers(0, len(f)))
            holder["item"] = f.at[j, "item_id"]
            return pd.concat([f.iloc[: j + 1], f.iloc[[j]], f.iloc[j + 1 :]], ignore_index=True)

        name = edit(la, period, dup)
        record("duplicate_row", la, period, holder["item"], "R06", name)

    # a conflicting duplicate: the same item twice with different figures
    la, period = csv_las[2], period_labels[6]
    holder = {}

    def conflict(f):
        j = int(np.flatnonzero(f["numerator"].str.fullmatch(r"\d+"))[0])
        holder["item"] = f.at[j, "item_id"]
        extra = f.iloc[[j]].copy()
        extra["numerator"] = str(int(f.at[j, "numerator"]) + 11)
        return pd.concat([f, extra], ignore_index=True)

    name = edit(la, period, conflict)
    record("conflicting_duplicate", la, period, holder["item"], "R06", name)

    # an unknown item code (a typo for a real one)
    la, period = csv_las[3], period_labels[3]

    def unknown(f):
        j = int(rng.integers(0, len(f)))
        f.at[j, "item_id"] = f.at[j, "item_id"][:-2] + "9" + f.at[j, "item_id"][-1]
        holder["item"] = f.at[j, "item_id"]
        return f

    name = edit(la, period, unknown)
    record("unknown_item", la, period, holder["item"], "R01", name)

    # a wrong authority code: a row carrying a neighbouring borough's ONS code
    la, period = csv_las[0], period_labels[7]
    other = las.loc[las["la_code_ons"] != la, "la_code_ons"].iloc[0]

    def wrong_la(f):
        j = int(rng.integers(0, len(f)))
        f.at[j, "new_la_code"] = other
        holder["item"] = f.at[j, "item_id"]
        return f

    name = edit(la, period, wrong_la)
    record("wrong_authority_code", la, period, holder["item"], "R03", name, "old_la_code")
    return planted
