"""Writing a synthetic patch dataset: one folder per class, one PNG per patch."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from inspector.core.data.synthetic.common import PATCH_CLASSES, Style, check_labels
from inspector.core.data.synthetic.generator import SyntheticPCB, _count

log = logging.getLogger(__name__)

# OpenCV's default PNG settings (zlib level 1, RLE strategy, SUB filter) are its fastest that
# still compress: an explicit IMWRITE_PNG_COMPRESSION switches to a slower zlib strategy.
_PNG_PARAMS: list[int] = []


def patch_file_name(seed: int, index: int) -> str:
    return f"synth-s{seed}-{index:05d}.png"


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of an HxWx3 RGB uint8 image (deterministic for a given OpenCV build)."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), _PNG_PARAMS)
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
        raise OSError("OpenCV could not encode a PNG image")
    return buf.tobytes()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a hidden temporary file beside `path`, then rename it over `path`.

    A crash leaves the old file or the new one, never half of one. Unlike
    `inspector.core.atomic`, it does not fsync: these files can be regenerated from the seed,
    and a sync per image would make writing a dataset many times slower.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def generate_patch_dataset(
    dest: Path,
    per_class: int,
    seed: int = 0,
    size: int = 128,
    classes: Sequence[str] = PATCH_CLASSES,
    style: Style = "photo",
    on_progress: Callable[[int, int], None] | None = None,
    stop_event: threading.Event | None = None,
) -> dict[str, int]:
    """Write dest/<class>/synth-s<seed>-<index:05d>.png for each class; returns counts written.

    Each file is written atomically (temp file in the same folder + os.replace). Calls
    on_progress(done, total) after every file; stops early (returning what was written) when
    stop_event is set. Existing files with the same name are overwritten (same seed => same
    bytes). Items are made index by index across the classes, so a stopped run leaves the
    classes balanced, and a rerun with the same seed resumes by rewriting identical files.
    """
    per_class = _count(per_class, "per_class", 0)
    check_labels(classes, PATCH_CLASSES)
    classes = tuple(dict.fromkeys(classes))  # in order, once each
    generator = SyntheticPCB(seed, style)
    dest = Path(dest)
    folders = {label: dest / label for label in classes}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(classes, 0)
    total = per_class * len(classes)
    log.info("writing %d synthetic %s patches (%dx%d, seed %d) to %s", total, style, size,
             size, generator.seed, dest)
    done = 0
    if on_progress is not None:
        on_progress(0, total)
    for index in range(per_class):
        for label in classes:
            if stop_event is not None and stop_event.is_set():
                log.info("stopped after %d of %d patches", done, total)
                return counts
            image = generator.patch(label, size, index)
            write_atomic(folders[label] / patch_file_name(generator.seed, index),
                         encode_png(image))
            counts[label] += 1
            done += 1
            if on_progress is not None:
                on_progress(done, total)
    log.info("wrote %d synthetic patches to %s", done, dest)
    return counts
