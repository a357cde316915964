"""Speed of the augmentation pipelines on one core, with a reference measured in the same run.

    .venv/bin/python bench/bench_augment.py [--seconds 1.5]

For a 128x128 patch at input 128 and a 640x640 image at input 224, prints samples/s of the
train pipeline (default AugmentConfig), of the train pipeline reseeded before every sample (as
the trainer does), of the eval pipeline, and of `cv2.resize` alone of the same image (the
reference), plus the cost of one `set_random_seed` call. One OpenCV thread: DataLoader workers
are processes. Takes about 20 s with the default budget.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import inspector  # noqa: F401  (sets NO_ALBUMENTATIONS_UPDATE before albumentations loads)
from inspector.config import AugmentConfig
from inspector.core.data.augment import eval_pipeline, train_pipeline
from inspector.core.data.synthetic import SyntheticPCB


def rate(step: Callable[[int], object], seconds: float) -> float:
    """Calls per second of step(i), i = 0, 1, ..., run for about `seconds` after a warm-up."""
    for i in range(5):
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
    args = parser.parse_args()
    cv2.setNumThreads(1)
    seconds = args.seconds
    config = AugmentConfig()
    print(f"OpenCV {cv2.__version__}, 1 thread; default AugmentConfig")
    for side, input_size in ((128, 128), (640, 224)):
        image = SyntheticPCB(seed=0).patch("short", side)
        train = train_pipeline(config, input_size, seed=0)
        reseeded = train_pipeline(config, input_size, seed=0)
        evaluate = eval_pipeline(input_size)
        interpolation = cv2.INTER_AREA if side > input_size else cv2.INTER_LINEAR

        def reseed_and_run(i: int, pipe: object = reseeded, img: np.ndarray = image) -> object:
            pipe.set_random_seed(i)
            return pipe(image=img)

        ref = rate(lambda i, img=image, s=input_size, it=interpolation:
                   cv2.resize(img, (s, s), interpolation=it), seconds)
        seed_only = rate(lambda i, pipe=reseeded: pipe.set_random_seed(i), seconds)
        train_rate = rate(lambda i, pipe=train, img=image: pipe(image=img), seconds)
        reseed_rate = rate(reseed_and_run, seconds)
        eval_rate = rate(lambda i, pipe=evaluate, img=image: pipe(image=img), seconds)
        print(f"{side}x{side} -> {input_size}:")
        print(f"  reference cv2.resize alone     {ref:8.0f} /s  ({1e6 / ref:7.1f} us)")
        print(f"  eval pipeline                  {eval_rate:8.0f} /s  ({1e6 / eval_rate:7.1f} us)"
              f"  {ref / eval_rate:5.1f} x reference time")
        print(f"  train pipeline                 {train_rate:8.0f} /s  "
              f"({1e6 / train_rate:7.1f} us)  {ref / train_rate:5.1f} x reference time")
        print(f"  train, set_random_seed each    {reseed_rate:8.0f} /s  "
              f"({1e6 / reseed_rate:7.1f} us)")
        print(f"  set_random_seed alone          {seed_only:8.0f} /s  ({1e6 / seed_only:7.1f} us,"
              f" {100 * train_rate / seed_only:4.1f} % of a train sample)")


if __name__ == "__main__":
    main()
