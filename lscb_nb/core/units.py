"""Units of measure and their scale, read from ``data/vocab/units.yaml``.

Every place that turns a count and a base into a shown figure (return checks,
benchmarks, published comparisons) calls :func:`scaled`, so a percentage or a rate
per 10,000 is computed one way everywhere.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd
import yaml

log = logging.getLogger(__name__)

Kind = Literal["count", "proportion", "rate"]


@cache
def table() -> pd.DataFrame:
    """The unit vocabulary, indexed by code (columns label, kind, scale)."""
    text = (resources.files("lscb_nb") / "data" / "vocab" / "units.yaml").read_text("utf-8")
    frame = pd.DataFrame(yaml.safe_load(text)).set_index("code")
    frame["scale"] = frame["scale"].astype(float)
    return frame


def codes() -> tuple[str, ...]:
    return tuple(table().index)


def labels() -> dict[str, str]:
    return table()["label"].to_dict()


def scale(unit: str) -> float:
    """What a fraction is multiplied by to give a figure in ``unit``."""
    return float(table().at[unit, "scale"])


def kind(unit: str) -> Kind:
    return table().at[unit, "kind"]


def kind_scale(kind_: str) -> float:
    """The scale of the first unit of a statistical kind (proportion 100, rate 10,000)."""
    frame = table()
    return float(frame.loc[frame["kind"] == kind_, "scale"].iloc[0])


def scales(units) -> np.ndarray:
    """Vectorised :func:`scale`: one float per unit code (NaN for an unknown code)."""
    codes_ = np.atleast_1d(np.asarray(units, dtype=object))
    return pd.Series(codes_, dtype=object).map(table()["scale"]).to_numpy(dtype=float)


def scaled(count, base, units) -> np.ndarray:
    """``count / base`` on each unit's scale; a count unit gives the count itself.

    ``units`` is one code or one per row; the result is always an array.
    """
    count = np.atleast_1d(np.asarray(count, dtype=float))
    base = np.atleast_1d(np.asarray(base, dtype=float))
    factor = scales(units)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(factor == 1.0, count, count / base * factor)


def unit_of_kind(kinds) -> np.ndarray:
    """The first unit of each statistical kind ('proportion' -> 'percentage', 'rate' ->
    'rate_per_10k'): what benchmarks compare a proportion or a rate in."""
    frame = table()
    first = frame.reset_index().drop_duplicates("kind").set_index("kind")["code"]
    kinds_ = np.atleast_1d(np.asarray(kinds, dtype=object))
    return pd.Series(kinds_, dtype=object).map(first).to_numpy(dtype=object)
