"""Benchmark: how long the analyst waits when the phase 2 and phase 3 explorers redraw.

On a fresh sample project (every phase prepared, as ``lscb-nb run`` leaves it): build
each explorer for one borough, then change each of its choices several times (phase
3: item, borough first visit and again, quarter; phase 2: item, borough, criterion)
and print the median and the slowest time per kind of change, in wall-clock and CPU
seconds. Target: each change <= 0.5 s. Not a test: it prints figures.

    python benchmarks/bench_explorer.py [--changes 8] [--phase 2|3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from lscb_nb.assessment import context as assessment_context
from lscb_nb.assessment import explorer as assessment_explorer
from lscb_nb.core import display
from lscb_nb.output import pipeline
from lscb_nb.pilot import context, explorer
from lscb_nb.synthetic import generate_sample_data, init_sample_project


class Times(NamedTuple):
    """Seconds per change: on the clock (what the analyst waits) and of CPU (on a
    shared machine the first grows with the others' load, the second much less)."""

    wall: list[float]
    cpu: list[float]


def _timed(control, values) -> Times:
    times = Times([], [])
    for value in values:
        t0, c0 = time.perf_counter(), time.process_time()
        control.value = value
        times.wall.append(time.perf_counter() - t0)
        times.cpu.append(time.process_time() - c0)
    return times


def _line(label: str, times: list[float], cpu: list[float]) -> None:
    print(
        f"{label:<34} {len(times):>3} changes  median {statistics.median(times):.3f} s  "
        f"slowest {max(times):.3f} s  (CPU: median {statistics.median(cpu):.3f} s, "
        f"slowest {max(cpu):.3f} s)"
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


def _report(results: dict[str, Times]) -> None:
    for label, times in results.items():
        _line(label, times.wall, times.cpu)
    steady = [k for k in results if "first visit" not in k]
    for name, kinds in (("steady-state", steady), ("every change", list(results))):
        wall = [t for k in kinds for t in results[k].wall]
        cpu = [t for k in kinds for t in results[k].cpu]
        print(
            f"{name}: median {statistics.median(wall):.3f} s, slowest {max(wall):.3f} s "
            f"(CPU: median {statistics.median(cpu):.3f} s, slowest {max(cpu):.3f} s)"
        )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


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
