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


def _trend(own: pd.DataFrame) -> list[list]:
    rows = [["item_id", "agency", "period", "numerator", "denominator", "value", "state", "status"]]
    for rec in own.sort_values(["item_id", "period"]).to_dict("records"):
        value = (
            rec["value"]
            if rec["value"] is None or isinstance(rec["value"], str)
            else round(float(rec["value"]), 1)
        )
        rows.append(
            [
                rec["item_id"],
                AGENCIES.get(rec["agency"], rec["agency"]),
                rec["period"],
                rec["numerator"],
                rec["denominator"],
                value,
                rec["value_state"],
                STATUSES.get(rec["status"], rec["status"]),
            ]
        )
    return rows


def _against(own: pd.DataFrame, others: pd.DataFrame) -> list[list]:
    rows = [["item_id", "period", "this authority", "others published", "others median"]]
    if own.empty:
        return rows
    latest = own["period"].max()
    mine = own[own["period"] == latest]
    theirs = others[(others["period"] == latest)]
    for rec in mine.sort_values("item_id").to_dict("records"):
        values = pd.to_numeric(
            theirs.loc[theirs["item_id"] == rec["item_id"], "value"], errors="coerce"
        ).dropna()
        value = rec["value"]
        shown = round(float(value), 1) if isinstance(value, int | float) else value
        median = round(float(values.median()), 1) if len(values) else "x"
        rows.append([rec["item_id"], latest, shown, len(values), median])
    return rows


def _published(others: pd.DataFrame) -> list[list]:
    """Every other authority's published figures of the latest published quarter."""
    rows = [["authority", "item_id", "period", "numerator", "value", "state"]]
    if others.empty:
        return rows
    latest = others[others["period"] == others["period"].max()]
    for rec in latest.sort_values(["la_name", "item_id"]).to_dict("records"):
        value = rec["value"]
        shown = round(float(value), 1) if isinstance(value, int | float) else value
        rows.append(
            [
                rec["la_name"],
                rec["item_id"],
                rec["period"],
                rec["numerator"],
                shown,
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
    frame = figures(m)
    own = frame[frame["own"] & (frame["la_code_ons"] == m.la_code_ons)]
    others = frame[~frame["own"]]
    tables = {
        "trend": _trend(own),
        "against_others": _against(own, others),
        "published": _published(others),
        "completeness": _completeness(m.la_code_ons),
    }
    wanted = request.GET.get("download")
    if wanted in TABLES:
        response = HttpResponse(table_csv(tables[wanted]), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{wanted}.csv"'
        return response
    return page(
        request,
        "pages/benchmark.html",
        la_name=toolkit.authority_name(m.la_code_ons),
        tables=[
            ("trend", "Figures quarter by quarter, with their state", tables["trend"]),
            (
                "against_others",
                "Latest quarter against other authorities' published figures",
                tables["against_others"],
            ),
            (
                "published",
                "Other authorities' published figures, latest quarter (c: suppressed)",
                tables["published"],
            ),
            ("completeness", "Completeness and timeliness of each agency", tables["completeness"]),
        ],
    )
