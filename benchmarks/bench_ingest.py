"""Benchmark: ingest a national-scale synthetic load and print rows per second
and peak memory.

152 authorities x 40 quarters x every data-model item, as one long CSV per
authority (the layout a national collection would receive), read and checked by
the same code as the pilot returns. Not a test: it prints figures.

    python benchmarks/bench_ingest.py [--authorities 152] [--quarters 40]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lscb_nb.core import periods, reference
from lscb_nb.core.datamodel import load_datamodel
from lscb_nb.core.returnformat import GEOGRAPHIC_LEVEL, RETURN_CSV_COLUMNS


def national_authorities(n: int) -> pd.DataFrame:
    """Real English authority codes from the bundled published tables."""
    pub = reference.published(source="dfe_cin_c1")
    las = (
        pub.loc[
            pub["geographic_level"] == "Local authority", ["area_code", "la_code_dfe", "area_name"]
        ]
        .dropna()
        .drop_duplicates("area_code")
        .sort_values("area_code")
        .head(n)
    )
    return las.rename(columns={"area_code": "la_code_ons", "area_name": "la_name"})


def write_load(folder: Path, n_authorities: int, n_quarters: int, seed: int = 1) -> int:
    dm = load_datamodel()
    las = national_authorities(n_authorities)
    labels = periods.period_range(
        periods.shift_period("2024-25 Q4", -(n_quarters - 1)), "2024-25 Q4"
    )
    rng = np.random.default_rng(seed)
    items = dm.items
    pct = (items["unit"] == "percentage").to_numpy()
    rows = 0
    ees = [periods.to_ees(p) for p in labels]
    for la in las.itertuples(index=False):
        n = len(labels) * len(items)
        num = rng.poisson(40, n)
        den = np.where(np.tile(pct, len(labels)), num + rng.poisson(20, n), -1)
        frame = pd.DataFrame(
            {
                "time_period": np.repeat([e[0] for e in ees], len(items)),
                "time_identifier": np.repeat([e[1] for e in ees], len(items)),
                "geographic_level": GEOGRAPHIC_LEVEL,
                "new_la_code": la.la_code_ons,
                "old_la_code": int(la.la_code_dfe),
                "la_name": la.la_name,
                "item_id": np.tile(items.index.to_numpy(), len(labels)),
                "numerator": num,
                "denominator": np.where(den < 0, "", den.astype(str)),
                "value": "",
                "note": "",
            },
            columns=list(RETURN_CSV_COLUMNS),
        )
        frame.to_csv(folder / f"{la.la_code_ons}.csv", index=False)
        rows += len(frame)
    return rows


def ingest_only(folder: Path, n_authorities: int) -> None:
    """Runs in a fresh process so peak memory is ingestion's alone."""
    from lscb_nb.pilot.returns import find_return_files, read_returns

    dm = load_datamodel()
    las = national_authorities(n_authorities)
    pop = reference.population(areas="all")
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, cpu0 = time.perf_counter(), time.process_time()
    res = read_returns(
        find_return_files(folder), dm.items, dm.rules, las, dm.version, population=pop
    )
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0  # every thread of this process, others' load aside
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert res.reconciles()
    print(
        f"files: {len(res.files)}  rows read: {res.rows_read:,}  accepted: "
        f"{len(res.accepted):,}  quarantined: {len(res.quarantined):,}  "
        f"issues: {len(res.issues):,}"
    )
    print(f"ingestion time: {seconds:.2f} s  ->  {res.rows_read / seconds:,.0f} rows/s")
    print(
        f"CPU time: {cpu:.2f} s  ->  {res.rows_read / cpu:,.0f} rows per CPU second "
        "(what a shared machine's load does not change)"
    )
    print(
        f"peak memory (max RSS): {peak / 1024:,.0f} MiB "
        f"(process before ingesting: {base / 1024:,.0f} MiB)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authorities", type=int, default=152)
    ap.add_argument("--quarters", type=int, default=40)
    ap.add_argument("--ingest-only", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ingest_only:
        ingest_only(args.ingest_only, args.authorities)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        rows = write_load(folder, args.authorities, args.quarters)
        print(
            f"synthetic national load: {args.authorities} authorities x {args.quarters} "
            f"quarters x every item = {rows:,} rows in {args.authorities} CSV files "
            f"(written in {time.perf_counter() - t0:.1f} s)"
        )
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--ingest-only",
                str(folder),
                "--authorities",
                str(args.authorities),
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
