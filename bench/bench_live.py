"""The live loop: frames/s of the whole loop next to the bare forward pass, per backend.

Whole loop = frame from the source, preprocessing, inference, Grad-CAM, verdict, overlay and
handing the result to the results store. Reference, measured in the same run: the backend's
bare forward pass on an already preprocessed 224x224 batch of 1. Then resident memory over
a longer run (--soak N frames) of the fastest backend.

    .venv/bin/python bench/bench_live.py [--frames 150] [--soak 2000] [--rounds 3]
        [--backends torch onnx onnx-int8]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from inspector.config import LiveConfig, VerdictConfig
from inspector.core.inference.live import LiveInspector
from inspector.core.inference.predictor import Predictor
from inspector.core.inference.sources import open_source
from inspector.core.inference.verdict import VerdictPolicy
from inspector.core.results import ResultsStore
from inspector.core.training.checkpoint import save_untrained_model

CLASSES = ["missing_hole", "mousebite", "ok", "open", "pin_hole", "short", "spur",
           "spurious_copper"]


def _checkpoint(folder: Path) -> Path:
    path = folder / "best.safetensors"
    save_untrained_model(path, CLASSES, 224)
    return path


def _rss_mb() -> float:
    with Path("/proc/self/statm").open() as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def _bare(predictor: Predictor, frames: int) -> float:
    batch = predictor.preprocess([np.zeros((224, 224, 3), np.uint8)])
    for _ in range(5):
        predictor.backend.run(batch)
    start = time.perf_counter()
    for _ in range(frames):
        predictor.backend.run(batch)
    return frames / (time.perf_counter() - start)


def _loop(predictor: Predictor, frames: int, folder: Path, report_memory: bool = False) -> float:
    policy = VerdictPolicy(predictor.classes, VerdictConfig(ood_method="energy"))
    with ResultsStore(folder / "results.sqlite") as store, \
            open_source("virtual:9", mode="patch", size=224, realtime=False) as source:
        inspector = LiveInspector(predictor, policy, source, LiveConfig(), store)
        inspector.run(max_frames=5)  # warm up
        if not report_memory:
            summary = inspector.run(max_frames=frames)
            return summary.fps
        samples = []
        done = 0
        start = time.perf_counter()
        while done < frames:
            done += inspector.run(max_frames=min(500, frames - done)).frames
            samples.append((done, _rss_mb()))
        rate = done / (time.perf_counter() - start)
        print("  resident memory (frames, MB): "
              + ", ".join(f"{n}: {mb:.0f}" for n, mb in samples))
        growth = samples[-1][1] - samples[0][1]
        print(f"  growth after the first 500 frames: {growth:+.0f} MB (target within 50 MB); "
              f"{rate:.1f} frames/s")
        return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--soak", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx", "onnx-int8"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        checkpoint = _checkpoint(folder)
        if any(b.startswith("onnx") for b in args.backends):
            from inspector.core.inference.export import export_onnx

            onnx_path = export_onnx(checkpoint)
            if "onnx-int8" in args.backends:
                from inspector.core.data.synthetic import SyntheticPCB
                from inspector.core.inference.quantize import quantize_int8

                predictor = Predictor.from_checkpoint(checkpoint, "cpu")
                mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1) * 255
                std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1) * 255
                generator = SyntheticPCB(seed=1)
                images = [generator.patch(label, 224, index=i)
                          for i in range(4) for label in CLASSES]
                batch = (predictor.preprocess(images).astype(np.float32) - mean) / std
                quantize_int8(onnx_path, [batch[i:i + 8] for i in range(0, len(batch), 8)])
        rates = {}
        print(f"224x224, batch 1, {torch.get_num_threads()} threads; whole loop = source + "
              "preprocess + inference + Grad-CAM + verdict + overlay + store")
        for backend in args.backends:
            predictor = Predictor.from_checkpoint(checkpoint, "cpu", backend)
            # Alternate rounds and take medians: on a loaded machine a slow spell then hits
            # both figures instead of one, so the ratio stays trustworthy.
            bares, wholes = [], []
            for _ in range(args.rounds):
                bares.append(_bare(predictor, args.frames))
                wholes.append(_loop(predictor, args.frames, folder))
            bare, whole = statistics.median(bares), statistics.median(wholes)
            rates[backend] = (bare, whole)
            print(f"{backend:10s} bare forward {bare:6.1f} frames/s ({1000 / bare:5.1f} ms)   "
                  f"whole loop {whole:6.1f} frames/s ({1000 / whole:5.1f} ms)   "
                  f"ratio {whole / bare:.2f} (target >= 0.9)")
        if "torch" in rates and "onnx" in rates:
            print(f"ONNX fp32 / torch eager (bare): {rates['onnx'][0] / rates['torch'][0]:.2f}x "
                  "(target >= 1.7x)")
        if "onnx" in rates and "onnx-int8" in rates:
            print(f"INT8 / ONNX fp32 (bare): {rates['onnx-int8'][0] / rates['onnx'][0]:.2f}x "
                  "(target >= 2.5x)")
        if args.soak:
            fastest = max(rates, key=lambda b: rates[b][1])
            print(f"soak: {args.soak} frames on {fastest}")
            _loop(Predictor.from_checkpoint(checkpoint, "cpu", fastest), args.soak, folder,
                  report_memory=True)


if __name__ == "__main__":
    main()
