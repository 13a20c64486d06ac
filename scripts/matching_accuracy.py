"""Phase 1 name matching: how well it does, on real names first, then on the sample.

1. **Real names** (``evaluation/real_names/real_names.csv``): indicator names copied as
   written from public sources and hand-labelled against the candidate data model.
   Leave-one-source-out cross-validation: each source's names are scored without the
   aliases copied from that source (or from the whole LAIT list, for LAIT names) and
   judged with thresholds chosen on the other sources only. Prints precision and
   recall of confident matches, the top-3 hit rate among names that have an item and
   the share sent to review, pooled over the held-out sources, against the targets;
   then the thresholds chosen on all sources (the toolkit's defaults).
2. **Synthetic sample**: generates the sample data into a temporary folder (or uses
   ``--project``), matches every borough's local dataset with the given thresholds (with
   and without the bundled reviewed crosswalk) and prints the figures overall and by
   agency.

Not a test: it prints figures (``tests/test_harmonise.py`` asserts the targets).

    python scripts/matching_accuracy.py [--confident C] [--suggest S] [--margin M]
                                        [--project PATH] [--names CSV] [--list]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd

from lscb_nb.core import config
from lscb_nb.core.datamodel import load_datamodel
from lscb_nb.core.project import load_project
from lscb_nb.mapping import crosswalk, localdata, matching, thresholds
from lscb_nb.synthetic import generate_sample_data, init_sample_project

REAL_NAMES = Path(__file__).resolve().parents[1] / "evaluation" / "real_names" / "real_names.csv"
LAIT_SOURCE = "LAIT"  # a source whose name contains this is the LAIT data dictionary


def load_real_names(path: Path = REAL_NAMES) -> pd.DataFrame:
    """The labelled real names (empty ``item_id`` = no item of the data model)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def source_lists(names: pd.DataFrame) -> dict[str, list[str]]:
    """Sources that are a whole published list some aliases were drawn from."""
    lait = thresholds.lait_names()
    return {s: lait for s in names["source"].unique() if LAIT_SOURCE in s}


def real_names_report(path: Path, items: pd.DataFrame, show_list: bool) -> thresholds.Thresholds:
    names = load_real_names(path)
    ranked, pooled, chosen = thresholds.cross_validate(
        names, items, source_lists=source_lists(names)
    )
    print(
        f"Real names: {pooled['names']} names from {pooled['sources']} sources, "
        f"{pooled['with_item']} with an item, "
        f"{pooled['names'] - pooled['with_item']} with none ({path.name})"
    )
    print("Leave-one-source-out cross-validation (pooled over the held-out sources):")
    rows = [
        ("precision of confident matches", pooled["precision"], ">=", thresholds.TARGET_PRECISION),
        ("recall of confident matches", pooled["recall"], ">=", 0.60),
        ("right item among the top three", pooled["top3"], ">=", 0.90),
        (
            "share of names sent to review",
            pooled["review_share"],
            "<=",
            thresholds.MAX_REVIEW_SHARE,
        ),
    ]
    for label, value, op, target in rows:
        met = value >= target if op == ">=" else value <= target
        print(
            f"  {label:34s} {value:6.3f}   target {op} {target:.2f}  {'met' if met else 'NOT MET'}"
        )
    print(f"  ({pooled['confident']} confident matches)")
    print("\nThresholds each held-out source was judged with (confident / margin / review from):")
    for source, t in chosen.items():
        n = int((ranked["source"] == source).sum())
        print(f"  {t.confident:5.1f} {t.margin:4.1f} {t.suggest_from:5.1f}  {n:3d}  {source}")
    shipped = thresholds.Thresholds()
    overall = thresholds.choose_thresholds(ranked)
    print(
        f"\nChosen on all sources: confident {overall.confident:.0f}, margin "
        f"{overall.margin:.0f}, review from {overall.suggest_from:.0f} "
        f"(toolkit defaults: {shipped.confident:.0f}, {shipped.margin:.0f}, "
        f"{shipped.suggest_from:.0f})"
    )
    by_type = ranked.groupby("source_type").apply(
        lambda g: pd.Series(
            {
                "names": len(g),
                "with_item": int(g["has_item"].sum()),
                "confident_right": int(((g["status"] == "confident") & g["best_right"]).sum()),
                "confident_wrong": int(((g["status"] == "confident") & ~g["best_right"]).sum()),
                "to_review": int((g["status"] == "uncertain").sum()),
            }
        ),
        include_groups=False,
    )
    print("\nBy kind of source (cross-validated):")
    print(by_type.to_string())
    if show_list:
        pd.set_option("display.width", 200)
        pd.set_option("display.max_colwidth", 70)
        shown = ranked.assign(truth=ranked["item_id"].replace("", "-"))
        print(
            shown[["local_name", "truth", "best_item", "score", "margin", "status"]]
            .round(1)
            .to_string()
        )
    return overall


def synthetic_report(args: argparse.Namespace, items: pd.DataFrame) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if args.project is None:
            root = init_sample_project(Path(tmp) / "sample")
            generate_sample_data(root)
        else:
            root = load_project(args.project)
        truth = pd.DataFrame(json.loads(root.truth.read_text(encoding="utf-8"))["phase1"]["items"])
        local = localdata.read_local_datasets(root.catalogues, root.authorities)
        walk = crosswalk.load_crosswalk(crosswalk.default_path(root))
        read = f"{len(local.items):,} local items read from {len(local.files)} files"
        print(f"\nSynthetic sample: {read}")
        for label, cw in (("automatic matches only", None), ("with the reviewed crosswalk", walk)):
            matches = matching.match(
                local.items, items, cw, args.confident, args.suggest, args.margin
            )
            acc = matching.accuracy(matches, truth)
            waiting = int((matches["status"] == "uncertain").sum())
            print(
                f"  {label:30s} precision {acc['precision']:.3f}  recall {acc['recall']:.3f}  "
                f"F1 {acc['f1']:.3f}  ({acc['correct']:,} of {acc['matched']:,} matched right; "
                f"{waiting} awaiting review)"
            )
        matches = matches.merge(
            truth.rename(columns={"item_id": "true_item"}), on=["la_code_ons", "local_name"]
        )
        matches["agency"] = matches["true_item"].map(items["agency"]).fillna("(not in model)")
        print("  by agency (with the crosswalk):")
        for agency, part in matches.groupby("agency"):
            acc = matching.accuracy(
                part.drop(columns=["true_item", "agency"]),
                truth.loc[truth["local_name"].isin(part["local_name"])],
            )
            print(
                f"    {agency:24s} items {acc['local_items']:5d}  precision {acc['precision']:.3f}"
                f"  recall {acc['recall']:.3f}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--confident", type=float, default=matching.CONFIDENT)
    ap.add_argument("--suggest", type=float, default=matching.SUGGEST)
    ap.add_argument("--margin", type=float, default=matching.MARGIN)
    ap.add_argument("--project", type=Path, default=None, help="a synthetic project")
    ap.add_argument("--names", type=Path, default=REAL_NAMES, help="labelled real names (CSV)")
    ap.add_argument("--list", action="store_true", help="list every real name's result")
    args = ap.parse_args()
    items = load_datamodel(config.CANDIDATE_VERSION).items
    real_names_report(args.names, items, args.list)
    synthetic_report(args, items)


if __name__ == "__main__":
    main()
