"""Published reference data: London's authorities, populations, statistical
neighbours and DfE's national safeguarding series, in tidy shapes.

Everything here reads the files bundled in ``lscb_nb/data/reference/`` (see its README for
provenance and licence): aggregate, published, local-authority-level statistics.
File reads are cached, and every function returns a copy, so callers may change
what they get back without touching the cache.

Conventions, as DfE publishes them:

- a DfE *year* is the year ending 31 March (``2025`` is 1 April 2024 - 31 March
  2025); the children's social work workforce census is the exception, its year is
  the census at 30 September of that year;
- a rate per 10,000 children for year ending 31 March *Y* divides the count by the
  ONS mid-year (*Y* - 1) estimate of children aged 0-17 and rounds half up, to one
  decimal place (children looked after: to a whole number);
- suppression and missing codes (``c``, ``x``, ``u``, ``z``, ``low``; LAIT's ``-``)
  are value states, never zeros (see :mod:`lscb_nb.core.values`).
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Literal, overload

import numpy as np
import pandas as pd

from lscb_nb.core import config
from lscb_nb.core.stats import round_half_up
from lscb_nb.core.values import REPORTED, parse_values

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# Files and codes
# --------------------------------------------------------------------------------------

LONDON_CODES_FILE = "london_la_codes.csv"
POPULATION_FILE = "ons_mid-year_population_estimates_2012_to_2024.csv"
SN_2021_FILE = "New_Statistical_Neighbour_Groupings_April_2021.csv"
SN_2025_FILE = "sn_model_2025_wide.csv"
LAIT_FILE = "lait_bds_long_0.parquet"
LAIT_DICTIONARY_FILE = "lait_data_dictionary.csv"

# The bundled DfE Explore Education Statistics tables, by ``source`` name.
DFE_FILES: dict[str, str] = {
    "dfe_cin_b1": "b1_children_in_need_2013_to_2025.csv",
    "dfe_cin_c1": "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
    "dfe_cin_c4": "c4_children_in_need_section_47s_and_icpcs_2013_to_2025.csv",
    "dfe_cin_d3": "d3_cpps_subsequent_plan_2013_to_2025.csv",
    "dfe_cin_d5": "d5_cpps_at31march_by_duration_2013_to_2025.csv",
    "dfe_ssda903": "cla_number_and_rate_per_10k_children.csv",
    "dfe_csww": "csww_indicators_2017_to_2025.csv",
}
SOURCES: tuple[str, ...] = (*DFE_FILES, "lait")

ENGLAND_CODE = "E92000001"
LONDON_CODE = "E12000007"
INNER_LONDON_CODE = "E13000001"
OUTER_LONDON_CODE = "E13000002"
LONDON_AREA_CODES: tuple[str, ...] = (LONDON_CODE, INNER_LONDON_CODE, OUTER_LONDON_CODE)

NATIONAL = "National"
REGIONAL = "Regional"
LOCAL_AUTHORITY = "Local authority"
_LEVEL_ORDER = {NATIONAL: 0, REGIONAL: 1, LOCAL_AUTHORITY: 2}

# LAIT numbers England and the regions like authorities (970, 980-990).
_LAIT_AREAS: dict[int, tuple[str, str]] = {
    970: (ENGLAND_CODE, "England"),
    980: ("E12000001", "North East"),
    981: ("E12000002", "North West"),
    982: ("E12000003", "Yorkshire and The Humber"),
    983: ("E12000004", "East Midlands"),
    984: ("E12000005", "West Midlands"),
    985: ("E12000006", "East of England"),
    986: (LONDON_CODE, "London"),
    987: (INNER_LONDON_CODE, "Inner London"),
    988: (OUTER_LONDON_CODE, "Outer London"),
    989: ("E12000008", "South East"),
    990: ("E12000009", "South West"),
}

# Readable titles of the DfE tables' measure columns.
DFE_MEASURE_TITLES: dict[str, dict[str, str]] = {
    "dfe_cin_b1": {
        "Anypoint_episodes": "Children in need at any point in the year (episodes)",
        "Anypoint_child": "Children in need at any point in the year (children)",
        "Started_episodes": "Episodes of need starting in the year",
        "Started_child": "Children starting an episode of need in the year",
        "Ended_episodes": "Episodes of need ending in the year",
        "Ended_child": "Children ending an episode of need in the year",
        "At31_episodes": "Children in need at 31 March (episodes)",
        "awaiting_assessment": "Children in need at 31 March awaiting assessment",
    },
    "dfe_cin_c1": {
        "referral_count": "Referrals to children's social care in the year",
        "rereferral_count": "Re-referrals within 12 months of a previous referral",
        "rereferral_percent": "Re-referrals within 12 months (% of referrals)",
        "no_further_action_count": "Referrals resulting in no further action",
        "no_further_action_percent": "Referrals resulting in no further action (% of referrals)",
        "not_in_need_count": "Referrals assessed, child not in need",
        "not_in_need_percent": "Referrals assessed, child not in need (% of referrals)",
        "referral_child_count": "Children referred in the year",
        "rereferral_child_count": "Children re-referred within 12 months",
        "rereferral_child_percent": "Children re-referred within 12 months (% of children)",
    },
    "dfe_cin_c4": {
        "Section47": "Section 47 enquiries starting in the year",
        "Section47_child": "Children subject to a section 47 enquiry starting in the year",
        "ICPC": "Initial child protection conferences in the year",
        "ICPC_child": "Children subject to an initial child protection conference",
        "Duration_0-10_days": "ICPCs 0-10 working days after the strategy discussion",
        "Duration_11-15_days": "ICPCs 11-15 working days after the strategy discussion",
        "Duration_16-20_days": "ICPCs 16-20 working days after the strategy discussion",
        "Duration_21+_days": "ICPCs 21 or more working days after the strategy discussion",
        "Duration_25th_Percentile": "Working days from strategy discussion to ICPC (25th pct)",
        "Duration_median": "Working days from strategy discussion to ICPC (median)",
        "Duration_75th_Percentile": "Working days from strategy discussion to ICPC (75th pct)",
    },
    "dfe_cin_d3": {
        "CPP_start": "Child protection plans starting in the year",
        "CPP_subsequent": "Child protection plans starting that were a second or later plan",
        "CPP_subsequent_percent": "Second or later child protection plans (% of plans started)",
    },
    "dfe_cin_d5": {
        "CPP_At31": "Children subject to a child protection plan at 31 March",
        "3_months_or_less": "Plans at 31 March lasting 3 months or less",
        "3_months_or_less_percent": "Plans at 31 March lasting 3 months or less (%)",
        "more_than_3_months_6_months": "Plans at 31 March lasting 3 to 6 months",
        "more_than_3_months_6_months_percent": "Plans at 31 March lasting 3 to 6 months (%)",
        "more_than_6_months_less_than_1_year": "Plans at 31 March lasting 6 months to 1 year",
        "more_than_6_months_less_than_1_year_percent": (
            "Plans at 31 March lasting 6 months to 1 year (%)"
        ),
        "1_year_less_than_2_years": "Plans at 31 March lasting 1 to 2 years",
        "1_year_less_than_2_years_percent": "Plans at 31 March lasting 1 to 2 years (%)",
        "2_years_or_more": "Plans at 31 March lasting 2 years or more",
        "2_years_or_more_percent": "Plans at 31 March lasting 2 years or more (%)",
    },
    "dfe_csww": {
        "inpost_fte": "Children and family social workers in post (FTE)",
        "inpost_headcount": "Children and family social workers in post (headcount)",
        "starters_fte": "Social workers starting in the year (FTE)",
        "starters_headcount": "Social workers starting in the year (headcount)",
        "leavers_fte": "Social workers leaving in the year (FTE)",
        "leavers_headcount": "Social workers leaving in the year (headcount)",
        "turnover_rate_fte": "Social worker turnover rate (%, FTE)",
        "turnover_rate_headcount": "Social worker turnover rate (%, headcount)",
        "agency_fte": "Agency social workers (FTE)",
        "agency_headcount": "Agency social workers (headcount)",
        "agency_rate_fte": "Agency worker rate (%, FTE)",
        "agency_rate_headcount": "Agency worker rate (%, headcount)",
        "agency_cover_fte": "Agency workers covering vacancies (FTE)",
        "agency_cover_rate_fte": "Agency workers covering vacancies (% of agency FTE)",
        "vacancy_fte": "Social worker vacancies (FTE)",
        "vacancy_rate_fte": "Social worker vacancy rate (%, FTE)",
        "vacancy_agency_cover_rate_fte": "Vacancies covered by agency workers (% of vacancy FTE)",
        "case_holders_fte": "Case-holding social workers (FTE)",
        "cases": "Cases held by case-holding social workers",
        "caseload_fte": "Average caseload per case-holding social worker (FTE)",
        "working_days_lost_fte": "Working days lost to sickness absence (FTE)",
        "absence_rate_fte": "Sickness absence rate (%, FTE)",
    },
}
# SSDA903's long table: one row per population type, with a count and a rate.
SSDA903_RATE_SUFFIX = " rate per 10000"

# Columns of published(), in order.
PUBLISHED_COLUMNS: tuple[str, ...] = (
    "source",
    "measure",
    "measure_title",
    "year",
    "year_label",
    "geographic_level",
    "area_code",
    "la_code_dfe",
    "area_name",
    "value",
    "value_state",
    "state_reason",
)

_DFE_ID_COLUMNS = (
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "region_code",
    "region_name",
    "old_la_code",
    "new_la_code",
    "la_name",
    "category",
)


def _read_csv(name: str) -> pd.DataFrame:
    """A bundled CSV as text: every cell a string, blanks as missing, codes kept."""
    return pd.read_csv(
        config.REFERENCE_DIR / name,
        dtype=str,
        encoding="utf-8-sig",  # several DfE files start with a byte-order mark
        keep_default_na=False,
        na_values=[""],
    )


def _dfe_codes(raw: pd.Series) -> pd.Series:
    """DfE 3-digit codes as nullable integers; shared rows ('314 / 318') become <NA>."""
    return pd.to_numeric(raw, errors="coerce").astype("Int64")


def _area_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """area_code, la_code_dfe, area_name and geographic_level of EES tidy rows."""
    level = frame["geographic_level"]
    is_la = level == LOCAL_AUTHORITY
    is_region = level == REGIONAL
    area_code = frame["country_code"].where(~is_region, frame["region_code"])
    area_code = area_code.where(~is_la, frame["new_la_code"])
    area_name = frame["country_name"].where(~is_region, frame["region_name"])
    area_name = area_name.where(~is_la, frame["la_name"])
    la_code = _dfe_codes(frame["old_la_code"]).where(is_la)
    return pd.DataFrame(
        {
            "geographic_level": level,
            "area_code": area_code,
            "la_code_dfe": la_code,
            "area_name": area_name,
        },
        index=frame.index,
    )


def _parse_cells(raw: pd.Series | np.ndarray) -> pd.DataFrame:
    """values.parse_values on each distinct cell once, spread back over the rows.

    Published tables repeat values a lot (LAIT: 641,070 cells, 55,323 distinct),
    so parsing the distinct ones is several times faster and gives the same result.
    """
    codes, distinct = pd.factorize(raw, use_na_sentinel=False)
    parsed = parse_values(pd.Series(distinct))
    return pd.DataFrame(
        {
            "value": parsed["value"].to_numpy(dtype="float64")[codes],
            "value_state": pd.array(parsed["state"].astype(str), dtype="str").take(codes),
            "state_reason": pd.array(parsed["state_reason"].astype(str), dtype="str").take(codes),
        }
    )


# --------------------------------------------------------------------------------------
# Authorities
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _authorities() -> pd.DataFrame:
    raw = _read_csv(LONDON_CODES_FILE)
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


def _name_key(name: str) -> str:
    text = re.sub(r"\s+", " ", name.replace("&", " and ")).strip().casefold()
    return text.replace(".", "")


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
def _england_authorities() -> pd.DataFrame:
    """DfE code -> ONS code and name per year, from the CIN referrals table (2013-2025).

    ONS codes of some authorities changed over the years (North Yorkshire E10000023
    -> E06000065 in 2023) while the DfE code stayed, so the code is kept per year.
    """
    raw = _read_csv(DFE_FILES["dfe_cin_c1"])
    raw = raw[raw["geographic_level"] == LOCAL_AUTHORITY]
    frame = pd.DataFrame(
        {
            "la_code_dfe": _dfe_codes(raw["old_la_code"]),
            "year": raw["time_period"].astype("int64"),
            "la_code_ons": raw["new_la_code"],
            "la_name": raw["la_name"],
        }
    )
    return frame.sort_values(["la_code_dfe", "year"], ignore_index=True)


@lru_cache(maxsize=1)
def _england_table() -> pd.DataFrame:
    raw = _read_csv(DFE_FILES["dfe_cin_c1"])
    raw = raw[raw["geographic_level"] == LOCAL_AUTHORITY]
    raw = raw[raw["time_period"].astype("int64") == raw["time_period"].astype("int64").max()]
    frame = pd.DataFrame(
        {
            "la_code_ons": raw["new_la_code"],
            "la_code_dfe": _dfe_codes(raw["old_la_code"]).astype("int64"),
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
    close = difflib.get_close_matches(
        str(code_or_name).strip(), table["la_name"].tolist(), n=3, cutoff=0.6
    )
    return f" Did you mean {', '.join(repr(n) for n in close)}?" if close else ""


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
        hit = table[table["la_name"].map(_name_key) == _name_key(key)]
    if len(hit) == 1:
        return hit.iloc[0].copy()
    raise KeyError(
        f"No authority {code_or_name!r} among the {len(table)} known."
        f"{_did_you_mean(table, code_or_name)} Give an ONS code "
        "(e.g. 'E09000007'), a DfE code (e.g. 202) or the name as DfE writes it (any case)."
    )


def _latest_authority_names() -> pd.DataFrame:
    """One row per DfE code: its most recent ONS code and name."""
    return (
        _england_authorities()
        .drop_duplicates("la_code_dfe", keep="last")
        .set_index("la_code_dfe")[["la_code_ons", "la_name"]]
    )


# --------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _population() -> pd.DataFrame:
    raw = _read_csv(POPULATION_FILE)
    frame = _area_columns(raw)
    frame["mid_year"] = raw["time_period"].astype("int64")
    frame["population_0_17"] = pd.to_numeric(raw["population_estimate"], errors="coerce").astype(
        "Int64"
    )
    frame["_order"] = frame["geographic_level"].map(_LEVEL_ORDER)
    frame = frame.sort_values(["mid_year", "_order", "area_name"], ignore_index=True)
    return frame[
        ["area_code", "la_code_dfe", "area_name", "geographic_level", "mid_year", "population_0_17"]
    ]


def population(year: int | None = None, areas: Literal["london", "all"] = "london") -> pd.DataFrame:
    """ONS mid-year estimates of children aged 0-17, as DfE re-publishes them.

    ``year`` is the ONS mid-year (30 June); DfE divides counts for the year ending
    31 March *Y* by mid-year *Y* - 1 (see :func:`dfe_rate_per_10k`). ``areas`` is
    'london' (the 33 authorities, London, Inner London, Outer London and England)
    or 'all' (every English authority and region too). London, Inner and Outer
    London and England are DfE's published regional and national rows, not sums
    computed here (London's equals the sum of its 33 authorities).

    Columns: ``area_code`` (ONS code of the authority, region or England),
    ``la_code_dfe`` (<NA> for regions and England), ``area_name``,
    ``geographic_level``, ``mid_year`` and ``population_0_17``. DfE shows ``x`` for
    Bournemouth, Poole and the former Dorset county in 2012-2018 (their successors'
    figures start in 2019): those are <NA>.
    """
    if areas not in ("london", "all"):
        raise ValueError(f"areas must be 'london' or 'all', not {areas!r}.")
    frame = _population()
    if areas == "london":
        london = frame["area_code"].isin(
            [*authorities()["la_code_ons"], *LONDON_AREA_CODES, ENGLAND_CODE]
        )
        frame = frame[london]
    if year is not None:
        frame = frame[frame["mid_year"] == int(year)]
        if frame.empty:
            years = _population()["mid_year"]
            raise KeyError(
                f"No population estimate for mid-year {year}: "
                f"the file covers {years.min()}-{years.max()}."
            )
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Statistical neighbours
# --------------------------------------------------------------------------------------


def _closeness(raw: pd.Series) -> pd.Series:
    """'Very Close ' and 'Very close' -> 'Very close': the two models' spellings agree."""
    return raw.str.strip().str.capitalize()


@lru_cache(maxsize=2)
def _neighbour_model(model: str) -> pd.DataFrame:
    """Long table: la_code_dfe, rank, neighbour_code_dfe, closeness."""
    if model == "2021":
        # Header repeats 'SNP' for every closeness column, so read by position:
        # 0 LA num, 1 LA Name, 2 LA number, 3 GOInd, 4 GOReg, then SN_k at 5 + 2(k-1).
        wide = pd.read_csv(
            config.REFERENCE_DIR / SN_2021_FILE,
            header=None,
            skiprows=1,
            dtype=str,
            encoding="utf-8-sig",
        )
        wide = wide[wide[0].str.fullmatch(r"\d+", na=False)]
        # Rows under the file's 'Old SNs:' line are predecessor authorities (e.g.
        # Northamptonshire): each authority appears once, so no row is dropped.
        wide = wide.drop_duplicates(0)
        parts = [
            pd.DataFrame(
                {
                    "la_code_dfe": wide[0],
                    "rank": k,
                    "neighbour": wide[5 + 2 * (k - 1)],
                    "closeness": wide[6 + 2 * (k - 1)],
                }
            )
            for k in range(1, 11)
        ]
    elif model == "2025":
        wide = _read_csv(SN_2025_FILE)
        parts = [
            pd.DataFrame(
                {
                    "la_code_dfe": wide["old_la_code"],
                    "rank": k,
                    "neighbour": wide[f"SN_{k}"],
                    "closeness": wide[f"SN_{k}P"],
                }
            )
            for k in range(1, 11)
        ]
    else:
        raise ValueError(f"model must be '2025' or '2021', not {model!r}.")
    long = pd.concat(parts, ignore_index=True).dropna(subset=["neighbour"])
    long["la_code_dfe"] = long["la_code_dfe"].astype("int64")
    long["neighbour"] = long["neighbour"].astype("int64")
    long["closeness"] = _closeness(long["closeness"])
    return long.sort_values(["la_code_dfe", "rank"], ignore_index=True)


def statistical_neighbours(
    la: str | int, model: str = "2025", london_only: bool = False
) -> pd.DataFrame:
    """An authority's ten statistical neighbours in DfE's model, closest first.

    ``la`` is a London authority as :func:`find_authority` takes it, or the DfE
    code of any English authority in the model. ``model`` is '2025' (DfE's 2025
    children's services model) or '2021' (the April 2021 groupings in LAIT).
    ``london_only`` keeps the London neighbours, with the model's ``rank`` (so
    ranks may skip).

    Columns: ``rank`` (1 = closest), ``la_code_dfe``, ``la_name`` (London names
    from :func:`authorities`, others from DfE's published tables), ``closeness``
    (the model's band: 'Extremely close', 'Very close', 'Close', 'Somewhat close',
    'Not close') and ``la_code_ons`` (the latest ONS code DfE publishes for it).
    """
    table = _neighbour_model(str(model))
    code = _resolve_la_code(la)
    rows = table[table["la_code_dfe"] == code]
    if rows.empty:
        raise KeyError(f"Authority {la!r} (DfE {code}) is not in the {model} neighbour model.")
    names = _latest_authority_names()
    london = authorities().set_index("la_code_dfe")
    neighbour = rows["neighbour"]
    la_name = neighbour.map(london["la_name"]).fillna(neighbour.map(names["la_name"]))
    la_code_ons = neighbour.map(london["la_code_ons"]).fillna(neighbour.map(names["la_code_ons"]))
    out = pd.DataFrame(
        {
            "rank": rows["rank"].astype("int64"),
            "la_code_dfe": neighbour.astype("int64"),
            "la_name": la_name,
            "closeness": rows["closeness"],
            "la_code_ons": la_code_ons,
        }
    )
    if london_only:
        out = out[out["la_code_dfe"].isin(london.index)]
    return out.reset_index(drop=True)


def _resolve_la_code(la: str | int) -> int:
    """The DfE code of a London authority (any key) or of any English authority."""
    try:
        return int(find_authority(la)["la_code_dfe"])
    except KeyError:
        pass
    names = _latest_authority_names()
    key = str(la).strip()
    if key.isdigit() and int(key) in names.index:
        return int(key)
    by_ons = names.index[names["la_code_ons"] == key.upper()]
    by_name = names.index[names["la_name"].map(_name_key) == _name_key(key)]
    england = _england_authorities()
    by_old_ons = england.loc[england["la_code_ons"] == key.upper(), "la_code_dfe"].unique()
    for hits in (by_ons, by_name, by_old_ons):
        if len(hits) == 1:
            return int(hits[0])
    raise KeyError(
        f"No English authority {la!r}. Give a DfE code (e.g. 202), an ONS code "
        "(e.g. E09000007) or a name as DfE publishes it (e.g. 'Camden')."
    )


# --------------------------------------------------------------------------------------
# Published national series
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=len(DFE_FILES))
def _published_dfe(source: str) -> pd.DataFrame:
    raw = _read_csv(DFE_FILES[source])
    rows = len(raw)
    if source == "dfe_ssda903":
        # Long already: the measure is the population type, with a count and a rate.
        kind = raw["population_type"].to_numpy(dtype=object)
        cells = np.concatenate([raw["children_count"], raw["rate_per_10000"]])
        measure = np.concatenate([kind, kind + SSDA903_RATE_SUFFIX])
        title = np.concatenate([kind, kind + ": rate per 10,000 children aged 0-17"])
        row = np.tile(np.arange(rows), 2)
    else:
        columns = [c for c in raw.columns if c not in _DFE_ID_COLUMNS]
        cells = raw[columns].to_numpy(dtype=object).T.ravel()  # column by column
        measure = np.repeat(np.array(columns, dtype=object), rows)
        titles = DFE_MEASURE_TITLES[source]
        title = np.repeat(np.array([titles.get(c, c) for c in columns], dtype=object), rows)
        row = np.tile(np.arange(rows), len(columns))
    areas = _area_columns(raw).take(row).reset_index(drop=True)
    parsed = _parse_cells(cells)
    frame = pd.DataFrame(
        {
            "source": source,
            "measure": pd.array(measure, dtype="str"),
            "measure_title": pd.array(title, dtype="str"),
            "year": pd.array(raw["time_period"].astype("int64").to_numpy()[row], dtype="Int64"),
            "year_label": raw["time_period"].take(row).reset_index(drop=True),
            **{c: areas[c] for c in areas.columns},
            **{c: parsed[c] for c in parsed.columns},
        }
    )
    frame["source"] = frame["source"].astype("str")
    return frame[list(PUBLISHED_COLUMNS)]


_YEAR_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], int]], ...] = (
    # '2025', '2025 (Rev)', '2025 (prov)', '2020 (Final)'
    (re.compile(r"^(\d{4})(?: \(.*\))?$"), lambda m: int(m[1])),
    # '2024-25', '2023/24', '2024-25 (OT)', and three-year spans such as '2014-16'
    (re.compile(r"^(\d{2})\d{2}[-/](\d{2})(?: \(.*\))?$"), lambda m: int(m[1] + m[2])),
    # '2021/22-23/24': three financial years, ending 2024
    (re.compile(r"^(\d{2})\d{2}/\d{2}-\d{2}/(\d{2})$"), lambda m: int(m[1] + m[2])),
)


def parse_year_label(label: str) -> int | None:
    """The year a LAIT ``Years`` label ends in: '2024-25' -> 2025, '2025 (Rev)' -> 2025,
    '2023/24' -> 2024, '2014-16' -> 2016, '2021/22-23/24' -> 2024; None for others."""
    text = str(label).strip()
    for pattern, year in _YEAR_PATTERNS:
        match = pattern.match(text)
        if match:
            return year(match)
    return None


@lru_cache(maxsize=1)
def _lait_titles() -> pd.Series:
    """The LAIT data dictionary's Measure, by Short Desc (Measure_short)."""
    dictionary = _read_csv(LAIT_DICTIONARY_FILE)
    dictionary = dictionary.dropna(subset=["Measure_short", "Measure"])
    return dictionary.drop_duplicates("Measure_short").set_index("Measure_short")["Measure"]


def _take(
    distinct: list | np.ndarray, codes: np.ndarray, dtype: str = "str"
) -> pd.api.extensions.ExtensionArray:
    """Values worked out once per distinct key, spread back over the rows."""
    return pd.array(list(distinct), dtype=dtype).take(codes)


@lru_cache(maxsize=1)
def _published_lait() -> pd.DataFrame:
    raw = pd.read_parquet(config.REFERENCE_DIR / LAIT_FILE)

    # Measure and title. 'Data item' is filled on the first rows of each measure
    # only (it never varies within one); 144 measures have none, and their title
    # comes from LAIT's data dictionary (Measure) instead.
    measure_codes, measures = pd.factorize(raw["Short Desc"])
    given = raw.dropna(subset=["Data item"]).drop_duplicates("Short Desc")
    given = given.set_index("Short Desc")["Data item"]
    dictionary = _lait_titles()
    titles = [given.get(m, dictionary.get(m, m)) for m in measures]

    # Year labels: about sixty distinct ones.
    year_codes, labels = pd.factorize(raw["Years"].astype(str))
    years = [parse_year_label(label) for label in labels]

    # Areas, per distinct (LA Number, year): England and the regions by LAIT's
    # numbers; authorities by the ONS code DfE published for them that year (else
    # the latest) and DfE's spelling of the name where DfE publishes the authority.
    number_codes, numbers = pd.factorize(raw["LA Number"])
    pair_codes, pairs = pd.factorize(number_codes * len(labels) + year_codes)
    pair_number = numbers.to_numpy()[pairs // len(labels)].astype("int64")
    pair_year = [years[i] for i in pairs % len(labels)]
    england = _england_authorities()
    ons_by_year = england.set_index(["la_code_dfe", "year"])["la_code_ons"].to_dict()
    latest = _latest_authority_names()
    latest_ons, latest_name = latest["la_code_ons"].to_dict(), latest["la_name"].to_dict()
    lait_names = raw.drop_duplicates("LA Number").set_index("LA Number")["LA and Regions"].to_dict()
    level, area_code, area_name, la_code = [], [], [], []
    for number, year in zip(pair_number.tolist(), pair_year, strict=True):
        if number in _LAIT_AREAS:
            code, name = _LAIT_AREAS[number]
            level.append(NATIONAL if number == 970 else REGIONAL)
            la_code.append(None)
        else:
            code = ons_by_year.get((number, year), latest_ons.get(number))
            name = latest_name.get(number, lait_names[number])
            level.append(LOCAL_AUTHORITY)
            la_code.append(number)
        area_code.append(code)
        area_name.append(name)

    parsed = _parse_cells(raw["Values"])  # LAIT's '-' is not available (values.CODES)
    frame = pd.DataFrame(
        {
            "source": _take(["lait"], np.zeros(len(raw), dtype="int64")),
            "measure": _take(measures, measure_codes),
            "measure_title": _take(titles, measure_codes),
            "year": _take(years, year_codes, "Int64"),
            "year_label": _take(labels, year_codes),
            "geographic_level": _take(level, pair_codes),
            "area_code": _take(area_code, pair_codes),
            "la_code_dfe": _take(la_code, pair_codes, "Int64"),
            "area_name": _take(area_name, pair_codes),
            **{c: parsed[c] for c in parsed.columns},
        }
    )
    return frame


def _published_source(source: str) -> pd.DataFrame:
    return _published_lait() if source == "lait" else _published_dfe(source)


def published(measure: str | None = None, source: str | None = None) -> pd.DataFrame:
    """DfE's published national series for England, its regions and every authority.

    One tidy shape across the bundled sources (``source``): the children in need
    census tables ``dfe_cin_b1``, ``dfe_cin_c1``, ``dfe_cin_c4``, ``dfe_cin_d3``,
    ``dfe_cin_d5``; children looked after ``dfe_ssda903``; the social work
    workforce ``dfe_csww``; and LAIT's big data set ``lait``.

    Columns:

    - ``measure``: the table's column name (``referral_count``); for SSDA903 the
      ``population_type`` ('Children looked after on 31 March each year', its
      count) and '<population_type> rate per 10000' (its published rate); for LAIT
      the ``Short Desc`` code (``CPP_Total_Rateper10,000``);
    - ``measure_title``: a readable title (LAIT: its ``Data item``, or the data
      dictionary's Measure where LAIT gives none);
    - ``year``: DfE's year ending 31 March (the workforce census: 30 September);
      LAIT labels parsed to the year they end in ('2024-25' -> 2025, '2025 (Rev)'
      -> 2025; <NA> where a label is no year), the raw label in ``year_label``;
    - ``geographic_level`` ('National', 'Regional', 'Local authority'),
      ``area_code`` (ONS code of the authority, region or E92000001 England),
      ``la_code_dfe`` (<NA> off authority rows and for the workforce census's
      shared Kingston / Richmond return, whose area_code keeps both ONS codes),
      ``area_name``;
    - ``value`` (float) with ``value_state`` and ``state_reason`` from
      :func:`lscb_nb.core.values.parse_values`: suppressed ``c``, not available ``x`` and
      LAIT's ``-`` are states with a NaN value, never zeros.

    ``measure`` and ``source`` filter; an unknown one raises ``KeyError`` / ``ValueError``.
    The first call reads the files (about a second); later calls are cached.
    """
    if source is not None and source not in SOURCES:
        raise ValueError(f"Unknown source {source!r}: use one of {', '.join(SOURCES)}.")
    frames = []
    for name in [source] if source is not None else SOURCES:
        frame = _published_source(name)
        if measure is not None:
            frame = frame[frame["measure"] == measure]
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if measure is not None and out.empty:
        known = pd.concat(_published_source(n)["measure"].drop_duplicates() for n in SOURCES)
        close = difflib.get_close_matches(measure, known.tolist(), n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        where = f" in {source}" if source is not None else ""
        raise KeyError(f"No published measure {measure!r}{where}.{hint}")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Rounding and rates
# --------------------------------------------------------------------------------------


ArrayLike = float | int | np.ndarray | pd.Series | list[float]


# DfE tables whose figures are on the same footing as an item's pilot figure.
DFE_SOURCES: tuple[str, ...] = (
    "dfe_cin_b1",
    "dfe_cin_c1",
    "dfe_cin_c4",
    "dfe_cin_d3",
    "dfe_cin_d5",
    "dfe_ssda903",
)


def published_for_items(
    items: pd.DataFrame,
    published_frame: pd.DataFrame | None = None,
    sources: tuple[str, ...] = DFE_SOURCES,
) -> pd.DataFrame:
    """The published figure per item, authority and DfE year, where an item has one.

    Takes each item's first published measure from ``sources`` (the data model lists
    the comparable figure first), so a pilot figure can sit beside DfE's for the same
    authority and year. Columns: item_id, source, measure, area_code, year, published.
    """
    published_frame = published() if published_frame is None else published_frame
    rows = []
    for item_id, measures in items["published_measures"].items():
        for m in measures or []:
            if m.get("source") in sources:
                rows.append({"item_id": item_id, "source": m["source"], "measure": m["measure"]})
                break
    columns = ["item_id", "source", "measure", "area_code", "year", "published"]
    if not rows:
        return pd.DataFrame(columns=columns)
    wanted = pd.DataFrame(rows)
    pub = published_frame.loc[
        published_frame["value_state"] == "reported",
        ["source", "measure", "area_code", "year", "value"],
    ]
    out = wanted.merge(pub, on=["source", "measure"], how="inner").dropna(subset=["year"])
    out["year"] = out["year"].astype("int64")
    return out.rename(columns={"value": "published"})[columns]


def _float_array(x: object) -> np.ndarray:
    """Any list, array or scalar as a float array; None and <NA> become NaN."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "fiub":
        return x.astype("float64")
    flat = pd.Series(np.ravel(np.asarray(x, dtype=object)), dtype=object)
    numbers = pd.to_numeric(flat).astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    return numbers.reshape(np.shape(x))


def _float_series(x: pd.Series) -> pd.Series:
    values = pd.to_numeric(x).astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(values, index=x.index, name=x.name)


@overload
def rate_per_10k(count: float, population: float, decimals: int = 1) -> float: ...
@overload
def rate_per_10k(count: pd.Series, population: ArrayLike, decimals: int = 1) -> pd.Series: ...
@overload
def rate_per_10k(count: ArrayLike, population: pd.Series, decimals: int = 1) -> pd.Series: ...
@overload
def rate_per_10k(
    count: np.ndarray | list[float], population: ArrayLike, decimals: int = 1
) -> np.ndarray: ...


def rate_per_10k(count: ArrayLike, population: ArrayLike, decimals: int = 1) -> ArrayLike:
    """``count / population * 10,000``, rounded half up to ``decimals`` places.

    Vectorised like :func:`round_half_up`; two Series align on their index. The
    count is multiplied before dividing, so a whole count and population meet a
    single float rounding. A missing or non-positive population gives NaN.
    """
    if isinstance(count, pd.Series) or isinstance(population, pd.Series):
        num = _float_series(count) if isinstance(count, pd.Series) else _float_array(count)
        if isinstance(population, pd.Series):
            den = _float_series(population)
            den = den.where(den > 0)
        else:
            den = _float_array(population)
            den = np.where(den > 0, den, np.nan)
        return round_half_up(num * 10_000 / den, decimals)
    num = _float_array(count)
    den = _float_array(population)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(den > 0, num * 10_000 / den, np.nan)
    return round_half_up(rate if rate.ndim else float(rate), decimals)


def _resolve_area(la: str | int) -> tuple[str, int | str]:
    """('la', DfE code) for an authority, ('area', ONS code) for a region or England."""
    key = str(la).strip()
    for code, name in _LAIT_AREAS.values():
        if key.upper() == code or _name_key(key) == _name_key(name):
            return "area", code
    return "la", _resolve_la_code(la)


def dfe_rate_per_10k(
    la: str | int, measure: str, source: str, year: int, decimals: int | None = None
) -> float:
    """The toolkit's own rate per 10,000 children from a bundled DfE count.

    DfE's convention: the count for the year ending 31 March ``year`` divided by
    the ONS mid-year ``year - 1`` estimate of children aged 0-17, times 10,000,
    rounded half up to one decimal place (``dfe_ssda903``, children looked after:
    to a whole number; ``decimals`` overrides). Reproduces LAIT's published rates
    for every authority (see tests/test_reference.py).

    ``la`` is any English authority (as :func:`statistical_neighbours` takes it),
    a region ('London', 'Inner London', 'E12000007') or 'England'. DfE publishes
    regional and national counts rounded to the nearest 10 but computes their rates
    from the unrounded counts, so a regional rate here can be one unit off in the
    last place (none of LAIT's CIN, section 47 or CPP rates; 4 of the 180 regional
    and national children-looked-after rates, 2021-2025).

    Returns NaN when the count is not a reported number (suppressed, not
    available...). Raises ``KeyError`` when the measure, area or year is not in the
    bundled tables, ``ValueError`` for LAIT or an SSDA903 rate measure (already rates).
    """
    if source == "lait" or (source == "dfe_ssda903" and measure.endswith(SSDA903_RATE_SUFFIX)):
        raise ValueError(f"{source} {measure!r} is published as a rate: use published().")
    if source not in DFE_FILES:
        raise ValueError(f"Unknown source {source!r}: use one of {', '.join(DFE_FILES)}.")
    kind, code = _resolve_area(la)
    counts = _area_year_lookup(source, measure)
    population_0_17 = _area_year_lookup("population", "population_0_17")
    key = (kind, code, int(year))
    if key not in counts:
        raise KeyError(f"No {source} {measure!r} figure for {la!r} in {year}.")
    population_key = (kind, code, int(year) - 1)
    if population_key not in population_0_17:
        raise KeyError(f"No ONS mid-{year - 1} population for {la!r}.")
    count, state = counts[key]
    population_value, _ = population_0_17[population_key]
    if state != REPORTED or not np.isfinite(population_value):
        return float("nan")
    places = decimals if decimals is not None else (0 if source == "dfe_ssda903" else 1)
    return rate_per_10k(count, population_value, places)


@lru_cache(maxsize=64)
def _area_year_lookup(source: str, measure: str) -> dict[tuple[str, int | str, int], tuple]:
    """(kind, code, year) -> (value, state) for one measure; kind 'la' keys by DfE
    code (stable when ONS codes change), 'area' by the region's or England's code."""
    if source == "population":
        frame = _population().assign(
            year=lambda f: f["mid_year"],
            value=lambda f: f["population_0_17"].astype("Float64").astype("float64"),
            value_state=REPORTED,
        )
    else:
        frame = published(measure, source)
    lookup: dict[tuple[str, int | str, int], tuple] = {}
    is_la = frame["geographic_level"] == LOCAL_AUTHORITY
    for la_rows, kind, key_column in ((True, "la", "la_code_dfe"), (False, "area", "area_code")):
        rows = frame[is_la == la_rows].dropna(subset=[key_column, "year"])
        for code, year, value, state in zip(
            rows[key_column], rows["year"], rows["value"], rows["value_state"], strict=True
        ):
            lookup[(kind, int(code) if kind == "la" else code, int(year))] = (value, state)
    return lookup
