"""The DeepPCB layout (tangsanli5201/DeepPCB): binarised 640x640 boards with defect boxes.

    PCBData/trainval.txt, PCBData/test.txt       one board a line:
        "group00041/00041/00041000.jpg group00041/00041_not/00041000.txt"
    PCBData/group00041/00041/00041000_test.jpg   the tested board (patches are cut from it)
    PCBData/group00041/00041/00041000_temp.jpg   its defect-free template (not used)
    PCBData/group00041/00041_not/00041000.txt    one defect a line: x1,y1,x2,y2,type

The list files name `00041000.jpg`; the files on disk are `00041000_test.jpg` and `_temp.jpg`.
Annotation fields are separated by commas or spaces. Without list files, every `*_test.jpg`
under the source is a board, with its annotations in `<group>/<id>_not/<stem>.txt`.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from pathlib import Path

from inspector.config import ImportConfig
from inspector.core.data.dataset import Dataset
from inspector.core.data.images import is_image_name
from inspector.core.data.importers._boards import Annotation, Board, import_boards
from inspector.core.data.importers._common import (
    ImportReport,
    Progress,
    check_source_dir,
    is_hidden,
    relative_name,
)
from inspector.core.errors import DatasetImportError

log = logging.getLogger(__name__)

DEFECT_TYPES: dict[int, str] = {
    1: "open",
    2: "short",
    3: "mousebite",
    4: "spur",
    5: "spurious_copper",
    6: "pin_hole",
}
LIST_FILES = ("trainval.txt", "test.txt")
_SEPARATORS = re.compile(r"[\s,;]+")
_MAX_TEXT_BYTES = 4 * 1024 * 1024  # an annotation or list file is a few kB


def import_deeppcb(source: Path, dataset: Dataset, config: ImportConfig,
                   on_progress: Progress | None = None,
                   stop_event: threading.Event | None = None) -> ImportReport:
    root = check_source_dir(source, dataset, "DeepPCB data (PCBData or the folder above it)")
    report = ImportReport()
    pairs = _listed_pairs(root, report)
    if pairs is None:
        pairs = _discovered_pairs(root, report)
    if not pairs:
        if not report.skipped:
            raise DatasetImportError(
                f"No DeepPCB boards were found in {source}: expected PCBData/trainval.txt or "
                "test.txt, or images named *_test.jpg. Check the folder, or use the format "
                "'folder' for plain class folders."
            )
        log.warning("none of the DeepPCB boards in %s could be used", source)
    boards = [board for board in (_read_board(root, image, notes, report)
                                  for image, notes in pairs) if board is not None]
    import_boards(boards, dataset, config, report, on_progress=on_progress,
                  stop_event=stop_event)
    return report


def _read_text(path: Path, name: str, report: ImportReport) -> str | None:
    try:
        if path.stat().st_size > _MAX_TEXT_BYTES:
            report.skip(name, "too large to be a DeepPCB list or annotation file; not read")
            return None
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        report.skip(name, "not a text file; replace it with the original annotation file")
    except OSError as exc:
        report.skip(name, f"cannot be read ({exc.strerror or exc}); check its permissions")
    return None


def _inside(root: Path, base: Path, relative: str) -> Path | None:
    """A path named in a list file (relative to `base`), if it stays inside the source `root`:
    a '..' or an absolute path in a list file is not followed."""
    candidate = (base / relative).resolve()
    return candidate if root in candidate.parents else None


def _test_image(listed: Path) -> Path | None:
    """The `_test` image for a name in a list file ('00041000.jpg' -> '00041000_test.jpg')."""
    stem = listed.stem[:-5] if listed.stem.endswith("_test") else listed.stem
    for candidate in (listed.with_name(f"{stem}_test{listed.suffix}"), listed):
        if candidate.is_file() and is_image_name(candidate):
            return candidate
    return None


def _listed_pairs(root: Path, report: ImportReport) -> list[tuple[Path, Path]] | None:
    """Boards named by trainval.txt / test.txt, or None when there is no list file."""
    for base in (root, root / "PCBData"):
        lists = [base / name for name in LIST_FILES if (base / name).is_file()]
        if lists:
            break
    else:
        return None
    pairs: dict[Path, Path] = {}
    for list_file in lists:
        list_name = relative_name(list_file, root)
        text = _read_text(list_file, list_name, report)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            where = f"{list_name} line {number}"
            if len(fields) != 2:
                report.skip(where, "expected two paths: the image and its annotation file")
                continue
            listed, notes = (_inside(root, base, field) for field in fields)
            if listed is None or notes is None:
                report.skip(where, "names a file outside the DeepPCB folder; not read")
                continue
            image = _test_image(listed)
            if image is None:
                stem = listed.stem
                report.skip(where, f"the board image {relative_name(listed.parent, root)}/"
                                   f"{stem}_test{listed.suffix} is missing; copy it back or "
                                   "remove the line")
                continue
            if not notes.is_file():
                report.skip(where, f"the annotation file {relative_name(notes, root)} is "
                                   "missing; without it the board's defects are unknown")
                continue
            pairs.setdefault(image, notes)
    return list(pairs.items())


def _discovered_pairs(root: Path, report: ImportReport) -> list[tuple[Path, Path]]:
    """Without list files: every *_test image, with <group>/<id>_not/<stem>.txt."""
    pairs = []
    for image in sorted(root.rglob("*_test.*")):
        rel = image.relative_to(root)
        if not image.is_file() or not is_image_name(image) or any(
                is_hidden(part) for part in rel.parts):
            continue
        stem = image.stem[: -len("_test")]
        notes = image.parent.parent / f"{image.parent.name}_not" / f"{stem}.txt"
        if not notes.is_file():
            report.skip(rel.as_posix(), f"its annotation file {relative_name(notes, root)} is "
                                        "missing; without it the board's defects are unknown")
            continue
        pairs.append((image, notes))
    return pairs


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_line(line: str) -> tuple[tuple[float, float, float, float], int]:
    """'x1,y1,x2,y2,type' (commas or spaces) -> corners and type; ValueError says what is wrong."""
    fields = [f for f in _SEPARATORS.split(line.strip()) if f]
    if len(fields) != 5:
        raise ValueError(f"expected 5 numbers x1,y1,x2,y2,type, found {len(fields)} fields")
    try:
        x1, y1, x2, y2 = (_number(f) for f in fields[:4])
    except ValueError:
        raise ValueError(f"the coordinates {' '.join(fields[:4])!r} are not numbers") from None
    try:
        kind = int(fields[4])
    except ValueError:
        raise ValueError(f"the defect type {fields[4]!r} is not a whole number") from None
    return (x1, y1, x2, y2), kind


def _read_board(root: Path, image: Path, notes: Path, report: ImportReport) -> Board | None:
    notes_name = relative_name(notes, root)
    text = _read_text(notes, notes_name, report)
    if text is None:
        return None
    stem = image.stem[: -len("_test")] if image.stem.endswith("_test") else image.stem
    board = Board(image=image, name=relative_name(image, root), stem=stem)
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{notes_name} line {number}"
        try:
            coords, kind = parse_line(line)
        except ValueError as exc:
            report.skip(where, f"{exc}; fix or delete the line")
            continue
        label = DEFECT_TYPES.get(kind)
        if label is None:
            report.skip(where, f"unknown defect type {kind} (DeepPCB uses 1 to 6); the box "
                               "is kept out of defect-free patches but makes no patch")
        board.annotations.append(Annotation(coords, label, f"b{number:02d}", where))
    return board
