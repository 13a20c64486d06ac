"""Benchmark: the full London batch against its floor and against the naive way.

- full:  ``lscb-nb run`` for every phase notebook and area (data prepared once,
         papermill and nbconvert in-process, parallel workers, each report on its
         own ordinary kernel, as the ``papermill`` command starts one);
- floor: the same number of papermill runs of a trivial notebook that imports the
         same libraries, with the same workers and the same kernels (kernel
         start-up and imports: what no batch of papermill runs can go below);
- naive: a serial shell-style loop of the ``papermill`` and ``jupyter nbconvert``
         command-line tools, one pair per report.

Prints the times and the ratios. Targets: full <= 1.3 x floor, and naive
>= 3 x full. Not a test: it prints figures.

    python benchmarks/bench_batch.py [--workers 2] [--skip-naive]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from lscb_nb.core import config
from lscb_nb.output import batch, notebookrun, pipeline
from lscb_nb.synthetic import generate_sample_data, init_sample_project

TRIVIAL_IMPORTS = (
    "import pandas, numpy, scipy.stats, matplotlib.pyplot, seaborn\n"
    "from lscb_nb.core import display, stats, reference, datamodel"
)


def _trivial_notebook(folder: Path) -> Path:
    params = new_code_cell('la_code: str = "area"\nproject: str | None = None')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_code_cell(TRIVIAL_IMPORTS)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / "trivial.ipynb"
    nbformat.write(nb, path)
    return path


def _papermill_once(args: tuple[str, str, dict]) -> None:
    """One papermill run of the trivial notebook on the kernels the batch uses."""
    src, out, params = args
    notebookrun.execute_notebook(Path(src), Path(out), params, "python3", Path(src).parent, "floor")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-naive", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        project = init_sample_project(Path(tmp) / "project")
        generate_sample_data(project)
        t0 = time.perf_counter()
        pipeline.prepare(project, force=True)
        prepare_s = time.perf_counter() - t0
        jobs = batch.plan_jobs(project)
        n = len(jobs)
        print(
            f"{n} reports: "
            + ", ".join(
                f"{sum(j.notebook == nb for j in jobs)} x {nb}"
                for nb in sorted({j.notebook for j in jobs})
            )
        )

        t0 = time.perf_counter()
        result = batch.run_batch(
            jobs, Path(tmp) / "full", workers=args.workers, progress=False, reuse=False
        )
        full_s = time.perf_counter() - t0
        print(
            f"full batch:  {full_s:7.1f} s  (+ {prepare_s:.1f} s preparing the data once; "
            f"{len(result.failed)} failed)"
        )

        trivial = _trivial_notebook(Path(tmp))
        outs = Path(tmp) / "floor"
        outs.mkdir()
        work = [
            (str(trivial), str(outs / f"{i}.ipynb"), {"la_code": j.la_code})
            for i, j in enumerate(jobs)
        ]
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            list(pool.map(_papermill_once, work))
        floor_s = time.perf_counter() - t0
        print(f"floor:       {floor_s:7.1f} s  ({n} papermill runs of a trivial notebook)")
        print(f"full / floor = {full_s / floor_s:.2f}  (target <= 1.30)")

        if args.skip_naive:
            return
        bindir = Path(sys.executable).parent
        naive_dir = Path(tmp) / "naive"
        naive_dir.mkdir()
        t0 = time.perf_counter()
        for job in jobs:
            out = naive_dir / f"{job.slug}.ipynb"
            cmd = [
                str(bindir / "papermill"),
                str(config.NOTEBOOKS_DIR / job.notebook),
                str(out),
                "--no-progress-bar",
                "-k",
                "python3",
            ]
            for key, value in job.parameters.items():
                cmd += ["-p", key, str(value)]
            subprocess.run(cmd, check=False, capture_output=True, cwd=str(config.NOTEBOOKS_DIR))
            subprocess.run(
                [str(bindir / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)],
                check=False,
                capture_output=True,
            )
        naive_s = time.perf_counter() - t0
        print(f"naive loop:  {naive_s:7.1f} s  (serial papermill + jupyter nbconvert CLIs)")
        print(f"naive / full = {naive_s / full_s:.2f}  (target >= 3.0)")
        shutil.rmtree(naive_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
