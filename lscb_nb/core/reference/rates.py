"""Rate arithmetic as DfE does it: a count per 10,000 children aged 0-17, rounded half
up, and the toolkit's own rate for any area from a bundled DfE count.

DfE's convention: the count for the year ending 31 March *Y* divided by the ONS
mid-year (*Y* - 1) estimate of children aged 0-17; one decimal place (children
looked after: a whole number).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import overload

import numpy as np
import pandas as pd

from lscb_nb.core import units
from lscb_nb.core.reference.authorities import LOCAL_AUTHORITY, name_key, resolve_la_code
from lscb_nb.core.reference.dfe import DFE_FILES, SSDA903_RATE_SUFFIX
from lscb_nb.core.reference.lait import LAIT_AREAS
from lscb_nb.core.reference.population import population_table
from lscb_nb.core.reference.published import published
from lscb_nb.core.stats import round_half_up
from lscb_nb.core.values import REPORTED

log = logging.getLogger(__name__)

ArrayLike = float | int | np.ndarray | pd.Series | list[float]
# Children per rate: the rate_per_10k unit's scale (data/vocab/units.yaml).
PER_CHILDREN = units.scale("rate_per_10k")


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
        return round_half_up(num * PER_CHILDREN / den, decimals)
    num = _float_array(count)
    den = _float_array(population)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(den > 0, num * PER_CHILDREN / den, np.nan)
    return round_half_up(rate if rate.ndim else float(rate), decimals)


def _resolve_area(la: str | int) -> tuple[str, int | str]:
    """('la', DfE code) for an authority, ('area', ONS code) for a region or England."""
    key = str(la).strip()
    for code, name in LAIT_AREAS.values():
        if key.upper() == code or name_key(key) == name_key(name):
            return "area", code
    return "la", resolve_la_code(la)


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
        frame = population_table().assign(
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
