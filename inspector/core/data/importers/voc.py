"""Pascal VOC annotations, as in the public PKU-Market-PCB set.

    Annotations/**/*.xml   <annotation><filename>01_missing_hole_01.jpg</filename>
                           <size><width>3034</width><height>1586</height></size>
                           <object><name>missing_hole</name>
                                   <bndbox><xmin>..</xmin><ymin>..</ymin><xmax>..</xmax><ymax>..</ymax>
    images/**, JPEGImages/**   the boards (found by the XML's <filename> anywhere under the
                               source, else by the XML's own stem)

XML from elsewhere is untrusted: it is parsed with defusedxml, which refuses entity and DTD
tricks (billion laughs, external entities) instead of expanding them.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml
import defusedxml.ElementTree as SafeET

from inspector.config import ImportConfig
from inspector.core.data.dataset import Dataset, check_class_name
from inspector.core.data.images import is_image_name
from inspector.core.data.importers._boards import Annotation, Board, import_boards
from inspector.core.data.importers._common import (
    ImportReport,
    Progress,
    check_source_dir,
    is_hidden,
    relative_name,
)
from inspector.core.errors import DatasetError, DatasetImportError

log = logging.getLogger(__name__)

# PKU-Market-PCB labels -> Inspector's class names (after normalise_label).
LABEL_MAP: dict[str, str] = {
    "missing_hole": "missing_hole",
    "mouse_bite": "mousebite",
    "mousebite": "mousebite",
    "open_circuit": "open",
    "open": "open",
    "short": "short",
    "short_circuit": "short",
    "spur": "spur",
    "spurious_copper": "spurious_copper",
}
_MAX_XML_BYTES = 8 * 1024 * 1024  # a VOC file is a few kB


def normalise_label(name: str) -> str:
    """Lower case, spaces and hyphens as underscores: 'Mouse-bite' -> 'mouse_bite'."""
    return re.sub(r"[\s_-]+", "_", name.strip().lower()).strip("_")


def class_for(name: str) -> str:
    """The project's class for a VOC label; unknown labels keep their normalised name."""
    key = normalise_label(name)
    return LABEL_MAP.get(key, key)


def import_voc(source: Path, dataset: Dataset, config: ImportConfig,
               on_progress: Progress | None = None,
               stop_event: threading.Event | None = None) -> ImportReport:
    root = check_source_dir(source, dataset, "Pascal VOC data (Annotations and images)")
    report = ImportReport()
    annotations = root / "Annotations"
    search = annotations if annotations.is_dir() else root
    xml_files = sorted(p for p in search.rglob("*") if p.suffix.lower() == ".xml"
                       and p.is_file() and not _hidden(p, root))
    if not xml_files:
        raise DatasetImportError(
            f"No Pascal VOC annotation files (*.xml) were found in {source}. Give the folder "
            "holding Annotations/ and images/ (or JPEGImages/)."
        )
    images = _ImageIndex(root)
    boards = []
    for xml_path in xml_files:
        board = _read_xml(xml_path, root, images, report)
        if board is not None:
            boards.append(board)
    import_boards(boards, dataset, config, report, on_progress=on_progress,
                  stop_event=stop_event)
    return report


def _hidden(path: Path, root: Path) -> bool:
    return any(is_hidden(part) for part in path.relative_to(root).parts)


class _ImageIndex:
    """Every image under the source, by lower-case file name and by lower-case stem."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.by_name: dict[str, list[Path]] = {}
        self.by_stem: dict[str, list[Path]] = {}
        for path in sorted(root.rglob("*")):
            if is_image_name(path) and path.is_file() and not _hidden(path, root):
                self.by_name.setdefault(path.name.lower(), []).append(path)
                self.by_stem.setdefault(path.stem.lower(), []).append(path)

    def find(self, filename: str, xml_path: Path) -> Path | None:
        name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip().lower()
        for found in (self.by_name.get(name) if name else None,
                      self.by_stem.get(xml_path.stem.lower())):
            if found:
                return self._closest(found, xml_path)
        return None

    @staticmethod
    def _closest(found: Iterable[Path], xml_path: Path) -> Path:
        """Of images with the same name, the one in a folder named like the XML's folder
        (PKU: Annotations/Short/x.xml -> images/Short/x.jpg)."""
        found = list(found)
        for path in found:
            if path.parent.name.lower() == xml_path.parent.name.lower():
                return path
        return found[0]


def _read_xml(xml_path: Path, root: Path, images: _ImageIndex,
              report: ImportReport) -> Board | None:
    name = relative_name(xml_path, root)
    try:
        if xml_path.stat().st_size > _MAX_XML_BYTES:
            report.skip(name, "too large to be a VOC annotation file; not read")
            return None
        tree = SafeET.parse(xml_path)
    except defusedxml.DefusedXmlException as exc:
        report.skip(name, f"refused: the XML declares entities or a DTD ({type(exc).__name__}),"
                          " which annotation files never need and attacks use; not read")
        return None
    except SafeET.ParseError as exc:
        report.skip(name, f"not valid XML ({exc}); fix or replace the file")
        return None
    except OSError as exc:
        report.skip(name, f"cannot be read ({exc.strerror or exc}); check its permissions")
        return None
    top = tree.getroot()
    if top.tag != "annotation":
        report.skip(name, f"not a Pascal VOC file (its root element is <{top.tag}>, "
                          "not <annotation>)")
        return None
    filename = (top.findtext("filename") or "").strip()
    image = images.find(filename, xml_path)
    if image is None:
        wanted = filename or f"{xml_path.stem}.*"
        report.skip(name, f"its image {wanted} was not found under {root}; put it in images/ "
                          "or JPEGImages/")
        return None
    board = Board(image=image, name=relative_name(image, root), stem=image.stem, clamp=True,
                  declared_size=_size(top))
    for number, obj in enumerate(top.findall("object"), 1):
        where = f"{name} object {number}"
        annotation = _read_object(obj, number, where, report)
        if annotation is not None:
            board.annotations.append(annotation)
    if not board.annotations:
        log.info("%s has no objects: only defect-free patches come from it", name)
    return board


def _size(top: Element) -> tuple[int, int] | None:
    try:
        width = int(float(top.findtext("size/width") or ""))
        height = int(float(top.findtext("size/height") or ""))
    except ValueError:
        return None
    return (width, height) if width > 0 and height > 0 else None


def _read_object(obj: Element, number: int, where: str,
                 report: ImportReport) -> Annotation | None:
    raw_label = (obj.findtext("name") or "").strip()
    values = []
    for key in ("xmin", "ymin", "xmax", "ymax"):
        text = (obj.findtext(f"bndbox/{key}") or "").strip()
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            report.skip(where, f"<bndbox><{key}> is {text or 'missing'!r}, not a number; "
                               "fix the object")
            return None
        values.append(value)
    xmin, ymin, xmax, ymax = values
    label: str | None
    if not raw_label:
        report.skip(where, "the object has no <name>; its box is kept out of defect-free "
                           "patches but makes no patch")
        label = None
    else:
        try:
            label = check_class_name(class_for(raw_label))
        except DatasetError as exc:
            report.skip(where, f"the label {raw_label!r} cannot become a class: {exc} Its box "
                               "is kept out of defect-free patches but makes no patch")
            label = None
    return Annotation((xmin, ymin, xmax, ymax), label, f"b{number:02d}", where)
