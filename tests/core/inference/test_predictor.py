from __future__ import annotations

import numpy as np
import pytest

from inspector.core.data.synthetic import SyntheticPCB
from inspector.core.errors import CheckpointError
from inspector.core.inference.predictor import Predictor
from inspector.core.training.checkpoint import build_model_from_checkpoint, load_checkpoint
from inspector.core.training.devices import resolve_device
from inspector.core.training.engine import predict_logits


def test_live_preprocessing_is_the_evaluation_preprocessing(random_checkpoint, tmp_path):
    from PIL import Image

    paths = []
    for i, label in enumerate(("short", "ok", "missing_hole")):
        path = tmp_path / f"{i}.png"
        Image.fromarray(SyntheticPCB(seed=5).patch(label, 80 + 20 * i)).save(path)
        paths.append(path)
    checkpoint = load_checkpoint(random_checkpoint)
    model = build_model_from_checkpoint(checkpoint)
    evaluation, _ = predict_logits(model, [(p, 0) for p in paths], 64, resolve_device("cpu"))
    from inspector.core.data.images import load_rgb

    predictor = Predictor(checkpoint, device="cpu")
    live = np.stack([r.logits for r in predictor.infer([load_rgb(p) for p in paths])])
    np.testing.assert_allclose(live, evaluation, atol=1e-4)


def test_tiling_covers_the_frame_and_marks_each_tile(random_checkpoint):
    predictor = Predictor.from_checkpoint(random_checkpoint, device="cpu")
    frame = SyntheticPCB(seed=1).board(200, 150).image
    result = predictor.infer_frame(frame, tiling=True, overlap=0.0)
    xs = sorted({t.x for t in result.tiles})
    ys = sorted({t.y for t in result.tiles})
    assert xs[0] == 0 and xs[-1] + 64 == 200
    assert ys[0] == 0 and ys[-1] + 64 == 150
    assert all(t.w == t.h == 64 for t in result.tiles)


def test_region_of_interest_is_clipped_to_the_frame(random_checkpoint):
    predictor = Predictor.from_checkpoint(random_checkpoint, device="cpu")
    frame = np.zeros((100, 120, 3), np.uint8)
    result = predictor.infer_frame(frame, roi=(100, 90, 500, 500))
    assert result.roi == (100, 90, 20, 10)


def test_onnx_backend_without_an_export_says_what_to_run(random_checkpoint):
    with pytest.raises(CheckpointError, match="inspector export --format onnx"):
        Predictor.from_checkpoint(random_checkpoint, device="cpu", backend="onnx")
