"""The warm process report kernels are forked from: it imports once what every report
notebook imports, then forks one IPython kernel per report on request.

Run by :mod:`lscb_nb.output.warmkernels` as ``python -m lscb_nb.output.kernelserver
NOTEBOOKS_DIR``. It reads one JSON request per line on stdin (``{"argv": [...],
"cwd": ..., "env": {...}}``) and answers ``{"pid": N}`` (or ``{"error": ...}``) on
stdout; it exits when stdin closes. Kernels are forked before any thread, event loop
or socket exists in this process, as multiprocessing's forkserver does.
"""

from __future__ import annotations

import ast
import importlib
import json
import logging
import os
import signal
import sys
from pathlib import Path

log = logging.getLogger(__name__)

# What a report kernel imports besides its notebooks' own import lines: the kernel
# itself and the libraries the toolkit imports only when a figure or page needs them.
# Not matplotlib_inline: it hooks itself into the IPython shell when first imported,
# which must happen in the kernel, where the shell exists.
KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel_launcher",
    "matplotlib.pyplot",
    "seaborn",
    "scipy.stats",
    "pandas",
    "pyarrow.parquet",
    "jinja2",
    "adjustText",
)


# ipykernel settings whose defaults it reads from the environment when imported
IPYKERNEL_ENVIRONMENT = (("parent_handle", "JPY_PARENT_PID"), ("interrupt", "JPY_INTERRUPT_EVENT"))


def notebook_modules(notebooks_dir: Path) -> list[str]:
    """Every module the report notebooks import (``from a import b`` counts ``a.b``
    when that is a module), read from their code cells."""
    names: list[str] = []
    for path in sorted(Path(notebooks_dir).glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        for cell in cells:
            if cell.get("cell_type") != "code":
                continue
            source = "".join(cell.get("source", ""))
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names += [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.append(node.module)
                    names += [f"{node.module}.{alias.name}" for alias in node.names]
    return list(dict.fromkeys(names))


def preload(names: list[str]) -> list[str]:
    """Import what can be imported; a name that is not a module (a function imported
    with ``from``) or fails to import is left for the kernel to import as usual."""
    loaded = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # the kernel will import (and report) it itself
            continue
        loaded.append(name)
    return loaded


def _run_kernel(request: dict) -> None:
    """In the forked child: become the kernel ``python -m ipykernel_launcher`` would
    start, with the session, directory, environment and arguments asked for."""
    import runpy

    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    if request.get("stdout"):
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
    else:  # never onto the request pipe: the kernel's output goes where the server's errors go
        os.dup2(2, 1)
    cwd = request.get("cwd") or str(Path.cwd())
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(request.get("env") or {})
    if "JPY_PARENT_PID" in os.environ:  # watch the warm process, which ends with the
        os.environ["JPY_PARENT_PID"] = str(os.getppid())  # run's worker: no orphans
    if "numpy" in sys.modules:  # a fork shares numpy's global random state: reseed it
        sys.modules["numpy"].random.seed()  # as a kernel started cold would be seeded
    sys.path[0] = str(Path.cwd())  # as ``python -m`` sets it, from the kernel's directory
    # the two settings ipykernel reads from the environment when it is imported (here,
    # in the warm process, before this kernel's environment existed)
    handles = [
        f"--IPKernelApp.{trait}={int(os.environ[var])}"
        for trait, var in IPYKERNEL_ENVIRONMENT
        if os.environ.get(var, "").isdigit()
    ]
    sys.argv = ["ipykernel_launcher", *request.get("argv", []), *handles]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


def serve(stdin=None, stdout=None) -> None:
    """Answer fork requests until stdin closes."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped as they end
    for line in stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _run_kernel(request)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0
            except BaseException:  # the kernel's own error, to its stderr
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        stdout.write(json.dumps({"pid": pid}) + "\n")
        stdout.flush()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    # as ipykernel does before any kernel imports matplotlib
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    names = list(KERNEL_MODULES)
    for folder in argv:
        names += notebook_modules(Path(folder))
    preload(names)
    serve()


if __name__ == "__main__":
    main()
