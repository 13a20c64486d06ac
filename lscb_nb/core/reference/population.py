"""ONS mid-year estimates of children aged 0-17, as DfE re-publishes them: the base of
every rate per 10,000 children."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Literal

import pandas as pd

from lscb_nb.core.reference.authorities import (
    ENGLAND_CODE,
    LEVEL_ORDER,
    LONDON_AREA_CODES,
    area_columns,
    authorities,
)
from lscb_nb.core.reference.manifest import read_csv

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def population_table() -> pd.DataFrame:
    """Every area's estimates, cached: population() filters and copies it."""
    raw = read_csv("ons_population")
    frame = area_columns(raw)
    frame["mid_year"] = raw["time_period"].astype("int64")
    frame["population_0_17"] = pd.to_numeric(raw["population_estimate"], errors="coerce").astype(
        "Int64"
    )
    frame["_order"] = frame["geographic_level"].map(LEVEL_ORDER)
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
    frame = population_table()
    if areas == "london":
        london = frame["area_code"].isin(
            [*authorities()["la_code_ons"], *LONDON_AREA_CODES, ENGLAND_CODE]
        )
        frame = frame[london]
    if year is not None:
        frame = frame[frame["mid_year"] == int(year)]
        if frame.empty:
            years = population_table()["mid_year"]
            raise KeyError(
                f"No population estimate for mid-year {year}: "
                f"the file covers {years.min()}-{years.max()}."
            )
    return frame.reset_index(drop=True)
