from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from inspector.core.data.dataset import Dataset
from inspector.core.data.synthetic import SyntheticPCB
from inspector.core.evaluation.attribution import (
    LayerCam,
    content_box,
    display_maps,
    explain_cell,
    explain_images,
)
from inspector.core.inference.cam import grad_cam
from inspector.core.inference.predictor import Predictor
from inspector.core.training.checkpoint import save_untrained_model

CLASSES = ["missing_hole", "ok", "short"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A random-weight model at 64 px: layer4 maps are 2x2, layer2 8x8."""
    path = tmp_path_factory.mktemp("model") / "best.safetensors"
    save_untrained_model(path, CLASSES, 64)
    return path


def _hooks(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               for m in model.modules())


def test_captum_layer4_equals_the_one_pass_cam_and_leaves_no_hooks(checkpoint):
    predictor = Predictor.from_checkpoint(checkpoint, device="cpu")
    model = predictor.backend.model
    images = [SyntheticPCB(seed=1).patch(label, 64) for label in ("short", "ok", "spur")]
    inputs = predictor.backend.normalize(torch.from_numpy(predictor.preprocess(images)))
    with torch.no_grad():
        logits, features = model.forward_with_features(inputs)
    targets = logits.argmax(1).tolist()
    one_pass = grad_cam(features.numpy(), model.fc.weight.detach().numpy(), targets)
    assert _hooks(model) == 0
    with LayerCam(predictor, "layer4") as cam:
        maps, probabilities = cam.attribute(images)  # default target: the predicted class
    assert maps.shape == one_pass.shape == (3, 2, 2)
    assert one_pass.max() > 0  # a comparison of two zero maps would prove nothing
    np.testing.assert_allclose(maps, one_pass, atol=1e-4, rtol=1e-4)
    assert probabilities.argmax(1).tolist() == targets
    assert _hooks(model) == 0


def test_hooks_left_behind_are_removed_on_exit(checkpoint):
    predictor = Predictor.from_checkpoint(checkpoint, device="cpu")
    model = predictor.backend.model
    with LayerCam(predictor, "layer3"):
        model.layer3.register_forward_hook(lambda *_: None)  # as an interrupted call might
    assert _hooks(model) == 0


def test_explain_images_gives_maps_at_the_image_size_for_each_layer(checkpoint, tmp_path):
    from PIL import Image

    paths = []
    for i, (label, size) in enumerate([("short", 90), ("ok", 50)]):
        path = tmp_path / label / f"{i}.png"
        path.parent.mkdir()
        image = SyntheticPCB(seed=i).patch(label, size)[:, : size - 20]  # not square
        Image.fromarray(image).save(path)
        paths.append(path)
    done = []
    results = explain_images(checkpoint, paths, targets=[2, 1], layer="layer2", device="cpu",
                             display_size=120, on_progress=lambda d, t: done.append((d, t)))
    assert [r.path for r in results] == paths
    assert done[-1] == (2, 2)
    for result in results:
        assert result.layer_map.shape == (8, 8)  # 64 px / 8
        assert result.heat_map.dtype == np.float32
        assert result.heat_map.shape == result.image.shape[:2] == result.overlay.shape[:2]
        assert max(result.image.shape[:2]) == 120
        assert result.heat_map.min() >= 0.0 and result.heat_map.max() <= 1.0
        assert result.overlay.dtype == np.uint8
    assert [r.target for r in results] == [2, 1]
    assert results[0].label == CLASSES.index("short")


def test_the_heat_map_is_cropped_to_the_image_inside_the_padding():
    assert content_box(48, 30, 32) == (0, 6, 32, 20)
    layer_map = np.zeros((4, 4), np.float32)
    layer_map[:, :2] = 1.0  # left half of the padded square, which is mostly padding
    image = np.zeros((40, 10, 3), np.uint8)  # tall: pads 12 px on each side of 8
    _, heat, _ = display_maps(image, layer_map, 32, display_size=40)
    assert heat.shape == (40, 10)
    assert heat[:, 0].mean() > heat[:, -1].mean()


def test_explain_cell_gives_exactly_the_cell_and_stops(checkpoint, tiny_data, tmp_path):
    import shutil

    dataset = Dataset.create(tmp_path / "data")
    for folder in tiny_data.iterdir():
        shutil.copytree(folder, dataset.root / folder.name)
    dataset.split()
    predictor = Predictor.from_checkpoint(checkpoint, device="cpu")
    from inspector.core.training.data import collect_splits

    splits = collect_splits(dataset)
    row = [p for p, label in splits.items["test"] if splits.classes[label] == "short"]
    from inspector.core.data.images import load_rgb

    predicted = [r.index for r in predictor.infer([load_rgb(p) for p in row], cam=False)]
    column = CLASSES[max(set(predicted), key=predicted.count)]
    expected = {p for p, i in zip(row, predicted, strict=True) if CLASSES[i] == column}
    cell = explain_cell(checkpoint, dataset, "test", "short", column, layer="layer3",
                        device="cpu", batch_size=4)
    assert {r.path for r in cell.results} == expected
    assert all(r.predicted == CLASSES.index(column) for r in cell.results)
    stop = threading.Event()
    stop.set()
    stopped = explain_cell(checkpoint, dataset, "test", "short", column, device="cpu",
                           stop_event=stop)
    assert stopped.stopped and not stopped.results
