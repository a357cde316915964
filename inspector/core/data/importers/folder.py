"""A folder of class folders: SRC/<class>/<images>, sub-folders of a class belonging to it.

The images are copied (Dataset.add_images decodes each one first); the source is only read.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from inspector.config import ImportConfig
from inspector.core.data.dataset import Dataset, check_class_name
from inspector.core.data.images import is_image_name
from inspector.core.data.importers._common import (
    ClassResolver,
    ImportReport,
    Progress,
    ProgressCounter,
    check_source_dir,
    is_hidden,
    is_stopped,
)
from inspector.core.errors import DatasetError, DatasetImportError

log = logging.getLogger(__name__)

LOOSE_REASON = ("not in a class folder: put it in a folder named after its class "
                "(SOURCE/<class>/<image>) to import it")


def import_folder(source: Path, dataset: Dataset, config: ImportConfig | None = None,
                  on_progress: Progress | None = None,
                  stop_event: threading.Event | None = None) -> ImportReport:
    """Copy SRC/<class>/**/<image> into the dataset's classes (created as needed)."""
    del config  # nothing to configure: files are copied as they are
    root = check_source_dir(source, dataset, "class folders")
    report = ImportReport()
    plan: list[tuple[str, list[Path]]] = []
    for entry in sorted(root.iterdir()):
        if is_hidden(entry.name):
            continue
        if entry.is_dir():
            try:
                label = check_class_name(entry.name)
            except DatasetError as exc:
                report.skip(f"{entry.name}/", f"{exc} Rename the folder to import its images.")
                continue
            files = _class_files(entry, root, report)
            if files:
                plan.append((label, files))
        elif entry.is_file():
            reason = LOOSE_REASON if is_image_name(entry) else "not an image, and not in a " \
                "class folder"
            report.skip(entry.name, reason)
        else:
            report.skip(entry.name, "not a regular file or folder (a broken link?)")
    if not plan and not report.skipped:
        raise DatasetImportError(
            f"{source} holds no class folders with images. Expected one folder per class, "
            "each holding that class's images (SOURCE/<class>/<image>)."
        )
    progress = ProgressCounter(on_progress, sum(len(files) for _, files in plan))
    classes = ClassResolver(dataset)
    for label, files in plan:
        if is_stopped(stop_event):
            report.add.stopped = True
            break
        target = classes.ensure(label)
        sub = dataset.add_images(target, files, progress.nested(), stop_event)
        report.record(target, sub)
        if sub.stopped:
            break
    else:
        progress.finish()
    return report


def _class_files(folder: Path, root: Path, report: ImportReport) -> list[Path]:
    """Images in a class folder and its sub-folders; other files reported. Linked sub-folders
    are not followed (a link loop would never end)."""
    files: list[Path] = []
    for current, dirs, names in os.walk(folder, followlinks=False):
        here = Path(current)
        kept = []
        for name in sorted(dirs):
            if is_hidden(name):
                continue
            if (here / name).is_symlink():
                report.skip(f"{(here / name).relative_to(root).as_posix()}/",
                            "a linked folder inside a class folder is not followed; copy its "
                            "images into the class folder instead")
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            path = here / name
            if is_hidden(name):
                continue
            if is_image_name(path):
                files.append(path)
            else:
                report.skip(path.relative_to(root).as_posix(),
                            "not an image file (by its extension); not imported")
    log.debug("%s: %d images", folder, len(files))
    return files
