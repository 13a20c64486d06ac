"""The figures audit: every table of every report in a fresh sample build, read back
from the HTML as a steering-group member reads it (``pandas.read_html``), and checked
against ``data/processed``.

Two kinds of check, neither written for one table:

- on every table: years are never formatted as numbers, every rate says its period,
  items with no better direction are never ranked or called better/worse, rows of
  status counts add up to the figures expected, state symbols have a key in the
  report, and alpha always carries its interval;
- on every table that says where its figures come from (its ``data-lscb``
  attribute, written by :func:`lscb_nb.core.display.table`): each figure is recomputed from
  the processed files by the table's kind (a borough × item grid of returned
  figures, counts of completeness statuses, a borough's benchmark, source systems'
  ratings), its state checked (a figure not returned is never 0), and its totals.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import lxml.html
import numpy as np
import pandas as pd
import pytest

from lscb_nb.core import config, disclosure, reference, states
from lscb_nb.core.datamodel import load_datamodel
from lscb_nb.core.project import AREA

pytestmark = pytest.mark.notebook

THRESHOLD = config.DEFAULT_SUPPRESSION_THRESHOLD
PERIOD_WORDS = ("per quarter", "per year", "at the", "at 31 March", "in the 12 months")
STATUS_HEADERS = {"On time", "Late", "Not supplied", "Not received"}
# Every status counted among the figures expected (not yet due and not applicable are not).
EXPECTED_HEADERS = {s.capitalize() for s in states.figure_statuses(expected=True)}


@dataclass
class Table:
    report: str
    caption: str
    meta: dict | None
    frame: pd.DataFrame  # every cell as the text shown


def _read(element) -> pd.DataFrame | None:
    markup = lxml.html.tostring(element, encoding="unicode")
    try:
        first = pd.read_html(io.StringIO(markup), keep_default_na=False, thousands=None)[0]
    except ValueError:
        return None
    converters = {i: str for i in range(first.shape[1])}
    frame = pd.read_html(
        io.StringIO(markup), keep_default_na=False, thousands=None, converters=converters
    )[0]
    if isinstance(frame.columns, pd.MultiIndex):
        frame.columns = [" ".join(dict.fromkeys(map(str, c))) for c in frame.columns]
    frame.columns = [str(c) for c in frame.columns]
    return frame.astype(str)


def _tables(report: str, html: str) -> Iterator[Table]:
    tree = lxml.html.fromstring(html)
    for element in tree.iter("table"):
        frame = _read(element)
        if frame is None:
            continue
        raw = element.get("data-lscb")
        caption = element.find("caption")
        yield Table(
            report,
            "" if caption is None else caption.text_content().strip(),
            json.loads(raw) if raw else None,
            frame,
        )


def _number(text: str) -> float | None:
    """The number a cell shows, or None for a symbol or words."""
    cleaned = str(text).replace(",", "").replace("%", "").strip()
    try:
        return float(cleaned)
    except ValueError:
        return None


def _decimals(text: str) -> int:
    cleaned = str(text).replace(",", "").strip()
    return len(cleaned.split(".")[1]) if "." in cleaned else 0


def _close(shown: str, value: float) -> bool:
    """The cell shows ``value`` to the decimals it is printed with."""
    number = _number(shown)
    return number is not None and abs(number - value) <= 0.5 * 10 ** -_decimals(shown) + 1e-9


@pytest.fixture(scope="module")
def audit(sample_run):
    run_dir = sample_run["dir"]
    processed = sample_run["root"].processed
    reports = {}
    for job in sample_run["manifest"]["jobs"]:
        if job["status"] == "succeeded":
            reports[job["slug"]] = {
                "job": job,
                "html": (run_dir / job["html"]).read_text(encoding="utf-8"),
            }
    tables = [t for slug, r in reports.items() for t in _tables(slug, r["html"])]
    return {"reports": reports, "tables": tables, "processed": processed}


@pytest.fixture(scope="module")
def items() -> pd.DataFrame:
    return load_datamodel(config.CANDIDATE_VERSION).items


@pytest.fixture(scope="module")
def codes() -> dict[str, str]:
    names = reference.authorities().set_index("la_name")["la_code_ons"]
    return names.to_dict()


# ---------------------------------------------------------------- every table


def test_the_build_has_tables_that_say_where_their_figures_come_from(audit):
    kinds = {t.meta["kind"] for t in audit["tables"] if t.meta}
    assert {"grid", "status_counts", "benchmark", "system_accessibility", "spine"} <= kinds
    assert len(audit["tables"]) > 100


def test_years_are_never_formatted_as_numbers(audit):
    for t in audit["tables"]:
        for col in t.frame.columns:
            if re.match(r"(?i)^(year|years|dfe year|year to|year ending)", col):
                bad = t.frame[col][t.frame[col].str.match(r"^\d{1,2},\d{3}$")]
                assert bad.empty, (t.report, t.caption, col, bad.tolist())


def test_every_rate_says_its_period(audit):
    for t in audit["tables"]:
        for col in t.frame.columns:
            labels = [col]
            if col.lower() in ("measure", "unit"):
                labels += t.frame[col].tolist()
            for label in labels:
                if "per 10,000" in label:
                    assert any(w in label for w in PERIOD_WORDS), (t.report, t.caption, label)


def test_no_rank_or_judgement_without_a_better_direction(audit, items):
    for t in audit["tables"]:
        if "Item" not in t.frame.columns:
            continue
        known = t.frame["Item"].isin(items.index)
        neutral = t.frame.loc[known, "Item"].map(items["polarity"]) == "neutral"
        rows = t.frame.loc[known].loc[neutral]
        if "Rank" in rows.columns:
            ranked = rows["Rank"].str.match(r"^\d+( of \d+)?$")
            assert not ranked.any(), (t.report, rows.loc[ranked, "Item"].tolist())
        for col in ("Better/worse", "Quartile"):
            if col in rows.columns:
                judged = rows[col].isin(["better", "worse", "A", "B", "C", "D"])
                assert not judged.any(), (t.report, col, rows.loc[judged, "Item"].tolist())


def test_rows_of_status_counts_add_up(audit):
    """Every table that counts figures by what happened to them adds up: the counts of
    every expected status (on time, late, suppressed, not available, not collected,
    quarantined, not supplied, not received) = expected."""
    checked = 0
    for t in audit["tables"]:
        cols = set(t.frame.columns)
        if "Expected" not in cols or not ({"On time", "Late"} <= cols):
            continue
        assert cols >= STATUS_HEADERS, (t.report, t.caption, sorted(cols))
        parts = [c for c in t.frame.columns if c in EXPECTED_HEADERS]
        for _, row in t.frame.iterrows():
            total = sum(_number(row[c]) for c in parts)
            assert total == _number(row["Expected"]), (t.report, t.caption, row.to_dict())
        checked += 1
    assert checked


def test_every_report_has_the_key_to_what_its_tables_show(audit):
    """Every report carries the key to the state symbols, and a symbol a table shows
    is one the key explains (a section showing one also explains it beside it)."""
    key = states.key_plain()
    for slug, r in audit["reports"].items():
        assert "Symbols in tables" in r["html"] and key.split(";")[1] in r["html"], slug
    for t in audit["tables"]:
        if not t.meta:
            continue
        for symbol in states.symbols_in(t.frame):
            assert f"<strong>{symbol}</strong>" in audit["reports"][t.report]["html"], (
                t.report,
                t.caption,
                symbol,
            )


def test_alpha_always_carries_its_interval(audit):
    for t in audit["tables"]:
        if "Alpha" in t.frame.columns:
            assert "95% CI" in t.frame.columns, (t.report, t.caption)
    for slug, r in audit["reports"].items():
        for match in re.finditer(r"α = \d\.\d\d", r["html"]):
            after = r["html"][match.end() : match.end() + 40]
            assert "95% CI" in after or "no interval" in after, (slug, after)


# ---------------------------------------------------------------- recomputed figures


def _grid_checks(t: Table, processed, codes) -> None:
    meta = t.meta
    accepted = pd.read_parquet(processed / "returns" / "accepted.parquet")
    quarantined = pd.read_parquet(processed / "returns" / "quarantined.parquet")
    where = meta["filter"]
    here = accepted.loc[
        (accepted["period"] == where["period"]) & (accepted["unit"] == where["unit"])
    ]
    held = quarantined.loc[quarantined["period"] == where["period"]]
    keyed = here.drop_duplicates(["la_code_ons", "item_id"]).set_index(["la_code_ons", "item_id"])
    held_keys = set(zip(held["la_code_ons"], held["item_id"], strict=True))
    frame = t.frame.set_index(meta["row_column"])
    boroughs = meta["columns"]
    total = meta.get("total")
    for item_id, row in frame.iterrows():
        reported_sum, reported_n = 0.0, 0
        for name in boroughs:
            code = codes[name]
            shown = row[name]
            if (code, item_id) in keyed.index:
                state = str(keyed.at[(code, item_id), "value_state"])
                value = keyed.at[(code, item_id), meta["value"]]
            else:
                state = states.QUARANTINED if (code, item_id) in held_keys else states.MISSING
                value = np.nan
            if state in states.USABLE:
                reported_n += 1
                reported_sum += 0.0 if pd.isna(value) else float(value)
                if shown != "c":
                    assert _close(shown, float(value)), (t.report, item_id, name, shown, value)
                    assert not 1 <= float(value) <= THRESHOLD, (t.report, item_id, name)
            else:
                # A figure not reported shows its state, never a number (never 0).
                assert shown == states.symbol(state), (t.report, item_id, name, shown, state)
        if total:
            shown_total = row[total["column"]]
            if shown_total != "c":
                assert _close(shown_total, reported_sum), (t.report, item_id, shown_total)
            else:
                # Withheld only when it is a small count or would give a hidden cell away.
                cells = row[boroughs].map(lambda v: v.replace(",", "")).to_frame().T
                gives_away = disclosure.can_recover(cells, boroughs, row_totals=[reported_sum])
                assert 1 <= reported_sum <= THRESHOLD or gives_away, (t.report, item_id)
            if total.get("count_column"):
                assert row[total["count_column"]] == f"{reported_n} of {len(boroughs)}"
    # Nothing hidden can be recovered from the shown cells and totals.
    if total:
        cells = frame[boroughs].map(lambda v: v.replace(",", ""))
        totals = pd.to_numeric(frame[total["column"]].str.replace(",", ""), errors="coerce")
        assert disclosure.can_recover(cells, boroughs, row_totals=totals) == []


def _status_checks(t: Table, processed) -> None:
    meta = t.meta
    cells = pd.read_parquet(processed / "pilot" / "cells.parquet")
    for col, value in meta["where"].items():
        cells = cells.loc[cells[col] == value]
    for _, row in t.frame.iterrows():
        label = row[meta["row_column"]]
        key = meta["labels"].get(label, label)
        sub = cells.loc[cells[meta["group_by"]] == key]
        assert len(sub), (t.report, t.caption, label)
        for status, header in meta["headers"].items():
            expected = len(sub) if status == "expected" else int((sub["status"] == status).sum())
            assert _number(row[header]) == expected, (t.report, t.caption, label, header)
        for header, counted in meta["percents"].items():
            share = 100 * sub["status"].isin(counted).mean()
            assert _close(row[header], share), (t.report, t.caption, label, header, share)


def _benchmark_checks(t: Table, processed, items, codes) -> None:
    meta = t.meta
    obs = pd.read_parquet(processed / "pilot" / "observations.parquet")
    flags = pd.read_parquet(processed / "pilot" / "definition_flags.parquet")
    quorum = json.loads((processed / "pilot" / "summary.json").read_text())["quorum"]
    flagged = set(zip(flags["la_code_ons"], flags["item_id"], strict=True))
    now = obs.loc[obs["period"] == meta["period"]]
    la = meta["la_code_ons"]
    for _, row in t.frame.iterrows():
        item_id = row["Item"]
        mine = now.loc[(now["la_code_ons"] == la) & (now["item_id"] == item_id)]
        assert len(mine) == 1, (t.report, item_id)
        mine = mine.iloc[0]
        if row["Value"] == "c":
            assert 1 <= mine["count"] <= THRESHOLD, (t.report, item_id)
        else:
            assert _close(row["Value"], mine["value"]), (t.report, item_id, row["Value"])
        # The London figure leaves out figures flagged as a different definition.
        others = now.loc[now["item_id"] == item_id]
        keep = [(c, item_id) not in flagged for c in others["la_code_ons"]]
        others = others.loc[keep]
        scale = 100.0 if items.at[item_id, "unit"] == "percentage" else 10_000.0
        london = others["count"].sum() / others["base"].sum() * scale
        if row["London pilot"].split(" ")[0] == "–":  # fewer than the quorum: not shown
            assert len(others) < quorum, (t.report, item_id, len(others), quorum)
        else:
            assert _close(row["London pilot"].split(" ")[0], london), (t.report, item_id)
        if len(keep) > len(others):
            assert "different definition" in row["London pilot"], (t.report, item_id)
        # The neighbour figure says what it rests on.
        assert re.search(
            r"\(\d+ (borough|pilot neighbour)|\(DfE \d{4}|no pilot neighbour", row["Neighbours"]
        ), (t.report, item_id, row["Neighbours"])


def _spine_checks(t: Table, processed, items) -> None:
    """The spine chart's table: the borough's figure and the pilot average per row,
    recomputed from the observations (definition flags left out of the average);
    England's figure says its year and unit, or that DfE does not publish the item."""
    meta = t.meta
    obs = pd.read_parquet(processed / "pilot" / "observations.parquet")
    flags = pd.read_parquet(processed / "pilot" / "definition_flags.parquet")
    quorum = json.loads((processed / "pilot" / "summary.json").read_text())["quorum"]
    flagged = set(zip(flags["la_code_ons"], flags["item_id"], strict=True))
    now = obs.loc[obs["period"] == meta["period"]]
    assert len(t.frame), (t.report, t.caption)
    for _, row in t.frame.iterrows():
        item_id = row[meta["row_column"]]
        mine = now.loc[(now["la_code_ons"] == meta["la_code_ons"]) & (now["item_id"] == item_id)]
        assert len(mine) == 1, (t.report, item_id)
        assert not 1 <= mine.iloc[0]["count"] <= THRESHOLD, (t.report, item_id)  # never a c
        assert _close(row[meta["value_column"]], mine.iloc[0]["value"]), (t.report, item_id)
        others = now.loc[now["item_id"] == item_id]
        others = others.loc[[(c, item_id) not in flagged for c in others["la_code_ons"]]]
        scale = 100.0 if items.at[item_id, "unit"] == "percentage" else 10_000.0
        average = others["count"].sum() / others["base"].sum() * scale
        if row[meta["area_column"]] == "–":  # an average over fewer than the quorum is not shown
            assert len(others) < quorum, (t.report, item_id, len(others), quorum)
        else:
            assert _close(row[meta["area_column"]], average), (t.report, item_id)
        england = row[meta["england_column"]]
        assert england == "not published" or re.search(r"\(.+, 20\d\d\)$", england), england


def _system_checks(t: Table, processed) -> None:
    meta = t.meta
    ratings = pd.read_parquet(processed / "assessment" / "ratings.parquet").dropna(
        subset=["score", "system"]
    )
    access = ratings.loc[ratings["dimension"] == "accessibility"]
    for _, row in t.frame.iterrows():
        part = access.loc[access["system"] == row[meta["row_column"]], "score"].astype(float)
        assert _close(row[meta["mean_column"]], part.mean()), (t.report, row.to_dict())
        assert _number(row[meta["count_column"]]) == len(part), (t.report, row.to_dict())


def test_every_described_table_recomputes_from_processed_data(audit, items, codes):
    checks = {
        "grid": lambda t: _grid_checks(t, audit["processed"], codes),
        "status_counts": lambda t: _status_checks(t, audit["processed"]),
        "benchmark": lambda t: _benchmark_checks(t, audit["processed"], items, codes),
        "system_accessibility": lambda t: _system_checks(t, audit["processed"]),
        "spine": lambda t: _spine_checks(t, audit["processed"], items),
    }
    done = 0
    for t in audit["tables"]:
        if t.meta:
            assert t.meta["kind"] in checks, (t.report, t.meta["kind"])
            checks[t.meta["kind"]](t)
            done += 1
    assert done >= 20


# ---------------------------------------------------------------- words beside the figures


def _phase3(audit) -> dict[str, str]:
    return {
        r["job"]["la_code"]: r["html"]
        for r in audit["reports"].values()
        if r["job"]["notebook"].startswith("03")
    }


def test_a_boroughs_report_speaks_of_the_borough(audit):
    for la, html in _phase3(audit).items():
        if la == AREA:
            continue
        name = reference.authority_name(la)
        assert "Across the pilot, " not in html, la
        assert f"In {name}, " in html, la


def test_trend_words_match_the_figures_they_quote(audit):
    pattern = re.compile(
        r"(\d+)% of expected figures were supplied in [^:]+? and (\d+)% in [^:]+?: "
        r"a statistically significant (increasing|decreasing) trend"
    )
    for slug, r in audit["reports"].items():
        for first, last, direction in pattern.findall(r["html"]):
            if direction == "increasing":
                assert int(last) > int(first), (slug, first, last)
            else:
                assert int(last) < int(first), (slug, first, last)


def test_funnel_limits_leave_about_what_chance_predicts_outside(audit):
    """The share of borough × item points outside 99.8% under the limits drawn, quoted
    in each borough's report, is recomputed from the positions and is near chance."""
    positions = pd.read_parquet(audit["processed"] / "pilot" / "funnel_positions.parquet")
    pattern = re.compile(
        r"With these limits (\d+) of (\d+) borough × item points lie outside 99.8% .*?"
        r"without the adjustment it would be (\d+)",
        re.S,
    )
    found = 0
    for la, html in _phase3(audit).items():
        for outside, total, plain in pattern.findall(html):
            found += 1
            quarter = sorted(positions["period"].unique())[-1]
            here = positions.loc[positions["period"] == quarter]
            assert int(total) == len(here), la
            assert int(outside) == here["funnel"].str.contains("99.8").sum(), la
            assert int(plain) == here["funnel_unadjusted"].str.contains("99.8").sum(), la
            assert int(outside) / int(total) < 0.01, (la, outside, total)
    assert found
