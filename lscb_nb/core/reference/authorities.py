"""Who is who: London's authorities, every English authority DfE publishes, and the
codes of England and its regions.

An authority is found by ONS code, DfE code or name (any case). London's codes and
names are defined here once; other modules import them.
"""

from __future__ import annotations

import difflib
import logging
import re
from functools import lru_cache

import numpy as np
import pandas as pd

from lscb_nb.core.reference.manifest import read_csv

log = logging.getLogger(__name__)

ENGLAND_CODE = "E92000001"
ENGLAND_NAME = "England"
LONDON_CODE = "E12000007"
LONDON_NAME = "London"
INNER_LONDON_CODE = "E13000001"
INNER_LONDON_NAME = "Inner London"
OUTER_LONDON_CODE = "E13000002"
OUTER_LONDON_NAME = "Outer London"
LONDON_AREA_CODES: tuple[str, ...] = (LONDON_CODE, INNER_LONDON_CODE, OUTER_LONDON_CODE)
LONDON_SUBREGIONS: dict[str, str] = {
    INNER_LONDON_CODE: INNER_LONDON_NAME,
    OUTER_LONDON_CODE: OUTER_LONDON_NAME,
}

# EES geographic levels.
NATIONAL = "National"
REGIONAL = "Regional"
LOCAL_AUTHORITY = "Local authority"
LEVEL_ORDER = {NATIONAL: 0, REGIONAL: 1, LOCAL_AUTHORITY: 2}


def dfe_codes(raw: pd.Series) -> pd.Series:
    """DfE 3-digit codes as nullable integers; shared rows ('314 / 318') become <NA>."""
    return pd.to_numeric(raw, errors="coerce").astype("Int64")


def area_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """area_code, la_code_dfe, area_name and geographic_level of EES tidy rows."""
    level = frame["geographic_level"]
    is_la = level == LOCAL_AUTHORITY
    is_region = level == REGIONAL
    area_code = frame["country_code"].where(~is_region, frame["region_code"])
    area_code = area_code.where(~is_la, frame["new_la_code"])
    area_name = frame["country_name"].where(~is_region, frame["region_name"])
    area_name = area_name.where(~is_la, frame["la_name"])
    la_code = dfe_codes(frame["old_la_code"]).where(is_la)
    return pd.DataFrame(
        {
            "geographic_level": level,
            "area_code": area_code,
            "la_code_dfe": la_code,
            "area_name": area_name,
        },
        index=frame.index,
    )


# --------------------------------------------------------------------------------------
# Authorities
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _authorities() -> pd.DataFrame:
    raw = read_csv("london_authorities")
    frame = pd.DataFrame(
        {
            "la_code_ons": raw["ons_code"],
            "la_code_dfe": raw["dfe_la_code"].astype("int64"),
            "la_name": raw["la_name"],
            "subregion": raw["dfe_subregion"],
            "region_code": raw["region_code"],
        }
    )
    return frame.sort_values("la_name", ignore_index=True)


def authorities() -> pd.DataFrame:
    """London's 33 local authorities, ordered by name.

    Columns: ``la_code_ons`` (E09000001-E09000033), ``la_code_dfe`` (201-213,
    301-320), ``la_name``, ``subregion`` (DfE's, which follows ONS's statistical
    definition: 'Inner London' or 'Outer London'; so Haringey and Newham are Inner
    and Greenwich is Outer) and ``region_code`` (the sub-region's code, E13000001
    Inner or E13000002 Outer London).
    """
    return _authorities().copy()


# Words around an authority's name that do not change which authority it is:
# 'London Borough of Camden', 'Durham County Council', 'Bristol, City of' (ONS).
# Longest first, so 'city council' goes before 'council'.
NAME_PREFIXES: tuple[str, ...] = (
    "the royal borough of ",
    "royal borough of ",
    "the london borough of ",
    "london borough of ",
    "metropolitan borough of ",
    "borough of ",
)
NAME_SUFFIXES: tuple[str, ...] = (
    " metropolitan borough council",
    " metropolitan district council",
    " borough council",
    " county council",
    " district council",
    " city council",
    " council",
    " corporation",
    " city of",
    " county of",
)


def name_key(name: str) -> str:
    """A name as compared: any case, '&' as 'and', hyphens as spaces, full stops,
    commas and apostrophes dropped, and the words of :data:`NAME_PREFIXES` and
    :data:`NAME_SUFFIXES` around it removed ('Stockton on Tees Borough Council' and
    'Stockton-on-Tees' have one key)."""
    text = str(name).replace("&", " and ").replace("-", " ").replace("\u2019", "'")
    text = re.sub(r"[.,']", "", text)
    text = re.sub(r"\s+", " ", text).strip().casefold()
    for prefix in NAME_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    for suffix in NAME_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    return text


@lru_cache(maxsize=1)
def aliases() -> pd.DataFrame:
    """The short and council forms of authority names and the ONS code each means
    (``data/reference/authority_aliases.csv``: alias, la_code_ons, la_name, source):
    'Durham' is County Durham, 'Newcastle' Newcastle upon Tyne, 'Hull' Kingston upon
    Hull. Spelling variants are left to :func:`name_key`."""
    return read_csv("authority_aliases")


def spellings(table: pd.DataFrame) -> list[tuple[str, str]]:
    """Every accepted spelling of the authorities in ``table`` as (name key, ONS code):
    each name and each alias, longest first (so a file named 'Kingston upon Hull'
    is not taken for the alias 'Hull' of a shorter name)."""
    codes = set(table["la_code_ons"])
    pairs = [(name_key(n), c) for n, c in zip(table["la_name"], table["la_code_ons"], strict=True)]
    alias = aliases()
    pairs += [
        (name_key(a), c)
        for a, c in zip(alias["alias"], alias["la_code_ons"], strict=True)
        if c in codes
    ]
    unique = dict.fromkeys(pairs)
    return sorted(unique, key=lambda p: len(p[0]), reverse=True)


def authority_name(code: str) -> str:
    """The authority's name for an ONS code (any English authority), or the code
    itself when it is not one (a report never fails for want of a name)."""
    names = _authorities().set_index("la_code_ons")["la_name"]
    if code in names.index:
        return str(names[code])
    return str(_england_table().set_index("la_code_ons")["la_name"].get(code, code))


def find_authority(code_or_name: str | int) -> pd.Series:
    """One London authority's row of :func:`authorities`.

    Accepts the ONS code ('E09000007'), the DfE code (202 or '202') or the name
    ('Camden', any case; '&' for 'and' is fine). Raises ``KeyError`` saying how to
    spell it when nothing matches.
    """
    try:
        return find_in(_authorities(), code_or_name)
    except KeyError:
        raise KeyError(
            f"No London authority {code_or_name!r}.{_did_you_mean(_authorities(), code_or_name)}"
            " Give an ONS code (E09000001 to E09000033), a DfE code (201-213 or 301-320) or a "
            "name as in authorities() (case-insensitive), e.g. 'E09000007', 202 or 'Camden'."
        ) from None


# --------------------------------------------------------------------------------------
# Every English authority DfE publishes, for neighbours outside London
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def england_by_year() -> pd.DataFrame:
    """DfE code -> ONS code and name per year, from the CIN referrals table (2013-2025).

    ONS codes of some authorities changed over the years (North Yorkshire E10000023
    -> E06000065 in 2023) while the DfE code stayed, so the code is kept per year.
    """
    raw = read_csv("dfe_cin_c1")
    raw = raw[raw["geographic_level"] == LOCAL_AUTHORITY]
    frame = pd.DataFrame(
        {
            "la_code_dfe": dfe_codes(raw["old_la_code"]),
            "year": raw["time_period"].astype("int64"),
            "la_code_ons": raw["new_la_code"],
            "la_name": raw["la_name"],
        }
    )
    return frame.sort_values(["la_code_dfe", "year"], ignore_index=True)


@lru_cache(maxsize=1)
def _england_table() -> pd.DataFrame:
    raw = read_csv("dfe_cin_c1")
    raw = raw[raw["geographic_level"] == LOCAL_AUTHORITY]
    raw = raw[raw["time_period"].astype("int64") == raw["time_period"].astype("int64").max()]
    frame = pd.DataFrame(
        {
            "la_code_ons": raw["new_la_code"],
            "la_code_dfe": dfe_codes(raw["old_la_code"]).astype("int64"),
            "la_name": raw["la_name"],
            "subregion": raw["region_name"],
            "region_code": raw["region_code"],
        }
    ).drop_duplicates("la_code_dfe")
    london = _authorities().set_index("la_code_ons")
    in_london = frame["la_code_ons"].isin(london.index)
    for column in ("subregion", "region_code"):
        frame.loc[in_london, column] = frame.loc[in_london, "la_code_ons"].map(london[column])
    return frame.sort_values("la_name", ignore_index=True)


def england_authorities() -> pd.DataFrame:
    """Every English authority in DfE's latest children-in-need table, ordered by name.

    Same columns as :func:`authorities`; ``subregion`` is the region's name outside
    London (Inner/Outer London inside it) and ``region_code`` its ONS code. A
    project outside London takes its authorities from here.
    """
    return _england_table().copy()


def _did_you_mean(table: pd.DataFrame, code_or_name: str | int) -> str:
    by_code = dict(zip(table["la_code_ons"], table["la_name"], strict=True))
    names = {key: by_code[code] for key, code in spellings(table)}
    close = difflib.get_close_matches(name_key(str(code_or_name)), list(names), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(names[n] for n in close))
    return f" Did you mean {', '.join(repr(n) for n in suggestions)}?" if close else ""


def find_in(table: pd.DataFrame, code_or_name: str | int) -> pd.Series:
    """One row of an authority ``table`` by ONS code, DfE code or name (any case).

    Raises ``KeyError`` naming what was asked and how to write it when nothing matches.
    """
    key = str(code_or_name).strip()
    if isinstance(code_or_name, (int, np.integer)) or key.isdigit():
        hit = table[table["la_code_dfe"] == int(key)]
    elif re.fullmatch(r"[Ee]\d{8}", key):
        hit = table[table["la_code_ons"] == key.upper()]
    else:
        hit = table[table["la_name"].map(name_key) == name_key(key)]
        if hit.empty:
            alias = aliases()
            codes = alias.loc[alias["alias"].map(name_key) == name_key(key), "la_code_ons"]
            hit = table[table["la_code_ons"].isin(codes)]
    if len(hit) == 1:
        return hit.iloc[0].copy()
    raise KeyError(
        f"No authority {code_or_name!r} among the {len(table)} known."
        f"{_did_you_mean(table, code_or_name)} Give an ONS code "
        f"(e.g. {_example(table, 'la_code_ons')!r}), a DfE code (e.g. "
        f"{_example(table, 'la_code_dfe')}) or the name as DfE writes it (any case; "
        "short forms such as 'Durham' or 'Newcastle' are accepted)."
    )


def _example(table: pd.DataFrame, column: str) -> object:
    """A value of ``column`` from the table's first row, for an error's example (so a
    North East project's message cites a North East authority, not Camden)."""
    if table.empty:
        return {"la_code_ons": "E06000047", "la_code_dfe": 840}.get(column, "")
    value = table[column].iloc[0]
    return int(value) if column == "la_code_dfe" else str(value)


def latest_authority_names() -> pd.DataFrame:
    """One row per DfE code: its most recent ONS code and name."""
    return (
        england_by_year()
        .drop_duplicates("la_code_dfe", keep="last")
        .set_index("la_code_dfe")[["la_code_ons", "la_name"]]
    )


def resolve_la_code(la: str | int) -> int:
    """The DfE code of a London authority (any key) or of any English authority."""
    try:
        return int(find_authority(la)["la_code_dfe"])
    except KeyError:
        pass
    names = latest_authority_names()
    key = str(la).strip()
    if key.isdigit() and int(key) in names.index:
        return int(key)
    by_ons = names.index[names["la_code_ons"] == key.upper()]
    by_name = names.index[names["la_name"].map(name_key) == name_key(key)]
    england = england_by_year()
    by_old_ons = england.loc[england["la_code_ons"] == key.upper(), "la_code_dfe"].unique()
    for hits in (by_ons, by_name, by_old_ons):
        if len(hits) == 1:
            return int(hits[0])
    raise KeyError(
        f"No English authority {la!r}. Give a DfE code (e.g. 202), an ONS code "
        "(e.g. E06000047) or a name as DfE publishes it (e.g. 'County Durham' or 'Durham')."
    )
