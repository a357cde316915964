"""Small sources for the importer tests: synthetic boards, DeepPCB and VOC trees, snapshots."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inspector.core.data.dataset import Dataset

BOARD = 640


def board_pixels(seed: int, size: int = BOARD) -> np.ndarray:
    """A binarised board-like grey image: black traces and pads on white, every region unique."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size), 255, np.uint8)
    for _ in range(size // 4):
        x, y = rng.integers(0, size, 2)
        if rng.random() < 0.5:
            w, h = rng.integers(20, 160), rng.integers(3, 9)
        else:
            w, h = rng.integers(3, 9), rng.integers(20, 160)
        image[y:y + h, x:x + w] = 0
    noise = rng.random((size, size)) < 0.02  # specks: no two crops look the same
    image[noise] = 255 - image[noise]
    return image


def snapshot_tree(root: Path) -> dict[str, str]:
    """Every file under root, by relative path, with the hash of its bytes."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def dataset(tmp_path: Path) -> Dataset:
    return Dataset.create(tmp_path / "ds")


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, str]]:
    return snapshot_tree


@pytest.fixture
def write_board() -> Callable[..., Path]:
    """write_board(path, seed, size=640, fmt=None) saves a synthetic board (grey JPEG/PNG)."""

    def write(path: Path, seed: int, size: int = BOARD, **save: object) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() in {".jpg", ".jpeg"}:
            save.setdefault("quality", 95)
        Image.fromarray(board_pixels(seed, size)).save(path, **save)
        return path

    return write


@pytest.fixture
def deeppcb_tree(tmp_path: Path, write_board: Callable[..., Path]) -> Callable[..., Path]:
    """deeppcb_tree({"00041000": ["10,10,40,40,1", ...]}, lists=True) builds a DeepPCB folder.

    Boards go in PCBData/group00041/00041/<id>_test.jpg (+ _temp.jpg), annotations in
    PCBData/group00041/00041_not/<id>.txt, and, with lists, PCBData/trainval.txt names them
    the way the real list does (<id>.jpg, not <id>_test.jpg). Returns the top folder.
    """

    def make(boards: dict[str, list[str]], lists: bool = True,
             root: Path | None = None) -> Path:
        root = root or tmp_path / "deeppcb"
        lines = []
        for n, (stem, notes_lines) in enumerate(boards.items()):
            group = stem[:5]
            images = root / "PCBData" / f"group{group}" / group
            notes = root / "PCBData" / f"group{group}" / f"{group}_not"
            write_board(images / f"{stem}_test.jpg", seed=100 + n)
            write_board(images / f"{stem}_temp.jpg", seed=900 + n)
            notes.mkdir(parents=True, exist_ok=True)
            (notes / f"{stem}.txt").write_text("\n".join(notes_lines) + "\n", encoding="utf-8")
            lines.append(f"group{group}/{group}/{stem}.jpg group{group}/{group}_not/{stem}.txt")
        if lists:
            (root / "PCBData").mkdir(parents=True, exist_ok=True)
            (root / "PCBData" / "trainval.txt").write_text("\n".join(lines) + "\n")
        return root

    return make


VOC_TEMPLATE = """<annotation>
  <folder>{folder}</folder>
  <filename>{filename}</filename>
  <size><width>{width}</width><height>{height}</height><depth>3</depth></size>
{objects}
</annotation>
"""
VOC_OBJECT = """  <object><name>{name}</name><difficult>0</difficult>
    <bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox>
  </object>"""


def make_voc_xml(filename: str, objects: list[tuple[str, int, int, int, int]],
                 size: tuple[int, int] = (BOARD, BOARD), folder: str = "images") -> str:
    body = "\n".join(VOC_OBJECT.format(name=name, x1=x1, y1=y1, x2=x2, y2=y2)
                     for name, x1, y1, x2, y2 in objects)
    return VOC_TEMPLATE.format(folder=folder, filename=filename, width=size[0],
                               height=size[1], objects=body)


@pytest.fixture
def voc_xml() -> Callable[..., str]:
    """voc_xml(filename, [(name, x1, y1, x2, y2), ...], size=(640, 640)) -> the XML text."""
    return make_voc_xml


@pytest.fixture
def voc_tree(tmp_path: Path, write_board: Callable[..., Path]) -> Callable[..., Path]:
    """voc_tree({"Short/01_short_01": [("short", x1, y1, x2, y2), ...]}) builds a PKU-like tree:
    Annotations/<key>.xml and images/<key>.jpg. Returns the top folder."""

    def make(boards: dict[str, list[tuple[str, int, int, int, int]]],
             root: Path | None = None) -> Path:
        root = root or tmp_path / "voc"
        for n, (key, objects) in enumerate(boards.items()):
            image = write_board(root / "images" / f"{key}.jpg", seed=300 + n)
            xml = root / "Annotations" / f"{key}.xml"
            xml.parent.mkdir(parents=True, exist_ok=True)
            xml.write_text(make_voc_xml(image.name, objects), encoding="utf-8")
        return root

    return make
