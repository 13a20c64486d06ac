"""DfE's published series for England, its regions and every authority, across the
bundled sources (the manifest's ``role: published``), in one tidy shape."""

from __future__ import annotations

import difflib
import logging

import pandas as pd

from lscb_nb.core.reference.dfe import DFE_FILES, read_table
from lscb_nb.core.reference.lait import read_lait
from lscb_nb.core.reference.manifest import ids

log = logging.getLogger(__name__)

# The sources published() reads, in the manifest's order.
SOURCES: tuple[str, ...] = ids("published")
# DfE tables whose figures are on the same footing as an item's pilot figure (LAIT
# re-publishes them on other bases; the workforce census counts staff, not children).
DFE_SOURCES: tuple[str, ...] = tuple(s for s in DFE_FILES if s != "dfe_csww")


def _published_source(source: str) -> pd.DataFrame:
    return read_lait() if source == "lait" else read_table(source)


def published(measure: str | None = None, source: str | None = None) -> pd.DataFrame:
    """DfE's published national series for England, its regions and every authority.

    One tidy shape across the bundled sources (``source``): the children in need
    census tables ``dfe_cin_b1``, ``dfe_cin_c1``, ``dfe_cin_c3``, ``dfe_cin_c4``, ``dfe_cin_d3``,
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


def unresolved_measures(
    items: pd.DataFrame, published_frame: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The ``published_measures`` links of ``items`` that name no bundled table and measure.

    A link resolves when ``published()`` holds rows for its source and measure (a
    DfE table's column, SSDA903's population type or its rate, a LAIT ``Short Desc``).
    Columns: item_id, source, measure, reason; empty when every link resolves, so a
    data model's pilot-against-published comparison can find each figure it names.
    """
    published_frame = published() if published_frame is None else published_frame
    known = set(zip(published_frame["source"], published_frame["measure"], strict=True))
    rows = []
    for item_id, measures in items["published_measures"].items():
        for m in measures or []:
            source, measure = m.get("source"), m.get("measure")
            if (source, measure) in known:
                continue
            reason = (
                f"source {source!r} is not a bundled published table"
                if source not in SOURCES
                else f"{source} has no measure {measure!r}"
            )
            rows.append(
                {"item_id": item_id, "source": source, "measure": measure, "reason": reason}
            )
    return pd.DataFrame(rows, columns=["item_id", "source", "measure", "reason"])
