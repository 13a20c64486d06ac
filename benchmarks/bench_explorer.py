"""Benchmark: how long the analyst waits when the phase 3 explorer redraws.

On a fresh sample project (phase 3 prepared, as ``lscb-nb run`` leaves it): build
the explorer for one borough, then change the item, the borough (first visit and
again) and the quarter, each several times, and print the median and the slowest
time per kind of change. Target: each change <= 0.5 s. Not a test: it prints
figures.

    python benchmarks/bench_explorer.py [--changes 8]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=8)
    args = ap.parse_args()
    n = args.changes
    with tempfile.TemporaryDirectory() as tmp:
        project = init_sample_project(Path(tmp) / "sample")
        generate_sample_data(project)
        pipeline.prepare(project)
        display.setup_figures()
        ctx = context.load_context(project, "E09000008")
        t0 = time.perf_counter()
        box = explorer.explorer(ctx, explore=True)
        print(f"phase 3 explorer built in {time.perf_counter() - t0:.2f} s (synthetic sample)")
        c = box.controls
        boroughs = [code for _, code in c["borough"].options]
        items = [code for _, code in c["item"].options]
        quarters = list(c["quarter"].options)
        results = {
            "item": _timed(c["item"], items[1 : n + 1]),
            "borough, first visit": _timed(c["borough"], boroughs[:n]),
            "borough, visited before": _timed(c["borough"], boroughs[:n]),
            "item, another borough": _timed(c["item"], items[n + 1 : 2 * n + 1]),
            "quarter, first visit": _timed(c["quarter"], quarters[1:4]),
        }
        for label, times in results.items():
            _line(label, times)
        steady = [t for k, v in results.items() if "first visit" not in k for t in v]
        print(f"steady-state median {statistics.median(steady):.3f} s, slowest {max(steady):.3f} s")


if __name__ == "__main__":
    main()
