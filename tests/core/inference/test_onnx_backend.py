from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from inspector.core.data.augment import eval_pipeline
from inspector.core.data.synthetic import SyntheticPCB
from inspector.core.errors import CheckpointError
from inspector.core.inference.export import export_onnx
from inspector.core.inference.onnx_backend import OnnxModel, read_sidecar, sidecar_path
from inspector.core.training.checkpoint import save_untrained_model
from inspector.core.training.engine import Normalizer

CLASSES = ["missing_hole", "ok", "short"]
SIZE = 64
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backend")
    model = save_untrained_model(folder / "best.safetensors", CLASSES, SIZE, seed=1,
                                 temperature=1.25)
    yield export_onnx(folder / "best.safetensors"), model
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def onnx_model(exported):
    return OnnxModel(exported[0])


@pytest.fixture(scope="module")
def images():
    """Real preprocessed images: synthetic PCB patches through the evaluation pipeline, as the
    training code normalises them (uint8 NCHW -> Normalizer)."""
    generator = SyntheticPCB(seed=0)
    patches = [generator.patch("short", SIZE)] + [
        generator.patch(label, 96, i) for i, label in enumerate(["ok", "open", "spur"])
    ]  # 96 px ones are scaled down by the pipeline
    pipeline = eval_pipeline(SIZE)
    batch = np.stack([pipeline(image=p)["image"].transpose(2, 0, 1) for p in patches])
    normalised = Normalizer(torch.device("cpu"), MEAN, STD)(torch.from_numpy(batch))
    return normalised.contiguous()


def _copy(exported, folder):
    """The exported pair (model.onnx + its metadata) copied to `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = exported[0]
    shutil.copy(path, folder / path.name)
    shutil.copy(sidecar_path(path), sidecar_path(folder / path.name))
    return folder / path.name


def test_reproduces_torch_on_real_images(exported, onnx_model, images):
    _, model = exported
    logits, features = onnx_model.run(images.numpy())
    with torch.no_grad():
        ref_logits, ref_features = model.forward_with_features(images)
    assert logits.dtype == np.float32 and logits.shape == (4, 3)
    assert np.abs(logits - ref_logits.numpy()).max() < 1e-3
    assert features.shape == (4, 2048, 2, 2)
    assert np.abs(features - ref_features.numpy()).max() < 1e-3 * max(1, ref_features.abs().max())


def test_metadata_and_head_for_the_cam(exported, onnx_model, images):
    _, model = exported
    assert onnx_model.classes == CLASSES
    assert onnx_model.input_size == SIZE
    assert onnx_model.normalization == {"mean": MEAN, "std": STD}
    assert onnx_model.temperature == 1.25
    assert onnx_model.precision == "fp32"
    assert "CPUExecutionProvider" in onnx_model.providers
    np.testing.assert_array_equal(onnx_model.fc_weight, model.fc.weight.detach().numpy())
    np.testing.assert_array_equal(onnx_model.fc_bias, model.fc.bias.detach().numpy())
    # The logits are the head applied to the pooled features: a CAM from them is exact.
    logits, features = onnx_model.run(images.numpy())
    pooled = features.mean((2, 3))
    np.testing.assert_allclose(pooled @ onnx_model.fc_weight.T + onnx_model.fc_bias, logits,
                               atol=1e-3)


def test_batches_of_any_size_and_bad_shapes(onnx_model, images):
    logits, features = onnx_model.run(images.numpy()[:0])
    assert logits.shape == (0, 3) and features.shape == (0, 2048, 2, 2)
    one, _ = onnx_model.run(images.numpy()[:1].astype(np.float64))  # converted to float32
    all_, _ = onnx_model.run(images.numpy())
    np.testing.assert_allclose(one[0], all_[0], atol=1e-4)
    with pytest.raises(ValueError, match="N x 3 x 64 x 64"):
        onnx_model.run(np.zeros((1, 3, 32, 32), np.float32))


def test_threads(exported):
    model = OnnxModel(exported[0], threads=1)
    assert model.threads == 1
    assert model.session.get_session_options().intra_op_num_threads == 1


def test_a_changed_model_file_is_refused(exported, tmp_path):
    path = _copy(exported, tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte inside the weights
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its metadata"):
        OnnxModel(path)


def test_metadata_of_another_file_is_refused(exported, tmp_path):
    path = _copy(exported, tmp_path)
    info = json.loads(sidecar_path(path).read_text())
    info["onnx_sha256"] = "0" * 64  # as recorded for some other export
    sidecar_path(path).write_text(json.dumps(info))
    with pytest.raises(CheckpointError, match="another model"):
        OnnxModel(path)


def test_missing_metadata_is_refused(exported, tmp_path):
    path = _copy(exported, tmp_path)
    sidecar_path(path).unlink()
    with pytest.raises(CheckpointError, match="no metadata file"):
        OnnxModel(path)


@pytest.mark.parametrize("damage", ["not json", "no classes", "one class", "other format",
                                    "bad std", "newer"])
def test_damaged_metadata_is_refused(exported, tmp_path, damage):
    path = _copy(exported, tmp_path)
    info = json.loads(sidecar_path(path).read_text())
    text = None
    if damage == "not json":
        text = '{"classes": ['
    elif damage == "no classes":
        del info["classes"]
    elif damage == "one class":
        info["classes"] = ["ok"]
    elif damage == "other format":
        info["format"] = "something-else"
    elif damage == "bad std":
        info["normalization"]["std"] = [0, 1, 1]
    elif damage == "newer":
        info["format_version"] = 99
    sidecar_path(path).write_text(text if text is not None else json.dumps(info))
    with pytest.raises(CheckpointError):
        read_sidecar(path)
    with pytest.raises(CheckpointError):
        OnnxModel(path)


def test_a_missing_model_file_is_refused(exported, tmp_path):
    path = _copy(exported, tmp_path)
    path.unlink()
    with pytest.raises(CheckpointError, match="does not exist"):
        OnnxModel(path)
