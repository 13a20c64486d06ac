"""Report notebooks run on ordinary kernels: papermill's standard path, over IPC
where the platform has it (no plain-TCP warning per report), a kernel that never
came up started again and a failing notebook not."""

from __future__ import annotations

import logging
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from lscb_nb.core import config
from lscb_nb.output import notebookrun


def test_a_kernel_that_never_started_is_started_again_but_a_failing_notebook_is_not():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return "ran"

    assert notebookrun.retrying_kernel_start(flaky, "x") == "ran" and len(calls) == 3

    calls.clear()

    def never():
        calls.append(1)
        raise RuntimeError("Kernel died before replying to kernel_info")

    with pytest.raises(RuntimeError):
        notebookrun.retrying_kernel_start(never, "x", attempts=2)
    assert len(calls) == 2

    calls.clear()

    class PapermillExecutionError(Exception):
        pass

    def cell_error():
        calls.append(1)
        raise PapermillExecutionError("Address already in use")  # printed by a cell

    with pytest.raises(PapermillExecutionError):
        notebookrun.retrying_kernel_start(cell_error, "x")
    assert len(calls) == 1


@pytest.mark.parametrize(
    "notebook", sorted(p.name for p in config.NOTEBOOKS_DIR.glob("*.ipynb")), ids=str
)
def test_papermill_reads_every_parameter_of_every_notebook_without_a_warning(notebook, caplog):
    """Run by hand with papermill, a notebook reads every parameter quietly: each line
    of its parameters cell parses (typed, commented, no '=' in a comment)."""
    import papermill as pm

    path = config.NOTEBOOKS_DIR / notebook
    cell = next(
        c
        for c in nbformat.read(path, as_version=4).cells
        if "parameters" in c.metadata.get("tags", [])
    )
    assigned = [
        line.split(":")[0].strip()
        for line in cell.source.splitlines()
        if line.strip() and not line.startswith(("#", "from ", "import "))
    ]
    with caplog.at_level(logging.WARNING, logger="papermill"):
        found = pm.inspect_notebook(str(path))
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert list(found) == assigned and {"la_code", "project"} <= set(found)
    for name, parameter in found.items():
        assert parameter["inferred_type_name"] != "None", name  # typed
        assert parameter["help"], name  # and commented


def test_the_kernel_configuration_is_ipc_where_there_are_unix_sockets():
    import zmq

    settings = notebookrun.kernel_config()["KernelManager"]
    if sys.platform != "win32" and zmq.has("ipc"):
        assert settings["transport"] == "ipc"
        # every kernel its own socket paths: two reports never share a socket
        assert settings["ip"] != notebookrun.kernel_config()["KernelManager"]["ip"]
    else:
        assert settings["transport"] == "tcp"
        assert settings.get("transport_encryption") == ("auto" if zmq.has("curve") else None)


@pytest.mark.notebook
def test_a_notebook_runs_on_an_ordinary_kernel_quietly(tmp_path, caplog, capfd):
    """The parameters reach the kernel, the kernel talks over the chosen transport,
    and nothing it logs warns (no plain-text TCP warning, no unparsed parameter)."""
    params = new_code_cell('la_code: str = "area"  # ONS code, or area')
    params.metadata["tags"] = ["parameters"]
    probe = new_code_cell(
        "import json, ipykernel.kernelapp as k\n"
        "print(json.dumps([la_code, k.IPKernelApp.instance().transport]))"
    )
    nb = new_notebook(cells=[params, probe])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    source = tmp_path / "probe.ipynb"
    nbformat.write(nb, source)
    with caplog.at_level(logging.INFO):
        notebookrun.execute_notebook(
            source, tmp_path / "out.ipynb", {"la_code": "E09000007"}, "python3", tmp_path, "probe"
        )
    ran = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in ran.cells for o in c.get("outputs", []))
    assert f'["E09000007", "{notebookrun.transport()}"]' in printed
    text = "\n".join(r.getMessage() for r in caplog.records)
    kernel_stderr = capfd.readouterr().err  # the kernel process writes to this fd
    assert "without encryption" not in kernel_stderr + text
    assert "Passed unknown parameter" not in text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], text
