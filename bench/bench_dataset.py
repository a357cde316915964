"""Dataset scanning speed: hashing + header probe (records), the cached rescan, and validation.

Reference, measured in the same run: reading the same files' bytes (the I/O floor).
With DeepPCB (`--deeppcb PATH`), the real 640x640 scans are measured as well.

    .venv/bin/python bench/bench_dataset.py [--per-class 250]
        [--deeppcb ../shared/data/deeppcb-sample]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from inspector.core.data.dataset import Dataset
from inspector.core.data.synthetic import generate_patch_dataset
from inspector.core.data.validation import validate


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def measure(root: Path, label: str) -> None:
    files = sorted(p for p in root.rglob("*") if p.is_file() and ".inspector" not in p.parts)
    n = len(files)
    ref, _ = _timed(lambda: [p.read_bytes() for p in files])
    dataset = Dataset.create(root)
    cold, _ = _timed(dataset.records)
    warm, _ = _timed(lambda: Dataset(root).records())
    check, _ = _timed(lambda: validate(Dataset(root)))
    print(f"\n{label}: {n} files")
    print(f"  reference: read bytes        {n / ref:9.0f} files/s")
    print(f"  records (hash + probe), cold {n / cold:9.0f} files/s  ({ref / cold:.2f}x reference)")
    print(f"  records, cached rescan       {n / warm:9.0f} files/s  ({ref / warm:.2f}x reference)")
    print(f"  validate (full decode)       {n / check:9.0f} files/s  "
          f"({ref / check:.2f}x reference)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-class", type=int, default=250)
    parser.add_argument("--deeppcb", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "synthetic"
        generate_patch_dataset(root, per_class=args.per_class, seed=1)
        measure(root, "synthetic 128x128 PNG patches")
        if args.deeppcb:
            scans = Path(tmp) / "deeppcb"
            for kind in ("test", "temp"):
                (scans / kind).mkdir(parents=True)
                for path in sorted(args.deeppcb.rglob(f"*_{kind}.jpg")):
                    shutil.copy(path, scans / kind / path.name)
            measure(scans, "DeepPCB 640x640 JPEG scans")


if __name__ == "__main__":
    main()
