"""Soak: live inspection of a looping video for many frames; memory, open files, frame errors.

Runs the whole live loop (video source with loop, preprocessing, inference, Grad-CAM, verdict,
overlay, results store writing rows and FAIL/REVIEW snapshots) for --frames frames and samples
the process's resident memory (from /proc, current, not the peak) and open file descriptors
every --every frames. Reference, measured in the same run: the bare forward pass of the same
model on one preprocessed frame. Prints the samples, the drift between the first sample after
warm-up and the last, and every frame error the source reported.

    .venv/bin/python bench/bench_soak.py [--frames 20000] [--size 64] [--every 1000]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

from inspector.config import LiveConfig, ResultsConfig, SourceConfig
from inspector.core.inference.live import LiveInspector
from inspector.core.inference.predictor import Predictor
from inspector.core.inference.sources import open_source
from inspector.core.inference.verdict import VerdictPolicy
from inspector.core.results import ResultsStore
from inspector.core.training.checkpoint import save_untrained_model

CLASSES = ["missing_hole", "ok", "short"]


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def open_files() -> int:
    return sum(1 for _ in Path("/proc/self/fd").iterdir())


def video(path: Path, frames: int = 100) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (320, 240))
    rng = np.random.default_rng(0)
    for i in range(frames):
        frame = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
        frame[:, (i * 3) % 320] = 255
        writer.write(frame)
    writer.release()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=64, help="model input size")
    parser.add_argument("--every", type=int, default=1000)
    args = parser.parse_args()
    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                errors.append(record.getMessage())

    logging.getLogger("inspector").addHandler(Collect())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        save_untrained_model(root / "best.safetensors", CLASSES, args.size)
        predictor = Predictor.from_checkpoint(root / "best.safetensors", "cpu", "torch")
        x = torch.zeros(1, 3, args.size, args.size)
        model = predictor.backend.model if hasattr(predictor.backend, "model") else None
        reference = float("nan")
        if model is not None:
            with torch.no_grad():
                for _ in range(5):
                    model(x)
                t0 = time.perf_counter()
                for _ in range(50):
                    model(x)
                reference = (time.perf_counter() - t0) / 50 * 1000
        policy = VerdictPolicy(predictor.classes, LiveConfig().verdict, {}, 1.0)
        source = open_source(SourceConfig(spec=str(video(root / "loop.avi")), loop=True),
                             drop=False)
        samples: list[tuple[int, float, int, float]] = []
        started = time.perf_counter()

        def on_result(result) -> None:
            n = result.index + 1
            if n % args.every == 0:
                samples.append((n, rss_mb(), open_files(), time.perf_counter() - started))
                print(f"frame {n:>6}: RSS {samples[-1][1]:7.1f} MB, open files "
                      f"{samples[-1][2]:3d}, {n / samples[-1][3]:6.1f} FPS", flush=True)

        store = ResultsStore(root / "results.sqlite", ResultsConfig(save_frames="fail_review"))
        with source:
            summary = LiveInspector(predictor, policy, source, LiveConfig(), store,
                                    on_result).run(threading.Event(), args.frames)
        store.flush()
        stats = store.stats
        rows = store.count()
        store.close()
    print()
    print(f"reference: bare forward pass at {args.size} px: {reference:.1f} ms/frame")
    print(f"loop: {summary.frames} frames in {summary.seconds:.0f} s = {summary.fps:.1f} FPS "
          f"({1000 / max(summary.fps, 1e-9):.1f} ms/frame, "
          f"{1000 / max(summary.fps, 1e-9) / reference:.2f}x the bare forward pass)")
    warm = samples[min(1, len(samples) - 1)]
    last = samples[-1]
    print(f"RSS {warm[1]:.1f} MB at frame {warm[0]} -> {last[1]:.1f} MB at frame {last[0]} "
          f"({last[1] - warm[1]:+.1f} MB); open files {warm[2]} -> {last[2]}")
    print(f"results stored: {rows} rows, {stats.snapshots_written} snapshots; failed rows "
          f"{stats.failed}, snapshot errors {stats.snapshot_errors}, images dropped from the "
          f"queue {stats.images_dropped}; last writer error: {stats.last_error or 'none'}")
    print(f"source end state: {summary.end_state}, error: {summary.error or 'none'}; "
          f"warnings logged: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))


if __name__ == "__main__":
    main()
