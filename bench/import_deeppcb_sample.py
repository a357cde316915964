"""Import the DeepPCB sample into a temporary dataset and check one patch per annotation line.

    .venv/bin/python bench/import_deeppcb_sample.py [PATH_TO_DEEPPCB] [--keep DIR]

Prints the patches per class, annotation lines against defect patches made (they must be
equal), the defect-free patches, anything skipped or noted, and the time taken. The source is
only read. Exit status 1 when the counts disagree.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from inspector.config import ImportConfig
from inspector.core.data.dataset import Dataset
from inspector.core.data.importers import import_dataset
from inspector.core.data.importers.deeppcb import DEFECT_TYPES

DEFAULT_SOURCE = Path("/work/shared/data/deeppcb-sample")


def count_annotation_lines(source: Path) -> tuple[int, Counter[str]]:
    """Non-blank lines of every annotation file, and how many of each defect type."""
    lines = 0
    kinds: Counter[str] = Counter()
    for notes in source.rglob("*_not/*.txt"):
        for line in notes.read_text(encoding="utf-8").splitlines():
            fields = [f for f in re.split(r"[\s,]+", line.strip()) if f]
            if fields:
                lines += 1
                kinds[DEFECT_TYPES.get(int(fields[-1]), f"type {fields[-1]}")] += 1
    return lines, kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--keep", type=Path, help="import into this folder and keep it")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    config = ImportConfig()
    lines, kinds = count_annotation_lines(args.source)
    with tempfile.TemporaryDirectory(prefix="deeppcb-import-") as tmp:
        root = args.keep or Path(tmp) / "dataset"
        dataset = Dataset.create(root)
        start = time.perf_counter()
        report = import_dataset("deeppcb", args.source, dataset, config)
        elapsed = time.perf_counter() - start
        on_disk = {label: len(dataset.image_files(label)) for label in dataset.classes()}

    ok_label = config.ok_label
    defect_patches = sum(n for label, n in report.counts.items() if label != ok_label)
    boards = sum(1 for _ in args.source.rglob("*_test.jpg"))
    print(f"source: {args.source} ({boards} boards)")
    print(f"settings: context {config.context}, min_patch {config.min_patch}, "
          f"ok_per_image {config.ok_per_image}, seed {config.seed}")
    print(f"{'class':<16}{'annotated':>10}{'patches':>10}{'on disk':>10}")
    for label in sorted(set(report.counts) | set(kinds)):
        print(f"{label:<16}{kinds.get(label, 0):>10}{report.counts.get(label, 0):>10}"
              f"{on_disk.get(label, 0):>10}")
    print(f"annotation lines: {lines}; defect patches made: {defect_patches}"
          f" -> {'EQUAL' if lines == defect_patches else 'DIFFERENT'}")
    print(f"ok patches: {report.counts.get(ok_label, 0)} "
          f"(asked {config.ok_per_image * boards})")
    print(f"duplicates: {len(report.add.duplicates)}, refused: {len(report.add.failed)}, "
          f"skipped: {len(report.skipped)}, notes: {len(report.notes)}")
    for item, reason in [*report.skipped, *report.notes][:10]:
        print(f"  {item}: {reason}")
    print(f"time: {elapsed:.2f} s ({elapsed / max(boards, 1) * 1000:.1f} ms a board, "
          f"{report.added / max(elapsed, 1e-9):.0f} patches/s)")
    print(report.summary())
    return 0 if lines == defect_patches else 1


if __name__ == "__main__":
    sys.exit(main())
