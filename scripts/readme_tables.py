"""Write the README's generated tables from what they describe, or check them.

The module table comes from ``lscb_nb/data/layers.yaml`` and each module's own
docstring, so the folder tree and the README cannot tell different stories.
The rule table comes from the rules registry (``lscb_nb.core.rules``).
Each table sits between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``.

    python scripts/readme_tables.py          # rewrite the README's tables
    python scripts/readme_tables.py --check  # exit 1 if any table is stale
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _summary(path: Path) -> str:
    """The first sentence of a module's docstring, on one line."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    paragraph = " ".join(doc.split("\n\n")[0].split())
    sentence = re.split(r"(?<=\.)\s", paragraph, maxsplit=1)[0]
    return sentence.rstrip(".").replace("``", "`").replace("|", "\\|")


def _modules(package: str) -> list[Path]:
    folder = ROOT / Path(*package.split("."))
    if folder.is_dir():
        return sorted(p for p in folder.rglob("*.py") if p.name != "__init__.py")
    return [folder.with_suffix(".py")] if folder.with_suffix(".py").exists() else []


def modules_table() -> str:
    """One row per layer (lowest first), then one per module of it with what it owns."""
    layers = yaml.safe_load((ROOT / "lscb_nb/data/layers.yaml").read_text(encoding="utf-8"))
    rows = ["| module | owns |", "|---|---|"]
    for layer in layers:
        packages = layer["package"] if isinstance(layer["package"], list) else [layer["package"]]
        rows.append(f"| **{layer['name']}** | *{layer['about']}* |")
        for package in packages:
            for path in _modules(package):
                name = path.relative_to(ROOT / "lscb_nb").with_suffix("").as_posix()
                rows.append(f"| `{name}` | {_summary(path)} |")
    return "\n".join(rows)


TABLES: dict[str, Callable[[], str]] = {"modules": modules_table}


def _rules_table() -> str:
    from lscb_nb.core.rules.markdown import rules_markdown

    return rules_markdown()


def generated(text: str) -> str:
    """The README text with every generated table rewritten."""
    tables = dict(TABLES)
    if "<!-- rules:start -->" in text:
        tables["rules"] = _rules_table
    for name, make in tables.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no {start} ... {end} block")
        block = f"{start}\n{make()}\n{end}"
        text = pattern.sub(lambda _m, block=block: block, text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a table is stale")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    new = generated(text)
    if args.check:
        if new != text:
            print(
                "README.md tables are stale: run python scripts/readme_tables.py", file=sys.stderr
            )
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
