"""Frames per second of the frame sources, with references measured in the same run.

    .venv/bin/python bench/bench_sources.py [--frames 300] [--width 640 --height 480]

- virtual camera (realtime=False, drop=False: every frame made is taken) in board mode at
  width x height and in patch mode at 224x224, beside its renderer's frame(i) called directly
  (no thread, no buffer): the difference is the source's own overhead;
- a video file (MJPG .avi of `frames` frames, written from virtual-camera frames) read through
  VideoFileSource, beside cv2.VideoCapture.read alone on the same file (the reference), and
  read + the BGR->RGB conversion every Frame needs.

Each figure is the best of 3 runs (the machine may be shared). About 20 s at the defaults.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspector.core.inference.sources import FrameSource, VirtualCamera, open_source


def timed(run: Callable[[], int], repeats: int = 1) -> float:
    """Items per second of run() (which returns how many items it made), best of `repeats`:
    the machine may be shared, and the best run is the least disturbed one."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        n = run()
        best = max(best, n / (time.perf_counter() - start))
    return best


def drain(source: FrameSource, limit: int) -> int:
    """Take up to `limit` frames from a started source; the number taken."""
    n = 0
    while n < limit and source.read(timeout=10.0) is not None:
        n += 1
    return n


REPEATS = 3


def through_source(spec: str, limit: int, **options: object) -> float:
    def run() -> int:
        source = open_source(spec, realtime=False, drop=False, **options)
        with source:
            n = drain(source, limit)
            assert source.stats.frames_dropped == 0
        return n

    run()  # imports, noise textures
    return timed(run, REPEATS)


def direct(spec: str, limit: int, **options: object) -> float:
    camera = open_source(spec, **options)
    assert isinstance(camera, VirtualCamera)

    def run() -> int:
        maker = camera.renderer()
        return sum(1 for i in range(limit) if maker.frame(i))

    run()
    return timed(run, REPEATS)


def write_clip(path: Path, n: int, width: int, height: int) -> None:
    camera = open_source("virtual:11", width=width, height=height)
    assert isinstance(camera, VirtualCamera)
    maker = camera.renderer()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (width, height))
    for i in range(n):
        writer.write(cv2.cvtColor(maker.frame(i)[0], cv2.COLOR_RGB2BGR))
    writer.release()


def opencv_alone(path: Path, convert: bool = False) -> int:
    cap = cv2.VideoCapture(str(path))
    n = 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        if convert:
            cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        n += 1
    cap.release()
    return n


def through_video_source(path: Path, limit: int) -> int:
    with open_source(str(path)) as source:
        n = drain(source, limit)
        assert source.stats.frames_read == n and source.stats.frames_dropped == 0
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=300, help="frames per measurement")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args()
    n, w, h = args.frames, args.width, args.height
    size = dict(width=w, height=h)

    board = through_source("virtual:3", n, **size)
    board_ref = direct("virtual:3", n, **size)
    print(f"virtual camera, boards {w}x{h}:  {board:7.1f} frames/s through the source; "
          f"renderer alone {board_ref:7.1f} frames/s ({board / board_ref:4.2f} x)")
    patch = through_source("virtual:3", n, mode="patch", size=224)
    patch_ref = direct("virtual:3", n, mode="patch", size=224)
    print(f"virtual camera, patches 224x224: {patch:7.1f} frames/s through the source; "
          f"renderer alone {patch_ref:7.1f} frames/s ({patch / patch_ref:4.2f} x)")

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.avi"
        write_clip(clip, n, w, h)
        opencv_alone(clip)  # warms the file cache
        reference = timed(lambda: opencv_alone(clip), REPEATS)
        converted = timed(lambda: opencv_alone(clip, convert=True), REPEATS)
        video = timed(lambda: through_video_source(clip, n), REPEATS)
        print(f"video file, MJPG {w}x{h}, {n} frames: {video:7.1f} frames/s through "
              f"VideoFileSource; reference cv2.VideoCapture.read alone {reference:7.1f} "
              f"frames/s ({video / reference:4.2f} x); read + BGR->RGB alone "
              f"{converted:7.1f} frames/s")


if __name__ == "__main__":
    main()
