"""Dataset statistics: counts per class and split, image sizes, imbalance."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from inspector.core.data.dataset import Dataset, ImageRecord
from inspector.core.data.split import SPLITS

UNASSIGNED = "unassigned"


@dataclass
class SizeSummary:
    min_width: int = 0
    max_width: int = 0
    median_width: float = 0.0
    min_height: int = 0
    max_height: int = 0
    median_height: float = 0.0
    common: list[tuple[tuple[int, int], int]] = field(default_factory=list)


@dataclass
class DatasetStats:
    classes: list[str]
    counts: dict[str, dict[str, int]]  # class -> split (or "unassigned") -> images
    sizes: SizeSummary
    unreadable: int
    total_bytes: int

    @property
    def class_totals(self) -> dict[str, int]:
        return {label: sum(splits.values()) for label, splits in self.counts.items()}

    @property
    def split_totals(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for splits in self.counts.values():
            totals.update(splits)
        return {s: totals.get(s, 0) for s in (*SPLITS, UNASSIGNED)}

    @property
    def total(self) -> int:
        return sum(self.class_totals.values())

    @property
    def imbalance_ratio(self) -> float:
        """Largest class over smallest non-empty class (1.0 when balanced, inf with one empty)."""
        nonzero = [c for c in self.class_totals.values() if c > 0]
        if not nonzero:
            return 1.0
        if len(nonzero) < len(self.class_totals):
            return float("inf")
        return max(nonzero) / min(nonzero)


def compute_stats(dataset: Dataset, records: list[ImageRecord] | None = None) -> DatasetStats:
    errors: list = []
    if records is None:
        records, errors = dataset.records()
    manifest = dataset.manifest()
    classes = dataset.classes()
    counts: dict[str, dict[str, int]] = {
        label: dict.fromkeys((*SPLITS, UNASSIGNED), 0) for label in classes
    }
    for record in records:
        split = (manifest.split_of(record.hash) if manifest else None) or UNASSIGNED
        counts.setdefault(record.label, dict.fromkeys((*SPLITS, UNASSIGNED), 0))[split] += 1
    sizes = SizeSummary()
    if records:
        widths = np.array([r.width for r in records])
        heights = np.array([r.height for r in records])
        sizes = SizeSummary(
            int(widths.min()), int(widths.max()), float(np.median(widths)),
            int(heights.min()), int(heights.max()), float(np.median(heights)),
            Counter((r.width, r.height) for r in records).most_common(5),
        )
    return DatasetStats(classes, counts, sizes, len(errors), sum(r.size for r in records))
