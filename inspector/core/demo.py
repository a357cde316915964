"""The demo workspace: a synthetic PCB dataset generated on first use, never committed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from inspector.core.atomic import atomic_write_text
from inspector.core.paths import demo_workspace_dir
from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

# Scans (the DeepPCB look: dark copper on a light ground) rather than photos: a ResNet-50 from
# random weights learns 8 classes of them at 64 px in a few minutes on a CPU (about 0.85 val
# accuracy after 12 epochs on 250 per class); photos, with their board colours and lighting,
# stayed near 0.3 in the same time. With ImageNet weights either style trains quickly.
DEMO_PER_CLASS = 250
DEMO_STYLE = "scan"
DEMO_SEED = 2026
_DONE_MARK = "demo-generated"


def ensure_demo_workspace(
    root: Path | None = None,
    per_class: int = DEMO_PER_CLASS,
    seed: int = DEMO_SEED,
    on_progress: Callable[[int, int], None] | None = None,
    stop_event: threading.Event | None = None,
) -> Workspace:
    """Open the demo workspace, generating its dataset first if that has not been done.

    Generation is resumable: an interrupted run leaves no completion mark, and the next run
    regenerates (same seed, same files) before splitting.
    """
    from inspector.core.data.synthetic import generate_patch_dataset

    root = root or demo_workspace_dir()
    workspace = Workspace.open_or_create(root)
    dataset = workspace.dataset()
    mark = dataset.meta / _DONE_MARK
    if not mark.exists():
        log.info("generating the demo dataset in %s", dataset.root)
        generate_patch_dataset(dataset.root, per_class=per_class, seed=seed, style=DEMO_STYLE,
                               on_progress=on_progress, stop_event=stop_event)
        if stop_event is not None and stop_event.is_set():
            return workspace
        dataset.split()
        atomic_write_text(mark, f"per_class={per_class} seed={seed} style={DEMO_STYLE}\n")
    return workspace


DEMO_MODEL = "demo"


def demo_training_config(workspace: Workspace):
    """A small, quick run: minutes on a laptop CPU, from random weights if need be."""
    config = workspace.config.model_copy(deep=True)
    config.model.input_size = 64
    config.train.epochs = 12
    config.train.batch_size = 32
    config.train.patience = 0
    config.train.warmup_epochs = 0.5
    from inspector.core.models.pretrained import find_imagenet_weights

    if not (config.model.pretrained and find_imagenet_weights(config.model.imagenet_weights)):
        # every layer trains from scratch: a bolder rate converges within the 12 epochs
        config.train.lr_head = max(config.train.lr_head, 2e-3)
    return config


def ensure_demo_model(workspace: Workspace, on_progress=None,
                      stop_event: threading.Event | None = None) -> Path:
    """The demo workspace's model, trained on its dataset the first time."""
    from inspector.core.training.fit import fit

    best = workspace.models_dir / DEMO_MODEL / "best.safetensors"
    if best.is_file() and (best.parent / "evaluation.json").is_file():
        return best
    resume = (best.parent / "last.safetensors").is_file()
    config = demo_training_config(workspace)
    result = fit(config, workspace.dataset(), best.parent, on_progress, stop_event,
                 resume=resume)
    return result.best_path


def run_demo_live(workspace: Workspace, model: Path, frames: int = 200, seed: int = DEMO_SEED,
                  on_result=None, stop_event: threading.Event | None = None):
    """Live inspection of the virtual camera (single patches with known truth)."""
    from inspector.core.inference.live import LiveInspector
    from inspector.core.inference.predictor import Predictor
    from inspector.core.inference.sources import open_source
    from inspector.core.inference.verdict import VerdictPolicy
    from inspector.core.results import ResultsStore

    live = workspace.config.live
    predictor = Predictor.from_checkpoint(model, "auto", "torch")
    policy = VerdictPolicy(predictor.classes, live.verdict, predictor.verdict_defaults,
                           predictor.temperature)
    source = open_source(f"virtual:{seed + 1}", mode="patch", size=128, style=DEMO_STYLE,
                         realtime=False)
    with ResultsStore(workspace.results_path, live.results) as store, source:
        inspector = LiveInspector(predictor, policy, source, live, store, on_result)
        return inspector.run(stop_event, frames)
