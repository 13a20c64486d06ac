"""Benchmark: how much a second ``lscb-nb run`` redoes (incremental builds).

On a fresh sample project: a full run; a second run with nothing changed (every
phase up to date, every report reused); then one pilot's return replaced by a
corrected copy, and a third run, which should re-prepare phase 3 only and
re-render only the reports that read phase 3's data (phase 3 and the final
report). Prints the times and which reports were re-rendered. Targets: no-change
run <= 10 s. Not a test: it prints figures.

    python benchmarks/bench_incremental.py [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from lscb_nb.synthetic import generate_sample_data, init_sample_project


def _run(project: Path, name: str, workers: int) -> tuple[float, dict]:
    """One ``lscb-nb run`` in a fresh process, as a user runs it (imports included)."""
    lscb_nb = Path(sys.executable).parent / "lscb-nb"
    t0 = time.perf_counter()
    subprocess.run(
        [
            *(str(lscb_nb), "-q", "run", "--project", str(project)),
            *("--run-name", name, "--workers", str(workers)),
        ],
        check=False,
        capture_output=True,
    )
    seconds = time.perf_counter() - t0
    manifest = json.loads((project / "outputs" / name / "manifest.json").read_text())
    return seconds, manifest


def _rendered(manifest: dict) -> str:
    redone = Counter(j["phase"] for j in manifest["jobs"] if not j.get("reused"))
    return ", ".join(f"{n} x {phase}" for phase, n in sorted(redone.items())) or "none"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = init_sample_project(Path(tmp) / "sample")
        generate_sample_data(project)
        full_s, full = _run(project.root, "full", args.workers)
        print(f"full run:        {full_s:7.1f} s  ({len(full['jobs'])} reports)")
        same_s, same = _run(project.root, "same", args.workers)
        print(
            f"nothing changed: {same_s:7.1f} s  ({same['reused']} reused; re-rendered: "
            f"{_rendered(same)})  target <= 10 s"
        )
        # One borough resubmits one corrected return (a new file replaces the old).
        old = sorted(project.returns.glob("*.csv"))[0]
        text = old.read_text(encoding="utf-8").splitlines()
        text[1] = text[1].replace(",1", ",2", 1)
        old.unlink()
        (old.parent / f"{old.stem}_resubmitted.csv").write_text("\n".join(text) + "\n")
        one_s, one = _run(project.root, "one", args.workers)
        print(f"one return:      {one_s:7.1f} s  (re-rendered: {_rendered(one)})")


if __name__ == "__main__":
    main()
