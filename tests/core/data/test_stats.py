from __future__ import annotations

import math

from inspector.core.data.dataset import Dataset
from inspector.core.data.stats import compute_stats


def test_counts_per_class_and_split_sizes_and_imbalance(tmp_path, class_tree, make_image):
    root = class_tree({"ok": 40, "short": 10}, root=tmp_path / "ds")
    make_image(root / "short" / "wide.png", size=(64, 24), seed=555)
    dataset = Dataset.create(root)
    stats = compute_stats(dataset)
    assert stats.class_totals == {"ok": 40, "short": 11}
    assert stats.split_totals["unassigned"] == 51
    dataset.split()
    stats = compute_stats(dataset)
    assert stats.split_totals["unassigned"] == 0
    assert stats.counts["ok"] == {"train": 28, "val": 6, "test": 6, "unassigned": 0}
    assert stats.imbalance_ratio == 40 / 11
    assert stats.sizes.max_width == 64
    assert stats.sizes.common[0] == ((24, 24), 50)


def test_an_empty_class_makes_imbalance_infinite(tmp_path, class_tree):
    root = class_tree({"ok": 3}, root=tmp_path / "ds")
    (root / "new_defect").mkdir()
    assert math.isinf(compute_stats(Dataset(root)).imbalance_ratio)
