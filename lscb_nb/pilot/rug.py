"""The Fingertips rug: every pilot borough against the area on every item at once.

Each cell says how a borough's figure compares with the area's pilot average,
from the comparison the benchmark already made (:func:`lscb_nb.pilot.comparators.
borough_benchmark`: significantly higher or lower when the borough's 95% interval
excludes the average), read through the item's direction: better, similar or worse
where higher or lower is better, and only higher or lower, in blue, where neither
is, as OHID's Fingertips shows it. A figure the borough did not supply, or one
this report suppresses, is "no data": never a colour that could be read as similar.
"""

from __future__ import annotations

import logging

import pandas as pd

from lscb_nb.core import disclosure, states, stats

log = logging.getLogger(__name__)

BETTER, SIMILAR, WORSE = stats.BETTER, stats.SIMILAR, stats.WORSE
HIGHER, LOWER = stats.HIGHER, stats.LOWER
NOT_COMPARED, NO_DATA = stats.NOT_COMPARED, "no data"
# The order a key lists them in.
CATEGORIES: tuple[str, ...] = (BETTER, SIMILAR, WORSE, HIGHER, LOWER, NOT_COMPARED, NO_DATA)

# Okabe and Ito's colour-blind-safe palette: bluish green and vermilion for better and
# worse, yellow for similar, the two blues for higher and lower where no direction
# is better; no data is white and not compared pale grey.
COLOURS: dict[str, str] = {
    BETTER: "#009E73",
    SIMILAR: "#F0E442",
    WORSE: "#D55E00",
    HIGHER: "#0072B2",
    LOWER: "#56B4E9",
    NOT_COMPARED: "#D9D9D9",
    NO_DATA: "#FFFFFF",
}
# A symbol in every cell, so colour is never the only signal; no data shows the
# value-state symbol of the tables (c suppressed, x not supplied).
SYMBOLS: dict[str, str] = {
    BETTER: "✓",
    SIMILAR: "●",
    WORSE: "✗",
    HIGHER: "▲",
    LOWER: "▼",
    NOT_COMPARED: "○",
}
MEANING: dict[str, str] = {
    BETTER: "significantly better than {area}",
    SIMILAR: "similar to {area}",
    WORSE: "significantly worse than {area}",
    HIGHER: "significantly higher (no better direction)",
    LOWER: "significantly lower (no better direction)",
    NOT_COMPARED: "not compared (no interval or no {area} figure)",
    NO_DATA: "no data: suppressed (c) or not supplied (x)",
}


def key(area: str, categories=CATEGORIES) -> list[str]:
    """The rug's key, one entry per category: its symbol and what it means."""
    return [f"{SYMBOLS.get(c, 'c / x')} {MEANING[c].format(area=area)}" for c in categories]


def category(comparison: object, polarity: object) -> str:
    """One cell's category from the benchmark's comparison (``higher``, ``similar``,
    ``lower`` or ``not compared``) and the item's polarity: a lower-is-better item
    significantly below the area is better; with no better direction it stays
    higher or lower; a missing comparison is no data."""
    if comparison is None or (isinstance(comparison, float) and pd.isna(comparison)):
        return NO_DATA
    comparison = str(comparison)
    if comparison == NOT_COMPARED:
        return NOT_COMPARED
    if polarity == "neutral":
        return comparison
    return str(stats.rag_label(comparison, polarity))


def rug_cells(
    benchmarks: pd.DataFrame,
    items: pd.DataFrame,
    boroughs: list[str],
    threshold: int,
) -> pd.DataFrame:
    """One row per item and pilot borough: ``category``, ``symbol`` and ``state``.

    ``benchmarks`` are the boroughs' benchmark tables stacked (``la_code_ons`` says
    whose, as the stage writes them). Items are those any borough has a figure for,
    in the data model's order. A borough with no figure for an item is no data
    (``x``, not supplied); one whose count this report suppresses is no data too
    (``c``), whatever its interval said.
    """
    cols = ["la_code_ons", "item_id", "vs_london", "count"]
    bench = benchmarks[cols] if not benchmarks.empty else pd.DataFrame(columns=cols)
    ids = [i for i in items.index if i in set(bench["item_id"])]
    grid = pd.MultiIndex.from_product([ids, boroughs], names=["item_id", "la_code_ons"])
    out = grid.to_frame(index=False).merge(bench, on=["item_id", "la_code_ons"], how="left")
    polarity = out["item_id"].map(items["polarity"])
    hidden = disclosure.primary_suppress(out["count"].fillna(0), threshold).to_numpy()
    supplied = out["vs_london"].notna().to_numpy()
    out["category"] = [
        NO_DATA if hide or not has else category(found, pole)
        for found, pole, hide, has in zip(out["vs_london"], polarity, hidden, supplied, strict=True)
    ]
    out["state"] = [
        states.WITHHELD if hide and has else (states.REPORTED if has else states.NOT_AVAILABLE)
        for hide, has in zip(hidden, supplied, strict=True)
    ]
    out["symbol"] = [
        SYMBOLS.get(cat, states.symbol(state))
        for cat, state in zip(out["category"], out["state"], strict=True)
    ]
    return out[["item_id", "la_code_ons", "category", "symbol", "state"]]


def rug_table(cells: pd.DataFrame, titles: pd.Series, name=str) -> pd.DataFrame:
    """The rug as a table a reader (or a download) can use: items (rows) by
    boroughs (columns), each cell in words with its symbol."""
    words = cells.assign(
        cell=[
            f"{sym} {cat}" if cat != NO_DATA else f"{sym} (no data)"
            for sym, cat in zip(cells["symbol"], cells["category"], strict=True)
        ]
    )
    wide = words.pivot(index="item_id", columns="la_code_ons", values="cell")
    wide = wide.reindex(index=list(dict.fromkeys(cells["item_id"])))
    wide = wide[list(dict.fromkeys(cells["la_code_ons"]))]
    wide.columns = [name(c) for c in wide.columns]
    wide.insert(0, "Title", [titles.get(i, i) for i in wide.index])
    return wide.reset_index().rename(columns={"item_id": "Item"})


def summary_by_borough(cells: pd.DataFrame) -> pd.DataFrame:
    """Per borough, how many items fall in each category (columns :data:`CATEGORIES`)."""
    counts = pd.crosstab(cells["la_code_ons"], cells["category"])
    counts = counts.reindex(columns=list(CATEGORIES), fill_value=0)
    return counts.reindex(list(dict.fromkeys(cells["la_code_ons"])))
