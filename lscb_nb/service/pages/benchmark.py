"""An authority's benchmarking page: its figures quarter by quarter with their
state, against the other authorities' published figures (suppressed by the
toolkit's disclosure code through :mod:`lscb_nb.service.collection.figures`), and
the completeness of its own agencies' returns; each table downloadable as CSV.

Not yet here: DfE's published figures and statistical neighbours through
``lscb_nb.pilot.comparators`` (the issue's item 6 asks for them).
"""

from __future__ import annotations

import pandas as pd
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from lscb_nb.core.returnformat import AGENCIES
from lscb_nb.service import permissions, toolkit
from lscb_nb.service.collection.exports import table_csv
from lscb_nb.service.collection.figures import figures
from lscb_nb.service.collection.models import STATUSES, Submission
from lscb_nb.service.pages.common import forbidden, page, signed_in

TABLES = ("trend", "against_others", "published", "completeness")


def _shown(value) -> object:
    """A figure as a table shows it: rounded, or its state code (c, x) as it is."""
    if value is None or isinstance(value, str):
        return value
    return round(float(value), 1)


def _trend(own: pd.DataFrame, periods: list[str]) -> list[list]:
    """Items down, quarters across: each figure with the status of its version."""
    rows = [["item_id", *periods]]
    if own.empty:
        return rows
    cells = {
        (r["item_id"], r["period"]): f"{_shown(r['value'])} ({STATUSES.get(r['status'], '')})"
        for r in own.to_dict("records")
    }
    for item in sorted(own["item_id"].unique()):
        rows.append([item, *(cells.get((item, p), "x") for p in periods)])
    return rows


def _against(own: pd.DataFrame, others: pd.DataFrame) -> list[list]:
    rows = [["item_id", "period", "this authority", "others published", "others median"]]
    if own.empty:
        return rows
    latest = own["period"].max()
    mine = own[own["period"] == latest]
    theirs = others[others["period"] == latest].assign(
        number=lambda f: pd.to_numeric(f["value"], errors="coerce")
    )
    counts = theirs.groupby("item_id")["number"].count()
    medians = theirs.groupby("item_id")["number"].median()
    for rec in mine.sort_values("item_id").to_dict("records"):
        item = rec["item_id"]
        count = int(counts.get(item, 0))
        median = round(float(medians[item]), 1) if count else "x"
        rows.append([item, latest, _shown(rec["value"]), count, median])
    return rows


def _published(others: pd.DataFrame, item: str | None) -> list[list]:
    """One item's published figures of every other authority, latest quarter."""
    rows = [["authority", "item_id", "period", "numerator", "value", "state"]]
    chosen = others[others["item_id"] == item] if item else others.iloc[0:0]
    if chosen.empty:
        return rows
    latest = chosen[chosen["period"] == chosen["period"].max()]
    for rec in latest.sort_values("la_name").to_dict("records"):
        rows.append(
            [
                rec["la_name"],
                rec["item_id"],
                rec["period"],
                rec["numerator"],
                _shown(rec["value"]),
                rec["value_state"],
            ]
        )
    return rows


def _completeness(la: str) -> list[list]:
    periods = toolkit.project().periods
    latest = {}
    for sub in Submission.objects.filter(la_code_ons=la).order_by("number"):
        latest[sub.agency, sub.period] = sub  # the last one counts
    rows = [["agency", *periods]]
    for code, name in AGENCIES.items():
        row = [name]
        for period in periods:
            sub = latest.get((code, period))
            row.append(
                "not received"
                if sub is None
                else STATUSES[sub.status]
                + (f", {sub.days_late} days late" if sub.days_late else "")
            )
        rows.append(row)
    return rows


@signed_in
@require_GET
def benchmark(request):
    m = request.membership
    if not permissions.allowed(m, "benchmark.view"):
        return forbidden(request, "benchmark.view", "Benchmarking pages belong to an authority.")
    own = figures(m, others=False)
    own = own[own["la_code_ons"] == m.la_code_ons]
    latest = own["period"].max() if len(own) else None
    # Other authorities: the latest quarter this authority has, or every quarter if none.
    frame = figures(m, period=latest)
    others = frame[~frame["own"]]
    items = sorted(set(own["item_id"]) | set(others["item_id"]))
    item = request.GET.get("item") if request.GET.get("item") in items else None
    item = item or (items[0] if items else None)
    tables = {
        "trend": _trend(own, toolkit.project().periods or sorted(set(own["period"]))),
        "against_others": _against(own, others),
        "published": _published(others, item),
        "completeness": _completeness(m.la_code_ons),
    }
    wanted = request.GET.get("download")
    if wanted in TABLES:
        response = HttpResponse(table_csv(tables[wanted]), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{wanted}.csv"'
        return response
    caption = f"Other authorities' published figures for {item}, latest quarter (c: suppressed)"
    return page(
        request,
        "pages/benchmark.html",
        la_name=toolkit.authority_name(m.la_code_ons),
        items=items,
        item=item,
        tables=[
            ("trend", "Figures quarter by quarter, with their state", tables["trend"]),
            (
                "against_others",
                "Latest quarter against other authorities' published figures",
                tables["against_others"],
            ),
            (
                "published",
                caption,
                tables["published"],
            ),
            ("completeness", "Completeness and timeliness of each agency", tables["completeness"]),
        ],
    )
