"""Names that hold in one region only (the Metropolitan Police's systems, say), and
which of them a project may show.

The candidate data model was written for London, so some of its source systems are
London's alone. They are declared with their region in ``data/vocab/regional.yaml``
and kept out of every project none of whose authorities is in that region, so
another region's final report does not ask its police for a Metropolitan Police
system.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache
from importlib import resources

import pandas as pd
import yaml

from lscb_nb.core import reference

log = logging.getLogger(__name__)


@cache
def _declared() -> dict[str, dict[str, str]]:
    text = (resources.files("lscb_nb") / "data" / "vocab" / "regional.yaml").read_text("utf-8")
    return {kind: dict(names) for kind, names in yaml.safe_load(text).items()}


def region_of(kind: str, name: str) -> str | None:
    """The one region ``name`` (a ``kind`` of name, e.g. source_systems) holds in,
    or None when it holds everywhere."""
    return _declared().get(kind, {}).get(str(name))


def regions_of(authorities: pd.DataFrame) -> set[str]:
    """The regions of a table of authorities, as ONS names them (London, not Inner
    or Outer London)."""
    london = set(reference.authorities()["la_code_ons"])
    return {
        reference.LONDON_NAME if code in london else str(region)
        for code, region in zip(authorities["la_code_ons"], authorities["subregion"], strict=True)
    }


def keep(kind: str, names: Iterable[str] | None, regions: set[str]) -> list[str]:
    """``names`` without those that hold only in a region not among ``regions``."""
    return [n for n in names or [] if region_of(kind, n) in (None, *regions)]


def source_systems(systems: Iterable[str] | None, regions: set[str]) -> list[str]:
    """An item's source systems a project in ``regions`` may show."""
    return keep("source_systems", systems, regions)
