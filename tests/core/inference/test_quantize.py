from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from inspector.core.data.augment import eval_pipeline
from inspector.core.data.synthetic import SyntheticPCB
from inspector.core.data.synthetic.generator import PATCH_CLASSES
from inspector.core.errors import CheckpointError, DatasetError
from inspector.core.inference import quantize
from inspector.core.inference.export import export_onnx
from inspector.core.inference.onnx_backend import OnnxModel, sidecar_path
from inspector.core.inference.quantize import (
    QuantizationReport,
    calibration_batches,
    int8_path,
    quantize_int8,
)
from inspector.core.training.checkpoint import save_untrained_model

CLASSES = ["missing_hole", "ok", "short"]
SIZE = 64
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
META = {"input_size": SIZE, "normalization": {"mean": MEAN, "std": STD}}


def _patches(first: int, n: int) -> list[np.ndarray]:
    generator = SyntheticPCB(seed=0)
    return [generator.patch(PATCH_CLASSES[i % len(PATCH_CLASSES)], SIZE, i)
            for i in range(first, first + n)]


def _normalised(images: list[np.ndarray]) -> np.ndarray:
    batch = np.stack(images).transpose(0, 3, 1, 2).astype(np.float32)
    mean = np.asarray(MEAN, np.float32).reshape(1, 3, 1, 1) * 255
    std = np.asarray(STD, np.float32).reshape(1, 3, 1, 1) * 255
    return np.ascontiguousarray((batch - mean) / std)


@pytest.fixture(scope="module")
def fp32(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quantize")
    save_untrained_model(folder / "best.safetensors", CLASSES, SIZE, temperature=1.5)
    yield export_onnx(folder / "best.safetensors")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def evaluation():
    """32 synthetic patches (4 of each generator class) with made-up labels."""
    batch = _normalised(_patches(0, 32))
    return [batch[:16], batch[16:]], [i % len(CLASSES) for i in range(32)]


@pytest.fixture(scope="module")
def quantized(fp32, evaluation):
    calibration = [_normalised(_patches(100, 16)), _normalised(_patches(116, 16))]
    stages = []
    report = quantize_int8(fp32, calibration, evaluation=evaluation,
                           progress=lambda stage, fraction: stages.append((stage, fraction)))
    return report, stages


def test_int8_model_agrees_with_fp32(fp32, quantized, evaluation):
    report, _ = quantized
    path = int8_path(fp32)
    assert report.path == str(path) and path.name == "model.int8.onnx"
    int8 = OnnxModel(path)
    reference = OnnxModel(fp32)
    batch = np.concatenate(evaluation[0])
    logits8, features8 = int8.run(batch)
    logits, features = reference.run(batch)
    # Random weights make accuracy meaningless: compare the two models with each other.
    assert np.mean(logits8.argmax(1) == logits.argmax(1)) >= 0.8
    assert features8.dtype == np.float32 and features8.shape == features.shape
    assert np.corrcoef(features8.ravel(), features.ravel())[0, 1] > 0.95
    # The head stays float: the CAM uses the same weights for both models.
    np.testing.assert_array_equal(int8.fc_weight, reference.fc_weight)
    assert int8.precision == "int8" and int8.classes == CLASSES and int8.temperature == 1.5
    assert path.stat().st_size < fp32.stat().st_size / 3


def test_report_and_metadata(fp32, quantized):
    report, stages = quantized
    assert isinstance(report, QuantizationReport)
    assert report.n_images == 32 and report.calibration_images == 32
    assert report.fp32_accuracy is not None and report.int8_accuracy is not None
    assert report.delta_points == pytest.approx(
        (report.int8_accuracy - report.fp32_accuracy) * 100)
    assert report.agreement >= 0.8 and report.features_correlation > 0.95
    assert report.seconds > 0
    info = json.loads(sidecar_path(int8_path(fp32)).read_text())
    assert info["precision"] == "int8"
    assert info["source_onnx"] == "model.onnx"
    assert info["source_onnx_sha256"] == json.loads(sidecar_path(fp32).read_text())["onnx_sha256"]
    assert info["quantization"]["int8_accuracy"] == report.int8_accuracy
    assert info["quantization"]["per_channel"] is True
    assert info["classes"] == CLASSES and info["input_size"] == SIZE
    assert stages[0][0] == "Preparing" and stages[-1] == ("Done", 1.0)
    assert any(stage == "Calibrating" for stage, _ in stages)
    fractions = [fraction for _, fraction in stages]
    assert fractions == sorted(fractions)
    leftovers = [p.name for p in fp32.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_refused_when_the_features_would_mislead(fp32, tmp_path, monkeypatch):
    """The heat-map check: a poor INT8 model is refused and nothing is left behind. The
    quantisation itself is stubbed (a copy of the fp32 graph) to keep the test fast."""
    import onnxruntime.quantization as ortq
    from onnxruntime.quantization import shape_inference

    source = tmp_path / "model.onnx"
    shutil.copy(fp32, source)
    shutil.copy(sidecar_path(fp32), sidecar_path(source))
    monkeypatch.setattr(shape_inference, "quant_pre_process",
                        lambda src, dst, **_: shutil.copy(src, dst))
    monkeypatch.setattr(ortq, "quantize_static", lambda src, dst, *_, **__: shutil.copy(src, dst))
    monkeypatch.setattr(quantize, "_correlation", lambda a, b: 0.5)
    with pytest.raises(CheckpointError, match=r"correlate only 0\.500"):
        quantize_int8(source, [_normalised(_patches(0, 2))])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "model.onnx.json"]


def test_calibration_needs_images(fp32):
    with pytest.raises(DatasetError, match="no calibration images"):
        quantize_int8(fp32, [])
    with pytest.raises(ValueError, match="N x 3 x 64 x 64"):
        quantize_int8(fp32, [np.zeros((2, 3, 32, 32), np.float32)])


def test_calibration_batches_from_files(tmp_path, caplog):
    images = _patches(0, 9)
    items = []
    for i, image in enumerate(images):
        path = tmp_path / f"{i}.png"
        Image.fromarray(image).save(path)
        items.append((path, i % 3))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    items.insert(4, (broken, 0))

    batches = calibration_batches(META, items, batch_size=4)
    assert [b.shape for b in batches] == [(4, 3, SIZE, SIZE), (4, 3, SIZE, SIZE),
                                         (1, 3, SIZE, SIZE)]
    assert all(b.dtype == np.float32 for b in batches)
    assert "broken.png" in caplog.text
    pipeline = eval_pipeline(SIZE)
    expected = _normalised([pipeline(image=image)["image"] for image in images])
    np.testing.assert_allclose(np.concatenate(batches), expected, atol=1e-5)

    # `limit` spreads the choice over the whole list (items come sorted by class).
    chosen = calibration_batches(META, items[5:], batch_size=8, limit=3)
    np.testing.assert_allclose(np.concatenate(chosen), expected[[4, 6, 8]], atol=1e-5)


def test_unreadable_images_are_left_out_and_kept_says_which_were_used(tmp_path):
    import cv2

    good = tmp_path / "good.png"
    cv2.imwrite(str(good), np.full((40, 40, 3), 90, np.uint8))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG broken")
    meta = {"input_size": 32, "normalization": {"mean": [0.5] * 3, "std": [0.25] * 3}}
    kept: list[int] = []
    batches = calibration_batches(meta, [(good, 0), (bad, 1), (good, 2)], kept=kept)
    assert kept == [0, 2]  # so labels [0, 2] follow the two images, not [0, 1]
    assert [b.shape for b in batches] == [(2, 3, 32, 32)]
