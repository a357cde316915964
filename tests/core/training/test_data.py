from __future__ import annotations

import pytest
import torch

from inspector.core.data.dataset import Dataset
from inspector.core.errors import DatasetError
from inspector.core.training.data import EpochSampler, ImageDataset, collect_splits


def test_sampler_is_reproducible_and_resumes_mid_epoch():
    sampler = EpochSampler(50, seed=4)
    sampler.set_epoch(3)
    full = list(sampler)
    again = EpochSampler(50, seed=4)
    again.set_epoch(3)
    assert list(again) == full
    again.set_epoch(3, start=20)
    assert list(again) == full[20:]
    sampler.set_epoch(4)
    assert [i for i, _ in sampler] != [i for i, _ in full]


def test_ranks_share_the_epoch_without_overlap():
    shares = []
    for rank in range(2):
        sampler = EpochSampler(11, seed=1, rank=rank, world=2)
        sampler.set_epoch(0)
        shares.append([i for i, _ in sampler])
    assert len(shares[0]) == len(shares[1]) == 6
    assert set(shares[0]) | set(shares[1]) == set(range(11))


def test_weighted_sampler_draws_classes_about_equally():
    from inspector.core.models.losses import weighted_sample_weights

    labels = [0] * 90 + [1] * 10
    sampler = EpochSampler(100, seed=0, weights=weighted_sample_weights(labels))
    sampler.set_epoch(0)
    drawn = [labels[i] for i, _ in sampler]
    assert 30 <= sum(drawn) <= 70


def test_same_sample_seed_gives_the_same_augmented_image(tiny_data, tiny_config):
    splits = collect_splits(Dataset(tiny_data))
    data = ImageDataset(splits.items["train"], tiny_config.augment, 32, 10**8)
    first, label = data[(0, 123)]
    assert first.dtype == torch.uint8
    assert first.shape == (3, 32, 32)
    assert torch.equal(data[(0, 123)][0], first)
    assert not torch.equal(data[(0, 124)][0], first)
    assert label == splits.items["train"][0][1]


def test_collect_splits_leaves_a_plain_folder_untouched(tiny_data):
    before = sorted(p.as_posix() for p in tiny_data.rglob("*"))
    splits = collect_splits(Dataset(tiny_data))
    assert sorted(p.as_posix() for p in tiny_data.rglob("*")) == before
    assert splits.classes == ["missing_hole", "ok", "short"]
    assert all(splits.items[s] for s in ("train", "val", "test"))
    assert collect_splits(Dataset(tiny_data)).fingerprint == splits.fingerprint


def test_untrainable_datasets_get_clear_messages(tmp_path, class_tree):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no readable images"):
        collect_splits(Dataset(tmp_path / "empty"))
    with pytest.raises(DatasetError, match="one class only"):
        collect_splits(Dataset(class_tree({"ok": 10}, root=tmp_path / "one")))
    with pytest.raises(DatasetError, match="validation split is empty"):
        collect_splits(Dataset(class_tree({"ok": 1, "short": 1}, root=tmp_path / "two")))
