"""Video files: every frame in order, the end, looping, a damaged file, pacing."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from inspector.core.inference.sources import Frame, FrameSource, SourceState, open_source

from .conftest import StateLog, number_of, write_video


def take_all(source: FrameSource, limit: int = 10_000, delay: float = 0.0) -> list[Frame]:
    frames: list[Frame] = []
    while len(frames) < limit:
        frame = source.read(timeout=3.0)
        if frame is None:
            break
        frames.append(frame)
        time.sleep(delay)
    return frames


def test_every_frame_in_order_then_ended(video: Path) -> None:
    log = StateLog()
    with open_source(str(video), on_state=log) as source:
        frames = take_all(source, delay=0.003)  # slower than the file: nothing may be lost
        assert source.state == SourceState.ENDED and source.error is None
        stats = source.stats
    assert [f.index for f in frames] == list(range(30))
    assert [number_of(f.image) for f in frames] == list(range(30))
    assert stats.frames_read == 30 and stats.frames_dropped == 0
    assert log.states == [SourceState.CONNECTING, SourceState.CONNECTED, SourceState.ENDED]
    image = frames[0].image
    assert image.dtype == np.uint8 and image.shape == (96, 160, 3)
    assert image.flags.c_contiguous
    assert frames[0].source == "video clip.avi" and frames[0].truth is None


def test_colours_come_out_rgb(tmp_path: Path) -> None:
    import cv2

    path = tmp_path / "red.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for _ in range(3):
        writer.write(np.full((48, 64, 3), (0, 0, 255), np.uint8))  # red, in BGR
    writer.release()
    with open_source(str(path)) as source:
        frame = source.read(3.0)
    assert frame is not None
    red, green, blue = frame.image.reshape(-1, 3).mean(axis=0)
    assert red > 200 and green < 60 and blue < 60


def test_loop_keeps_the_index_rising(tmp_path: Path) -> None:
    path = write_video(tmp_path / "short.avi", 7)
    with open_source(str(path), loop=True) as source:
        frames = take_all(source, limit=20)
        assert source.state == SourceState.CONNECTED
    assert [f.index for f in frames] == list(range(20))
    assert [number_of(f.image) for f in frames] == [i % 7 for i in range(20)]


def test_damaged_halfway_delivers_the_frames_before_and_says_where(tmp_path: Path) -> None:
    path = write_video(tmp_path / "whole.avi", 40)
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    with open_source(str(cut)) as source:
        frames = take_all(source)
        assert source.state == SourceState.ENDED
        error = source.error
    assert 10 <= len(frames) < 40
    assert [number_of(f.image) for f in frames] == list(range(len(frames)))
    assert error is not None
    assert f"frame {len(frames) + 1} of 40" in error and "cut.avi" in error


def test_overwritten_middle_is_reported(tmp_path: Path) -> None:
    path = write_video(tmp_path / "whole.avi", 40)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:] = np.random.default_rng(0).integers(0, 256, len(data) - middle,
                                                      np.uint8).tobytes()
    damaged = tmp_path / "noise.avi"
    damaged.write_bytes(bytes(data))
    with open_source(str(damaged), loop=True) as source:  # a damaged file stops a loop too
        frames = take_all(source, limit=200)
        assert source.state == SourceState.ENDED
    assert 0 < len(frames) < 40
    assert source.error is not None and "of 40" in source.error


def test_a_file_that_is_no_video_fails_without_raising(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("hello " * 200)
    log = StateLog()
    with open_source(str(path), on_state=log) as source:
        assert source.read(timeout=3.0) is None
        assert source.state == SourceState.FAILED
    assert "cannot open" in (source.error or "")
    assert log.states == [SourceState.CONNECTING, SourceState.FAILED]


def test_realtime_plays_at_the_file_rate(tmp_path: Path) -> None:
    path = write_video(tmp_path / "fast.avi", 11, fps=50.0)
    with open_source(str(path), realtime=True) as source:
        start = time.monotonic()
        frames = take_all(source)
        elapsed = time.monotonic() - start
    assert len(frames) == 11
    assert 0.17 < elapsed < 1.0  # 10 intervals of 20 ms


def test_realtime_with_drop_skips_for_a_slow_consumer(tmp_path: Path) -> None:
    path = write_video(tmp_path / "fast.avi", 40, fps=100.0)
    with open_source(str(path), realtime=True, drop=True) as source:
        frames = take_all(source, delay=0.05)
        stats = source.stats
    indices = [f.index for f in frames]
    assert indices == sorted(indices) and len(frames) < 40
    assert stats.frames_dropped > 0 and stats.frames_read == 40


def test_stop_in_the_middle_is_quick(video: Path) -> None:
    source = open_source(str(video), realtime=True, fps=2.0)
    source.start()
    assert source.read(3.0) is not None
    start = time.monotonic()
    source.stop()
    assert time.monotonic() - start < 1.0
    assert source.state == SourceState.STOPPED and not source.running
