"""The split manifest: which images are train, val and test, kept stable as the dataset grows.

Images are keyed by content hash, so
- exact duplicates always share a split (no leakage between train and test),
- relabelling or renaming a file never moves it to another split,
- an assignment, once made, is never changed by adding images (only an explicit reset does).

New images of a class are taken in the order of their hash and each goes to the split that is
furthest below its target share for that class (stratified, deterministic for a given set).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from inspector.core.atomic import atomic_write_json
from inspector.core.errors import DatasetError

log = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = ("train", "val", "test")
MANIFEST_VERSION = 1


@dataclass
class SplitManifest:
    ratios: dict[str, float]
    assignments: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> SplitManifest | None:
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            ratios = {split: float(data["ratios"][split]) for split in SPLITS}
            assignments = {str(h): str(s) for h, s in data["assignments"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DatasetError(
                f"The split manifest {path} is damaged ({exc}). Move it away and run "
                "`inspector dataset split` to make a new one (images may change split)."
            ) from None
        bad = {s for s in assignments.values() if s not in SPLITS}
        if bad:
            raise DatasetError(f"The split manifest {path} names unknown splits: {sorted(bad)}.")
        return cls(ratios=ratios, assignments=assignments)

    def save(self, path: Path) -> None:
        atomic_write_json(
            path,
            {"version": MANIFEST_VERSION, "ratios": self.ratios, "assignments": self.assignments},
        )

    def split_of(self, content_hash: str) -> str | None:
        return self.assignments.get(content_hash)

    def assign(self, hashes_by_class: Mapping[str, Sequence[str]]) -> int:
        """Give a split to every hash that has none; returns how many were assigned."""
        assigned = 0
        for label in sorted(hashes_by_class):
            unique = sorted(set(hashes_by_class[label]))
            counts = Counter(self.assignments[h] for h in unique if h in self.assignments)
            total = sum(counts.values())
            for content_hash in unique:
                if content_hash in self.assignments:
                    continue
                total += 1
                split = max(SPLITS, key=lambda s: self.ratios[s] * total - counts[s])
                self.assignments[content_hash] = split
                counts[split] += 1
                assigned += 1
        if assigned:
            log.debug("assigned %d new images to splits", assigned)
        return assigned
