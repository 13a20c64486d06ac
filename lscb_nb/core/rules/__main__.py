"""``python -m lscb_nb.core.rules --markdown`` prints README's rule table;
``--write README.md`` rewrites the README's rules block in place."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from lscb_nb.core.rules.markdown import rules_markdown, write_readme

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lscb_nb.core.rules", description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print the rule table")
    parser.add_argument("--write", type=Path, metavar="README", help="rewrite its rules block")
    args = parser.parse_args(argv)
    if args.write:
        changed = write_readme(args.write)
        print(f"{args.write}: {'updated' if changed else 'already up to date'}", file=sys.stderr)
    if args.markdown or not args.write:
        print(rules_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
