"""Workers for datasets and workspaces: each wraps one core call (no logic of its own).

Every function returns a Worker that is not started yet, so the caller connects its signals
first and then calls `start()`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.config import ImportConfig
from inspector.core.data.dataset import Dataset
from inspector.core.data.stats import UNASSIGNED, DatasetStats, compute_stats
from inspector.core.workspace import Workspace
from inspector.gui.workers.base import Progress, Worker


@dataclass(frozen=True)
class OpenedWorkspace:
    """A workspace with its active dataset opened (opening may recover and rehash files)."""

    workspace: Workspace
    dataset: Dataset


def stats_worker(dataset: Dataset) -> Worker:
    """DatasetStats of the dataset; hashing new files reports progress and can be cancelled."""

    def task(progress: Progress, stop: threading.Event) -> DatasetStats:
        records, errors = dataset.records(on_progress=progress, stop_event=stop)
        stats = compute_stats(dataset, records)
        return dataclasses.replace(stats, unreadable=len(errors))

    return Worker(task, "reading the dataset's statistics")


@dataclass(frozen=True, slots=True)
class ImageEntry:
    """One image as the grid shows it (plain data, made in the worker)."""

    path: str
    label: str
    split: str


@dataclass(frozen=True)
class DatasetSnapshot:
    """Statistics and the list of images, from one scan of the dataset."""

    stats: DatasetStats
    images: list[ImageEntry]
    unreadable: list[str]  # files the scan could not read (they are in `images` too)


def snapshot_worker(dataset: Dataset) -> Worker:
    """A DatasetSnapshot; hashing new files reports progress and can be cancelled."""

    def task(progress: Progress, stop: threading.Event) -> DatasetSnapshot:
        records, errors = dataset.records(on_progress=progress, stop_event=stop)
        stats = dataclasses.replace(compute_stats(dataset, records), unreadable=len(errors))
        manifest = dataset.manifest()
        split_of = manifest.assignments if manifest else {}
        images = [ImageEntry(str(r.path), r.label, split_of.get(r.hash, UNASSIGNED))
                  for r in records]
        unreadable = [str(e.path) for e in errors]
        images += [ImageEntry(path, Path(path).parent.name, UNASSIGNED) for path in unreadable]
        images.sort(key=lambda entry: (entry.label, entry.path))
        return DatasetSnapshot(stats, images, unreadable)

    return Worker(task, "reading the dataset")


def validate_worker(dataset: Dataset) -> Worker:
    """A ValidationReport (partial, with `stopped` set, when cancelled)."""
    from inspector.core.data.validation import validate

    return Worker(lambda progress, stop: validate(dataset, on_progress=progress,
                                                  stop_event=stop),
                  "validating the dataset")


def operation_worker(call: Callable[[], Any], description: str) -> Worker:
    """A quick dataset operation (create, rename, delete, split, undo) off the GUI thread."""
    return Worker(lambda _progress, _stop: call(), description)


def relabel_worker(dataset: Dataset, paths: list[Path], label: str) -> Worker:
    """Move images to another class (Dataset.relabel); the result is their new paths."""
    return Worker(lambda _progress, _stop: dataset.relabel(paths, label),
                  f"moving {len(paths)} images to {label}")


def delete_images_worker(dataset: Dataset, paths: list[Path]) -> Worker:
    """Move images to the dataset's trash (undo restores them); the result is how many."""
    return Worker(lambda _progress, _stop: dataset.delete_images(paths),
                  f"deleting {len(paths)} images")


def import_worker(fmt: str, source: Path, dataset: Dataset,
                  config: ImportConfig | None = None) -> Worker:
    """An ImportReport; progress per image, cancellable (what was added is kept)."""

    def task(progress: Progress, stop: threading.Event) -> Any:
        from inspector.core.data.importers import import_dataset

        return import_dataset(fmt, source, dataset, config, on_progress=progress,
                              stop_event=stop)

    return Worker(task, f"importing {source}")


def load_image_worker(path: Path, max_pixels: int | None = None) -> Worker:
    """The image decoded to an HxWx3 uint8 RGB array."""
    from inspector.core.data.images import DEFAULT_MAX_PIXELS, load_rgb

    limit = max_pixels or DEFAULT_MAX_PIXELS
    return Worker(lambda _progress, _stop: load_rgb(Path(path), limit), f"opening {path}")


def open_workspace_worker(root: Path, create: bool = False) -> Worker:
    """An OpenedWorkspace; `create` makes a new workspace in the folder first."""

    def task(_progress: Progress, _stop: threading.Event) -> OpenedWorkspace:
        workspace = Workspace.create(root) if create else Workspace.open(root)
        return OpenedWorkspace(workspace, workspace.dataset())

    return Worker(task, f"{'creating' if create else 'opening'} the workspace {root}")


def demo_workspace_worker(root: Path | None = None, per_class: int | None = None) -> Worker:
    """The demo workspace as an OpenedWorkspace, its dataset generated first on first use."""

    def task(progress: Progress, stop: threading.Event) -> OpenedWorkspace:
        from inspector.core.demo import DEMO_PER_CLASS, ensure_demo_workspace

        workspace = ensure_demo_workspace(root, per_class=per_class or DEMO_PER_CLASS,
                                          on_progress=progress, stop_event=stop)
        return OpenedWorkspace(workspace, workspace.dataset())

    return Worker(task, "generating the demo dataset")
