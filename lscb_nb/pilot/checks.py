"""Checking a return's rows against the rules in force for its data-model version.

:func:`prepare_rows` derives, vectorised, what the rules read from the raw text
(period, authority, item, each figure parsed with its state, the value itself);
:func:`check_rows` then runs every rule of the registry
(:mod:`lscb_nb.core.rules`) stage by stage and splits the rows into accepted and
quarantined: a row with an error is quarantined, a query keeps it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lscb_nb.core import periods, units
from lscb_nb.core.rules import ERROR, concat_issues, issues_for, rules_for
from lscb_nb.core.rules.figure_rules import zero_of_zero
from lscb_nb.core.rules.identity_rules import authority_clash
from lscb_nb.core.rules.row_context import DEFAULT_PLAUSIBLE_COUNT, ReturnContext
from lscb_nb.core.values import REPORTED, ZERO_DENOMINATOR, parse_values
from lscb_nb.pilot.rawrows import PROVENANCE, RAW_FIELDS
from lscb_nb.pilot.resubmission import find_superseded, mark_changes

log = logging.getLogger(__name__)


@dataclass
class CheckedRows:
    """Checked rows: every row is accepted, quarantined or superseded, once;
    ``changes`` are the cells a later return changed (one R08 issue each)."""

    accepted: pd.DataFrame
    quarantined: pd.DataFrame
    issues: pd.DataFrame
    superseded: pd.DataFrame
    changes: pd.DataFrame


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
    (:func:`lscb_nb.core.rules.registry_for`). Rows only a submission date orders
    may be superseded (see :func:`check_returns`, which also returns them).
    """
    out = check_returns(
        raw, items, rules, authorities, version, expected_periods, population, plausible_count
    )
    return out.accepted, out.quarantined, out.issues


def check_returns(
    raw: pd.DataFrame,
    items: pd.DataFrame,
    rules: pd.DataFrame,
    authorities: pd.DataFrame,
    version: str,
    expected_periods: list[str] | None = None,
    population: pd.DataFrame | None = None,
    plausible_count: float = DEFAULT_PLAUSIBLE_COUNT,
    file_times: dict[str, float] | None = None,
) -> CheckedRows:
    """:func:`check_rows`, after setting aside the rows a later return supersedes
    (:mod:`lscb_nb.pilot.resubmission`; ``file_times`` are each file's modification
    time, used where a return states no submission date)."""
    ctx = ReturnContext(items, rules, authorities, version, expected_periods, plausible_count)
    df = prepare_rows(raw, items, authorities, population)
    del raw  # the prepared rows keep the raw text they need (numerator_raw ...)
    found = find_superseded(df, file_times)
    superseded = pd.DataFrame(columns=SUPERSEDED_COLUMNS)
    if len(found.superseded_by):
        mark_changes(df, found.changes)
        gone = df.index.isin(found.superseded_by.index)
        superseded = df.loc[gone].copy()
        superseded["superseded_by"] = found.superseded_by.reindex(superseded.index)
        superseded["superseded_reason"] = found.reason.reindex(superseded.index)
        superseded["issue_codes"] = ""  # not checked: its figures are not used
        superseded = _as_text(superseded[SUPERSEDED_COLUMNS].reset_index(drop=True))
        df = df.loc[~gone].reset_index(drop=True)
    changes = found.changes.drop(columns="new_index", errors="ignore")
    issues = [
        issues_for(rule, df, rule.check(df, ctx), version)
        for stage in ("file", "row", "duplicate")
        for rule in rules_for(version, stage)
        if rule.check is not None
    ]
    # Cross-item rules compare items of one return: only rows otherwise clean.
    found_issues = [part for part in issues if not part.empty]  # any order: only ids are read
    blocked = df["input_row_id"].isin(
        _quarantine_ids(df, pd.concat(found_issues) if found_issues else None)
    )
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
    return CheckedRows(accepted, quarantined, all_issues, superseded, changes)


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
    for col in RAW_FIELDS:  # each distinct text stripped (an item id upper-cased) once
        text = df[col].astype("string").fillna("")
        codes, uniques = pd.factorize(text)
        stripped = pd.Series(uniques, dtype="string").str.strip()
        if col == "item_id":
            stripped = stripped.str.upper()
        if (stripped != pd.Series(uniques, dtype="string")).any():
            text = pd.Series(stripped.to_numpy()[codes], index=df.index, dtype="string")
        df[col] = text
    for col in ("numerator", "denominator", "value"):
        df[f"{col}_raw"] = df[col]

    # Period: each distinct (time_period, time_identifier) pair parsed once.
    pair_codes, pairs = _pair_codes(df["time_period"], df["time_identifier"])
    labels, bad = [], []
    for tp, ti in pairs:
        try:
            labels.append(periods.from_ees(tp, ti))
            bad.append(None)
        except periods.PeriodError as exc:
            labels.append(np.nan)
            bad.append(str(exc))
    df["period"] = _taken(pd.Series(labels, dtype=object), pair_codes, df.index)
    df["period_error"] = _taken(pd.Series(bad, dtype="string"), pair_codes, df.index)

    # Authority
    la = authorities.set_index("la_code_ons")
    codes, uniques = pd.factorize(df["new_la_code"])  # each distinct code upper-cased once
    upper = pd.Series(uniques, dtype="string").str.upper().to_numpy()
    df["la_code_ons"] = pd.Series(upper[codes], index=df.index, dtype="string")
    la_keys = pd.factorize(df["la_code_ons"], use_na_sentinel=False)
    df["la_known"] = _taken(pd.Series(la_keys[1].isin(la.index)), la_keys[0], df.index)
    df["la_expected_dfe"] = _lookup(la_keys, la["la_code_dfe"].astype(str), df.index).fillna("")
    df["la_expected_name"] = _lookup(la_keys, la["la_name"], df.index).fillna("")
    df["la_name_raw"] = df["la_name"]
    df["la_code_dfe"] = _lookup(la_keys, la["la_code_dfe"], df.index, "Int64")
    df["la_name"] = df["la_expected_name"].where(df["la_known"], df["la_name"])
    df["la_clash"] = authority_clash(df)  # read by R03 and by the duplicate rule

    # Item
    item_keys = pd.factorize(df["item_id"], use_na_sentinel=False)
    df["item_known"] = _taken(pd.Series(item_keys[1].isin(items.index)), item_keys[0], df.index)
    df["agency"] = _lookup(item_keys, items["agency"], df.index, object)
    df["unit"] = _lookup(item_keys, items["unit"], df.index, "category")  # see CODED_COLUMNS
    for bound in ("min", "max"):
        limit = items["valid_range"].map(lambda r, b=bound: (r or {}).get(b))
        limit = pd.to_numeric(limit, errors="coerce").astype("float64")
        df[f"valid_{bound}"] = _lookup(item_keys, limit, df.index, "float64")

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
    unit = df["unit"]
    pct = (unit == "percentage").to_numpy()
    num_ok = (df["numerator_state"] == REPORTED).to_numpy()
    den_ok = (df["denominator_state"] == REPORTED).to_numpy()
    authority_period = _combine(la_keys, (pair_codes, labels))
    df["population_0_17"] = _population_for(df, population, authority_period)
    num, den = df["numerator"].to_numpy(), df["denominator"].to_numpy()
    value = np.where((unit == "count").to_numpy(), num, np.nan)
    value = np.where(pct & (den > 0), units.scaled(num, den, "percentage"), value)
    pop = df["population_0_17"].to_numpy()
    rate = (unit == "rate_per_10k").to_numpy()
    df["value"] = np.where(rate, units.scaled(num, pop, "rate_per_10k"), value)
    # A percentage with a reported numerator takes its denominator's state, and
    # 0 out of 0 is its own state: supplied (a rare event that did not happen), with
    # no percentage defined (rather than a bare NaN or a gap).
    df["value_state"] = _value_state(
        df["numerator_state"], df["denominator_state"], pct & num_ok & ~den_ok, zero_of_zero(df)
    )
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


SUPERSEDED_COLUMNS = [*QUARANTINE_COLUMNS, "superseded_by", "superseded_reason"]


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Category columns back to plain text, as the outputs have always been."""
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = frame[col].astype(object)
    return frame


def _taken(per_key: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """A column built from one value per distinct key (typed once) and each row's
    key code (``pd.factorize`` with ``use_na_sentinel=False``: no code is -1)."""
    taken = per_key.take(codes)
    return pd.Series(taken.array, index=index, dtype=taken.dtype, copy=False)


def _pair_codes(first: pd.Series, second: pd.Series) -> tuple[np.ndarray, list[tuple]]:
    """Each row's code for its (first, second) pair, and the distinct pairs."""
    return _combine(
        pd.factorize(first, use_na_sentinel=False), pd.factorize(second, use_na_sentinel=False)
    )


def _combine(a_keys: tuple, b_keys: tuple) -> tuple[np.ndarray, list[tuple]]:
    """Two factorized columns (codes, distinct values; no missing-value code) as
    one: each row's code for its pair, and the distinct pairs."""
    (a_codes, a), (b_codes, b) = a_keys, b_keys
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)  # read value by value
    n = max(len(b), 1)
    codes, keys = pd.factorize(a_codes.astype(np.int64) * n + b_codes)
    return codes, [(a[k // n], b[k % n]) for k in keys.tolist()]


def _lookup(
    keys: tuple[np.ndarray, object], table: pd.Series, index: pd.Index, dtype: object = None
) -> pd.Series:
    """A column mapped through ``table``, given its ``pd.factorize`` (codes and
    distinct values): each distinct value is looked up (and given ``dtype``) once,
    and the rows take theirs."""
    codes, uniques = keys
    found = table[~table.index.duplicated()].reindex(uniques).to_numpy()
    out = np.empty(len(found) + 1, dtype=object)
    out[:-1], out[-1] = found, None
    per_key = pd.Series(out)
    if dtype is not None:
        per_key = per_key.astype(dtype)
    return _taken(per_key, np.where(codes < 0, len(found), codes), index)


def _value_state(
    numerator: pd.Series, denominator: pd.Series, from_denominator: np.ndarray, none: pd.Series
) -> pd.Series:
    """The value's state as a category: the numerator's, the denominator's where
    ``from_denominator``, zero denominator where ``none`` (0 out of 0); only states in
    use are kept."""
    num, den = numerator.astype("category"), denominator.astype("category")
    states = sorted({*num.cat.categories, *den.cat.categories, ZERO_DENOMINATOR})
    codes = np.where(
        from_denominator,
        den.cat.set_categories(states).cat.codes.to_numpy(),
        num.cat.set_categories(states).cat.codes.to_numpy(),
    )
    codes[none.to_numpy(dtype=bool)] = states.index(ZERO_DENOMINATOR)
    state = pd.Categorical.from_codes(codes, categories=states).remove_unused_categories()
    return pd.Series(state, index=numerator.index)


def _population_for(
    df: pd.DataFrame, population: pd.DataFrame | None, keys: tuple[np.ndarray, list[tuple]]
) -> pd.Series:
    """0-17 population for each row: the ONS mid-year estimate of the year the
    financial year starts in (DfE's convention), or the latest one available.
    ``keys`` are each row's code for its (authority, period) and the distinct pairs."""
    if population is None or population.empty or df.empty:
        return pd.Series(np.nan, index=df.index)
    pop = population.pivot_table(
        index="area_code", columns="mid_year", values="population_0_17", aggfunc="first"
    )
    # Each distinct authority and period is looked up once.
    codes, pairs = keys
    area = pd.Series([str(a) for a, _ in pairs], dtype=object)
    start = pd.to_numeric(pd.Series([str(p)[:4] for _, p in pairs], dtype=object), errors="coerce")
    year = start.clip(upper=max(pop.columns)).fillna(max(pop.columns)).astype(int)
    stacked = pop.stack()
    found = stacked.reindex(pd.MultiIndex.from_arrays([area, year])).to_numpy("float64", copy=True)
    found[[pd.isna(a) or pd.isna(p) for a, p in pairs]] = np.nan  # no period, no population
    return pd.Series(found[codes], index=df.index, dtype="float64")


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
    if issues is None or issues.empty:
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
    if codes.empty:
        return pd.Series(dtype=object)
    codes = codes.sort_values(["input_row_id", "rule_code"], kind="stable")
    row = codes["input_row_id"].to_numpy()
    code = codes["rule_code"].to_numpy(dtype=object)
    # A row's k-th code is joined on in pass k (rows have a few codes at most),
    # rather than a Python join per row.
    first = np.r_[True, row[1:] != row[:-1]]
    group = np.cumsum(first) - 1
    rank = np.arange(len(row)) - np.flatnonzero(first)[group]
    joined = code[first].copy()
    for k in range(1, int(rank.max(initial=0)) + 1):
        at = rank == k
        joined[group[at]] = joined[group[at]] + ";" + code[at]
    return pd.Series(joined, index=row[first], dtype=object)
