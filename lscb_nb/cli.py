"""The ``lscb-nb`` command: create a project, make templates and instruments,
ingest returns, prepare and render every report, and say where a project stands.

Every subcommand acts on one project: ``--project DIR``, else ``LSCB_NB_PROJECT``,
else the nearest ``project.yaml`` in the current folder or its parents. Each is a
thin wrapper over a package function, so everything it does can also be done from
a notebook. Results go to stdout; progress and diagnostics to stderr (``-v``/``-q``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from lscb_nb import __version__
from lscb_nb.core import config

log = logging.getLogger("lscb_nb.cli")


def _project(args: argparse.Namespace):
    from lscb_nb.core.project import find_project

    return find_project(getattr(args, "project", None))


def _cmd_init(args: argparse.Namespace) -> int:
    from lscb_nb.core.workspace import init_project

    if args.sample:
        from lscb_nb.synthetic import init_sample_project

        project = init_sample_project(args.folder, overwrite=args.force)
    else:
        given = {
            "name": args.name,
            "area": args.area,
            "authorities": args.authorities,
            "pilots": args.pilots,
            "first_period": args.first_period,
            "last_period": args.last_period,
        }
        settings = {key: value for key, value in given.items() if value}
        project = init_project(args.folder, overwrite=args.force, **settings)
    print(f"Project {project.name!r} created in {project.root}")
    if args.datamodel:
        from lscb_nb.core.workspace import copy_candidate

        print(f"Editable candidate: {copy_candidate(project, args.datamodel, args.force)}")
    print(
        "Next: edit project.yaml (every key is commented), then put the files of each phase in "
        "data/raw/ (each folder's README says what goes there). `lscb-nb status` shows what the "
        "project has so far."
    )
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from lscb_nb.synthetic import generate_sample_data

    project = _project(args)
    truth = generate_sample_data(project, seed=args.seed)
    print(
        f"Synthetic sample data written under {project.raw} (seed {args.seed}): {truth['summary']}"
    )
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from lscb_nb.core.labels import counted
    from lscb_nb.pilot import store

    project = _project(args)
    summary = store.ingest(project)
    print(
        f"Ingested {counted(summary['files'], 'file')}, {counted(summary['rows_read'], 'row')}: "
        f"{summary['rows_accepted']} accepted, {summary['rows_quarantined']} quarantined, "
        f"{summary.get('rows_superseded', 0)} superseded by a later return, "
        f"{counted(summary['issues_error'], 'error')} and "
        f"{counted(summary['issues_query'], 'query')} -> {store.returns_dir(project)}"
    )
    if summary["files_failed"]:
        print(f"{counted(summary['files_failed'], 'file')} could not be read; see issues.parquet.")
    return 0


def _maybe_project(args: argparse.Namespace):
    """The project ``--project`` names (its errors stand), else the one around the
    current folder, else None: a command that can work without one."""
    from lscb_nb.core.project import ProjectError

    if getattr(args, "project", None) is not None:
        return _project(args)
    try:
        return _project(args)
    except ProjectError:
        return None


def _datamodel_for(args: argparse.Namespace, phase: str):
    """The version a borough is asked about: ``--version`` if given (a name the
    project or the toolkit has, or a path), else the version the project's ``phase``
    works on (the shipped candidate outside a project)."""
    from lscb_nb.core import datamodel, phases

    project = _maybe_project(args)
    if args.version:
        return phases.find_version(project, args.version), project
    if project is None:
        return datamodel.load_datamodel(config.CANDIDATE_VERSION), None
    return phases.basis(project, phase).datamodel, project


def _record_sent(project, kind: str, phase: str, dm, la, out: Path, period=None) -> None:
    """Note in the project's ledger which version went out, and pin the phase that
    reads it back to that version if it has none yet."""
    from lscb_nb.core import lineage, phases

    if project is None:
        return
    lineage.record_sent(project, kind, phase, dm, la["la_code_ons"], la["la_name"], out, period)
    if phases.get(phase).starts_from != phases.CANDIDATE:
        lineage.keep_pin(project, phase, dm.version, phases.role_of(project, dm), f"{kind} sent")


def _authority(project, key: str):
    from lscb_nb.core import reference

    if project is not None:
        return project.find_authority(key)
    return reference.find_in(reference.england_authorities(), key)


def _cmd_template(args: argparse.Namespace) -> int:
    from lscb_nb.pilot import template

    dm, project = _datamodel_for(args, "pilot")
    la = _authority(project, args.la)
    out = Path(args.out or f"return_{la['la_code_ons']}_{args.period.replace(' ', '_')}.xlsx")
    template.write_return_template(
        out,
        dm.items,
        la,
        args.period,
        dm.version,
        project_name=project.name if project is not None else None,
    )
    _record_sent(project, "template", "pilot", dm, la, out, args.period)
    print(f"Return template for {la['la_name']}, {args.period} ({dm.version}): {out}")
    return 0


def _cmd_feedback(args: argparse.Namespace) -> int:
    from lscb_nb.core.labels import counted
    from lscb_nb.pilot import stage, store

    project = _project(args)
    if not store.has_returns(project):
        print("No returns have been ingested yet: run `lscb-nb ingest` first.", file=sys.stderr)
        return 1
    la = project.find_authority(args.la)
    frame, paths = stage.feedback_for(project, la["la_code_ons"], args.period, args.out)
    kinds = frame["kind"].value_counts()
    shown = ", ".join(f"{n} {k}" for k, n in kinds.items()) or "nothing to chase"
    print(
        f"{counted(len(frame), 'line')} to send back to {la['la_name']} for {args.period} "
        f"({shown}): " + ", ".join(str(p) for p in paths)
    )
    return 0


def _cmd_instrument(args: argparse.Namespace) -> int:
    from lscb_nb.assessment import instrument

    dm, project = _datamodel_for(args, "assessment")
    la = _authority(project, args.la)
    out = Path(args.out or f"instrument_{la['la_code_ons']}.xlsx")
    word = project.word(plural=True) if project is not None else "authorities"
    instrument.write_instrument(
        out,
        la["la_name"],
        dm.items,
        instrument.load_criteria(authorities=word),
        project_name=project.name if project is not None else None,
    )
    _record_sent(project, "instrument", "assessment", dm, la, out)
    print(
        f"Assessment instrument for {la['la_name']} ({len(dm.items)} items of {dm.version}): {out}"
    )
    return 0


def _cmd_datamodel(args: argparse.Namespace) -> int:
    from lscb_nb.output import datamodel_command

    return datamodel_command.run(args, _maybe_project(args))


def _cmd_status(args: argparse.Namespace) -> int:
    from lscb_nb.output import status

    project = _project(args)
    print(status.format_status(status.project_status(project)))
    return 0


def _cmd_highlight(args: argparse.Namespace) -> int:
    from lscb_nb.output import meeting_pack

    job, run_dir = meeting_pack.write_highlight(
        _project(args), args.meeting, args.as_of, args.run_dir
    )
    if job.status != "succeeded":
        print(f"lscb-nb highlight: the report failed: {job.error[:300]}", file=sys.stderr)
        return 1
    print(f"{job.phase}: {run_dir / job.html} (listed first in {run_dir / 'index.html'})")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from datetime import datetime

    from lscb_nb.core import phases
    from lscb_nb.core.fileio import folder_sha256
    from lscb_nb.core.labels import counted
    from lscb_nb.output import batch, executors, pipeline

    project = _project(args)
    selected = phases.select(args.phases)
    if not args.no_prepare:
        log.info("Preparing the selected phases (once, before any notebook runs)")
        for key, state in pipeline.prepare(project, selected, force=args.force).items():
            if state["status"] == "missing":
                log.warning("%s: not ready: %s", phases.get(key).title, " ".join(state["missing"]))
    only = [project.area_code(a) for a in (args.la or [])]
    jobs = batch.plan_jobs(project, selected, only=only or None)
    if not jobs:
        print("lscb-nb run: nothing to run for those phases and authorities.", file=sys.stderr)
        return 2
    name = args.run_name or datetime.now().strftime("run-%Y%m%d-%H%M%S")
    run_dir = Path(args.out or project.outputs) / name
    log.info(
        "Running %s with %s into %s",
        counted(len(jobs), "report"),
        counted(args.workers, "worker"),
        run_dir,
    )
    with executors.open_executor(args.scheduler, args.workers) as executor:
        result = batch.run_batch(
            jobs,
            run_dir,
            workers=args.workers,
            progress=not args.quiet,
            reuse=not args.force,
            executor=executor,
            manifest_extra={
                "data_snapshot": folder_sha256(project.raw) if project.raw.exists() else "",
                "synthetic_data": project.synthetic,
                "project": str(project.root),
                "project_name": project.name,
            },
        )
    ready = sum(j.status == "succeeded" for j in result.jobs)
    waiting = len(result.not_ready)
    reused = sum(j.reused for j in result.jobs)
    print(
        f"{ready} of {len(result.jobs)} reports ready"
        + (f" ({reused} unchanged, reused)" if reused else "")
        + (f", {waiting} waiting for data" if waiting else "")
        + f": {run_dir / 'index.html'}"
    )
    for job in result.failed:
        print(f"  FAILED {job.phase} / {job.area_name}: {job.error[:200]}", file=sys.stderr)
    return 1 if result.failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lscb-nb", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lscb-nb {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more progress detail")
    parser.add_argument("-q", "--quiet", action="store_true", help="errors only")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_project(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--project",
            type=Path,
            default=None,
            help="project folder (default: $LSCB_NB_PROJECT, else the nearest project.yaml)",
        )
        return p

    n = sub.add_parser("init", help="create a project: project.yaml and the data/raw folders")
    n.add_argument("folder", type=Path)
    n.add_argument("--name", default=None, help="the project's name (default: the folder's)")
    n.add_argument(
        "--area",
        default=None,
        help="what the whole area is called in reports (default: the authorities' region, "
        "else the project's name)",
    )
    n.add_argument(
        "--authorities",
        nargs="+",
        default=None,
        metavar="LA",
        help="the authorities taking part: names, ONS or DfE codes (default: London's 33)",
    )
    n.add_argument("--pilots", nargs="+", default=None, metavar="LA", help="the pilot authorities")
    n.add_argument("--first-period", default=None, help="the first quarter, e.g. '2025-26 Q1'")
    n.add_argument("--last-period", default=None, help="the last quarter, e.g. '2026-27 Q4'")
    n.add_argument("--sample", action="store_true", help="set it up as the synthetic sample")
    n.add_argument("--force", action="store_true", help="replace an existing project.yaml")
    n.add_argument(
        "--datamodel",
        default=None,
        metavar="VERSION",
        help="put an editable copy of this candidate (e.g. 1.0-candidate) into the project",
    )
    n.set_defaults(func=_cmd_init)

    s = with_project(sub.add_parser("status", help="what the project has, per phase, and next"))
    s.set_defaults(func=_cmd_status)

    g = with_project(sub.add_parser("generate", help="write synthetic sample data (sample only)"))
    g.add_argument("--seed", type=int, default=2007)
    g.set_defaults(func=_cmd_generate)

    i = with_project(sub.add_parser("ingest", help="read every return into data/processed/"))
    i.set_defaults(func=_cmd_ingest)

    f = with_project(
        sub.add_parser("feedback", help="the list of figures to send back to an authority")
    )
    f.add_argument("--la", required=True, help="ONS code, DfE code or name of the authority")
    f.add_argument("--period", required=True, help="e.g. '2025-26 Q1'")
    f.add_argument("--out", type=Path, default=None, help="folder (default: the prepared one)")
    f.set_defaults(func=_cmd_feedback)

    t = with_project(sub.add_parser("template", help="write the Excel return template"))
    t.add_argument("--la", required=True, help="ONS code, DfE code or name of the authority")
    t.add_argument("--period", required=True, help="e.g. '2025-26 Q1'")
    t.add_argument("--version", default=None, help="data-model version (default: piloted one)")
    t.add_argument("--out", default=None)
    t.set_defaults(func=_cmd_template)

    a = with_project(sub.add_parser("instrument", help="write the phase 2 instrument"))
    a.add_argument("--la", required=True, help="ONS code, DfE code or name of the authority")
    a.add_argument("--version", default=None, help="data-model version (default: the draft)")
    a.add_argument("--out", default=None)
    a.set_defaults(func=_cmd_instrument)

    d = with_project(
        sub.add_parser(
            "datamodel",
            help="list, validate, diff or export a data-model version; copy the candidate "
            "into the project; move a phase onto a newer version",
        )
    )
    d.add_argument(
        "action",
        choices=["versions", "validate", "diff", "schema", "dictionary", "copy", "adopt"],
    )
    d.add_argument(
        "--version",
        default=None,
        help="a version's name (the project's or a shipped one) or a path to its YAML "
        "(default: the project's candidate; for adopt, the newest upstream version)",
    )
    d.add_argument("--other", help="the version to diff against")
    d.add_argument("--phase", default=None, help="adopt: the phase to move, e.g. 02")
    d.add_argument("--force", action="store_true", help="copy: replace an existing copy")
    d.add_argument("--out", default=None)
    d.set_defaults(func=_cmd_datamodel)

    h = with_project(sub.add_parser("highlight", help="the highlight report for a meeting"))
    h.add_argument("--meeting", default=None, help="its date, YYYY-MM-DD (default: the next)")
    h.add_argument("--as-of", default=None, help="judge the plan on this date (default: today)")
    h.add_argument("--run-dir", type=Path, default=None, help="run folder (default: the latest)")
    h.set_defaults(func=_cmd_highlight)

    r = with_project(sub.add_parser("run", help="prepare the data, then render every report"))
    r.add_argument("--phases", nargs="*", help="phase numbers or keys, e.g. 01 03 or mapping")
    r.add_argument("--la", nargs="*", help="authorities (ONS/DfE code or name), or 'area'")
    r.add_argument("--out", type=Path, default=None, help="output folder (default: outputs/)")
    r.add_argument("--run-name", default=None, help="folder name of this run")
    r.add_argument("--workers", type=int, default=2, help="local worker processes")
    r.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the reports on a dask.distributed cluster: its scheduler's address "
        "(tcp://host:8786), or 'local' for a LocalCluster of --workers processes; the "
        'workers must see the project at the same path (needs pip install "lscb-nb[dask]")',
    )
    r.add_argument("--no-prepare", action="store_true", help="reuse prepared data")
    r.add_argument(
        "--force", action="store_true", help="re-prepare and re-render everything, reusing nothing"
    )
    r.set_defaults(func=_cmd_run)

    from lscb_nb.service.commands import add_parsers as add_service_parsers

    add_service_parsers(sub, with_project, _sample_before_serve)  # serve, service ...
    return parser


def _sample_before_serve(project) -> None:
    """A synthetic project with no returns yet gets its sample data before serving."""
    from lscb_nb.pilot.returnfiles import find_return_files

    if project.synthetic and not (project.returns.exists() and find_return_files(project.returns)):
        from lscb_nb.synthetic import generate_sample_data

        log.info("Writing the synthetic sample's data (once) into %s", project.raw)
        generate_sample_data(project)


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.ERROR if args.quiet else (logging.DEBUG if args.verbose > 1 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("lscb_nb")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args)
    from lscb_nb.core.datamodel import DataModelError
    from lscb_nb.core.periods import PeriodError
    from lscb_nb.core.project import ProjectError
    from lscb_nb.output.executors import ExecutorError

    try:
        return args.func(args)
    except (ProjectError, FileNotFoundError, KeyError, ValueError, PeriodError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"lscb-nb {args.command}: {message}", file=sys.stderr)
        return 2
    except DataModelError as exc:
        print(f"lscb-nb {args.command}: {exc}", file=sys.stderr)
        return 2
    except ExecutorError as exc:
        print(f"lscb-nb {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
