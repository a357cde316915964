"""Start-up: time until the main window is painted, next to `python -c pass` in the same run.

Each figure is the median wall time of fresh processes (`--runs`, default 5):

- `python -c pass`: the interpreter alone (the reference);
- `import PySide6.QtWidgets`: what any Qt application pays;
- the window: `build_main_window()` with every page, shown, first paint done (the process quits
  from a timer once the event loop has painted), with no workspace opened;
- the window with the workspace (optional `--workspace DIR`): until the Datasets page has shown
  the workspace's counts.

Target: the window within 2 s. Also lists heavy modules found in `sys.modules` at that point
(torch, cv2, captum, albumentations, onnxruntime, pyqtgraph must not be).
Runs offscreen unless DISPLAY is set (then under the real X server, e.g. Xvfb).

    .venv/bin/python bench/bench_startup.py [--runs 5] [--workspace DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HEAVY = ("torch", "torchvision", "cv2", "albumentations", "captum", "onnxruntime", "pyqtgraph")

WINDOW = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from inspector.gui.app import build_main_window, make_application
    app = make_application()
    window = build_main_window()
    window.show()
    WORKSPACE = {workspace!r}
    if WORKSPACE:
        page = window.page("Datasets")
        page.refreshed.connect(app.quit)
        QTimer.singleShot(60000, app.quit)
        window.open_workspace(WORKSPACE)
    else:
        QTimer.singleShot(0, app.quit)  # runs once the first paint events are processed
    app.exec()
    heavy = {heavy!r}
    print(sorted({{m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy}}))
""")


def _median_run(args: list[str], env: dict[str, str], runs: int) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
        times.append(time.perf_counter() - start)
        out = result.stdout.strip()
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workspace", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, INSPECTOR_CONFIG_DIR=f"{home}/config",
                   INSPECTOR_DATA_DIR=f"{home}/data", NO_ALBUMENTATIONS_UPDATE="1")
        if not env.get("DISPLAY"):
            env["QT_QPA_PLATFORM"] = "offscreen"
        python = sys.executable
        bare, _ = _median_run([python, "-c", "pass"], env, args.runs)
        qt, _ = _median_run([python, "-c", "import PySide6.QtWidgets"], env, args.runs)
        window, heavy = _median_run(
            [python, "-c", WINDOW.format(workspace="", heavy=HEAVY)], env, args.runs)
        print(f"platform: {env.get('QT_QPA_PLATFORM') or 'X11 ' + env['DISPLAY']}; "
              f"median of {args.runs} fresh processes")
        print(f"python -c pass (reference)  {bare * 1000:7.0f} ms")
        print(f"import PySide6.QtWidgets     {qt * 1000:7.0f} ms")
        print(f"main window painted          {window * 1000:7.0f} ms  "
              f"({window / bare:.1f}x the bare interpreter; target < 2000 ms)  "
              f"heavy modules loaded: {heavy}")
        if args.workspace is not None:
            opened, _ = _median_run(
                [python, "-c", WINDOW.format(workspace=str(args.workspace), heavy=HEAVY)],
                env, args.runs)
            print(f"window + workspace counts    {opened * 1000:7.0f} ms  ({args.workspace})")


if __name__ == "__main__":
    main()
