"""The virtual camera: boards moving across the view with known defects, and patches."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from inspector.core.data.synthetic import DEFECT_CLASSES, PATCH_CLASSES
from inspector.core.inference.sources import Frame, SourceState, VirtualCamera, open_source


def frames_of(spec: str, n: int, **options: object) -> list[Frame]:
    with open_source(spec, realtime=False, drop=False, **options) as source:
        frames = [source.read(timeout=5.0) for _ in range(n)]
    assert all(f is not None for f in frames)
    return frames  # type: ignore[return-value]


@pytest.fixture(scope="module")
def belt() -> list[Frame]:
    """Three boards' worth of frames at 320x240 (boards cost less at that size)."""
    return frames_of("virtual:5", 90, width=320, height=240)


def test_same_seed_same_frames(belt: list[Frame]) -> None:
    again = frames_of("virtual:5", 40, width=320, height=240)
    for a, b in zip(belt[:40], again, strict=True):
        assert np.array_equal(a.image, b.image)
        assert a.truth == b.truth and a.boxes == b.boxes
    other = frames_of("virtual:6", 3, width=320, height=240)
    assert not np.array_equal(other[2].image, belt[2].image)


def test_frames_are_rgb_of_the_asked_size(belt: list[Frame]) -> None:
    for frame in belt:
        assert frame.image.shape == (240, 320, 3) and frame.image.dtype == np.uint8
        assert frame.image.flags.c_contiguous
    assert [f.index for f in belt] == list(range(90))
    assert belt[0].source == "virtual camera 5 (boards 320x240)"


def test_boxes_are_inside_the_frame_and_truth_matches_them(belt: list[Frame]) -> None:
    for frame in belt:
        for box in frame.boxes:
            assert 0 <= box.x1 < box.x2 <= 320 and 0 <= box.y1 < box.y2 <= 240
            assert box.label in DEFECT_CLASSES
        labels = tuple(box.label for box in frame.boxes)
        assert frame.truth == (labels or ("ok",))


def test_defects_and_clean_views_both_occur(belt: list[Frame]) -> None:
    truths = [f.truth for f in belt]
    assert ("ok",) in truths
    assert any(t != ("ok",) for t in truths)


def test_a_defect_moves_left_with_the_board(belt: list[Frame]) -> None:
    """The same defect in consecutive frames: same size, shifted left by the belt's step."""
    moves = []
    for a, b in itertools.pairwise(belt):
        for box in b.boxes:
            twins = [p for p in a.boxes if p.label == box.label and p.y1 == box.y1
                     and p.x2 - p.x1 == box.x2 - box.x1]
            if twins:
                moves.append(twins[0].x1 - box.x1)
    assert moves and all(8 <= m <= 15 for m in moves)  # (272 + 64) / 30 = 11.2 px a frame


def test_the_image_moves_with_the_belt(belt: list[Frame]) -> None:
    """Frame i+1 is frame i moved left by the step (inside one board, away from its edges)."""
    camera = open_source("virtual:5", width=320, height=240)
    assert isinstance(camera, VirtualCamera)
    maker = camera.renderer()
    step = maker.step  # type: ignore[union-attr]
    a, b = belt[10].image.astype(int), belt[11].image.astype(int)
    shift = round(11 * step) - round(10 * step)
    best = min(range(0, 25), key=lambda s: np.abs(a[60:180, 100 + s:200 + s]
                                                   - b[60:180, 100:200]).mean())
    assert best == shift


def test_random_access_renderer_matches_the_stream(belt: list[Frame]) -> None:
    camera = open_source("virtual:5", width=320, height=240)
    assert isinstance(camera, VirtualCamera)
    maker = camera.renderer()
    for i in (61, 3, 47):  # any order
        image, truth, boxes = maker.frame(i)
        assert np.array_equal(image, belt[i].image)
        assert truth == belt[i].truth and boxes == belt[i].boxes


def test_patch_mode() -> None:
    frames = frames_of("virtual:7", 24, mode="patch", size=64)
    labels = [f.truth[0] for f in frames if f.truth]
    assert len(labels) == 24 and set(labels) <= set(PATCH_CLASSES)
    assert "ok" in labels and len(set(labels)) >= 4
    for frame in frames:
        assert frame.image.shape == (64, 64, 3) and frame.boxes == ()
        assert frame.truth is not None and len(frame.truth) == 1
    again = frames_of("virtual:7", 5, mode="patch", size=64)
    assert all(np.array_equal(a.image, b.image) for a, b in zip(frames, again, strict=False))


def test_patch_mode_classes_and_hold() -> None:
    frames = frames_of("virtual:1", 12, mode="patch", size=48, hold=3,
                       classes=["short", "spur"], ok_fraction=0.0)
    labels = [f.truth[0] for f in frames if f.truth]
    assert set(labels) <= {"short", "spur"}
    assert all(labels[i] == labels[i - i % 3] for i in range(12))
    assert np.array_equal(frames[0].image, frames[2].image)
    assert frames[0].image is not frames[1].image


def test_only_some_classes_on_boards() -> None:
    frames = frames_of("virtual:2", 40, width=160, height=120, classes=["missing_hole"],
                       ok_fraction=0.0)
    seen = {box.label for frame in frames for box in frame.boxes}
    assert seen == {"missing_hole"}


def test_realtime_paces_at_fps_and_drops_for_a_slow_consumer() -> None:
    with open_source("virtual:3", width=160, height=120, fps=50.0) as source:
        start = time.monotonic()
        first = source.read(timeout=5.0)
        frames = []
        while time.monotonic() - start < 0.5:
            frame = source.read(timeout=1.0)
            assert frame is not None
            frames.append(frame)
            time.sleep(0.05)
        produced = source.stats.frames_read
        assert source.state == SourceState.CONNECTED
    assert first is not None
    assert 15 <= produced <= 35  # 50 fps for ~0.5 s
    indices = [f.index for f in frames]
    assert indices == sorted(indices) and max(np.diff(indices)) > 1
    assert source.stats.frames_dropped > 0
