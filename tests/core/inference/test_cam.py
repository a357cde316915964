from __future__ import annotations

import numpy as np
import torch

from inspector.core.data.synthetic import SyntheticPCB
from inspector.core.inference.cam import grad_cam, normalise
from inspector.core.inference.predictor import Predictor


def test_cam_from_the_forward_pass_equals_captum_layer_grad_cam(random_checkpoint):
    from captum.attr import LayerGradCam

    predictor = Predictor.from_checkpoint(random_checkpoint, device="cpu")
    model = predictor.backend.model.float()
    images = [SyntheticPCB(seed=1).patch(label, 64) for label in ("short", "ok", "spur")]
    inputs = predictor.backend.normalize(torch.from_numpy(predictor.preprocess(images)))
    with torch.no_grad():
        logits, features = model.forward_with_features(inputs)
    targets = logits.argmax(1)
    ours = grad_cam(features.numpy(), model.fc.weight.detach().numpy(), targets.tolist())
    theirs = LayerGradCam(model, model.layer4).attribute(
        inputs, target=targets, relu_attributions=True)
    assert theirs.shape[1] == 1
    np.testing.assert_allclose(ours, theirs[:, 0].detach().numpy(), atol=1e-4, rtol=1e-4)


def test_maps_are_normalised_to_one_and_empty_maps_stay_empty():
    maps = np.stack([np.arange(9, dtype=np.float32).reshape(3, 3), np.zeros((3, 3), np.float32)])
    scaled = normalise(maps)
    assert scaled[0].max() == 1.0
    assert scaled[1].max() == 0.0


def test_predictor_returns_a_cam_per_image_in_one_pass(random_checkpoint):
    predictor = Predictor.from_checkpoint(random_checkpoint, device="cpu")
    images = [SyntheticPCB(seed=2).patch("open", 90), SyntheticPCB(seed=2).patch("ok", 50)]
    results = predictor.infer(images)
    assert len(results) == 2
    for result in results:
        assert result.cam is not None and result.cam.shape == (2, 2)  # 64 px / 32
        assert abs(result.probabilities.sum() - 1.0) < 1e-5


def test_a_thousand_frames_do_not_grow_memory(small_checkpoint):
    import gc
    import resource

    import torch

    predictor = Predictor.from_checkpoint(small_checkpoint, device="cpu")
    image = SyntheticPCB(seed=3).patch("short", 32)
    threads = torch.get_num_threads()
    # One thread: on a loaded machine OpenMP's spinning threads made these 1,000 tiny frames
    # take minutes; memory growth does not depend on the thread count.
    torch.set_num_threads(1)
    try:
        for _ in range(50):  # warm up allocators
            predictor.infer([image])
        gc.collect()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(1000):
            predictor.infer([image])
        gc.collect()
    finally:
        torch.set_num_threads(threads)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 30, f"resident memory grew {grown_mb:.0f} MB over 1,000 frames"
