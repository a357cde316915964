from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest
import torch
from torch import nn

from inspector.core.errors import CheckpointError
from inspector.core.inference.export import export_onnx
from inspector.core.inference.onnx_backend import sidecar_path
from inspector.core.training.checkpoint import save_untrained_model

CLASSES = ["missing_hole", "ok", "short"]
SIZE = 64


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A random-weight checkpoint at 64 px, exported to the default place (its folder)."""
    folder = tmp_path_factory.mktemp("export")
    checkpoint = folder / "best.safetensors"
    model = save_untrained_model(checkpoint, CLASSES, SIZE, temperature=1.7,
                                 thresholds={"fail": 0.6}, dataset="/data/boards",
                                 dataset_fingerprint="f00d",
                                 metrics={"val_macro_f1": 0.91, "history": [1],
                                          "test": {"accuracy": 0.93}})
    path = export_onnx(folder)  # a folder finds best.safetensors
    yield path, model, checkpoint
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def session(exported):
    import onnxruntime as ort

    return ort.InferenceSession(str(exported[0]), providers=["CPUExecutionProvider"])


def test_default_path_and_files_beside_it(exported):
    path, _, checkpoint = exported
    assert path == checkpoint.parent / "model.onnx"
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["best.safetensors", "model.md", "model.onnx", "model.onnx.json"]


@pytest.mark.parametrize("n", [1, 3])
def test_outputs_match_torch_with_a_dynamic_batch(exported, session, n):
    _, model, _ = exported
    assert session.get_inputs()[0].shape == ["batch", 3, SIZE, SIZE]
    assert [o.name for o in session.get_outputs()] == ["logits", "features"]
    x = torch.randn(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(n))
    logits, features = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        ref_logits, ref_features = model.forward_with_features(x)
    assert logits.shape == (n, len(CLASSES))
    assert features.shape == tuple(ref_features.shape) == (n, 2048, 2, 2)
    # Absolute up to 1, relative above: see export.TOLERANCE.
    assert np.abs(logits - ref_logits.numpy()).max() < 1e-3 * max(1, ref_logits.abs().max())
    assert np.abs(features - ref_features.numpy()).max() < 1e-3 * max(1, ref_features.abs().max())


def test_metadata_and_model_card(exported):
    path, _, checkpoint = exported
    info = json.loads(sidecar_path(path).read_text())
    assert info["classes"] == CLASSES
    assert info["input_size"] == SIZE
    assert info["normalization"]["std"] == [0.229, 0.224, 0.225]
    assert info["temperature"] == 1.7
    assert info["thresholds"] == {"fail": 0.6}
    assert info["model_config"]["input_size"] == SIZE
    assert info["onnx_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info["source_checkpoint"] == "best.safetensors"
    assert info["source_sha256"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert info["opset"] == 17
    assert {"torch", "onnx", "onnxruntime"} <= set(info["versions"])
    assert info["check"]["logits_max_abs_diff"] < 1e-3
    card = path.with_suffix(".md").read_text()
    for text in [*CLASSES, "64 x 64", "f00d", "/data/boards", "0.9300", "val_macro_f1"]:
        assert text in card
    assert "history" not in card


class Drifting(nn.Module):
    """A model that tracing cannot capture: a Python counter is baked into the graph as a
    constant, so the exported graph and PyTorch disagree afterwards (in `which` output only)."""

    def __init__(self, which: str) -> None:
        super().__init__()
        self.which = which
        self.calls = 0
        self.conv = nn.Conv2d(3, 2048, 3, stride=32, padding=1)
        self.fc = nn.Linear(2048, len(CLASSES))

    def forward_with_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.calls += 1
        base = self.conv(x)
        logits = self.fc(base.mean((2, 3))) + (self.calls if self.which == "logits" else 0)
        return logits, base + (self.calls if self.which == "features" else 0)


@pytest.mark.parametrize("which", ["logits", "features"])
def test_a_mismatch_is_refused_and_leaves_nothing(exported, tmp_path, monkeypatch, which):
    from inspector.core.training import checkpoint as checkpoint_module

    _, _, checkpoint = exported
    monkeypatch.setattr(checkpoint_module, "build_model_from_checkpoint",
                        lambda _: Drifting(which).eval())
    out = tmp_path / "out" / "model.onnx"
    with pytest.raises(CheckpointError, match="does not reproduce the PyTorch model") as caught:
        export_onnx(checkpoint, out)
    message = str(caught.value)
    allowed = [float(part.split(")")[0]) for part in message.split("(allowed ")[1:]]
    found = [float(part.split(" ")[0]) for part in message.split("by up to ")[1:]]
    ok = [f < a for f, a in zip(found, allowed, strict=True)]
    assert ok == ([False, True] if which == "logits" else [True, False])
    assert list(tmp_path.iterdir()) == []  # not even the folder it would have made


def test_the_real_model_passes_the_check_that_catches_drift(exported):
    """The check compares what it should: with the genuine model nothing differs noticeably."""
    path, _, _ = exported
    info = json.loads(sidecar_path(path).read_text())
    assert info["check"]["features_max_abs_diff"] < 1e-3 * max(1, info["check"]["features_scale"])


def test_an_unusable_checkpoint_is_a_checkpoint_error(tmp_path):
    bad = tmp_path / "best.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(CheckpointError):
        export_onnx(bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.safetensors"]
