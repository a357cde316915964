from __future__ import annotations

import json
from collections import Counter

import pytest

from inspector.config import DatasetConfig, SplitConfig
from inspector.core.data.dataset import Dataset
from inspector.core.data.split import SPLITS, SplitManifest
from inspector.core.errors import DatasetError

RATIOS = {"train": 0.7, "val": 0.15, "test": 0.15}


def _hashes(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:06d}" for i in range(n)]


def test_each_class_is_split_in_the_configured_proportions():
    manifest = SplitManifest(ratios=RATIOS)
    manifest.assign({"ok": _hashes("a", 200), "short": _hashes("b", 40)})
    for prefix, n in (("a", 200), ("b", 40)):
        counts = Counter(manifest.split_of(h) for h in _hashes(prefix, n))
        for split in SPLITS:
            assert abs(counts[split] - RATIOS[split] * n) <= 1


def test_small_classes_still_reach_val_and_test():
    manifest = SplitManifest(ratios=RATIOS)
    manifest.assign({"rare": _hashes("r", 7)})
    counts = Counter(manifest.assignments.values())
    assert counts["val"] >= 1
    assert counts["test"] >= 1


def test_assignment_does_not_depend_on_listing_order():
    one, two = SplitManifest(ratios=RATIOS), SplitManifest(ratios=RATIOS)
    items = _hashes("x", 50)
    one.assign({"c": items})
    two.assign({"c": list(reversed(items))})
    assert one.assignments == two.assignments


def test_adding_never_moves_an_assigned_image():
    manifest = SplitManifest(ratios=RATIOS)
    manifest.assign({"c": _hashes("x", 30)})
    before = dict(manifest.assignments)
    manifest.assign({"c": _hashes("x", 30) + _hashes("y", 100)})
    assert all(manifest.assignments[h] == s for h, s in before.items())


def test_damaged_manifest_gives_a_clear_error(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text("{ not json")
    with pytest.raises(DatasetError, match="damaged"):
        SplitManifest.load(path)
    path.write_text(json.dumps({"ratios": RATIOS, "assignments": {"h": "holdout"}}))
    with pytest.raises(DatasetError, match="unknown splits"):
        SplitManifest.load(path)


def test_adding_100_images_to_a_split_dataset_moves_no_earlier_image(tmp_path, class_tree,
                                                                     make_image):
    root = class_tree({"ok": 40, "short": 20, "open": 10}, root=tmp_path / "ds")
    dataset = Dataset.create(root)
    dataset.split()
    records, _ = dataset.records()
    before = {r.path.name: dataset.manifest().split_of(r.hash) for r in records}
    assert None not in before.values()

    sources = [make_image(tmp_path / "new" / f"n{i}.png", seed=5000 + i) for i in range(100)]
    report = dataset.add_images("short", sources[:50])
    report.merge(dataset.add_images("ok", sources[50:]))
    assert len(report.added) == 100

    manifest = dataset.manifest()
    records, _ = dataset.records()
    after = {r.path.name: manifest.split_of(r.hash) for r in records}
    assert len(after) == len(before) + 100
    assert all(after[name] == split for name, split in before.items())
    assert None not in after.values()  # the new images got a split on arrival


def test_duplicates_share_a_split_even_across_classes(tmp_path, class_tree):
    root = class_tree({"ok": 30, "short": 30}, root=tmp_path / "ds")
    for i, path in enumerate(sorted((root / "ok").iterdir())[:10]):
        (root / "short" / f"copy{i}.png").write_bytes(path.read_bytes())
        (root / "ok" / f"copy{i}.png").write_bytes(path.read_bytes())
    dataset = Dataset.create(root)
    dataset.split()
    manifest = dataset.manifest()
    by_hash: dict[str, set[str]] = {}
    for record in dataset.records()[0]:
        by_hash.setdefault(record.hash, set()).add(manifest.split_of(record.hash))
    assert all(len(splits) == 1 for splits in by_hash.values())


def test_relabel_keeps_the_split(tmp_path, class_tree):
    dataset = Dataset.create(class_tree({"ok": 20, "short": 20}, root=tmp_path / "ds"))
    dataset.split()
    manifest = dataset.manifest()
    moving = dataset.image_files("ok")[:5]
    splits = [manifest.split_of(r.hash) for r in dataset.records()[0] if r.path in moving]
    moved = dataset.relabel(moving, "short")
    manifest = dataset.manifest()
    assert [manifest.split_of(r.hash) for r in dataset.records()[0] if r.path in moved] == splits


def test_reset_redoes_assignments_with_new_ratios(tmp_path, class_tree):
    root = class_tree({"ok": 40}, root=tmp_path / "ds")
    Dataset.create(root).split()
    config = DatasetConfig(split=SplitConfig(train=0.5, val=0.25, test=0.25))
    dataset = Dataset(root, config)
    dataset.split()
    assert Counter(dataset.manifest().assignments.values())["train"] == 28  # kept
    dataset.split(reset=True)
    counts = Counter(dataset.manifest().assignments.values())
    assert counts == {"train": 20, "val": 10, "test": 10}
