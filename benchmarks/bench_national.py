"""Benchmark: the national case, every English authority at the sample's scale.

A synthetic project whose ``authorities`` are ``england`` (every English authority
in the bundled DfE and ONS tables) and whose pilots are 30 authorities spread over
England's regions; statistical neighbours come from DfE's national model, as for any
authority. The toolkit's own generator writes the inputs (phase 1 for every
authority, phases 2 and 3 for the pilots), the phases are prepared once, and the
whole batch is planned and run twice:

- on the batch's own pool of ``--workers`` local processes;
- on a ``dask.distributed`` ``LocalCluster`` of as many single-threaded worker
  processes, through its client's executor (the way a roll-out spreads over machines).

Prints the number of reports, the total time of each run and, per notebook, the
mean, median and maximum time of one report. Not a test: it prints figures.

    python benchmarks/bench_national.py [--authorities N] [--pilots 30] [--workers 2]
                                        [--skip-dask] [--keep DIR]

On two free cores the full case (153 authorities, 217 reports) takes about 30
minutes: 4 to generate and prepare, about 12 per run. ``--authorities 20 --pilots 4``
is a check of a few minutes.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from lscb_nb.core import reference
from lscb_nb.core.workspace import init_project
from lscb_nb.output import batch, pipeline
from lscb_nb.synthetic import SAMPLE_SETTINGS, generate_sample_data


def national_settings(authorities: int | None, pilots: int) -> dict:
    """The sample's settings with England as the area: every English authority (or
    the first ``authorities`` of them in region order, for a quick check) and
    ``pilots`` of them, spread evenly over the regions."""
    england = reference.england_authorities().sort_values(["region_code", "la_code_ons"])
    if authorities:
        step = max(1, len(england) // authorities)
        england = england.iloc[::step].head(authorities)
    pick = england.iloc[:: max(1, len(england) // pilots)].head(pilots)
    return {
        **SAMPLE_SETTINGS,
        "name": "England LSCB Datasets Project (synthetic national case)",
        "area": "England",
        "authorities": "england" if not authorities else england["la_code_ons"].tolist(),
        "pilots": pick["la_code_ons"].tolist(),
        "title": "The England LSCB Datasets Project: final report (synthetic national case)",
    }


def _times(result: batch.RunResult, seconds: float, label: str) -> None:
    by_notebook: dict[str, list[float]] = defaultdict(list)
    for job in result.jobs:
        if job.status == "succeeded" and not job.reused:
            by_notebook[job.notebook].append(job.seconds)
    ok = sum(j.status == "succeeded" for j in result.jobs)
    print(
        f"{label}: {seconds:7.1f} s for {len(result.jobs)} reports "
        f"({ok} succeeded, {len(result.failed)} failed, {len(result.not_ready)} not ready); "
        f"{seconds / max(1, len(result.jobs)):.2f} s per report overall"
    )
    for notebook, times in sorted(by_notebook.items()):
        print(
            f"    {notebook:28s} n={len(times):3d}  mean {statistics.mean(times):5.1f} s  "
            f"median {statistics.median(times):5.1f} s  max {max(times):5.1f} s"
        )
    for job in result.failed[:5]:
        print(f"    FAILED {job.slug}: {job.error[:160]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authorities", type=int, default=None, help="a subset, for a quick check")
    ap.add_argument("--pilots", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="keep the project in this folder")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="lscb-national-"))
    folder = args.keep or tmp
    try:
        t0 = time.perf_counter()
        project = init_project(
            folder / "project",
            overwrite=True,
            **national_settings(args.authorities, args.pilots),
        )
        generate_sample_data(project)
        generate_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        states = pipeline.prepare(project, force=True)
        prepare_s = time.perf_counter() - t0
        neighbours = [len(reference.statistical_neighbours(code)) for code in project.pilots]
        print(
            f"{len(project.authorities)} authorities ({project.area_name}), "
            f"{len(project.pilots)} pilots with {min(neighbours)}-{max(neighbours)} statistical "
            f"neighbours each in DfE's national model; generated in {generate_s:.0f} s, "
            f"prepared in {prepare_s:.0f} s ("
            + ", ".join(f"{k}: {v['status']}" for k, v in states.items())
            + ")"
        )
        jobs = batch.plan_jobs(project)
        print(
            f"{len(jobs)} reports: "
            + ", ".join(
                f"{sum(j.notebook == nb for j in jobs)} x {nb}"
                for nb in sorted({j.notebook for j in jobs})
            )
        )

        t0 = time.perf_counter()
        result = batch.run_batch(
            jobs, folder / "processes", workers=args.workers, progress=False, reuse=False
        )
        _times(result, time.perf_counter() - t0, f"{args.workers} local processes")

        if args.skip_dask:
            return
        from dask.distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            jobs = batch.plan_jobs(project)
            t0 = time.perf_counter()
            result = batch.run_batch(
                jobs,
                folder / "dask",
                progress=False,
                reuse=False,
                executor=client.get_executor(),
            )
            _times(result, time.perf_counter() - t0, f"dask LocalCluster, {args.workers} workers")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
