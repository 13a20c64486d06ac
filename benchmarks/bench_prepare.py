"""Benchmark: how long each phase's preparation takes on the sample (what runs once,
before any report kernel starts).

On a fresh sample project, prepares every phase in order, timing each (phase 3's
includes ingesting the returns), then prints the seconds per phase and in all, in
wall-clock and CPU seconds. Not a test: it prints figures.

    python benchmarks/bench_prepare.py [--seed 2007]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from lscb_nb.core import phases
from lscb_nb.output import pipeline
from lscb_nb.synthetic import generate_sample_data, init_sample_project


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2007)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = init_sample_project(Path(tmp) / "sample")
        generate_sample_data(project, seed=args.seed)
        wall_total = cpu_total = 0.0
        for phase in phases.all_phases():
            if phase.prepare is None:
                continue
            t0, c0 = time.perf_counter(), time.process_time()
            status = pipeline.prepare(project, [phase], force=True)[phase.key]["status"]
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            wall_total, cpu_total = wall_total + wall, cpu_total + cpu
            print(f"{phase.title:<40} {wall:7.1f} s  (CPU {cpu:6.1f} s; {status})")
        print(f"{'every phase':<40} {wall_total:7.1f} s  (CPU {cpu_total:6.1f} s)")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
