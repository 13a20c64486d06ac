"""Read boroughs' quarterly returns, check them against the data model, and
ingest a folder of them into ``data/processed/`` without losing a row.

Two layouts are read: the Excel return template (:mod:`lscb_nb.template`) and
the long CSV described in README.md (DfE EES tidy layout). Reading is per file;
every check then runs vectorised over all rows read. Every input row ends up
either *accepted* or *quarantined*, and every problem is one row of the issue
table (:mod:`lscb_nb.validation`), keyed to file, sheet, row and column.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import msoffcrypto
import numpy as np
import pandas as pd
from openpyxl import load_workbook

from lscb_nb import periods
from lscb_nb.fileio import folder_sha256, write_json_atomic
from lscb_nb.returnformat import (
    GEOGRAPHIC_LEVEL,
    INSTRUCTIONS_SHEET,
    META_SHEET,
    REQUIRED_CSV_COLUMNS,
    RETURN_CSV_COLUMNS,
)
from lscb_nb.validation import (
    ERROR,
    RULES,
    concat_issues,
    empty_issues,
    file_issue,
    row_issues,
)
from lscb_nb.values import INVALID, REPORTED, parse_values

RAW_FIELDS = (
    "time_period",
    "time_identifier",
    "new_la_code",
    "old_la_code",
    "la_name",
    "item_id",
    "numerator",
    "denominator",
    "value",
    "note",
)
PROVENANCE = ("source_file", "source_format", "source_sheet", "source_row")
RETURN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_VALUE_TOLERANCE = 0.05


class ReturnFileError(Exception):
    """A whole file could not be read; carries the rule code and a detail."""

    def __init__(self, code: str, detail: str = "", sheet: str | None = None):
        super().__init__(detail)
        self.code, self.detail, self.sheet = code, detail, sheet


@dataclass
class IngestResult:
    """What came out of reading a set of returns. ``accepted`` + ``quarantined``
    hold every input row exactly once (``input_row_id``)."""

    accepted: pd.DataFrame
    quarantined: pd.DataFrame
    issues: pd.DataFrame
    files: pd.DataFrame

    @property
    def rows_read(self) -> int:
        return int(self.files["rows_read"].sum()) if not self.files.empty else 0

    def reconciles(self) -> bool:
        """Every row read is accepted or quarantined, once."""
        ids = pd.concat([self.accepted["input_row_id"], self.quarantined["input_row_id"]])
        return len(ids) == self.rows_read and ids.is_unique


# ---------------------------------------------------------------------------
# Reading files into raw rows (strings, with provenance)
# ---------------------------------------------------------------------------


def read_raw_return(path: Path | str, display_name: str | None = None) -> pd.DataFrame:
    """Read one return file into raw rows: the fields of RAW_FIELDS as text plus
    provenance. Raises :class:`ReturnFileError` when the file cannot be read."""
    path = Path(path)
    name = display_name or path.name
    suffix = path.suffix.lower()
    if suffix not in RETURN_SUFFIXES:
        raise ReturnFileError("F01", f"'{path.suffix}' files are not returns; send .xlsx or .csv")
    try:
        head = path.read_bytes()[:8]
    except OSError as exc:
        raise ReturnFileError("F01", str(exc)) from exc
    if not head:
        raise ReturnFileError("F04")
    frame = _read_csv(path) if suffix == ".csv" else _read_workbook(path, head)
    frame["source_file"] = name
    return frame


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        if isinstance(exc, pd.errors.EmptyDataError):
            raise ReturnFileError("F04") from exc
        raise ReturnFileError("F01", f"not a readable CSV ({exc})") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise ReturnFileError("F03", f"missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise ReturnFileError("F04")
    for col in RAW_FIELDS:
        if col not in frame.columns:
            frame[col] = ""
    out = frame[list(RAW_FIELDS)].copy()
    out["source_format"] = "csv"
    out["source_sheet"] = None
    out["source_row"] = np.arange(2, len(out) + 2)  # line 1 is the header
    return out


def _read_workbook(path: Path, head: bytes) -> pd.DataFrame:
    if head.startswith(_OLE_MAGIC):
        with path.open("rb") as fh:
            try:
                encrypted = msoffcrypto.OfficeFile(fh).is_encrypted()
            except Exception:
                encrypted = False
        if encrypted:
            raise ReturnFileError("F02")
        raise ReturnFileError("F01", "old-style .xls workbook; save it as .xlsx")
    if not zipfile.is_zipfile(path):
        raise ReturnFileError("F01", "not an Excel workbook (the file is not .xlsx inside)")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ReturnFileError("F01", f"Excel could not open it ({type(exc).__name__})") from exc
    try:
        meta = _workbook_meta(wb)
        frames = [
            _read_agency_sheet(wb[name], name)
            for name in wb.sheetnames
            if name not in (INSTRUCTIONS_SHEET, META_SHEET)
        ]
    finally:
        wb.close()
    frames = [f for f in frames if f is not None]
    if not frames:
        raise ReturnFileError(
            "F03",
            f"no sheet has the template's item table (sheets found: {', '.join(wb.sheetnames)})",
        )
    if meta is None:
        raise ReturnFileError(
            "F03",
            f"the hidden '{META_SHEET}' sheet that names the authority "
            "and period is missing; please use the issued template",
        )
    out = pd.concat(frames, ignore_index=True)
    tp, ti = _ees_or_blank(meta.get("period", ""))
    out["time_period"], out["time_identifier"] = tp, ti
    out["new_la_code"] = str(meta.get("la_code_ons", "") or "")
    out["old_la_code"] = str(meta.get("la_code_dfe", "") or "")
    out["la_name"] = str(meta.get("la_name", "") or "")
    out["value"] = ""
    out["source_format"] = "xlsx"
    return out[[*RAW_FIELDS, "source_format", "source_sheet", "source_row"]]


def _ees_or_blank(label: object) -> tuple[str, str]:
    try:
        return periods.to_ees(str(label))
    except periods.PeriodError:
        return str(label), ""


def _workbook_meta(wb) -> dict | None:
    if META_SHEET not in wb.sheetnames:
        return None
    return {
        str(r[0]).strip(): r[1]
        for r in wb[META_SHEET].iter_rows(values_only=True)
        if r and r[0] is not None and len(r) > 1
    }


def _read_agency_sheet(ws, name: str) -> pd.DataFrame | None:
    rows = list(ws.iter_rows(values_only=True))
    header_at = next(
        (i for i, r in enumerate(rows) if r and str(r[0] or "").strip().lower() == "item_id"), None
    )
    if header_at is None:
        return None
    header = [str(c or "").strip().lower() for c in rows[header_at]]
    body = rows[header_at + 1 :]
    width = len(header)
    data = [tuple(r[:width]) + (None,) * (width - len(r)) for r in body]
    frame = pd.DataFrame(data, columns=header, dtype=object)
    frame["source_row"] = np.arange(header_at + 2, header_at + 2 + len(frame))
    wanted = ("item_id", "numerator", "denominator", "note")
    filled = (
        frame[[c for c in wanted if c in frame.columns]]
        .map(lambda v: v is not None and str(v).strip() != "")
        .any(axis=1)
    )
    frame = frame.loc[filled]
    out = pd.DataFrame(
        {
            col: frame[col].map(_cell_text) if col in frame.columns else ""
            for col in ("item_id", "numerator", "denominator", "note")
        }
    )
    out["source_row"] = frame["source_row"].to_numpy()
    out["source_sheet"] = name
    return out


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# ---------------------------------------------------------------------------
# Checking rows against the data model (vectorised)
# ---------------------------------------------------------------------------


def check_rows(
    raw: pd.DataFrame,
    items: pd.DataFrame,
    rules: pd.DataFrame,
    authorities: pd.DataFrame,
    version: str,
    expected_periods: list[str] | None = None,
    population: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Check raw rows; return (accepted, quarantined, issues).

    ``items`` and ``rules`` are the data model's tables, ``authorities`` the
    London authorities (``la_code_ons``, ``la_code_dfe``, ``la_name``), and
    ``population`` (optional: ``area_code``, ``mid_year``, ``population_0_17``)
    turns counts of rate items into rates per 10,000.
    """
    df = raw.reset_index(drop=True).copy()
    if "input_row_id" not in df.columns:
        df["input_row_id"] = np.arange(len(df))
    for col in RAW_FIELDS:
        df[col] = df[col].astype("string").fillna("").str.strip()
    df["item_id"] = df["item_id"].str.upper()
    for col in ("numerator", "denominator", "value"):
        df[f"{col}_raw"] = df[col]
    issues: list[pd.DataFrame] = []

    # Period
    keys = df[["time_period", "time_identifier"]].drop_duplicates()
    labels, bad = {}, {}
    for tp, ti in keys.itertuples(index=False):
        try:
            labels[(tp, ti)] = periods.from_ees(tp, ti)
        except periods.PeriodError as exc:
            bad[(tp, ti)] = str(exc)
    pair = pd.Series(
        list(zip(df["time_period"], df["time_identifier"], strict=True)), index=df.index
    )
    df["period"] = pair.map(labels).astype(object)
    period_bad = df["period"].isna()
    issues.append(
        row_issues(df, period_bad, "R04", "time_period", detail=pair.map(bad).astype("string"))
    )
    if expected_periods is not None:
        unexpected = ~period_bad & ~df["period"].isin(expected_periods)
        span = f"{expected_periods[0]} to {expected_periods[-1]}" if expected_periods else "none"
        issues.append(
            row_issues(df, unexpected, "R05", "time_period", value=df["period"], detail=span)
        )

    # Authority
    la = authorities.set_index("la_code_ons")
    df["la_code_ons"] = df["new_la_code"].str.upper()
    known_la = df["la_code_ons"].isin(la.index)
    issues.append(row_issues(df, ~known_la, "R02", "new_la_code", value=df["new_la_code"]))
    expected_dfe = df["la_code_ons"].map(la["la_code_dfe"].astype(str))
    expected_name = df["la_code_ons"].map(la["la_name"])
    dfe_clash = known_la & (df["old_la_code"] != "") & (df["old_la_code"] != expected_dfe)
    name_clash = (
        known_la
        & (df["la_name"] != "")
        & (_norm_name(df["la_name"]) != _norm_name(expected_name.fillna("")))
    )
    clash_detail = (
        "new_la_code "
        + df["la_code_ons"]
        + " is "
        + expected_name.fillna("")
        + " (DfE "
        + expected_dfe.fillna("")
        + "), but the row says "
        + df["la_name"]
        + " (DfE "
        + df["old_la_code"]
        + ")"
    )
    issues.append(row_issues(df, dfe_clash | name_clash, "R03", "old_la_code", detail=clash_detail))
    df["la_code_dfe"] = df["la_code_ons"].map(la["la_code_dfe"]).astype("Int64")
    df["la_name"] = expected_name.where(known_la, df["la_name"])

    # Item
    blank_item = df["item_id"] == ""
    has_figures = (df["numerator"] != "") | (df["denominator"] != "")
    issues.append(row_issues(df, blank_item & has_figures, "R07", "item_id"))
    known_item = df["item_id"].isin(items.index)
    issues.append(
        row_issues(
            df, ~known_item & ~blank_item, "R01", "item_id", value=df["item_id"], version=version
        )
    )
    for field in ("agency", "unit"):
        df[field] = df["item_id"].map(items[field]).astype(object)

    # Values
    for col in ("numerator", "denominator", "value"):
        parsed = parse_values(df[col])
        prefix = "submitted_value" if col == "value" else col
        df[prefix] = parsed["value"]
        df[f"{prefix}_state"] = parsed["state"]
        df[f"{prefix}_reason"] = parsed["state_reason"]
        raw_text = df[f"{col}_raw"]
        issues.append(row_issues(df, parsed["state"] == INVALID, "V01", col, value=raw_text))
        issues.append(row_issues(df, parsed["value"] < 0, "V02", col, value=raw_text))
    # Events are whole numbers; a percentage's numerator may not be (FTE posts).
    fractional = (df["unit"] != "percentage") & (
        (df["numerator"] - np.floor(df["numerator"])).abs() > 1e-9
    )
    issues.append(row_issues(df, fractional, "V07", "numerator", value=df["numerator"]))

    pct = df["unit"] == "percentage"
    num_ok = df["numerator_state"] == REPORTED
    den_ok = df["denominator_state"] == REPORTED
    issues.append(
        row_issues(df, pct & num_ok & (df["denominator_state"] == "missing"), "V05", "denominator")
    )
    over = pct & num_ok & den_ok & (df["numerator"] > df["denominator"])
    issues.append(
        row_issues(df, over, "V03", "numerator", value=df["numerator"], detail=df["denominator"])
    )

    # The figure itself
    df["population_0_17"] = _population_for(df, population)
    value = pd.Series(np.nan, index=df.index)
    value = value.mask(df["unit"] == "count", df["numerator"])
    value = value.mask(pct & (df["denominator"] > 0), 100 * df["numerator"] / df["denominator"])
    rate = df["unit"] == "rate_per_10k"
    value = value.mask(rate, 10_000 * df["numerator"] / df["population_0_17"])
    df["value"] = value
    df["value_state"] = df["numerator_state"].where(
        ~(pct & num_ok & ~den_ok), df["denominator_state"]
    )
    lo = df["item_id"].map(items["valid_range"].map(lambda r: (r or {}).get("min")))
    hi = df["item_id"].map(items["valid_range"].map(lambda r: (r or {}).get("max")))
    lo, hi = pd.to_numeric(lo, errors="coerce"), pd.to_numeric(hi, errors="coerce")
    outside = df["value"].notna() & ((df["value"] < lo) | (df["value"] > hi)) & ~over
    issues.append(
        row_issues(
            df,
            outside,
            "V04",
            "numerator",
            value=df["value"].round(2),
            detail="min "
            + lo.astype("string").fillna("none")
            + ", max "
            + hi.astype("string").fillna("none"),
        )
    )
    differs = (
        (df["submitted_value_state"] == REPORTED)
        & df["value"].notna()
        & ((df["submitted_value"] - df["value"]).abs() > _VALUE_TOLERANCE)
    )
    issues.append(
        row_issues(
            df, differs, "V06", "value", value=df["submitted_value"], detail=df["value"].round(2)
        )
    )

    # Duplicates (same authority, period and item), among rows whose identity is
    # sound: a row carrying another borough's code must not knock out that
    # borough's own figure as a "duplicate".
    identity_ok = ~period_bad & known_la & ~(dfe_clash | name_clash) & known_item
    issues.append(_duplicate_issues(df.loc[identity_ok]))
    # Cross-item rules, between rows of the same return that are otherwise clean
    pre = concat_issues(issues)
    blocked = _quarantine_ids(df, pre)
    issues.append(_cross_item_issues(df.loc[~df["input_row_id"].isin(blocked)], rules))

    all_issues = concat_issues(issues)
    quarantine_ids = _quarantine_ids(df, all_issues)
    reasons = _reasons_by_row(df, all_issues)
    df["issue_codes"] = df["input_row_id"].map(reasons).astype(object).fillna("")
    is_q = df["input_row_id"].isin(quarantine_ids)
    accepted = df.loc[~is_q, ACCEPTED_COLUMNS].reset_index(drop=True)
    quarantined = df.loc[is_q, QUARANTINE_COLUMNS].reset_index(drop=True)
    return accepted, quarantined, all_issues


ACCEPTED_COLUMNS = [
    "input_row_id",
    "la_code_ons",
    "la_code_dfe",
    "la_name",
    "period",
    "time_period",
    "time_identifier",
    "item_id",
    "agency",
    "unit",
    "numerator",
    "numerator_state",
    "numerator_reason",
    "denominator",
    "denominator_state",
    "denominator_reason",
    "population_0_17",
    "value",
    "value_state",
    "submitted_value",
    "note",
    "issue_codes",
    *PROVENANCE,
]
QUARANTINE_COLUMNS = [
    "input_row_id",
    "la_code_ons",
    "period",
    "item_id",
    "time_period",
    "time_identifier",
    "new_la_code",
    "old_la_code",
    "numerator_raw",
    "denominator_raw",
    "value_raw",
    "note",
    "issue_codes",
    *PROVENANCE,
]


def _norm_name(s: pd.Series) -> pd.Series:
    return (
        s.astype("string")
        .str.lower()
        .str.replace("&", "and", regex=False)
        .str.replace(r"[^a-z]", "", regex=True)
    )


def _population_for(df: pd.DataFrame, population: pd.DataFrame | None) -> pd.Series:
    """0-17 population for each row: the ONS mid-year estimate of the year the
    financial year starts in (DfE's convention), or the latest one available."""
    if population is None or population.empty:
        return pd.Series(np.nan, index=df.index)
    pop = population.pivot_table(
        index="area_code", columns="mid_year", values="population_0_17", aggfunc="first"
    )
    start = pd.to_numeric(df["period"].str.slice(0, 4), errors="coerce")
    year = start.clip(upper=max(pop.columns)).fillna(max(pop.columns)).astype(int)
    stacked = pop.stack()
    keys = pd.MultiIndex.from_arrays([df["la_code_ons"], year])
    return pd.Series(stacked.reindex(keys).to_numpy(), index=df.index, dtype="float64")


def _duplicate_issues(df: pd.DataFrame) -> pd.DataFrame:
    key = ["la_code_ons", "period", "item_id"]
    sub = df
    if sub.empty:
        return empty_issues()
    dup_any = sub.duplicated(key, keep=False)
    if not dup_any.any():
        return empty_issues()
    grp = sub.loc[dup_any]
    conflict = (
        grp.groupby(key, dropna=False)[["numerator", "denominator"]]
        .transform(lambda s: s.nunique(dropna=False) > 1)
        .any(axis=1)
    )
    first_row = grp.groupby(key, dropna=False)["source_row"].transform("min")
    exact_later = ~conflict & grp.duplicated(key, keep="first")
    detail = pd.Series("", index=grp.index, dtype=object)
    detail[exact_later] = "an exact copy of row " + first_row[exact_later].astype(str)
    detail[conflict] = "with different figures; none of the copies can be used"
    return row_issues(grp, exact_later | conflict, "R06", "item_id", detail=detail)


_OPS = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater, "==": np.equal}


def _cross_item_issues(df: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """Check the data model's cross-item rules between rows of the same return
    (same authority and period), one vectorised join per rule."""
    if rules is None or rules.empty or df.empty:
        return empty_issues()
    key = ["la_code_ons", "period"]
    ok = df.loc[df["numerator_state"] == REPORTED].drop_duplicates([*key, "item_id"])
    out = []
    for rule in rules.itertuples(index=False):
        left = ok.loc[ok["item_id"] == rule.left, [*key, "numerator", "input_row_id"]]
        right = ok.loc[ok["item_id"] == rule.right, [*key, "numerator"]]
        pair = left.merge(right, on=key, suffixes=("_l", "_r"))
        failed = pair.loc[~_OPS[rule.operator](pair["numerator_l"], pair["numerator_r"])]
        if failed.empty:
            continue
        message = (
            f"{rule.rule_id}: {rule.message} ({rule.left} = "
            + failed["numerator_l"].map("{:g}".format)
            + f", {rule.right} = "
            + failed["numerator_r"].map("{:g}".format)
            + ")"
        )
        by_row = pd.Series(message.to_numpy(), index=failed["input_row_id"].to_numpy())
        rows = df.loc[df["input_row_id"].isin(by_row.index)]
        issue = row_issues(
            rows,
            pd.Series(True, index=rows.index),
            "X",
            "numerator",
            severity=rule.severity,
            message=rows["input_row_id"].map(by_row),
        )
        issue["rule_code"] = rule.rule_id
        out.append(issue)
    return concat_issues(out)


def _quarantine_ids(df: pd.DataFrame, issues: pd.DataFrame) -> set[int]:
    """Rows with an error-severity issue are quarantined (queries are kept)."""
    if issues.empty:
        return set()
    errors = issues.loc[issues["severity"] == ERROR]
    keyed = errors.merge(
        df[["input_row_id", "source_file", "source_sheet", "source_row"]],
        left_on=["file", "sheet", "row"],
        right_on=["source_file", "source_sheet", "source_row"],
        how="inner",
    )
    return set(keyed["input_row_id"].tolist())


def _reasons_by_row(df: pd.DataFrame, issues: pd.DataFrame) -> pd.Series:
    if issues.empty:
        return pd.Series(dtype=object)
    keyed = issues.merge(
        df[["input_row_id", "source_file", "source_sheet", "source_row"]],
        left_on=["file", "sheet", "row"],
        right_on=["source_file", "source_sheet", "source_row"],
        how="inner",
    )
    codes = (
        keyed[["input_row_id", "rule_code"]]
        .drop_duplicates()
        .sort_values(["input_row_id", "rule_code"])
    )
    return codes.groupby("input_row_id")["rule_code"].agg(";".join)


# ---------------------------------------------------------------------------
# Reading and ingesting a folder
# ---------------------------------------------------------------------------


def read_returns(
    paths: list[Path],
    items: pd.DataFrame,
    rules: pd.DataFrame,
    authorities: pd.DataFrame,
    version: str,
    expected_periods: list[str] | None = None,
    population: pd.DataFrame | None = None,
    root: Path | None = None,
) -> IngestResult:
    """Read and check many return files. A file that cannot be read gets one
    issue and a ``failed`` status; the others carry on."""
    frames, file_rows, file_problems = [], [], []
    for path in sorted(paths):
        name = str(path.relative_to(root)) if root else path.name
        try:
            frame = read_raw_return(path, display_name=name)
        except ReturnFileError as exc:
            file_problems.append(file_issue(name, exc.code, exc.detail, exc.sheet))
            file_rows.append(
                {
                    "file": name,
                    "status": "failed",
                    "rows_read": 0,
                    "error": RULES[exc.code].title + (f": {exc.detail}" if exc.detail else ""),
                }
            )
            continue
        frames.append(frame)
        file_rows.append({"file": name, "status": "read", "rows_read": len(frame), "error": ""})
    raw = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=[*RAW_FIELDS, *PROVENANCE])
    )
    raw["input_row_id"] = np.arange(len(raw))
    accepted, quarantined, issues = check_rows(
        raw, items, rules, authorities, version, expected_periods, population
    )
    issues = concat_issues([pd.DataFrame(file_problems), issues]) if file_problems else issues
    files = pd.DataFrame(file_rows, columns=["file", "status", "rows_read", "error"])
    if not files.empty:
        acc = accepted.groupby("source_file").size()
        qua = quarantined.groupby("source_file").size()
        files["rows_accepted"] = files["file"].map(acc).fillna(0).astype(int)
        files["rows_quarantined"] = files["file"].map(qua).fillna(0).astype(int)
    return IngestResult(accepted, quarantined, issues, files)


def find_return_files(folder: Path) -> list[Path]:
    """Every file in ``folder`` (recursively) that may be a return; other files
    (a README, a log) are not returns and are left alone."""
    return sorted(
        p
        for p in Path(folder).rglob("*")
        if p.is_file()
        and not p.name.startswith((".", "~$"))
        and p.suffix.lower() in (*RETURN_SUFFIXES, ".pdf", ".docx", ".txt")
        and not p.name.lower().startswith("readme")
    )


def ingest_returns(
    folder: Path,
    out_dir: Path,
    items: pd.DataFrame,
    rules: pd.DataFrame,
    authorities: pd.DataFrame,
    version: str,
    expected_periods: list[str] | None = None,
    population: pd.DataFrame | None = None,
) -> IngestResult:
    """Ingest every return under ``folder`` into ``out_dir`` atomically.

    The outputs (accepted, quarantined, issues, files as Parquet, and a summary)
    are written into a fresh folder that then replaces ``out_dir`` in one rename,
    so a reader never sees a half-written set. Running it twice on the same
    inputs gives identical files.
    """
    folder, out_dir = Path(folder), Path(out_dir)
    paths = [p for p in find_return_files(folder)]
    result = read_returns(
        paths, items, rules, authorities, version, expected_periods, population, root=folder
    )
    if not result.reconciles():
        raise AssertionError("ingestion lost or duplicated rows; this is a bug, please report it")
    summary = {
        "datamodel_version": version,
        "input_snapshot_sha256": folder_sha256(folder),
        "files": len(result.files),
        "files_failed": int((result.files["status"] == "failed").sum()) if len(result.files) else 0,
        "rows_read": result.rows_read,
        "rows_accepted": len(result.accepted),
        "rows_quarantined": len(result.quarantined),
        "issues_error": int((result.issues["severity"] == ERROR).sum()),
        "issues_query": int((result.issues["severity"] != ERROR).sum()),
    }
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for name, frame in (
            ("accepted", result.accepted),
            ("quarantined", result.quarantined),
            ("issues", result.issues),
            ("files", result.files),
        ):
            _to_parquet(frame, staging / f"{name}.parquet")
        write_json_atomic(staging / "summary.json", summary)
        _swap_in(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return result


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].astype("string")
    out.to_parquet(path, index=False)


def _swap_in(staging: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        if old.exists():
            shutil.rmtree(old)
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old)


def load_processed(out_dir: Path) -> IngestResult:
    """Load what :func:`ingest_returns` wrote."""
    out_dir = Path(out_dir)
    frames = {
        n: pd.read_parquet(out_dir / f"{n}.parquet")
        for n in ("accepted", "quarantined", "issues", "files")
    }
    return IngestResult(**frames)


def read_summary(out_dir: Path) -> dict:
    return json.loads((Path(out_dir) / "summary.json").read_text())


__all__ = [
    "GEOGRAPHIC_LEVEL",
    "RETURN_CSV_COLUMNS",
    "IngestResult",
    "ReturnFileError",
    "check_rows",
    "find_return_files",
    "ingest_returns",
    "load_processed",
    "read_raw_return",
    "read_returns",
]
