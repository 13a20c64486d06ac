"""Which quarter a report benchmarks, and whether a comparison rests on enough authorities.

A quarter is benchmarked only once enough pilots have sent it: by default the
latest quarter for which the authority itself and at least the project's quorum of
pilots (``benchmark.quorum`` in project.yaml, half by default) have returns. An
authority with no return for that quarter is told so and not judged; an average
or a rank over fewer authorities than the quorum is not shown as one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from lscb_nb.core import periods

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchmarkQuarter:
    """The quarter a report benchmarks and what it rests on."""

    period: str | None  # None: no quarter has the authority's return and a quorum
    pilots_with_returns: int  # pilots whose return for ``period`` is on file
    pilots: int  # pilots in the project
    quorum: int  # pilots needed
    latest: str | None  # the latest quarter any return came for
    own_return: bool  # the authority has a return for ``period`` (always for the area)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def returns_by_quarter(
    received: Iterable[tuple[str, str]], pilots: Iterable[str]
) -> dict[str, set[str]]:
    """For each quarter, the pilots whose return for it is on file."""
    wanted = set(pilots)
    out: dict[str, set[str]] = {}
    for la, period in received:
        if la in wanted:
            out.setdefault(period, set()).add(la)
    return out


def benchmark_quarter(
    received: Iterable[tuple[str, str]],
    pilots: list[str],
    quorum: int,
    la_code: str | None = None,
    labels: list[str] | None = None,
) -> BenchmarkQuarter:
    """The latest quarter (of ``labels``, when given) with returns from at least
    ``quorum`` pilots and, for an authority (``la_code``), its own return."""
    by_quarter = returns_by_quarter(received, pilots)
    if labels is not None:
        by_quarter = {p: s for p, s in by_quarter.items() if p in set(labels)}
    order = sorted(by_quarter, key=periods.parse_period, reverse=True)
    latest = order[0] if order else None
    for period in order:
        sent = by_quarter[period]
        if len(sent) >= quorum and (la_code is None or la_code in sent):
            return BenchmarkQuarter(period, len(sent), len(pilots), quorum, latest, True)
    return BenchmarkQuarter(None, 0, len(pilots), quorum, latest, False)


def sentence(bq: BenchmarkQuarter, name: str, area: str) -> str:
    """What a report says about the quarter it benchmarks, in plain words."""
    if bq.period is None:
        if bq.latest is None:
            return "No pilot return has come in yet, so no quarter is benchmarked."
        return (
            f"No quarter is benchmarked for {name}: none has {name}'s own return and returns "
            f"from at least {bq.quorum} of the {bq.pilots} pilots (the project's quorum)."
            if name != area
            else f"No quarter is benchmarked yet: none has returns from at least {bq.quorum} "
            f"of the {bq.pilots} pilots (the project's quorum)."
        )
    later = (
        f" {bq.latest} is not: too few pilots have sent it yet."
        if bq.latest and bq.latest != bq.period
        else ""
    )
    return (
        f"The quarter benchmarked is {bq.period}, the latest with returns from at least "
        f"{bq.quorum} of the {bq.pilots} pilots: {bq.pilots_with_returns} sent it.{later}"
    )
