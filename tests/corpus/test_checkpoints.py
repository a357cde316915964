"""Model files that are not what they claim: refused with a CheckpointError, never unpickled,
never changed."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from corpus import generate
from inspector.core.errors import CheckpointError
from inspector.core.training.checkpoint import load_checkpoint, save_untrained_model

CLASSES = ["missing_hole", "ok", "short"]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    folder = tmp_path_factory.mktemp("good")
    path = folder / "best.safetensors"
    save_untrained_model(path, CLASSES, 32, normalization={"mean": [0.5] * 3, "std": [0.25] * 3})
    return path


def _refused(path, match: str, **kwargs) -> None:
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(path, **kwargs)
    assert path.read_bytes() == before


def test_a_truncated_checkpoint(good, cases):
    _refused(generate.truncated_checkpoint(good, cases), "damaged, truncated")


def test_an_empty_file(cases):
    path = cases / "best.safetensors"
    path.write_bytes(b"")
    _refused(path, "not a usable model file")


def test_a_model_for_other_classes(good):
    with pytest.raises(CheckpointError, match="classes"):
        load_checkpoint(good, expected_classes=["ok", "scratch"])


def test_another_architecture(good, cases):
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(good), framework="pt") as handle:
        meta = json.loads(handle.metadata()["inspector"])
        tensors = {k: handle.get_tensor(k) for k in list(handle.keys())[:3]}
    meta["architecture"] = "vit_b_16"
    path = cases / "vit.safetensors"
    save_file(tensors, str(path), metadata={"inspector": json.dumps(meta)})
    _refused(path, "vit_b_16")


def test_a_foreign_safetensors_file(cases):
    from safetensors.torch import save_file

    path = cases / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    _refused(path, "not an Inspector model")


@pytest.mark.parametrize("name", ["best.safetensors", "model.pt"])
def test_a_pickle_that_would_run_code_is_never_unpickled(cases, tmp_path, name):
    marker = tmp_path / "pwned"
    path = generate.pickle_with_code(cases, marker, name)
    _refused(path, "not a usable model file")
    folder = cases / "model-folder"
    folder.mkdir()
    shutil.copy(path, folder / "best.safetensors")
    with pytest.raises(CheckpointError):
        load_checkpoint(folder)
    assert not marker.exists()  # the payload never ran
