"""README's rule table, generated from the registry (never written beside it).

``python -m lscb_nb.core.rules --markdown`` prints it; ``--write README.md``
replaces the block between the ``<!-- rules:start -->`` and ``<!-- rules:end -->``
markers, and a test checks the README holds exactly what this generates.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from lscb_nb.core.rules.registry import FIRST_VERSION, all_rules

log = logging.getLogger(__name__)

START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def rules_markdown() -> str:
    """Every rule ever declared, with its severity, stage and the data-model
    versions it holds for."""
    lines = ["| code | severity | stage | rule | versions |", "|---|---|---|---|---|"]
    for r in all_rules().values():
        code = "XRnn" if r.code == "X" else r.code
        severity = "per data model" if r.code == "X" else r.severity
        versions = "all" if r.since == FIRST_VERSION else f"from {r.since}"
        if r.retired:
            versions = ("" if r.since == FIRST_VERSION else f"from {r.since}, ") + (
                f"retired in {r.retired}"
            )
        lines.append(f"| {code} | {severity} | {r.stage} | {r.summary} | {versions} |")
    return "\n".join(lines)


def readme_block() -> str:
    return f"{START}\n{rules_markdown()}\n{END}"


def replace_block(text: str) -> str:
    """``text`` with its rules block replaced by the generated one."""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {START} ... {END} block to replace")
    return pattern.sub(lambda _: readme_block(), text, count=1)


def write_readme(path: Path) -> bool:
    """Rewrite the README's rules block; True if it changed."""
    text = path.read_text(encoding="utf-8")
    new = replace_block(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
        log.info("rewrote the rule table in %s", path)
    return new != text
