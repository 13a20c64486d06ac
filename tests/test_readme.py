"""The README's generated tables agree with the code they describe."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location(
        "readme_tables", ROOT / "scripts/readme_tables.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_tables_are_generated_from_the_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _script().generated(readme) == readme, "run python scripts/readme_tables.py"


def test_module_table_names_every_module_with_what_it_owns():
    table = _script().modules_table()
    for path in (ROOT / "lscb_nb").rglob("*.py"):
        if path.name == "__init__.py":
            continue
        name = path.relative_to(ROOT / "lscb_nb").with_suffix("").as_posix()
        row = next((r for r in table.splitlines() if r.startswith(f"| `{name}` |")), None)
        assert row is not None, name
        assert len(row.split("|")[2].strip()) > 10, f"{name} has no docstring to say what it owns"


def test_a_stale_table_is_caught():
    script = _script()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stale = readme.replace("| `core/stats` |", "| `core/statistics` |")
    assert stale != readme
    assert script.generated(stale) == readme
