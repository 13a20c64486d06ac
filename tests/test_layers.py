"""The package's import graph: layers import downward only, and nothing imports in a circle.

Layers are declared in ``lscb_nb/data/layers.yaml``; every ``import`` statement in the
package (top-level or inside a function) is read with ``ast``.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from importlib import resources
from pathlib import Path

import pytest
import yaml

import lscb_nb

PACKAGE = Path(lscb_nb.__file__).parent
LAYERS = yaml.safe_load((resources.files("lscb_nb") / "data" / "layers.yaml").read_text("utf-8"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Toolkit modules ``path`` imports (``from lscb_nb.x import y`` counts y if a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name.startswith("lscb_nb"):
                found.add(name)
    return found


def _layer(module: str) -> int | None:
    for rank, layer in enumerate(LAYERS):
        packages = layer["package"] if isinstance(layer["package"], list) else [layer["package"]]
        if any(module == p or module.startswith(p + ".") for p in packages):
            return rank
    return None


def _graph() -> dict[str, set[str]]:
    """Module -> the toolkit modules it imports."""
    modules = _modules()
    return {
        name: {t for t in _imports(path, set(modules)) if t not in (name, "lscb_nb")}
        for name, path in modules.items()
    }


def _edges(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return [(a, b) for a, targets in graph.items() for b in sorted(targets)]


def _circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle as a list of modules, or [] when there is none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        return list(error.args[1])
    return []


def test_every_module_belongs_to_a_layer():
    unplaced = [m for m in _modules() if m != "lscb_nb" and _layer(m) is None]
    assert unplaced == []


def test_imports_run_downward_only():
    upward = [
        (a, b) for a, b in _edges(_graph()) if _layer(b) is not None and _layer(b) > _layer(a)
    ]
    assert upward == [], f"imports from a lower layer to a higher one: {upward}"


def test_no_import_circle():
    circle = _circle(_graph())
    assert circle == [], f"import circle: {' -> '.join(circle)}"


@pytest.mark.parametrize("rank", range(len(LAYERS)))
def test_each_layer_is_a_package_on_disk(rank):
    packages = LAYERS[rank]["package"]
    for package in packages if isinstance(packages, list) else [packages]:
        relative = Path(*package.split(".")[1:])
        assert (PACKAGE / relative / "__init__.py").exists() or (
            PACKAGE / relative.with_suffix(".py")
        ).exists()


def test_a_planted_upward_import_is_caught(tmp_path, monkeypatch):
    """The checker itself: a core module importing the output layer is reported."""
    fake = tmp_path / "lscb_nb"
    (fake / "core").mkdir(parents=True)
    (fake / "output").mkdir()
    (fake / "core" / "a.py").write_text("from lscb_nb.output import b\n")
    (fake / "output" / "b.py").write_text("from lscb_nb.core import a\n")
    monkeypatch.setitem(globals(), "PACKAGE", fake)
    graph = _graph()
    assert ("lscb_nb.core.a", "lscb_nb.output.b") in _edges(graph)
    assert _layer("lscb_nb.output.b") > _layer("lscb_nb.core.a")
    assert set(_circle(graph)) == {"lscb_nb.core.a", "lscb_nb.output.b"}
