"""Save a screenshot of every page of the main window, each with real content.

Builds (or reuses) a workspace with a synthetic dataset and a small trained model, opens it in
the window, and on each page does what a user would do first (an evaluation with a confusion
cell opened, a short training, an augmentation preview), then grabs the window to
``OUT/<page>.png``. Look at each one as a user would.

    .venv/bin/python tools/screenshots.py [--out screenshots] [--workspace DIR] [--theme dark]

Runs offscreen unless DISPLAY is set. A new workspace takes a few minutes (one short training
at 64 px); pass --workspace to reuse one that already has a model.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer

from inspector.core.workspace import Workspace
from inspector.gui.app import build_main_window, make_application
from inspector.gui.workers.base import stop_all

TIMEOUT_MS = 600_000


def wait(signal, timeout_ms: int = TIMEOUT_MS) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def pause(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def prepare(root: Path) -> Path:
    """A workspace with 8 classes of synthetic scans and one small model."""
    from inspector.core.data.synthetic import generate_patch_dataset
    from inspector.core.training.fit import fit

    workspace = Workspace.open_or_create(root)
    dataset = workspace.dataset()
    if not dataset.image_files():
        generate_patch_dataset(dataset.root, per_class=40, seed=11, style="scan")
        dataset.split()
    if not list(workspace.models_dir.glob("*/best.safetensors")):
        config = workspace.config.model_copy(deep=True)
        config.model.input_size = 64
        config.train.epochs = 3
        config.train.batch_size = 32
        fit(config, dataset, workspace.models_dir / "first-model")
    return root


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--size", default="1400x900")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    home = tempfile.mkdtemp(prefix="inspector-shots-")
    os.environ["INSPECTOR_CONFIG_DIR"] = f"{home}/config"  # never the user's settings
    root = prepare(args.workspace or Path(home) / "workspace")

    app = make_application()
    window = build_main_window()
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.set_theme(args.theme)
    window.show()
    datasets = window.page("Datasets")
    window.open_workspace(root)
    wait(datasets.refreshed)
    window.find_device()
    pause(1500)  # thumbnails
    shots = {}

    def grab(name: str) -> None:
        pause(300)
        path = args.out / f"{name}.png"
        window.grab().save(str(path))
        shots[name] = path

    window.show_page("Datasets")
    grab("datasets")

    window.show_page("Augmentation")
    augment = window.page("Augmentation")
    wait(augment.preview_updated, 60_000)
    grab("augmentation")

    window.show_page("Models")
    grab("models")

    window.show_page("Evaluation")
    evaluate = window.page("Evaluation")
    evaluate.evaluate()
    wait(evaluate.evaluation_finished)
    confusion = evaluate.metrics.confusion
    off = [(i, j) for i in range(len(confusion)) for j in range(len(confusion))
           if i != j and confusion[i][j]]
    i, j = max(off, key=lambda c: confusion[c[0]][c[1]]) if off else (0, 0)
    evaluate.open_cell(i, j)
    wait(evaluate.cell_loaded, 120_000)
    grab("evaluation")

    # a short run: set before the page is first shown, so its form shows these values
    window.workspace.config.train.epochs = 2
    window.workspace.config.model.input_size = 32
    window.show_page("Training")
    train = window.page("Training")
    train.start()
    wait(train.training_finished)
    grab("training")

    stop_all(30_000)
    window.close()
    app.processEvents()
    for name, path in shots.items():
        print(f"{name:14s} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
