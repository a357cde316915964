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

DEMO_PER_CLASS = 60
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
        generate_patch_dataset(dataset.root, per_class=per_class, seed=seed,
                               on_progress=on_progress, stop_event=stop_event)
        if stop_event is not None and stop_event.is_set():
            return workspace
        dataset.split()
        atomic_write_text(mark, f"per_class={per_class} seed={seed}\n")
    return workspace
