"""Report kernels forked from a warm process behave as kernels started cold: their
own process, directory and environment, no state carried from one report to the next,
interrupts and crashes handled, and the same outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from jupyter_client.manager import AsyncKernelManager
from nbformat.v4 import new_code_cell, new_notebook

from lscb_nb.output import kernels, kernelserver

pytestmark = pytest.mark.skipif(not kernels.supported(), reason="fork is Linux-only here")


def _notebook(folder: Path, *sources: str, name: str = "probe.ipynb") -> Path:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / name
    nbformat.write(nb, path)
    return path


def _run(path: Path, out: Path, start: str = "warm", **kw) -> nbformat.NotebookNode:
    return pm.execute_notebook(
        str(path),
        str(out),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(path.parent),
        kernel_manager_class=kernels.manager_class(start, path.parent),
        **kw,
    )


def _printed(nb: nbformat.NotebookNode) -> dict:
    text = "".join(
        o.get("text", "")
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("name") == "stdout"
    )
    return json.loads(text.strip().splitlines()[-1])


PROBE = (
    "import json, os, sys\n"
    "from ipykernel.kernelapp import IPKernelApp\n"
    "seen = globals().get('left_behind')\n"
    "left_behind = os.getpid()\n"
    "os.environ['LSCB_LEFT_BEHIND'] = '1'\n"
    "print(json.dumps({'pid': os.getpid(), 'ppid': os.getppid(), 'cwd': os.getcwd(),\n"
    "  'seen': seen, 'probe': os.environ.get('LSCB_PROBE'),\n"
    "  'parent_handle': IPKernelApp.instance().parent_handle,\n"
    "  'jpy_parent': os.environ.get('JPY_PARENT_PID'),\n"
    "  'pandas_loaded_before': 'pandas' in sys.modules,\n"
    "  'draw': __import__('numpy').random.random(),\n"
    "  'backend': __import__('matplotlib').get_backend()}))"
)


def test_warm_kernels_are_separate_processes_with_the_callers_environment(tmp_path, monkeypatch):
    folder = tmp_path / "nbs"
    folder.mkdir()
    probe = _notebook(folder, PROBE)
    monkeypatch.setenv("LSCB_PROBE", "first")
    first = _printed(_run(probe, tmp_path / "1.ipynb"))
    monkeypatch.setenv("LSCB_PROBE", "second")
    second = _printed(_run(probe, tmp_path / "2.ipynb"))

    assert first["pid"] != second["pid"] != os.getpid()
    assert first["ppid"] == second["ppid"] != os.getpid()  # both forked by one warm process
    assert (first["probe"], second["probe"]) == ("first", "second")
    assert first["draw"] != second["draw"]  # numpy reseeded in each, as in a cold kernel
    assert second["seen"] is None  # nothing of the first report reached the second
    assert "LSCB_LEFT_BEHIND" not in os.environ
    assert Path(first["cwd"]) == folder.resolve()
    # each kernel watches the warm process (which ends when its worker does)
    assert first["parent_handle"] == int(first["jpy_parent"]) == first["ppid"]
    assert first["pandas_loaded_before"]  # imported once, in the warm process
    assert first["backend"] == "module://matplotlib_inline.backend_inline"


def test_warm_and_fresh_kernels_give_the_same_outputs(tmp_path):
    nb = _notebook(
        tmp_path,
        "import matplotlib.pyplot as plt\nimport pandas as pd\n"
        "plt.plot([1, 3, 2]); plt.title('same'); plt.show()\n"
        "pd.DataFrame({'a': [1, 2]})",
    )
    warm = _run(nb, tmp_path / "warm.ipynb")
    fresh = _run(nb, tmp_path / "fresh.ipynb", start="fresh")
    outputs = [[c.get("outputs") for c in n.cells] for n in (warm, fresh)]
    assert outputs[0] == outputs[1]
    assert any("image/png" in o.get("data", {}) for o in warm.cells[0].outputs)


def test_a_timed_out_cell_is_interrupted_and_the_next_report_runs(tmp_path):
    slow = _notebook(tmp_path, "import time\ntime.sleep(60)", name="slow.ipynb")
    with pytest.raises(Exception, match=r"(?i)timed out|timeout"):
        _run(slow, tmp_path / "slow-out.ipynb", execution_timeout=2)
    quick = _notebook(tmp_path, "print(1 + 1)", name="quick.ipynb")
    out = _run(quick, tmp_path / "quick-out.ipynb")
    assert out.cells[0].outputs[0]["text"].strip() == "2"


def test_a_kernel_that_dies_fails_its_report_only(tmp_path):
    dies = _notebook(tmp_path, "import os\nos._exit(3)", name="dies.ipynb")
    with pytest.raises(Exception, match=r"(?i)dead|died|kernel"):
        _run(dies, tmp_path / "dies-out.ipynb", execution_timeout=30)
    quick = _notebook(tmp_path, "print('still here')", name="quick.ipynb")
    assert _run(quick, tmp_path / "q.ipynb").cells[0].outputs[0]["text"].strip() == "still here"


def test_kernel_start_is_chosen_by_name():
    assert kernels.manager_class("fresh", ".") is AsyncKernelManager
    assert issubclass(kernels.manager_class("warm", "."), kernels.WarmKernelManager)
    with pytest.raises(ValueError, match="warm, fresh"):
        kernels.manager_class("hot", ".")


def test_only_an_ipykernel_launcher_command_is_forked():
    python, args = kernels.warm_argv(
        ["/py", "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "c.json"]
    )
    assert (python, args) == (["/py", "-Xfrozen_modules=off"], ["-f", "c.json"])
    assert kernels.warm_argv(["/usr/bin/R", "--slave", "-e", "IRkernel::main()"]) is None
    assert kernels.warm_argv(["python", "-m", "other_kernel", "-f", "c.json"]) is None


def test_the_warm_process_preloads_what_the_notebooks_import(tmp_path):
    _notebook(
        tmp_path,
        "from lscb_nb.core import display\nimport json as j\nfrom os.path import join",
    )
    names = kernelserver.notebook_modules(tmp_path)
    assert {"lscb_nb.core", "lscb_nb.core.display", "json", "os.path"} <= set(names)
    loaded = kernelserver.preload([*names, "no_such_module_anywhere"])
    assert "lscb_nb.core.display" in loaded and "no_such_module_anywhere" not in loaded
    assert "os.path.join" not in loaded  # a function, not a module: left to the kernel


def test_kernels_end_when_their_warm_process_ends(tmp_path):
    """A worker that dies takes its warm process with it (its pipe closes), and the
    kernels it forked notice their parent is gone and end: nothing is left running."""
    import asyncio
    import time

    manager = kernels.manager_class("warm", tmp_path)(kernel_name="python3")
    asyncio.run(manager.start_kernel(cwd=str(tmp_path)))
    pid = manager.provisioner.pid
    folder = str(tmp_path.resolve())
    server = next(s for k, s in kernels._SERVERS.items() if k[0] == os.getpid() and k[2] == folder)
    server.proc.kill()
    server.proc.wait()
    deadline = time.monotonic() + 20
    while manager.provisioner.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert manager.provisioner.process.poll() is not None, f"kernel {pid} outlived its parent"
