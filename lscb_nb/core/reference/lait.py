"""DfE's Local Authority Interactive Tool (LAIT) big data set and its data dictionary,
read into the one tidy shape of :func:`published`.

LAIT numbers England and the regions like authorities (970, 980-990) and labels years
in several ways ('2024-25', '2025 (Rev)', '2021/22-23/24'); both are mapped here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pandas as pd

from lscb_nb.core.reference.authorities import (
    ENGLAND_CODE,
    ENGLAND_NAME,
    INNER_LONDON_CODE,
    INNER_LONDON_NAME,
    LOCAL_AUTHORITY,
    LONDON_CODE,
    LONDON_NAME,
    NATIONAL,
    OUTER_LONDON_CODE,
    OUTER_LONDON_NAME,
    REGIONAL,
    england_by_year,
    latest_authority_names,
)
from lscb_nb.core.reference.dfe import parse_cells
from lscb_nb.core.reference.manifest import file_name, path, read_csv

log = logging.getLogger(__name__)

LAIT_FILE = file_name("lait")
LAIT_DICTIONARY_FILE = file_name("lait_dictionary")
ENGLAND_NUMBER = 970

LAIT_AREAS: dict[int, tuple[str, str]] = {
    ENGLAND_NUMBER: (ENGLAND_CODE, ENGLAND_NAME),
    980: ("E12000001", "North East"),
    981: ("E12000002", "North West"),
    982: ("E12000003", "Yorkshire and The Humber"),
    983: ("E12000004", "East Midlands"),
    984: ("E12000005", "West Midlands"),
    985: ("E12000006", "East of England"),
    986: (LONDON_CODE, LONDON_NAME),
    987: (INNER_LONDON_CODE, INNER_LONDON_NAME),
    988: (OUTER_LONDON_CODE, OUTER_LONDON_NAME),
    989: ("E12000008", "South East"),
    990: ("E12000009", "South West"),
}


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
    dictionary = read_csv("lait_dictionary")
    dictionary = dictionary.dropna(subset=["Measure_short", "Measure"])
    return dictionary.drop_duplicates("Measure_short").set_index("Measure_short")["Measure"]


def _take(
    distinct: list | np.ndarray, codes: np.ndarray, dtype: str = "str"
) -> pd.api.extensions.ExtensionArray:
    """Values worked out once per distinct key, spread back over the rows."""
    return pd.array(list(distinct), dtype=dtype).take(codes)


@lru_cache(maxsize=1)
def read_lait() -> pd.DataFrame:
    """LAIT's big data set in the tidy shape of published() (cached: copy before changing)."""
    raw = pd.read_parquet(path("lait"))

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
    england = england_by_year()
    ons_by_year = england.set_index(["la_code_dfe", "year"])["la_code_ons"].to_dict()
    latest = latest_authority_names()
    latest_ons, latest_name = latest["la_code_ons"].to_dict(), latest["la_name"].to_dict()
    lait_names = raw.drop_duplicates("LA Number").set_index("LA Number")["LA and Regions"].to_dict()
    level, area_code, area_name, la_code = [], [], [], []
    for number, year in zip(pair_number.tolist(), pair_year, strict=True):
        if number in LAIT_AREAS:
            code, name = LAIT_AREAS[number]
            level.append(NATIONAL if number == ENGLAND_NUMBER else REGIONAL)
            la_code.append(None)
        else:
            code = ons_by_year.get((number, year), latest_ons.get(number))
            name = latest_name.get(number, lait_names[number])
            level.append(LOCAL_AUTHORITY)
            la_code.append(number)
        area_code.append(code)
        area_name.append(name)

    parsed = parse_cells(raw["Values"])  # LAIT's '-' is not available (values.CODES)
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
