"""Warm start: retraining begins from the active model; a new class widens the head."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from helpers import tiny_training_config

from inspector.core.data.dataset import Dataset
from inspector.core.data.synthetic import generate_patch_dataset
from inspector.core.errors import CheckpointError
from inspector.core.models import build_model
from inspector.core.training.checkpoint import load_checkpoint
from inspector.core.training.fit import fit
from inspector.core.training.warm_start import warm_start_model


@pytest.fixture(scope="module")
def parent(tiny_data, tmp_path_factory):
    """A model trained on three classes (ok, short, missing_hole)."""
    config = tiny_training_config()
    config.train.epochs = 1
    result = fit(config, Dataset(tiny_data), tmp_path_factory.mktemp("v1"))
    return config, result


def test_a_new_class_widens_the_head_and_old_rows_keep_their_weights(parent):
    config, v1 = parent
    old = load_checkpoint(v1.best_path)
    classes = ["missing_hole", "new_defect", "ok", "short"]  # sorted: the new one in between
    model, info = warm_start_model(config.model, classes, v1.best_path)
    assert info.kept == ["missing_hole", "ok", "short"] and info.new == ["new_defect"]
    assert info.model == v1.out_dir.name and info.classes == old.classes
    assert model.fc.out_features == 4
    for i, name in enumerate(classes):
        if name in old.classes:
            j = old.classes.index(name)
            assert torch.equal(model.fc.weight[i], old.model_state["fc.weight"][j])
            assert torch.equal(model.fc.bias[i], old.model_state["fc.bias"][j])
    # the new row is fresh, not a copy of an old one
    new_row = model.fc.weight[1]
    assert all(not torch.equal(new_row, old.model_state["fc.weight"][j]) for j in range(3))
    # the backbone carried over, and the configured stages are frozen again
    fresh = build_model(config.model, 3).state_dict()
    key = "layer4.0.conv1.weight"
    assert torch.equal(model.state_dict()[key], old.model_state[key])
    assert not torch.equal(fresh[key], old.model_state[key])
    assert not any(p.requires_grad for p in model.conv1.parameters())
    assert all(p.requires_grad for p in model.fc.parameters())


def test_a_warm_run_records_its_parent_and_resumes_as_one(parent, tiny_data, tmp_path):
    config, v1 = parent
    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    generate_patch_dataset(data, per_class=14, seed=9, size=48, classes=("spur",))
    out = tmp_path / "v2"
    stop_after_first_batch = __import__("threading").Event()

    def stop(progress) -> None:
        if progress.stage == "batch":
            stop_after_first_batch.set()

    partial = fit(config, Dataset(data), out, stop, stop_after_first_batch, warm_start=v1.out_dir)
    assert partial.stopped
    result = fit(config, Dataset(data), out, resume=True)
    assert not result.stopped
    meta = load_checkpoint(result.best_path).meta
    assert meta["classes"] == ["missing_hole", "ok", "short", "spur"]
    assert meta["parent"]["model"] == v1.out_dir.name
    assert meta["parent"]["new"] == ["spur"]
    # a warm start is not a training from random weights: no ImageNet warning is added
    assert not any("ImageNet" in w for w in result.warnings)


def test_a_model_with_other_cbam_stages_is_refused(parent):
    config, v1 = parent
    other = config.model.model_copy(update={"cbam_stages": ["layer4"]})
    with pytest.raises(CheckpointError, match="CBAM"):
        warm_start_model(other, ["ok", "short"], v1.best_path)


def test_a_model_sharing_no_class_is_refused(parent):
    config, v1 = parent
    with pytest.raises(CheckpointError, match="none of the dataset's classes"):
        warm_start_model(config.model, ["scratch", "stain"], Path(v1.best_path))
