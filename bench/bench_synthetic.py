"""Speed of the synthetic PCB generator on one core, with a reference measured in the same run.

    .venv/bin/python bench/bench_synthetic.py [--seconds 2.0]

Prints patches/s (generation alone and with PNG writing), boards/s at 640x480, for both
styles, and the rate of a trivial baseline (PNG-encoding a random 128x128 image) so that the
ratio stays meaningful on a slow or busy machine. Takes about 16 s with the default budget.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspector.core.data.synthetic import PATCH_CLASSES, SyntheticPCB
from inspector.core.data.synthetic.dataset import (
    encode_png,
    patch_file_name,
    write_atomic,
)


def rate(step: Callable[[int], object], seconds: float) -> float:
    """Calls per second of step(i), i = 0, 1, ..., run for about `seconds` after a warm-up."""
    for i in range(3):
        step(i)
    n, start = 0, time.perf_counter()
    while True:
        step(n)
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="time per measurement")
    parser.add_argument("--size", type=int, default=128, help="patch side in pixels")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where to write the PNGs (default: a temporary folder)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    seconds, size = args.seconds, args.size
    classes = PATCH_CLASSES

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        noise = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
        blob = noise.tobytes()[:28_000]  # about the size of a photo patch PNG
        ref_png = rate(lambda i: cv2.imencode(".png", noise), seconds)
        ref_write = rate(lambda i: write_atomic(folder / f"ref-{i % 500}.png", blob), seconds)
        print(f"reference  cv2.imencode('.png') of a random 128x128x3 image: {ref_png:7.0f} /s")
        print(f"reference  atomic write of 28 kB in {folder.parent}: {ref_write:7.0f} /s")
        for style in ("photo", "scan"):
            gen = SyntheticPCB(seed=1, style=style)
            gen.patch("ok", size)  # noise textures are made once per generator

            def make(i: int, gen: SyntheticPCB = gen) -> np.ndarray:
                return gen.patch(classes[i % len(classes)], size, i // len(classes))

            def encode(i: int, make: Callable[[int], np.ndarray] = make) -> bytes:
                return encode_png(make(i))

            def write(i: int, encode: Callable[[int], bytes] = encode) -> None:
                write_atomic(folder / patch_file_name(1, i % 500), encode(i))

            made, encoded, written = (rate(f, seconds) for f in (make, encode, write))
            boards = rate(lambda i, gen=gen: gen.board(640, 480, 3, index=i), seconds)
            print(f"{style:5s}  patches {size}x{size}: {made:5.0f} /s generated "
                  f"({made / ref_png:4.2f} x PNG reference); {encoded:5.0f} /s + PNG encoded "
                  f"({encoded / ref_png:4.2f} x); {written:5.0f} /s + PNG written atomically "
                  f"({written / ref_png:4.2f} x)")
            print(f"{style:5s}  boards 640x480 with 3 defects: {boards:5.1f} /s")


if __name__ == "__main__":
    main()
