"""Phase 3's spine chart, as Fingertips shows it: an HTML table with one row per item
(its title in full, period, unit, the borough's figure, the area's, the worst and best
pilot boroughs', England's published figure) and the spine drawn in each row as a
small inline SVG, with a small line of the borough's quarters beside it.

The figures are text in the page, so a screen reader reads them, a browser zooms them
sharply and the page is faster to build than a picture of sixty rows of text; each
row's spine and trend carry a sentence saying what they show. Its own module because
the report and the phase 3 explorer show the same table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lscb_nb.core import disclosure, display, periods, reference
from lscb_nb.pilot import comparators, observations

# Spine-chart dot colours: significance against the pilot average, respecting the
# item's direction; items with no better direction are blue, higher or lower.
SPINE_COLOURS = {
    "better": "#1a9850",
    "worse": "#d73027",
    "similar": "#fee08b",
    "higher": "#4575b4",
    "lower": "#91bfdb",
    "not compared": "#ffffff",
}


def _hidden(counts: pd.Series, threshold: int) -> pd.Series:
    """Counts shown as c (1 to ``threshold``): left off the chart."""
    return disclosure.primary_suppress(counts.fillna(0), threshold)


# The spine's and the trend's drawing boxes, in SVG pixels (the stylesheet sizes them).
SPINE_BOX = (200, 20)
TREND_BOX = (80, 20)
_PAD = 6  # pixels kept clear at each end of the spine for the marker
# A shape as well as a colour: better points right, worse left, similar is round,
# higher and lower point up and down (in the spine's box, centred on 0, 0).
_SHAPES = {
    "better": [(-5, -6), (6, 0), (-5, 6)],
    "worse": [(5, -6), (-6, 0), (5, 6)],
    "higher": [(-6, 5), (0, -6), (6, 5)],
    "lower": [(-6, -5), (0, 6), (6, -5)],
}
COMPARED = {
    "better": "significantly better",
    "worse": "significantly worse",
    "similar": "similar",
    "higher": "significantly higher",
    "lower": "significantly lower",
    "not compared": "not compared",
}


def _spine_rows(
    obs: pd.DataFrame, bb: pd.DataFrame, period: str, threshold: int, la_code: str | None
) -> pd.DataFrame:
    """One row per item the chart can show: positions on the spine (0 worst or lowest,
    1 best or highest, 0.5 the area average) and the figures printed beside it. Figures
    resting on suppressed counts are left out of the ranges as well as the dots."""
    shown = obs.loc[~_hidden(obs["count"], threshold).to_numpy()]
    now = shown.loc[shown["period"] == period]
    hidden = _hidden(bb["count"], threshold).to_numpy()
    bb = bb.loc[~hidden & bb["polarity"].isin(["high", "low", "neutral"])]
    order = sorted(set(obs["period"]), key=periods.parse_period)
    past = order[: order.index(period) + 1] if period in order else order
    own = (
        shown.loc[(shown["la_code_ons"] == la_code) & shown["period"].isin(past)]
        if la_code is not None
        else shown.iloc[0:0]
    )
    grouped = now.dropna(subset=["value"]).groupby("item_id", observed=True)["value"]
    spread = grouped.agg(["min", "max", "size"]).join(
        grouped.quantile([0.25, 0.75]).unstack().rename(columns={0.25: "q1", 0.75: "q3"})
    )
    trends = own.drop_duplicates(["item_id", "period"]).pivot(
        index="item_id", columns="period", values="value"
    )
    trends = trends.reindex(columns=past)
    none = np.full(len(past), np.nan)
    table = bb.join(spread, on="item_id", how="inner")
    centre = table[comparators.AREA_AVERAGE].astype(float)
    table = table.loc[(table["size"] >= 4) & np.isfinite(centre)]
    centre = centre.loc[table.index]
    half = np.maximum(centre - table["min"], table["max"] - centre).replace(0, 1.0)
    flip = np.where(table["polarity"] == "low", -1, 1)

    def pos(v: pd.Series) -> pd.Series:
        return 0.5 + flip * (v.astype(float) - centre) / (2 * half)

    rows = []
    for i, (_, r) in enumerate(table.iterrows()):
        places = int(r["decimal_places"]) if pd.notna(r.get("decimal_places")) else 1
        low_first = flip[i] == 1
        rows.append(
            {
                "item_id": r["item_id"],
                "title": str(r["title"]),
                "unit": observations.unit_label(
                    str(r.get("unit", "")), r.get("measure_type"), r.get("frequency")
                ),
                "places": places,
                "rag": r["rag"] if r["polarity"] != "neutral" else r["vs_london"],
                "value": display.number(r["value"], places),
                "area": display.number(centre.iloc[i], places),
                "worst": display.number(r["min"] if low_first else r["max"], places),
                "best": display.number(r["max"] if low_first else r["min"], places),
                "trend": trends.loc[r["item_id"]].to_numpy(float)
                if r["item_id"] in trends.index
                else none,
            }
        )
    out = pd.DataFrame(rows, index=table.index)
    for key in ("min", "max", "q1", "q3"):
        out[key] = pos(table[key])
    out["me"] = pos(table["value"])
    return out.reset_index(drop=True)


def england_figures(items: pd.DataFrame, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """DfE's latest published figure for England, per item DfE publishes, as a rate per
    10,000 children (or a percentage) as the borough's figures are: item_id,
    england (value), england_year, england_unit. Empty where nothing is published."""
    cols = ["item_id", "england", "england_year", "england_unit"]
    pub = reference.published_for_items(items, published)
    pub = pub.loc[pub["area_code"] == reference.ENGLAND_CODE].copy()
    if pub.empty:
        return pd.DataFrame(columns=cols)
    pop = reference.population(areas="all").drop_duplicates(["area_code", "mid_year"])
    pop = pop.set_index(["area_code", "mid_year"])["population_0_17"]
    unit = items.loc[pub["item_id"], "unit"].to_numpy()
    base = pop.reindex(pd.MultiIndex.from_arrays([pub["area_code"], pub["year"] - 1])).to_numpy()
    pub["england"] = np.where(unit == "percentage", pub["published"], pub["published"] / base * 1e4)
    pub = pub.dropna(subset=["england"])
    latest = pub.loc[pub.groupby("item_id")["year"].transform("max") == pub["year"]]
    latest = latest.drop_duplicates("item_id")
    out = latest.assign(
        england_year=latest["year"].astype(int),
        england_unit=[
            observations.unit_label(
                items.at[i, "unit"], items.at[i, "measure_type"], "annual"
            ).replace("year's end", "31 March")
            for i in latest["item_id"]
        ],
    )
    return out[cols].reset_index(drop=True)


def _x(position: float) -> float:
    """A spine position (0 worst or lowest, 1 best or highest) in SVG pixels."""
    width = SPINE_BOX[0] - 2 * _PAD
    return round(_PAD + float(np.clip(position, -0.02, 1.02)) * width, 1)


def _spine_picture(row, la_name: str, area: str) -> dict:
    """What one row's spine draws (numbers and fixed colours only) and says."""
    lo, hi = sorted((row.min, row.max))
    q1, q3 = sorted((row.q1, row.q3))
    x, mid = _x(row.me), SPINE_BOX[1] / 2
    shape = _SHAPES.get(row.rag)
    return {
        "range": (_x(lo), _x(hi) - _x(lo)),
        "middle": (_x(q1), _x(q3) - _x(q1)),
        "centre": _x(0.5),
        "marker": {
            "x": x,
            "y": mid,
            "points": " ".join(f"{x + dx:g},{mid + dy:g}" for dx, dy in shape) if shape else "",
            "fill": SPINE_COLOURS.get(row.rag, "#ffffff"),
        },
        "label": (
            f"{la_name} {row.value}: {COMPARED.get(row.rag, row.rag)} against the {area} "
            f"pilot average of {row.area}; pilot authorities from {row.worst} (worst or lowest, "
            f"left) to {row.best} (best or highest, right)"
        ),
    }


def _trend_picture(row, la_name: str, quarters: list[str]) -> dict | None:
    """One row's small line of the borough's quarters, or None with fewer than two."""
    trend = np.asarray(row.trend, float)
    known = np.isfinite(trend)
    if known.sum() < 2:
        return None
    width, height = TREND_BOX
    values = trend[known]
    span = float(values.max() - values.min()) or 1.0
    xs = np.linspace(3, width - 3, len(trend))[known]
    ys = height - 3 - (height - 6) * (values - values.min()) / span
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))
    said = "; ".join(
        f"{q} {display.number(v, row.places)}"
        for q, v, k in zip(quarters, trend, known, strict=True)
        if k
    )
    return {
        "points": points,
        "end": (round(xs[-1], 1), round(ys[-1], 1)),
        "label": f"{la_name}'s figure by quarter: {said}",
    }


def spine_table(
    obs: pd.DataFrame,
    bb: pd.DataFrame,
    period: str,
    *,
    threshold: int,
    area: str,
    la_name: str,
    la_code: str | None = None,
    england: pd.DataFrame | None = None,
) -> display.Table | None:
    """Fingertips-style spine chart as a table: one row per item with its title in
    full, the period, the unit, the borough's figure, the area's, the worst and best
    pilot boroughs' (lowest and highest where no direction is better), England's
    latest published figure (``england``, from :func:`england_figures`) and the
    borough against the area in words; then the spine (the pilot's range, middle half,
    the area average and the borough, right always better) and the borough's trend
    up to ``period`` (``la_code``), each a small SVG with a sentence for a screen
    reader. ``bb`` is the borough's benchmark table. None when too few reported."""
    sp = _spine_rows(obs, bb, period, threshold, la_code)
    if sp.empty:
        return None
    order = sorted(set(obs["period"]), key=periods.parse_period)
    quarters = order[: order.index(period) + 1] if period in order else order
    found = england.set_index("item_id") if england is not None and not england.empty else None
    heads = {
        "item": "Item",
        "code": "Code",
        "period": "Period",
        "unit": "Unit",
        "value": la_name,
        "area": f"{area} pilot average",
        "worst": "Worst / lowest pilot authority",
        "best": "Best / highest pilot authority",
        "england": "England (DfE, latest year)",
        "compared": f"Against the {area} pilot average",
    }
    rows, plain = [], []
    for row in sp.itertuples():
        if found is not None and row.item_id in found.index:
            e = found.loc[row.item_id]
            england_text = (
                f"{display.number(e['england'], row.places)} ({e['england_unit']}, "
                f"{int(e['england_year'])})"
            )
        else:
            england_text = "not published"
        cells = {
            "item": row.title,
            "code": row.item_id,
            "period": period,
            "unit": row.unit,
            "value": row.value,
            "area": row.area,
            "worst": row.worst,
            "best": row.best,
            "england": england_text,
            "compared": COMPARED.get(row.rag, row.rag),
        }
        plain.append(list(cells.values()))
        rows.append(
            {
                "cells": cells,
                "spine": _spine_picture(row, la_name, area),
                "trend": _trend_picture(row, la_name, quarters),
            }
        )
    counts = sp["rag"].value_counts()
    caption = (
        f"{la_name}, {period}: spine chart of {display.plural(len(sp), 'item')} against the "
        f"{area} pilot ("
        + ", ".join(f"{k} {COMPARED.get(rag, rag)}" for rag, k in counts.items())
        + ")"
    )
    spec = {
        "caption": caption,
        "heads": heads,
        "numeric": ["value", "area", "worst", "best"],
        "rows": rows,
        "spine_box": SPINE_BOX,
        "trend_box": TREND_BOX,
        "centre_colour": "#b2182b",
        "meta": {
            "kind": "spine",
            "source": "pilot/observations",
            "la_code_ons": la_code,
            "period": period,
            "row_column": heads["code"],
            "value_column": heads["value"],
            "area_column": heads["area"],
            "england_column": heads["england"],
        },
    }
    download = {"caption": caption, "columns": list(heads.values()), "rows": plain}
    return display.spine_table(spec, download)
