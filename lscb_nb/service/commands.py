"""The ``lscb-nb serve`` and ``lscb-nb service ...`` subcommands: their arguments
and thin handlers over :mod:`lscb_nb.service.runtime` and the apps' functions.
Django is imported only when one of them runs."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path


def _root(args: argparse.Namespace) -> Path:
    from lscb_nb.core.project import find_project

    return find_project(getattr(args, "project", None)).root


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-04-30") from None


def _cmd_serve(args: argparse.Namespace) -> int:
    from lscb_nb.core.project import find_project
    from lscb_nb.service import runtime

    project = find_project(getattr(args, "project", None))
    if args.before_serve is not None:
        args.before_serve(project)
    runtime.serve(project.root, args.host, args.port, args.threads)
    return 0


def _cmd_user_add(args: argparse.Namespace) -> int:
    from lscb_nb.service import runtime

    runtime.setup(_root(args))
    from lscb_nb.service.accounts.manage import add_user, read_password_file

    user, url = add_user(
        args.email, args.role, read_password_file(args.password_file), args.authority, args.agency
    )
    print(f"Account {user.get_username()} added as {args.role}.")
    if url:
        print(f"Add this to the administrator's authenticator app (TOTP): {url}")
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from lscb_nb.service import runtime

    runtime.setup(_root(args))
    from lscb_nb.service.accounts.manage import issue_token

    print(issue_token(args.email))
    return 0


def _cmd_window_open(args: argparse.Namespace) -> int:
    from lscb_nb.service import runtime

    runtime.setup(_root(args))
    from lscb_nb.service.collection.windows import open_window

    w = open_window(
        args.period, args.opens, args.deadline, args.close, args.release, args.datamodel
    )
    print(
        f"Window {w.period}: opens {w.opens}, due {w.deadline}, closes {w.closes}"
        + (f", released {w.release_date}" if w.release_date else "")
        + f" (data model {w.datamodel_version})."
    )
    return 0


def add_parsers(sub, with_project, before_serve=None) -> None:
    """Add ``serve`` and ``service`` to the CLI's subparsers. ``before_serve(project)``
    runs first (the CLI passes one that writes a synthetic project's sample data)."""
    s = with_project(sub.add_parser("serve", help="run the online collection service"))
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--threads", type=int, default=8, help="request threads (waitress)")
    s.set_defaults(func=_cmd_serve, before_serve=before_serve)

    svc = sub.add_parser("service", help="manage the online service: accounts, tokens, windows")
    actions = svc.add_subparsers(dest="service_command", required=True)
    user = actions.add_parser("user", help="accounts")
    user_actions = user.add_subparsers(dest="user_command", required=True)
    add = with_project(user_actions.add_parser("add", help="add an account"))
    add.add_argument("--email", required=True)
    add.add_argument(
        "--role",
        required=True,
        choices=["board_administrator", "partnership_lead", "agency_submitter", "viewer"],
    )
    add.add_argument("--authority", default=None, help="name, ONS or DfE code (not for admins)")
    add.add_argument("--agency", default=None, help="agency code, e.g. childrens_social_care")
    add.add_argument(
        "--password-file", type=Path, required=True, help="file whose first line is the password"
    )
    add.set_defaults(func=_cmd_user_add)

    token = with_project(actions.add_parser("token", help="print a new API token for an account"))
    token.add_argument("--email", required=True)
    token.set_defaults(func=_cmd_token)

    window = actions.add_parser("window", help="collection windows")
    window_actions = window.add_subparsers(dest="window_command", required=True)
    wopen = with_project(window_actions.add_parser("open", help="open a period's window"))
    wopen.add_argument("--period", required=True, help="e.g. '2025-26 Q1'")
    wopen.add_argument("--opens", type=_date, default=None, help="default: the day after it ends")
    wopen.add_argument("--deadline", type=_date, default=None, help="default: the project's rule")
    wopen.add_argument("--close", type=_date, default=None, help="default: 60 days after due")
    wopen.add_argument("--release", type=_date, default=None, help="publication date")
    wopen.add_argument("--datamodel", default=None, help="data-model version in force")
    wopen.set_defaults(func=_cmd_window_open)
