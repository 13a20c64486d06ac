"""Precision and recall of phase 1's name matching against the generator's truth.

Generates the sample data into a temporary project (or uses ``--project``), reads
every borough's local dataset, matches it with the given thresholds (with and
without the bundled reviewed crosswalk) and prints the figures overall and by
agency. Not a test: it prints figures.

    python scripts/matching_accuracy.py [--confident 90] [--suggest 70] [--project PATH]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd

from lscb_nb import crosswalk, harmonise, localdata, phases
from lscb_nb.project import load_project
from lscb_nb.synthetic import generate_sample_data, init_sample_project


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--confident", type=float, default=90)
    ap.add_argument("--suggest", type=float, default=70)
    ap.add_argument("--project", type=Path, default=None, help="a synthetic project")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.project is None:
            project = init_sample_project(Path(tmp) / "sample")
            generate_sample_data(project)
        else:
            project = load_project(args.project)
        truth = pd.DataFrame(
            json.loads(project.truth.read_text(encoding="utf-8"))["phase1"]["items"]
        )
        items = phases.load_candidate(project).items
        local = localdata.read_local_datasets(project.catalogues)
        walk = crosswalk.load_crosswalk(crosswalk.default_path(project))
        print(f"{len(local.items):,} local items read from {len(local.files)} files")
        for label, cw in (("automatic matches only", None), ("with the reviewed crosswalk", walk)):
            matches = harmonise.match(local.items, items, cw, args.confident, args.suggest)
            acc = harmonise.accuracy(matches, truth)
            waiting = int((matches["status"] == "uncertain").sum())
            print(
                f"{label:30s} precision {acc['precision']:.3f}  recall {acc['recall']:.3f}  "
                f"F1 {acc['f1']:.3f}  ({acc['correct']:,} of {acc['matched']:,} matched right; "
                f"{waiting} awaiting review)"
            )
        matches = matches.merge(
            truth.rename(columns={"item_id": "true_item"}), on=["la_code_ons", "local_name"]
        )
        matches["agency"] = matches["true_item"].map(items["agency"]).fillna("(not in model)")
        print("\nby agency (with the crosswalk):")
        for agency, part in matches.groupby("agency"):
            acc = harmonise.accuracy(
                part.drop(columns=["true_item", "agency"]),
                truth.loc[truth["local_name"].isin(part["local_name"])],
            )
            print(
                f"  {agency:24s} items {acc['local_items']:5d}  precision {acc['precision']:.3f}"
                f"  recall {acc['recall']:.3f}"
            )


if __name__ == "__main__":
    main()
