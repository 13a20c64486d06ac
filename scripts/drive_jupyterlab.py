"""Drive the explorers and the review panel in a real JupyterLab, in a real browser.

Copies a prepared project (``project.yaml`` and ``data/``; the sample by default) to a
scratch folder, puts the phase notebooks beside it with ``explore=True`` (phases 2
and 3) or ``review=True`` (phase 1) and a pilot borough set in the parameters cell,
starts ``jupyter lab`` on it and opens each notebook in headless Chromium (through
Playwright, with the system's ``/usr/bin/chromium``). Each notebook's cells are run
from the Run menu; then the borough and item dropdowns are changed, the script
waits for the figures to redraw and prints what changed (the figures' alt text, the
sentence) and how long the redraw took in the browser. Phase 1's panel is tried the
way a reviewer would: a decision without a name (refused), a name typed, a match
confirmed, then undone, with the crosswalk file read after each step. Screenshots go
to ``/tmp/jl_*.png`` at 1400 and 800 pixels wide. Not a test: it prints what it saw.

    PYTHONPATH=$PWD python scripts/drive_jupyterlab.py [--project .] [--la E09000008]

The project must be prepared (``lscb-nb run``, or ``--prepare`` to prepare it here).
Needs ``playwright`` (``pip install playwright``; not a dependency of the toolkit); it
never downloads a browser.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "lscb_nb" / "notebooks"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
SHOTS = Path("/tmp")
WIDTHS = (1400, 800)
TIMEOUT_MS = 60_000  # a notebook's cells, on a busy machine


# ---------------------------------------------------------------- the workspace


def prepare_workspace(project: Path, folder: Path, la_code: str) -> dict[str, Path]:
    """The project copied to ``folder``, with the three notebooks set up for an analyst."""
    shutil.copy2(project / "project.yaml", folder / "project.yaml")
    shutil.copytree(project / "data", folder / "data")
    (folder / "notebooks").mkdir()
    settings = {
        "01": ("01_mapping.ipynb", {"review: bool = False": "review: bool = True"}),
        "02": ("02_assessment.ipynb", {"explore: bool = False": "explore: bool = True"}),
        "03": ("03_pilot_evaluation.ipynb", {"explore: bool = False": "explore: bool = True"}),
    }
    made = {}
    for key, (name, changes) in settings.items():
        nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
        cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
        source = "".join(cell["source"]).replace(
            'la_code: str = "area"', f'la_code: str = "{la_code}"'
        )
        for old, new in changes.items():
            assert old in source, f"{name}: no {old!r} in the parameters cell"
            source = source.replace(old, new)
        cell["source"] = source
        made[key] = folder / "notebooks" / name
        made[key].write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return made


def stop_kernels(base: str, token: str) -> None:
    """Shut down every kernel the notebooks started (the next notebook gets the CPU)."""
    headers = {"Authorization": f"token {token}"}
    with urllib.request.urlopen(
        urllib.request.Request(f"{base}/api/sessions", headers=headers)
    ) as r:
        sessions = json.load(r)
    for session in sessions:
        request = urllib.request.Request(
            f"{base}/api/sessions/{session['id']}", headers=headers, method="DELETE"
        )
        urllib.request.urlopen(request).close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(folder: Path, port: int, token: str) -> subprocess.Popen:
    """``jupyter lab`` on ``folder``, with this checkout importable in its kernels."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), JUPYTER_RUNTIME_DIR=str(folder / ".runtime"))
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={folder}",
        f"--LabApp.user_settings_dir={folder / '.settings'}",
        f"--LabApp.workspaces_dir={folder / '.workspaces'}",
        "--LabApp.extension_manager=readonly",
    ] + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])  # fmt: skip
    log = (folder / "jupyterlab.log").open("w")
    lab = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=2)
            return lab
        except OSError:
            if lab.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab stopped: see {folder / 'jupyterlab.log'}"
                ) from None
            time.sleep(0.5)
    lab.terminate()
    raise RuntimeError("jupyter lab did not answer within a minute")


# ---------------------------------------------------------------- in the browser


def open_and_run(page, base: str, token: str, notebook: str) -> float:
    """Open the notebook, wait for its kernel, run every cell from the Run menu and
    wait until every code cell has run (its prompt shows a number); the seconds that
    took. JupyterLab's questions (which kernel, the news) are answered on the way."""
    url = f"{base}/lab/workspaces/{notebook[:2]}/tree/notebooks/{notebook}?reset&token={token}"
    page.goto(url)
    page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(timeout=TIMEOUT_MS)
    until(page, lambda: page.get_by_text(re.compile(r"\| Idle")).count() > 0, 60)
    t0 = time.perf_counter()
    for _ in range(3):  # a Run All sent while a dialog was opening can be lost
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        if until(page, lambda: prompts(page) != "none run", 20):
            break
    if not until(page, lambda: prompts(page) == "all run", TIMEOUT_MS / 1000):
        raise TimeoutError(f"{notebook}: the cells did not all run")
    return time.perf_counter() - t0


def prompts(page) -> str:
    """'all run', 'running' or 'none run', from the code cells' prompts."""
    return page.evaluate(
        """() => {
            const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                .map(e => e.textContent);
            if (p.length && p.every(t => /\\[\\d+\\]/.test(t))) return 'all run';
            return p.some(t => /\\[(\\*|\\d+)\\]/.test(t)) ? 'running' : 'none run';
        }"""
    )


def until(page, done, seconds: float) -> bool:
    """Wait until ``done()``, answering JupyterLab's dialogs meanwhile; False on time out."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        dismiss(page)
        if done():
            return True
        page.wait_for_timeout(500)
    return False


def dismiss(page) -> None:
    """Answer JupyterLab's questions: the kernel to start (Python 3), and the news (no)."""
    from playwright.sync_api import Error

    for button in (
        page.locator(".jp-Dialog button", has_text="Select"),
        page.locator(".jp-toast-button", has_text="No"),
    ):
        try:
            if button.count():
                button.first.click(timeout=2000)
        except Error:  # it moved or went while we clicked: asked again next time
            pass


def dropdown(page, label: str):
    """The <select> of the ipywidgets Dropdown whose description is ``label``."""
    box = page.locator(".widget-dropdown").filter(
        has=page.locator("label.widget-label", has_text=label)
    )
    return box.first.locator("select")


def choose(page, label: str, option_label: str | None = None, index: int | None = None) -> str:
    """Click the dropdown and pick an option (by its label, or its position); the
    label chosen."""
    select = dropdown(page, label)
    select.scroll_into_view_if_needed()
    select.click()
    options = select.locator("option").all_inner_texts()
    picked = option_label if option_label is not None else options[index]
    select.select_option(label=picked)
    page.keyboard.press("Escape")
    return picked


def wait_changed(page, selector: str, attribute: str, before: str) -> float:
    """Seconds until the first element matching ``selector`` has another ``attribute``."""
    t0 = time.perf_counter()
    page.wait_for_function(
        """([sel, attr, before]) => {
            const el = document.querySelector(sel);
            return el && el.getAttribute(attr) !== before;
        }""",
        arg=[selector, attribute, before],
        timeout=30_000,
    )
    return time.perf_counter() - t0


def attribute(page, selector: str, name: str) -> str:
    return page.locator(selector).first.get_attribute(name) or ""


def changed(before: str, after: str) -> str:
    """Where two alt texts part: 'alt text ...<before> -> ...<after>'."""
    same = 0
    while same < min(len(before), len(after)) and before[same] == after[same]:
        same += 1
    start = max(0, before.rfind(" ", 0, max(same - 30, 0)) + 1)
    if before == after:
        return f"alt text unchanged: ...{before[-120:]}"
    return f"alt text ...{before[start : start + 160]}\n      -> ...{after[start : start + 160]}"


def shoot(page, name: str, element=None) -> list[str]:
    """Screenshots at each width: the window, and the element whole (the window made
    tall enough to hold it, since JupyterLab scrolls the notebook inside the page)."""
    saved = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1100})
        page.wait_for_timeout(600)
        if element is not None:
            element.scroll_into_view_if_needed()
        path = SHOTS / f"jl_{name}_{width}_window.png"
        page.screenshot(path=str(path))
        saved.append(str(path))
        if element is not None:
            tall = int(element.bounding_box()["height"]) + 400
            page.set_viewport_size({"width": width, "height": max(1100, tall)})
            page.wait_for_timeout(600)
            element.scroll_into_view_if_needed()
            path = SHOTS / f"jl_{name}_{width}.png"
            element.screenshot(path=str(path))
            saved.append(str(path))
    page.set_viewport_size({"width": WIDTHS[0], "height": 1100})
    return saved


def overflow(page, element) -> list[str]:
    """Widgets (labels, dropdowns, images) past the cell's right edge, or labels cut short."""
    return element.evaluate(
        """root => {
            const cell = root.closest('.jp-Cell') || root;
            const limit = cell.getBoundingClientRect().right + 1;
            const found = [];
            for (const el of root.querySelectorAll('.widget-label, select, img, input')) {
                const r = el.getBoundingClientRect();
                if (r.width && r.right > limit) found.push(`${el.tagName} past the edge`);
                if (el.classList.contains('widget-label') && el.scrollWidth > el.clientWidth + 1)
                    found.push(`label cut: ${el.textContent}`);
            }
            return found;
        }"""
    )


def drive_phase2(page, base: str, token: str) -> None:
    took = open_and_run(page, base, token, "02_assessment.ipynb")
    print(f"\nPhase 2 (notebook 02, explore=True): cells ran in {took:.0f} s")
    matrix = ".widget-output img[alt^='Scatter plot']"
    ratings = ".widget-output img[alt^='Grid of scores']"
    grid = ".widget-output img[alt*='mean accessibility'], .widget-output img[alt*='mean use']"
    page.locator(matrix).first.wait_for(timeout=TIMEOUT_MS)
    box = page.locator(".widget-vbox").filter(has=page.locator(matrix)).first
    print("  choices:", [dropdown(page, n).input_value() for n in ("Borough", "Item", "Criterion")])
    print("  problems at 1400 px:", overflow(page, box) or "none")
    print("  screenshots:", ", ".join(shoot(page, "phase2_start", box)))
    for label, option, watched in (
        ("Borough", {"index": 2}, (matrix, ratings, grid)),
        ("Item", {"index": 5}, (matrix, ratings)),
        ("Criterion", {"option_label": "Held (accessibility)"}, (ratings, grid)),
    ):
        before = {s: attribute(page, s, "alt") for s in watched}
        picked = choose(page, label, **option)
        seconds = max(wait_changed(page, s, "alt", before[s]) for s in watched)
        print(f"  {label} -> {picked!r}: redrawn in {seconds:.2f} s in the browser")
        for s in watched:
            print(f"    {changed(before[s], attribute(page, s, 'alt'))}")
    print("  sentence:", box.locator(".widget-html").first.inner_text()[:300])
    print("  problems at 800 px:", end=" ")
    page.set_viewport_size({"width": 800, "height": 1100})
    page.wait_for_timeout(600)
    print(overflow(page, box) or "none")
    print("  screenshots:", ", ".join(shoot(page, "phase2_changed", box)))


def drive_phase3(page, base: str, token: str) -> None:
    took = open_and_run(page, base, token, "03_pilot_evaluation.ipynb")
    print(f"\nPhase 3 (notebook 03, explore=True): cells ran in {took:.0f} s")
    funnel = ".widget-vbox .widget-hbox img.widget-image"
    page.locator(funnel).first.wait_for(timeout=TIMEOUT_MS)
    box = page.locator(".widget-vbox").filter(has=page.locator(".widget-hbox img")).first
    sentence = box.locator(".widget-html").first
    print("  problems at 1400 px:", overflow(page, box) or "none")
    print("  screenshots:", ", ".join(shoot(page, "phase3_start", box)))
    for label, index in (("Borough", 3), ("Item", 4)):
        text = sentence.inner_text()
        before = attribute(page, funnel, "src")
        picked = choose(page, label, index=index)
        seconds = wait_changed(page, funnel, "src", before)
        page.wait_for_function(
            "([el, t]) => el.innerText !== t", arg=[sentence.element_handle(), text]
        )
        print(f"  {label} -> {picked!r}: funnel redrawn in {seconds:.2f} s in the browser")
        print(f"    sentence before: {text.strip()}")
        print(f"    sentence after:  {sentence.inner_text().strip()}")
    page.set_viewport_size({"width": 800, "height": 1100})
    page.wait_for_timeout(600)
    print("  problems at 800 px:", overflow(page, box) or "none")
    print("  screenshots:", ", ".join(shoot(page, "phase3_changed", box)))


def drive_phase1(page, base: str, token: str, folder: Path) -> None:
    took = open_and_run(page, base, token, "01_mapping.ipynb")
    print(f"\nPhase 1 (notebook 01, review=True): cells ran in {took:.0f} s")
    path = folder / "data" / "crosswalk" / "phase1_crosswalk.csv"
    name = page.locator(".widget-text").filter(
        has=page.locator("label.widget-label", has_text="Reviewer")
    )
    name.first.wait_for(timeout=TIMEOUT_MS)
    panel = page.locator(".widget-vbox").filter(has=name).first
    print("  problems at 1400 px:", overflow(page, panel) or "none")
    print("  screenshots:", ", ".join(shoot(page, "phase1_start", panel)))

    def rows() -> list[str]:
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []

    def say() -> str:
        return panel.locator(".widget-html").nth(1).inner_text().strip()

    start = rows()
    panel.locator("button", has_text="Confirm").click()
    page.wait_for_function(
        "el => el.innerText.includes('reviewer first')",
        arg=panel.locator(".widget-html").nth(1).element_handle(),
    )
    print(f"  Confirm without a name: {say()!r}; file rows {len(start)} -> {len(rows())}")
    print("  screenshots:", ", ".join(shoot(page, "phase1_refused", panel)))
    name.first.locator("input").fill("Drive Test Reviewer")
    panel.locator("button", has_text="Confirm").click()
    page.wait_for_function(
        "el => el.innerText.includes('Saved')",
        arg=panel.locator(".widget-html").nth(1).element_handle(),
    )
    added = [r for r in rows() if r not in start]
    print(f"  Confirm as 'Drive Test Reviewer': {say()!r}")
    print(f"    new row in {path.name}: {added}")
    print("  screenshots:", ", ".join(shoot(page, "phase1_saved", panel)))
    panel.locator("button", has_text="Undo").click()
    page.wait_for_function(
        "el => el.innerText.includes('Undone')",
        arg=panel.locator(".widget-html").nth(1).element_handle(),
    )
    print(f"  Undo: {say()!r}")
    print(f"    file back as it was: {rows() == start}")
    print("  screenshots:", ", ".join(shoot(page, "phase1_undone", panel)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", type=Path, default=ROOT, help="a prepared project")
    ap.add_argument("--la", default="E09000008", help="the pilot borough to start on")
    ap.add_argument("--prepare", action="store_true", help="prepare the project first")
    ap.add_argument("--phases", default="2,3,1", help="which notebooks to drive, in order")
    args = ap.parse_args()
    if args.prepare:
        from lscb_nb.core.project import find_project
        from lscb_nb.output import pipeline

        pipeline.prepare(find_project(args.project))
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="jl_drive_") as tmp:
        folder = Path(tmp)
        prepare_workspace(args.project.resolve(), folder, args.la)
        port, token = free_port(), secrets.token_hex(16)
        lab = start_lab(folder, port, token)
        base = f"http://127.0.0.1:{port}"
        print(f"JupyterLab on {base}, root {folder}")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for phase in args.phases.split(","):
                    page = browser.new_page(viewport={"width": WIDTHS[0], "height": 1100})
                    try:
                        if phase == "2":
                            drive_phase2(page, base, token)
                        elif phase == "3":
                            drive_phase3(page, base, token)
                        elif phase == "1":
                            drive_phase1(page, base, token, folder)
                    except Exception:
                        page.screenshot(path=str(SHOTS / f"jl_error_phase{phase}.png"))
                        print(f"failed: see {SHOTS / f'jl_error_phase{phase}.png'}")
                        raise
                    page.close()
                    stop_kernels(base, token)
                browser.close()
        finally:
            lab.terminate()
            lab.wait(timeout=30)


if __name__ == "__main__":
    main()
