"""Importing images from other layouts into a Dataset.

    folder    SRC/<class>/<images>, sub-folders of a class included
    zip       a zip of the same tree (optionally in one wrapping folder), checked for safety
    deeppcb   the DeepPCB boards: one patch per annotated defect plus defect-free patches
    voc       Pascal VOC XML (PKU-Market-PCB): one patch per object plus defect-free patches

`import_dataset` is the one entry point for the CLI and the GUI workers. It runs synchronously,
reports (done, total) through `on_progress` and stops between items when `stop_event` is set.
One bad file never stops an import: it is reported in the returned ImportReport (`skipped`, or
`add.failed` for an image the dataset refused). A source unusable as a whole raises
DatasetImportError. Sources are only read, never moved or changed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from inspector.config import ImportConfig
from inspector.core.data.dataset import Dataset, check_class_name
from inspector.core.data.importers._common import ImportReport
from inspector.core.errors import DatasetError, DatasetImportError

log = logging.getLogger(__name__)

FORMATS = ("folder", "zip", "deeppcb", "voc")

__all__ = ["FORMATS", "ImportReport", "import_dataset"]


def import_dataset(
    fmt: str,
    source: Path,
    dataset: Dataset,
    config: ImportConfig | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    stop_event: threading.Event | None = None,
) -> ImportReport:
    """Import `source` in format `fmt` (one of FORMATS) into `dataset`."""
    fmt_key = fmt.strip().lower()
    if fmt_key not in FORMATS:
        raise DatasetImportError(
            f"Unknown import format '{fmt}'. Use one of: {', '.join(FORMATS)}."
        )
    config = config or ImportConfig()
    source = Path(source).expanduser()
    if fmt_key in ("deeppcb", "voc") and config.ok_per_image > 0:
        try:
            check_class_name(config.ok_label)
        except DatasetError as exc:
            raise DatasetImportError(
                f"The defect-free class name importers.ok_label is unusable: {exc}"
            ) from None
    log.info("importing %s (%s) into %s", source, fmt_key, dataset.root)
    if fmt_key == "folder":
        from inspector.core.data.importers.folder import import_folder as run
    elif fmt_key == "zip":
        from inspector.core.data.importers.archive import import_zip as run
    elif fmt_key == "deeppcb":
        from inspector.core.data.importers.deeppcb import import_deeppcb as run
    else:
        from inspector.core.data.importers.voc import import_voc as run
    report = run(source, dataset, config, on_progress, stop_event)
    log.info("import of %s: %s", source, report.summary())
    return report
