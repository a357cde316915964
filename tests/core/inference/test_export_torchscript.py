"""TorchScript export: checked against PyTorch before it is written, with a model card."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest
import torch

from inspector.core.errors import CheckpointError
from inspector.core.inference import export as export_module
from inspector.core.inference.export import export_torchscript
from inspector.core.training.checkpoint import save_untrained_model

CLASSES = ["missing_hole", "ok", "short"]
SIZE = 32


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ts")
    model = save_untrained_model(folder / "best.safetensors", CLASSES, SIZE, temperature=1.3,
                                 dataset="/data/boards", metrics={"test": {"accuracy": 0.9}})
    yield folder, model
    shutil.rmtree(folder, ignore_errors=True)


def test_the_export_reproduces_the_model_for_any_batch_and_has_a_card(checkpoint):
    folder, model = checkpoint
    path = export_torchscript(folder)
    assert path == folder / "model.torchscript.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # deprecated in torch 2.14, still used
        loaded = torch.jit.load(str(path))
    x = torch.randn(3, 3, SIZE, SIZE)  # a batch size the trace never saw
    with torch.no_grad():
        logits, features = loaded(x)
        ref_logits, ref_features = model.forward_with_features(x)
    assert torch.allclose(logits, ref_logits, atol=1e-4)
    assert torch.allclose(features, ref_features, atol=1e-4)
    info = json.loads(path.with_suffix(".json").read_text())
    assert info["classes"] == CLASSES and info["check"]["logits_max_abs_diff"] < 1e-3
    card = path.with_suffix(".md").read_text()
    assert "TorchScript" in card and "`short`" in card and "Limits" in card


def test_a_mismatch_is_refused_and_leaves_nothing(checkpoint, tmp_path, monkeypatch):
    folder, _ = checkpoint
    real = export_module._reference_outputs

    def drifted(module, x):
        logits, features = real(module, x)
        return logits + 1.0, features

    monkeypatch.setattr(export_module, "_reference_outputs", drifted)
    out = tmp_path / "out" / "m.pt"
    with pytest.raises(CheckpointError, match="does not reproduce"):
        export_torchscript(folder, out)
    assert not out.exists() and not list(out.parent.glob("*"))
