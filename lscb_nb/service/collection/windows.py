"""Opening a collection window for a period (``lscb-nb service window open``), with
the project's deadline rule as the default: due ``deadline_days`` after the quarter
ends, closing 60 days after that."""

from __future__ import annotations

from datetime import date, timedelta

from lscb_nb.core import periods
from lscb_nb.service import toolkit
from lscb_nb.service.audit.models import record
from lscb_nb.service.collection.models import Window

CLOSE_AFTER_DEADLINE = timedelta(days=60)


def open_window(
    period: str,
    opens: date | None = None,
    deadline: date | None = None,
    closes: date | None = None,
    release: date | None = None,
    version: str | None = None,
) -> Window:
    """Open (or reset) the window of ``period``; dates default from the project."""
    periods.parse_period(period)  # raises PeriodError naming the expected form
    project = toolkit.project()
    end = periods.period_end(period)
    opens = opens or end + timedelta(days=1)
    deadline = deadline or end + timedelta(days=project.deadline_days)
    closes = closes or deadline + CLOSE_AFTER_DEADLINE
    if not opens <= deadline <= closes:
        raise ValueError(
            f"{period}: the window must open ({opens}) by its deadline ({deadline}) "
            f"and close ({closes}) after it."
        )
    version = version or toolkit.candidate().version
    toolkit.model(version)  # FileNotFoundError naming the versions that exist
    window, created = Window.objects.update_or_create(
        period=period,
        defaults={
            "opens": opens,
            "deadline": deadline,
            "closes": closes,
            "release_date": release,
            "datamodel_version": version,
        },
    )
    record(
        None,
        "admin.window_open" if created else "admin.window_change",
        obj=window,
        opens=str(opens),
        deadline=str(deadline),
        closes=str(closes),
        release=str(release or ""),
    )
    return window
