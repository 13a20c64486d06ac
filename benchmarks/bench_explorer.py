"""Benchmark: how long the analyst waits when the phase 2 and phase 3 explorers redraw.

On a fresh sample project (every phase prepared, as ``lscb-nb run`` leaves it): build
each explorer for one borough, then change each of its choices several times (phase
3: item, borough first visit and again, quarter; phase 2: item, borough, criterion)
and print the median and the slowest time per kind of change. Target: each change
<= 0.5 s. Not a test: it prints figures.

    python benchmarks/bench_explorer.py [--changes 8] [--phase 2|3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from lscb_nb.assessment import context as assessment_context
from lscb_nb.assessment import explorer as assessment_explorer
from lscb_nb.core import display
from lscb_nb.output import pipeline
from lscb_nb.pilot import context, explorer
from lscb_nb.synthetic import generate_sample_data, init_sample_project


def _timed(control, values) -> list[float]:
    times = []
    for value in values:
        t0 = time.perf_counter()
        control.value = value
        times.append(time.perf_counter() - t0)
    return times


def _line(label: str, times: list[float]) -> None:
    print(
        f"{label:<34} {len(times):>3} changes  median {statistics.median(times):.3f} s  "
        f"slowest {max(times):.3f} s"
    )


def phase3(project, n: int) -> None:
    ctx = context.load_context(project, "E09000008")
    t0 = time.perf_counter()
    box = explorer.explorer(ctx, explore=True)
    print(f"phase 3 explorer built in {time.perf_counter() - t0:.2f} s (synthetic sample)")
    c = box.controls
    boroughs = [code for _, code in c["borough"].options]
    items = [code for _, code in c["item"].options]
    quarters = list(c["quarter"].options)
    _report(
        {
            "item": _timed(c["item"], items[1 : n + 1]),
            "borough, first visit": _timed(c["borough"], boroughs[:n]),
            "borough, visited before": _timed(c["borough"], boroughs[:n]),
            "item, another borough": _timed(c["item"], items[n + 1 : 2 * n + 1]),
            "quarter, first visit": _timed(c["quarter"], quarters[1:4]),
        }
    )


def phase2(project, n: int) -> None:
    ctx = assessment_context.load_context(project, "E09000008")
    t0 = time.perf_counter()
    box = assessment_explorer.explorer(ctx, explore=True)
    print(f"phase 2 explorer built in {time.perf_counter() - t0:.2f} s (synthetic sample)")
    c = box.controls
    boroughs = [code for _, code in c["borough"].options]
    items = [code for _, code in c["item"].options]
    criteria = [code for _, code in c["criterion"].options]
    _report(
        {
            "item, first visit": _timed(c["item"], items[1 : n + 1]),
            "borough, first visit": _timed(c["borough"], boroughs[:n]),
            "borough, visited before": _timed(c["borough"], boroughs[:n]),
            "criterion": _timed(c["criterion"], criteria[1:] + criteria[:1]),
            "item, another borough": _timed(c["item"], items[1 : n + 1]),
        }
    )


def _report(results: dict[str, list[float]]) -> None:
    for label, times in results.items():
        _line(label, times)
    every = [t for v in results.values() for t in v]
    steady = [t for k, v in results.items() if "first visit" not in k for t in v]
    print(f"steady-state median {statistics.median(steady):.3f} s, slowest {max(steady):.3f} s")
    print(f"every change: median {statistics.median(every):.3f} s, slowest {max(every):.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=8)
    ap.add_argument("--phase", choices=["2", "3"], help="one explorer only (default: both)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = init_sample_project(Path(tmp) / "sample")
        generate_sample_data(project)
        pipeline.prepare(project)
        display.setup_figures()
        if args.phase in (None, "2"):
            phase2(project, args.changes)
        if args.phase in (None, "3"):
            phase3(project, args.changes)


if __name__ == "__main__":
    main()
