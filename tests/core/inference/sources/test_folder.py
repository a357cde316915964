"""Image folders: name order, skipped files, grey and 16-bit images, mixed sizes, looping."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inspector.core.inference.sources import Frame, FrameSource, SourceState, open_source
from inspector.core.inference.sources.folder import natural_key

from .conftest import StateLog


def take_all(source: FrameSource, limit: int = 1000) -> list[Frame]:
    frames: list[Frame] = []
    while len(frames) < limit and (frame := source.read(timeout=3.0)) is not None:
        frames.append(frame)
    return frames


def save(path: Path, value: int, size: tuple[int, int] = (40, 30)) -> Path:
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "shots"
    root.mkdir()
    for i in (1, 2, 10, 3):  # natural order: 1, 2, 3, 10
        save(root / f"img{i}.png", i * 10)
    (root / "img5.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")  # unreadable
    (root / "notes.txt").write_text("not an image")
    (root / "sub.png").mkdir()  # a folder with an image name
    return root


def test_images_in_name_order_unreadable_skipped_then_ended(
        folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    log = StateLog()
    with caplog.at_level(logging.WARNING), open_source(str(folder), on_state=log) as source:
        frames = take_all(source)
        assert source.state == SourceState.ENDED
        stats = source.stats
    assert [int(f.image[0, 0, 0]) for f in frames] == [10, 20, 30, 100]
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert stats.frames_dropped == 0 and stats.frames_read == 4
    assert "img5.png" in caplog.text
    assert source.error is not None and "img5.png" in source.error
    assert log.states == [SourceState.CONNECTING, SourceState.CONNECTED, SourceState.ENDED]


def test_natural_order() -> None:
    names = ["b10.png", "a2.png", "b9.png", "A1.png", "b10a.png"]
    order = sorted((Path(n) for n in names), key=natural_key)
    assert [p.name for p in order] == ["A1.png", "a2.png", "b9.png", "b10.png", "b10a.png"]


def test_grey_and_16_bit_images_come_out_rgb_uint8(
        tmp_path: Path, make_image: Callable[..., Path]) -> None:
    root = tmp_path / "modes"
    make_image(root / "a_grey.png", size=(32, 24), mode="L")
    make_image(root / "b_deep.png", size=(32, 24), mode="I;16")
    make_image(root / "c_alpha.png", size=(32, 24), mode="RGBA")
    make_image(root / "d_deep.tif", size=(32, 24), mode="I;16")
    with open_source(str(root)) as source:
        frames = take_all(source)
    assert len(frames) == 4
    for frame in frames:
        assert frame.image.shape == (24, 32, 3) and frame.image.dtype == np.uint8
        assert frame.image.flags.c_contiguous
    grey = frames[0].image
    assert (grey[:, :, 0] == grey[:, :, 1]).all() and (grey[:, :, 1] == grey[:, :, 2]).all()
    assert frames[1].image.max() > 128  # scaled from 16 bits, not clipped to white or black


def test_sizes_may_change_between_frames(tmp_path: Path) -> None:
    root = tmp_path / "sizes"
    root.mkdir()
    save(root / "1.png", 10, (64, 48))
    save(root / "2.png", 20, (33, 77))
    save(root / "3.png", 30, (640, 480))
    with open_source(str(root)) as source:
        shapes = [f.image.shape for f in take_all(source)]
    assert shapes == [(48, 64, 3), (77, 33, 3), (480, 640, 3)]


def test_loop(tmp_path: Path) -> None:
    root = tmp_path / "two"
    root.mkdir()
    save(root / "1.png", 1)
    save(root / "2.png", 2)
    with open_source(str(root), loop=True) as source:
        frames = take_all(source, limit=7)
        assert source.state == SourceState.CONNECTED
    assert [int(f.image[0, 0, 0]) for f in frames] == [1, 2, 1, 2, 1, 2, 1]
    assert [f.index for f in frames] == list(range(7))


def test_empty_and_unreadable_folders_fail(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with open_source(str(empty)) as source:
        assert source.read(3.0) is None
    assert source.state == SourceState.FAILED and "no images" in (source.error or "")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_bytes(b"")
    with open_source(str(bad), loop=True) as source:
        assert source.read(3.0) is None
    assert source.state == SourceState.FAILED and "x.png" in (source.error or "")


def test_realtime_paces_at_fps(tmp_path: Path) -> None:
    root = tmp_path / "paced"
    root.mkdir()
    for i in range(5):
        save(root / f"{i}.png", i)
    with open_source(str(root), realtime=True, fps=40.0) as source:
        start = time.monotonic()
        frames = take_all(source)
        elapsed = time.monotonic() - start
    assert len(frames) == 5 and 0.08 < elapsed < 1.0
