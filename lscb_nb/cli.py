"""The ``lscb-nb`` command: generate sample data, write templates, ingest returns.

Each subcommand is a thin wrapper over a package function, so everything it does
can also be done from a notebook.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lscb_nb import __version__, config


def _cmd_generate(args: argparse.Namespace) -> int:
    from lscb_nb.synthetic import generate_sample_data

    truth = generate_sample_data(root=args.root, seed=args.seed)
    print(
        f"Synthetic sample data written under {config.paths(args.root)['raw']} "
        f"(seed {args.seed}): {truth['summary']}"
    )
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from lscb_nb import pipeline

    summary = pipeline.ingest_sample_returns(root=args.root, version=args.version)
    print(
        f"Ingested {summary['files']} file(s), {summary['rows_read']} row(s): "
        f"{summary['rows_accepted']} accepted, {summary['rows_quarantined']} quarantined, "
        f"{summary['issues_error']} error(s) and {summary['issues_query']} query(ies) "
        f"-> {config.paths(args.root)['processed'] / 'returns'}"
    )
    if summary["files_failed"]:
        print(f"{summary['files_failed']} file(s) could not be read; see issues.parquet.")
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    from lscb_nb import datamodel, reference, template

    dm = datamodel.load_datamodel(args.version)
    la = reference.find_authority(args.la)
    out = Path(args.out or f"return_{la['la_code_ons']}_{args.period.replace(' ', '_')}.xlsx")
    template.write_return_template(out, dm.items, la, args.period, dm.version)
    print(f"Return template for {la['la_name']}, {args.period}: {out}")
    return 0


def _cmd_instrument(args: argparse.Namespace) -> int:
    from lscb_nb import datamodel, instruments, reference

    folder = config.paths(args.root)["processed"] / "datamodel"
    version = args.version or ("1.1-draft" if (folder / "1.1-draft.yaml").exists() else None)
    dm = (
        datamodel.load_datamodel(version, folder)
        if version and (folder / f"{version}.yaml").exists()
        else datamodel.load_datamodel(version or config.CANDIDATE_VERSION)
    )
    la = reference.find_authority(args.la)
    out = Path(args.out or f"instrument_{la['la_code_ons']}.xlsx")
    instruments.write_instrument(out, la["la_name"], dm.items, instruments.load_criteria())
    print(
        f"Assessment instrument for {la['la_name']} ({len(dm.items)} items of {dm.version}): {out}"
    )
    return 0


def _cmd_datamodel(args: argparse.Namespace) -> int:
    from lscb_nb import datamodel

    if args.action == "versions":
        print("\n".join(datamodel.available_versions()))
        return 0
    dm = datamodel.load_datamodel(args.version)
    if args.action == "validate":
        print(f"{dm.version}: {len(dm)} items, {len(dm.rules)} cross-item rules, valid.")
    elif args.action == "diff":
        other = datamodel.load_datamodel(args.other)
        print(datamodel.format_diff_markdown(datamodel.diff_datamodels(dm, other)))
    elif args.action == "schema":
        out = Path(args.out or f"return-schema-{dm.version}.json")
        datamodel.write_table_schema(dm, out)
        print(f"Table Schema written to {out}")
    elif args.action == "dictionary":
        out = Path(args.out or f"data-dictionary-{dm.version}.md")
        datamodel.write_data_dictionary(dm, out)
        print(f"Data dictionary written to {out}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from datetime import datetime

    from lscb_nb import batch, pipeline, reference
    from lscb_nb.fileio import folder_sha256

    paths = config.paths(args.root)
    root = paths["root"]
    if not paths["raw"].exists() or not any(paths["raw"].iterdir()):
        print(
            f"lscb-nb run: no input data under {paths['raw']}; run `lscb-nb generate` for "
            "the sample data, or put the boroughs' files there.",
            file=sys.stderr,
        )
        return 2
    if not args.no_prepare:
        print("Preparing shared data (once, before any notebook runs) ...")
        pipeline.prepare_all(root)
    authorities = dict(
        zip(reference.authorities()["la_code_ons"], reference.authorities()["la_name"], strict=True)
    )
    only = [
        reference.find_authority(a)["la_code_ons"] if a != batch.LONDON else a
        for a in (args.la or [])
    ]
    notebooks = args.notebooks or config.NOTEBOOKS_DIR
    jobs = batch.plan_jobs(
        notebooks,
        authorities,
        pipeline.pilot_authorities(root),
        phases=args.phases,
        only=only or None,
        extra_parameters={"root": str(root)},
    )
    if not jobs:
        print("lscb-nb run: nothing to run for those phases and authorities.", file=sys.stderr)
        return 2
    name = args.run_name or datetime.now().strftime("run-%Y%m%d-%H%M%S")
    run_dir = Path(args.out or paths["outputs"]) / name
    print(f"Running {len(jobs)} report(s) with {args.workers} worker(s) into {run_dir}")
    result = batch.run_batch(
        jobs,
        run_dir,
        notebooks_dir=notebooks,
        workers=args.workers,
        manifest_extra={
            "data_snapshot": folder_sha256(paths["raw"]),
            "synthetic_data": pipeline.is_synthetic(root),
            "root": str(root),
        },
    )
    ok = len(result.jobs) - len(result.failed)
    print(f"{ok} of {len(result.jobs)} reports ready: {run_dir / 'index.html'}")
    for job in result.failed:
        print(f"  FAILED {job.phase} / {job.area_name}: {job.error[:200]}", file=sys.stderr)
    return 1 if result.failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lscb-nb", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lscb-nb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write the synthetic sample data into data/raw/")
    g.add_argument("--seed", type=int, default=2007)
    g.add_argument("--root", type=Path, default=None, help="project folder (default: this one)")
    g.set_defaults(func=_cmd_generate)

    i = sub.add_parser("ingest", help="read every return in data/raw/ into data/processed/")
    i.add_argument("--root", type=Path, default=None)
    i.add_argument("--version", default=config.CANDIDATE_VERSION, help="data-model version")
    i.set_defaults(func=_cmd_ingest)

    t = sub.add_parser("template", help="write the Excel return template for one period")
    t.add_argument("--la", required=True, help="ONS code, DfE code or name of the authority")
    t.add_argument("--period", required=True, help="e.g. '2024-25 Q1'")
    t.add_argument("--version", default=config.CANDIDATE_VERSION)
    t.add_argument("--out", default=None)
    t.set_defaults(func=_cmd_template)

    n = sub.add_parser("instrument", help="write the phase 2 assessment instrument for a borough")
    n.add_argument("--la", required=True, help="ONS code, DfE code or name of the authority")
    n.add_argument("--version", default=None, help="data-model version (default: the draft)")
    n.add_argument("--root", type=Path, default=None)
    n.add_argument("--out", default=None)
    n.set_defaults(func=_cmd_instrument)

    d = sub.add_parser("datamodel", help="validate, diff or export a data-model version")
    d.add_argument("action", choices=["versions", "validate", "diff", "schema", "dictionary"])
    d.add_argument("--version", default=config.CANDIDATE_VERSION)
    d.add_argument("--other", help="the version to diff against")
    d.add_argument("--out", default=None)
    d.set_defaults(func=_cmd_datamodel)

    r = sub.add_parser("run", help="prepare the data once, then render every report")
    r.add_argument("--root", type=Path, default=None)
    r.add_argument("--phases", nargs="*", help="notebook name prefixes, e.g. 01 03")
    r.add_argument("--la", nargs="*", help="authorities (ONS/DfE code or name, or London)")
    r.add_argument("--out", type=Path, default=None, help="output folder (default outputs/)")
    r.add_argument("--run-name", default=None, help="folder name of this run")
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--no-prepare", action="store_true", help="reuse prepared data")
    r.add_argument("--notebooks", type=Path, default=None, help=argparse.SUPPRESS)
    r.set_defaults(func=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"lscb-nb {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
