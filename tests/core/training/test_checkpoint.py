from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from inspector.config import ModelConfig
from inspector.core.errors import CheckpointError
from inspector.core.models import build_model
from inspector.core.training.checkpoint import (
    build_model_from_checkpoint,
    flatten_state,
    load_checkpoint,
    new_meta,
    save_checkpoint,
    unflatten_state,
)

CLASSES = ["ok", "short", "spur"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    config = ModelConfig(input_size=32, pretrained=False)
    torch.manual_seed(0)
    model = build_model(config, len(CLASSES)).eval()
    path = tmp_path_factory.mktemp("ckpt") / "best.safetensors"
    meta = new_meta(architecture="resnet50_cbam", classes=CLASSES, input_size=32,
                    normalization={"mean": [0.5] * 3, "std": [0.25] * 3},
                    model_config=config.model_dump(mode="json"), temperature=1.5)
    save_checkpoint(path, meta, model.state_dict())
    return path, model


def test_round_trip_gives_the_same_predictions(saved):
    path, model = saved
    checkpoint = load_checkpoint(path.parent)  # a folder finds best.safetensors
    assert checkpoint.classes == CLASSES
    assert checkpoint.meta["temperature"] == 1.5
    assert "torch" in checkpoint.meta["versions"]
    loaded = build_model_from_checkpoint(checkpoint)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x))


def test_optimizer_state_survives_flattening():
    model = torch.nn.Linear(4, 3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    model(torch.randn(5, 4)).sum().backward()
    optimizer.step()
    tensors: dict[str, torch.Tensor] = {}
    skeleton = json.loads(json.dumps(flatten_state("o", optimizer.state_dict(), tensors)))
    restored = unflatten_state(skeleton, tensors)
    fresh = torch.optim.AdamW(model.parameters(), lr=0.5)
    fresh.load_state_dict(restored)
    assert fresh.param_groups[0]["lr"] == 0.01
    before = optimizer.state[model.weight]["exp_avg"]
    assert torch.equal(fresh.state[model.weight]["exp_avg"], before)


def test_wrong_classes_are_refused_with_both_lists(saved):
    with pytest.raises(CheckpointError, match="trained for the classes"):
        load_checkpoint(saved[0], expected_classes=["ok", "open"])


@pytest.mark.parametrize("damage", ["truncated", "text", "empty"])
def test_damaged_files_are_refused(saved, tmp_path, damage):
    bad = tmp_path / "model.safetensors"
    data = saved[0].read_bytes()
    bad.write_bytes({"truncated": data[: len(data) // 3], "text": b"hello", "empty": b""}[damage])
    with pytest.raises(CheckpointError, match="not a usable model file"):
        load_checkpoint(bad)


def test_foreign_newer_and_other_architecture_files(saved, tmp_path):
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not an Inspector model"):
        load_checkpoint(foreign)
    checkpoint = load_checkpoint(saved[0])
    for change, match in (({"format_version": 99}, "newer Inspector"),
                          ({"architecture": "vit_b_16"}, "vit_b_16")):
        path = tmp_path / "changed.safetensors"
        save_checkpoint(path, checkpoint.meta | change, checkpoint.model_state)
        with pytest.raises(CheckpointError, match=match):
            load_checkpoint(path)


class _Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/inspector-pickle-ran",))


def test_a_pickle_is_never_unpickled(tmp_path):
    marker = Path("/tmp/inspector-pickle-ran")
    marker.unlink(missing_ok=True)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"model": _Exploit()}))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not marker.exists()
