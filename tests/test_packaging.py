"""pyproject.toml and environment.yml list the same dependencies with the same
lower bounds, so pip and conda users get the same toolkit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["test"]
    return {Requirement(r).name.lower(): str(Requirement(r).specifier) for r in reqs}


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if not isinstance(dep, str):  # the pip: section installs the toolkit itself
            continue
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep)
        if m.group(1) in ("python", "pip"):
            continue
        out[m.group(1).lower()] = m.group(2).replace(" ", "")
    return out


def test_environment_yml_lists_the_same_packages_and_bounds():
    assert _pyproject() == _environment()


def test_installed_versions_meet_the_lower_bounds():
    for name, spec in _pyproject().items():
        installed = Version(metadata.version(name))
        assert Requirement(f"{name}{spec}").specifier.contains(installed), (name, installed)


def test_python_version_agrees():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert data["project"]["requires-python"] == ">=3.11"
    assert "python>=3.11" in env["dependencies"]


@pytest.mark.notebook
def test_the_wheel_carries_its_data_and_works_outside_the_repository(tmp_path):
    """pip install of the built wheel (not editable) into a fresh venv: init a project
    and validate the shipped data model, from a folder outside the checkout."""
    wheels = tmp_path / "wheels"
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        src = ROOT / name
        if src.is_file() and not src.is_symlink():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes(src.read_bytes())
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    wheel = next(wheels.glob("lscb_nb-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    subprocess.run(  # pip install into the fresh venv (its dependencies come from here)
        [
            *(sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")),
            *("install", "--no-deps", "-q", str(wheel)),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert "lscb_nb/data/datamodel/1.0-candidate.yaml" in names
    assert "lscb_nb/data/phases.yaml" in names
    assert "lscb_nb/notebooks/03_pilot_evaluation.ipynb" in names
    assert any(n.startswith("lscb_nb/data/reference/") for n in names)
    # Dependencies come from this environment; the toolkit from the fresh venv only.
    deps = next(Path(p) for p in sys.path if p.endswith("site-packages"))
    env = {**os.environ, "PYTHONPATH": str(deps), "PYTHONNOUSERSITE": "1"}
    env.pop("LSCB_NB_PROJECT", None)
    work = tmp_path / "elsewhere"
    work.mkdir()
    python = venv / "bin" / "python"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(python), "-c", "from lscb_nb.cli import main; raise SystemExit(main())", *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    where = subprocess.run(
        [str(python), "-c", "import lscb_nb.core.config as c; print(c.SHIPPED_DIR)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert str(site) in where.stdout, where.stderr
    made = run("init", "myproject", "--name", "Wheel test")
    assert made.returncode == 0, made.stderr
    assert (work / "myproject" / "project.yaml").exists()
    valid = run("datamodel", "validate")
    assert valid.returncode == 0 and "83 items" in valid.stdout, valid.stderr
    status = subprocess.run(
        [str(python), "-c", "from lscb_nb.cli import main; raise SystemExit(main())", "status"],
        cwd=work / "myproject",
        env=env,
        capture_output=True,
        text=True,
    )
    assert status.returncode == 0 and "Wheel test" in status.stdout, status.stderr
