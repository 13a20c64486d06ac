"""Checking a return's rows against the rules in force for its data-model version.

:func:`prepare_rows` derives, vectorised, what the rules read from the raw text
(period, authority, item, each figure parsed with its state, the value itself);
:func:`check_rows` then runs every rule of the registry
(:mod:`lscb_nb.core.rules`) stage by stage and splits the rows into accepted and
quarantined: a row with an error is quarantined, a query keeps it.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from lscb_nb.core import periods, units
from lscb_nb.core.rules import ERROR, concat_issues, issues_for, rules_for
from lscb_nb.core.rules.figure_rules import zero_of_zero
from lscb_nb.core.rules.row_context import DEFAULT_PLAUSIBLE_COUNT, ReturnContext
from lscb_nb.core.values import NOT_APPLICABLE, REPORTED, parse_values
from lscb_nb.pilot.rawrows import PROVENANCE, RAW_FIELDS

log = logging.getLogger(__name__)


def check_rows(
    raw: pd.DataFrame,
    items: pd.DataFrame,
    rules: pd.DataFrame,
    authorities: pd.DataFrame,
    version: str,
    expected_periods: list[str] | None = None,
    population: pd.DataFrame | None = None,
    plausible_count: float = DEFAULT_PLAUSIBLE_COUNT,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Check raw rows; return (accepted, quarantined, issues).

    ``items`` and ``rules`` are the data model's tables, ``authorities`` the
    London authorities (``la_code_ons``, ``la_code_dfe``, ``la_name``), and
    ``population`` (optional: ``area_code``, ``mid_year``, ``population_0_17``)
    turns counts of rate items into rates per 10,000. ``plausible_count`` is the
    largest believable numerator or denominator for an item whose valid range
    sets no maximum (V14). The rules are those of ``version``
    (:func:`lscb_nb.core.rules.registry_for`).
    """
    ctx = ReturnContext(items, rules, authorities, version, expected_periods, plausible_count)
    df = prepare_rows(raw, items, authorities, population)
    del raw  # the prepared rows keep the raw text they need (numerator_raw ...)
    issues = [
        issues_for(rule, df, rule.check(df, ctx), version)
        for stage in ("file", "row", "duplicate")
        for rule in rules_for(version, stage)
        if rule.check is not None
    ]
    # Cross-item rules compare items of one return: only rows otherwise clean.
    blocked = df["input_row_id"].isin(_quarantine_ids(df, concat_issues(issues)))
    clean = df.loc[~blocked, [c for c in CROSS_ITEM_COLUMNS if c in df.columns]]
    issues += [
        issues_for(rule, clean, rule.check(clean, ctx), version)
        for rule in rules_for(version, "cross-item")
    ]
    all_issues = concat_issues(issues)
    is_q = df["input_row_id"].isin(_quarantine_ids(df, all_issues))
    df["issue_codes"] = df["input_row_id"].map(_reasons_by_row(df, all_issues)).astype(object)
    df["issue_codes"] = df["issue_codes"].fillna("")
    all_issues = all_issues.drop(columns="input_row_id", errors="ignore")
    accepted = _as_text(df.loc[~is_q, ACCEPTED_COLUMNS].reset_index(drop=True))
    quarantined = _as_text(df.loc[is_q, QUARANTINE_COLUMNS].reset_index(drop=True))
    return accepted, quarantined, all_issues


# Columns with a handful of distinct values that rules compare over and over.
CODED_COLUMNS = (
    "unit",
    "numerator_state",
    "denominator_state",
    "submitted_value_state",
    "value_state",
    "numerator_rule",
    "denominator_rule",
    "submitted_value_rule",
)
# What cross-item rules read of a row, and what its issue quotes.
CROSS_ITEM_COLUMNS = (
    *PROVENANCE,
    "input_row_id",
    "la_code_ons",
    "period",
    "item_id",
    "numerator",
    "numerator_state",
)


def prepare_rows(
    raw: pd.DataFrame,
    items: pd.DataFrame,
    authorities: pd.DataFrame,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Raw rows with what the rules read: the period (``period``, ``period_error``),
    the authority (``la_known``, ``la_expected_*``), the item (``item_known``, unit,
    valid range), each figure parsed (value, ``_state``, ``_reason``, the cell rule
    and what it was read as) and the value itself. Nothing is judged here."""
    df = raw.reset_index(drop=True)  # a new frame: the caller's is left as it was
    if "input_row_id" not in df.columns:
        df["input_row_id"] = np.arange(len(df))
    for col in RAW_FIELDS:  # each distinct text stripped once
        text = df[col].astype("string").fillna("")
        codes, uniques = pd.factorize(text)
        stripped = pd.Series(uniques, dtype="string").str.strip()
        if (stripped != pd.Series(uniques, dtype="string")).any():
            text = pd.Series(stripped.to_numpy()[codes], index=df.index, dtype="string")
        df[col] = text
    df["item_id"] = df["item_id"].str.upper()
    for col in ("numerator", "denominator", "value"):
        df[f"{col}_raw"] = df[col]

    # Period: each distinct (time_period, time_identifier) pair parsed once.
    keys = df[["time_period", "time_identifier"]].drop_duplicates()
    labels, bad = {}, {}
    for tp, ti in keys.itertuples(index=False):
        try:
            labels[(tp, ti)] = periods.from_ees(tp, ti)
        except periods.PeriodError as exc:
            bad[(tp, ti)] = str(exc)
    pair = df["time_period"] + "\x1f" + df["time_identifier"]
    labels = {f"{tp}\x1f{ti}": label for (tp, ti), label in labels.items()}
    bad = {f"{tp}\x1f{ti}": error for (tp, ti), error in bad.items()}
    df["period"] = _map_distinct(pair, labels).astype(object)
    df["period_error"] = _map_distinct(pair, bad).astype("string")

    # Authority
    la = authorities.set_index("la_code_ons")
    df["la_code_ons"] = df["new_la_code"].str.upper()
    la_keys = pd.factorize(df["la_code_ons"])
    df["la_known"] = df["la_code_ons"].isin(la.index)
    df["la_expected_dfe"] = _lookup(la_keys, la["la_code_dfe"].astype(str), df.index).fillna("")
    df["la_expected_name"] = _lookup(la_keys, la["la_name"], df.index).fillna("")
    df["la_name_raw"] = df["la_name"]
    df["la_code_dfe"] = _lookup(la_keys, la["la_code_dfe"], df.index).astype("Int64")
    df["la_name"] = df["la_expected_name"].where(df["la_known"], df["la_name"])

    # Item
    df["item_known"] = df["item_id"].isin(items.index)
    item_keys = pd.factorize(df["item_id"])
    for field in ("agency", "unit"):
        df[field] = _lookup(item_keys, items[field], df.index).astype(object)
    for bound in ("min", "max"):
        limit = items["valid_range"].map(lambda r, b=bound: (r or {}).get(b))
        limit = pd.to_numeric(limit, errors="coerce").astype("float64")
        df[f"valid_{bound}"] = _lookup(item_keys, limit, df.index).astype("float64")

    # Figures as written
    for col in ("numerator", "denominator", "value"):
        # A cell's reading depends on its text alone: each distinct text is read once.
        codes, uniques = pd.factorize(df[col])
        parsed = parse_values(pd.Series(uniques, dtype="string"))
        for coded in ("state", "rule_code"):  # see CODED_COLUMNS
            parsed[coded] = parsed[coded].astype("category")
        parsed = parsed.take(codes)
        parsed.index = df.index
        prefix = "submitted_value" if col == "value" else col
        df[prefix] = parsed["value"]
        df[f"{prefix}_state"] = parsed["state"]
        df[f"{prefix}_reason"] = parsed["state_reason"]
        df[f"{prefix}_rule"] = parsed["rule_code"]
        df[f"{prefix}_read_as"] = parsed["read_as"]

    # The figure itself
    pct = df["unit"] == "percentage"
    num_ok = df["numerator_state"] == REPORTED
    den_ok = df["denominator_state"] == REPORTED
    df["population_0_17"] = _population_for(df, population)
    value = pd.Series(np.nan, index=df.index)
    value = value.mask(df["unit"] == "count", df["numerator"])
    value = value.mask(
        pct & (df["denominator"] > 0),
        units.scaled(df["numerator"], df["denominator"], "percentage"),
    )
    rate = df["unit"] == "rate_per_10k"
    value = value.mask(rate, units.scaled(df["numerator"], df["population_0_17"], "rate_per_10k"))
    df["value"] = value
    df["value_state"] = (
        df["numerator_state"]
        .astype(object)
        .where(~(pct & num_ok & ~den_ok), df["denominator_state"].astype(object))
    )
    # 0 out of 0: no percentage exists; say so rather than leave a bare NaN.
    df.loc[zero_of_zero(df), "value_state"] = NOT_APPLICABLE
    # Few distinct values, compared by many rules: categories compare far faster
    # than text (the outputs turn them back into text, see _as_text).
    for col in CODED_COLUMNS:
        if not isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype("category")
    return df


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


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Category columns back to plain text, as the outputs have always been."""
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = frame[col].astype(object)
    return frame


def _map_distinct(keys: pd.Series, mapping: dict) -> pd.Series:
    """``keys.map(mapping)``, looking each distinct key up once (a return's rows
    share a handful of periods, authorities and items)."""
    codes, uniques = pd.factorize(keys)
    looked_up = np.array([mapping.get(u) for u in uniques] + [None], dtype=object)
    return pd.Series(looked_up[codes], index=keys.index)


def _lookup(keys: tuple[np.ndarray, object], table: pd.Series, index: pd.Index) -> pd.Series:
    """A column mapped through ``table``, given its ``pd.factorize`` (codes and
    distinct values): each distinct value is looked up once."""
    codes, uniques = keys
    found = table[~table.index.duplicated()].reindex(uniques).to_numpy()
    out = np.empty(len(found) + 1, dtype=object)
    out[:-1], out[-1] = found, None
    return pd.Series(out[codes], index=index)


def _population_for(df: pd.DataFrame, population: pd.DataFrame | None) -> pd.Series:
    """0-17 population for each row: the ONS mid-year estimate of the year the
    financial year starts in (DfE's convention), or the latest one available."""
    if population is None or population.empty:
        return pd.Series(np.nan, index=df.index)
    pop = population.pivot_table(
        index="area_code", columns="mid_year", values="population_0_17", aggfunc="first"
    )
    # Each distinct authority and period is looked up once.
    codes, uniques = pd.factorize(df["la_code_ons"].astype(str) + "|" + df["period"].astype(str))
    parts = pd.Series(uniques).str.split("|", n=1, expand=True)
    start = pd.to_numeric(parts[1].str.slice(0, 4), errors="coerce")
    year = start.clip(upper=max(pop.columns)).fillna(max(pop.columns)).astype(int)
    stacked = pop.stack()
    found = stacked.reindex(pd.MultiIndex.from_arrays([parts[0], year])).to_numpy("float64")
    return pd.Series(np.append(found, np.nan)[codes], index=df.index, dtype="float64")


def _row_ids(df: pd.DataFrame, issues: pd.DataFrame) -> pd.Series:
    """The input row each issue is about: issues built from the checked rows carry
    it; others are matched on file, sheet and row."""
    if "input_row_id" in issues.columns and issues["input_row_id"].notna().all():
        return issues["input_row_id"].astype("int64")
    keyed = issues.reset_index().merge(
        df[["input_row_id", "source_file", "source_sheet", "source_row"]],
        left_on=["file", "sheet", "row"],
        right_on=["source_file", "source_sheet", "source_row"],
        how="inner",
    )
    return pd.Series(keyed["input_row_id"].to_numpy(), index=keyed["index"].to_numpy())


def _quarantine_ids(df: pd.DataFrame, issues: pd.DataFrame) -> set[int]:
    """Rows with an error-severity issue are quarantined (queries are kept)."""
    if issues.empty:
        return set()
    return set(_row_ids(df, issues.loc[issues["severity"] == ERROR]).tolist())


def _reasons_by_row(df: pd.DataFrame, issues: pd.DataFrame) -> pd.Series:
    """Each row's issue codes, sorted and joined by ';'."""
    if issues.empty:
        return pd.Series(dtype=object)
    ids = _row_ids(df, issues)
    codes = pd.DataFrame(
        {"input_row_id": ids.to_numpy(), "rule_code": issues.loc[ids.index, "rule_code"].to_numpy()}
    ).drop_duplicates()
    # One pass per distinct code (a few dozen) rather than a Python join per row.
    out = pd.Series("", index=pd.Index(codes["input_row_id"].unique()), dtype=object)
    for code in sorted(codes["rule_code"].unique()):
        at = codes.loc[codes["rule_code"] == code, "input_row_id"]
        out.loc[at] = out.loc[at].where(out.loc[at] == "", out.loc[at] + ";") + code
    return out.sort_index()
