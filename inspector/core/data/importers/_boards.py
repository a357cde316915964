"""Boards with defect boxes become patches: shared by the DeepPCB and Pascal VOC importers.

A format's reader turns its annotation files into `Board`s (text only, no pixels); then
`import_boards` decodes each board once, cuts one patch per annotation and the defect-free
patches, and adds them to the dataset in batches.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inspector.config import ImportConfig
from inspector.core.data.dataset import Dataset
from inspector.core.data.images import ImageReadError, load_rgb
from inspector.core.data.importers._common import (
    ImportReport,
    PatchBuffer,
    Progress,
    ProgressCounter,
    is_stopped,
)
from inspector.core.data.importers.patches import (
    Rect,
    board_rng,
    box_from_corners,
    crop,
    encode_patch,
    expand,
    patch_rect,
    pixels_hash,
    sample_ok_rects,
)

log = logging.getLogger(__name__)

SOFTWARE = "Inspector importer"


@dataclass(frozen=True)
class Annotation:
    """One annotated box as read from its file, before it is checked against the image."""

    coords: tuple[float, float, float, float]  # two corners, as written
    label: str | None  # class name; None for a defect of unknown kind (no patch, still avoided)
    tag: str  # short and unique within the board, for file names: "b03"
    where: str  # for messages: "group00041/00041_not/00041000.txt line 3"


@dataclass
class Board:
    image: Path
    name: str  # the image relative to the import source: reports and provenance
    stem: str  # patch file names start with it
    annotations: list[Annotation] = field(default_factory=list)
    clamp: bool = False  # boxes partly outside the image: clamped (True) or skipped (False)
    declared_size: tuple[int, int] | None = None  # (width, height) the annotation states

    @property
    def labelled(self) -> int:
        return sum(1 for a in self.annotations if a.label is not None)


def import_boards(boards: list[Board], dataset: Dataset, config: ImportConfig,
                  report: ImportReport, *, on_progress: Progress | None,
                  stop_event: threading.Event | None) -> None:
    """Cut and add every board's patches; problems go into `report`, nothing is raised for
    one bad board or line. Progress counts boards read plus patches planned."""
    planned = sum(1 + board.labelled + config.ok_per_image for board in boards)
    progress = ProgressCounter(on_progress, planned)
    buffer = PatchBuffer(dataset, report, progress, stop_event)
    seen: dict[str, str] = {}
    for board in boards:
        if is_stopped(stop_event):
            report.add.stopped = True
            break
        _cut_board(board, dataset, config, report=report, progress=progress, buffer=buffer,
                   seen=seen)
        buffer.flush_if_full()
    else:
        buffer.flush()
    if not report.add.stopped:
        progress.finish()
    log.info("cut %d patches from %d boards", sum(buffer.made.values()), len(boards))


def _cut_board(board: Board, dataset: Dataset, config: ImportConfig, *, report: ImportReport,
               progress: ProgressCounter, buffer: PatchBuffer, seen: dict[str, str]) -> None:
    try:
        rgb = load_rgb(board.image, dataset.config.max_image_pixels)
    except ImageReadError as exc:
        lost = board.labelled
        report.skip(board.name, f"{exc} Its {lost} annotated boxes were not imported.")
        progress.advance(1 + lost + config.ok_per_image)
        return
    height, width = rgb.shape[:2]
    if board.declared_size is not None and board.declared_size != (width, height):
        dw, dh = board.declared_size
        report.note(board.name, f"the annotation gives the size {dw}x{dh} but the image is "
                                f"{width}x{height}; its boxes were read as written")
    avoid: list[Rect] = []
    sides: list[int] = []
    for ann in board.annotations:
        box = _checked_box(ann, board, width, height, report)
        if box is None:
            if ann.label is not None:
                progress.advance()  # a planned patch that will not come
            continue
        avoid.append(expand(box, config.context))
        if ann.label is None:
            continue
        rect = patch_rect(box, config.context, config.min_patch, width, height)
        sides.append(max(rect.width, rect.height))
        pixels = crop(rgb, rect)
        digest = pixels_hash(pixels)
        if digest in seen:
            report.note(ann.where, f"gives exactly the same patch as {seen[digest]}; it is kept "
                                   "as its own file (each annotation makes one patch)")
        else:
            seen[digest] = f"{ann.where} ({ann.label})"
        info = {"Source": board.name, "Annotation": ann.where, "Label": ann.label,
                "Box": box.text(), "Crop": rect.text(), "Software": SOFTWARE}
        buffer.put(ann.label, f"{board.stem}_{ann.tag}_{ann.label}.png",
                   encode_patch(pixels, info))
    _cut_ok(board, rgb, config, avoid=avoid, sides=sides, report=report, progress=progress,
            buffer=buffer)
    progress.advance()


def _checked_box(ann: Annotation, board: Board, width: int, height: int,
                 report: ImportReport) -> Rect | None:
    box = box_from_corners(*ann.coords)
    if box is None:
        report.skip(ann.where, "the box has no area (its two corners share an x or a y); "
                               "fix or delete the line")
        return None
    if box.inside(width, height):
        return box
    clamped = box.clamp(width, height)
    if clamped is None or not board.clamp:
        where = "outside" if clamped is None else "not inside"
        report.skip(ann.where, f"the box {box.text()} is {where} the {width}x{height} image "
                               f"{board.image.name}; fix its coordinates")
        return None
    report.note(ann.where, f"the box {box.text()} reaches outside the {width}x{height} image; "
                           f"it was clamped to {clamped.text()}")
    return clamped


def _cut_ok(board: Board, rgb: np.ndarray, config: ImportConfig, *, avoid: list[Rect],
            sides: list[int], report: ImportReport, progress: ProgressCounter,
            buffer: PatchBuffer) -> None:
    wanted = config.ok_per_image
    if wanted <= 0:
        return
    rng = board_rng(config.seed, board.image.name)
    rects = sample_ok_rects(rgb, wanted, sides=sides, avoid=avoid, rng=rng,
                            min_side=config.min_patch)
    if len(rects) < wanted:
        report.note(board.name, f"only {len(rects)} of {wanted} defect-free patches could be "
                                "taken: the rest of the board is too close to its boxes")
        progress.advance(wanted - len(rects))
    for number, rect in enumerate(rects, 1):
        info = {"Source": board.name, "Annotation": f"defect-free patch {number}",
                "Label": config.ok_label, "Crop": rect.text(), "Software": SOFTWARE}
        buffer.put(config.ok_label, f"{board.stem}_ok{number:02d}.png",
                   encode_patch(crop(rgb, rect), info))
