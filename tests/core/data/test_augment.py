"""The augmentation pipelines: shapes, geometry, randomness under seeds, previews."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings

import cv2
import numpy as np
import pytest

import inspector
from inspector.config import AugmentConfig
from inspector.core.data.augment import eval_pipeline, preview, train_pipeline
from inspector.core.data.synthetic import SyntheticPCB

# Every random transform off: what is left must be the eval geometry.
STILL = AugmentConfig(flips=False, rotate90=False, affine_p=0, brightness_contrast_p=0,
                      hue_saturation_p=0, blur_p=0, noise_p=0, jpeg_p=0)
# Every random transform on every time: the strongest test of shapes and seeds.
ALWAYS = AugmentConfig(affine_p=1, brightness_contrast_p=1, hue_saturation_p=1, blur_p=1,
                       noise_p=1, jpeg_p=1)


@pytest.fixture(scope="module")
def patch() -> np.ndarray:
    return SyntheticPCB(seed=0).patch("short", 128)


def _random(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _grey_as_rgb(h: int, w: int) -> np.ndarray:
    grey = _random((h, w), seed=3)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)


@pytest.mark.parametrize("shape", [(128, 128, 3), (60, 200, 3), (300, 41, 3), (7, 5, 3),
                                   (640, 480, 3), (1, 1, 3)])
@pytest.mark.parametrize("input_size", [64, 224])
def test_pipelines_give_square_uint8_rgb_of_input_size(shape, input_size):
    image = _random(shape)
    for pipeline in (eval_pipeline(input_size), train_pipeline(ALWAYS, input_size, seed=1),
                     train_pipeline(AugmentConfig(), input_size, seed=1)):
        out = pipeline(image=image)["image"]
        assert out.shape == (input_size, input_size, 3)
        assert out.dtype == np.uint8
        assert out.flags.c_contiguous


def test_grey_images_converted_to_rgb_keep_their_shape():
    image = _grey_as_rgb(90, 150)
    for pipeline in (eval_pipeline(128), train_pipeline(ALWAYS, 128, seed=0)):
        out = pipeline(image=image)["image"]
        assert out.shape == (128, 128, 3)
        assert out.dtype == np.uint8
    still = eval_pipeline(128)(image=image)["image"]
    assert (still[..., 0] == still[..., 1]).all() and (still[..., 1] == still[..., 2]).all()


def test_no_transform_builds_with_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_pipeline(AugmentConfig(), 224, seed=0)
        train_pipeline(ALWAYS, 224, seed=0)
        train_pipeline(AugmentConfig(blur_max=8, jpeg_quality_min=100), 224, seed=0)
        eval_pipeline(224)


def test_eval_leaves_a_square_image_at_input_size_unchanged(patch):
    out = eval_pipeline(128)(image=patch)["image"]
    np.testing.assert_array_equal(out, patch)
    assert not np.shares_memory(out, patch)


@pytest.mark.parametrize(("side", "interpolation"), [(256, cv2.INTER_AREA),
                                                     (64, cv2.INTER_LINEAR)])
def test_eval_of_a_square_image_is_a_plain_resize(side, interpolation):
    image = SyntheticPCB(seed=0).patch("open", side)
    expected = cv2.resize(image, (128, 128), interpolation=interpolation)
    np.testing.assert_array_equal(eval_pipeline(128)(image=image)["image"], expected)


def test_eval_pads_the_short_side_by_reflection():
    image = _random((64, 128, 3))
    out = eval_pipeline(128)(image=image)["image"]
    np.testing.assert_array_equal(out[32:96], image)  # centred, not resized
    np.testing.assert_array_equal(out[31], image[1])  # BORDER_REFLECT_101
    np.testing.assert_array_equal(out[96], image[-2])


def test_eval_is_deterministic(patch):
    image = _random((200, 150, 3))
    a, b = eval_pipeline(96), eval_pipeline(96)
    np.testing.assert_array_equal(a(image=image)["image"], b(image=image)["image"])
    np.testing.assert_array_equal(a(image=image)["image"], a(image=image)["image"])


def test_train_pipeline_changes_images(patch):
    pipeline = train_pipeline(AugmentConfig(), 128, seed=0)
    outs = [pipeline(image=patch)["image"] for _ in range(12)]
    changed = [not np.array_equal(out, patch) for out in outs]
    assert sum(changed) >= 10
    distinct = {out.tobytes() for out in outs}
    assert len(distinct) >= 10


def test_all_probabilities_zero_and_no_flips_equals_eval(patch):
    image = _random((100, 140, 3))
    disabled = ALWAYS.model_copy(update={"enabled": False})
    for config in (STILL, AugmentConfig(enabled=False), disabled):
        pipeline = train_pipeline(config, 96, seed=0)
        names = [type(t).__name__ for t in pipeline.transforms]
        assert names == ["LongestMaxSize", "PadIfNeeded"]
        for img in (image, patch):
            np.testing.assert_array_equal(pipeline(image=img)["image"],
                                          eval_pipeline(96)(image=img)["image"])


def test_zero_ranges_leave_their_transforms_out():
    config = AugmentConfig(shift=0, scale=0, rotate=0, brightness=0, contrast=0, noise_std=0)
    names = [type(t).__name__ for t in train_pipeline(config, 64).transforms]
    assert "Affine" not in names
    assert "RandomBrightnessContrast" not in names
    assert "GaussNoise" not in names
    assert "HueSaturationValue" in names


def test_same_seed_gives_the_same_sequence(patch):
    one = train_pipeline(ALWAYS, 128, seed=5)
    two = train_pipeline(ALWAYS, 128, seed=5)
    other = train_pipeline(ALWAYS, 128, seed=6)
    a = [one(image=patch)["image"] for _ in range(6)]
    b = [two(image=patch)["image"] for _ in range(6)]
    c = [other(image=patch)["image"] for _ in range(6)]
    for x, y, z in zip(a, b, c, strict=True):
        np.testing.assert_array_equal(x, y)
        assert not np.array_equal(x, z)
    assert len({x.tobytes() for x in a}) == 6


def test_a_per_sample_seed_fixes_the_sample_whatever_came_before(patch):
    config = AugmentConfig()
    one = train_pipeline(config, 128, seed=0)
    two = train_pipeline(config, 128)  # fresh entropy
    for _ in range(3):
        two(image=patch)  # a different history
    results = {}
    for seed in (11, 12, 11):
        one.set_random_seed(seed)
        two.set_random_seed(seed)
        a, b = one(image=patch)["image"], two(image=patch)["image"]
        np.testing.assert_array_equal(a, b)
        results.setdefault(seed, a)
        np.testing.assert_array_equal(results[seed], a)
    assert not np.array_equal(results[11], results[12])


def test_per_sample_seeds_do_not_correlate_the_transforms():
    """albumentations' own set_random_seed gives every transform the same seed, so that two
    flips of equal probability always fire together; ours shares one stream."""
    pipeline = train_pipeline(AugmentConfig(rotate90=False, affine_p=0, brightness_contrast_p=0,
                                            hue_saturation_p=0, blur_p=0, noise_p=0, jpeg_p=0),
                              16, seed=0)
    image = _random((16, 16, 3))
    kinds = set()
    for seed in range(64):
        pipeline.set_random_seed(seed)
        out = pipeline(image=image)["image"]
        for name, flipped in (("none", image), ("h", image[:, ::-1]), ("v", image[::-1]),
                              ("hv", image[::-1, ::-1])):
            if np.array_equal(out, flipped):
                kinds.add(name)
    assert kinds == {"none", "h", "v", "hv"}


def test_pipelines_survive_pickling(patch):
    """DataLoader workers that spawn receive the pipeline pickled."""
    pipeline = train_pipeline(AugmentConfig(), 128, seed=0)
    copy = pickle.loads(pickle.dumps(pipeline))
    assert type(copy) is type(pipeline)
    pipeline.set_random_seed(3)
    copy.set_random_seed(3)
    np.testing.assert_array_equal(pipeline(image=patch)["image"], copy(image=patch)["image"])


def test_bad_input_size_is_refused():
    with pytest.raises(ValueError, match="input_size"):
        eval_pipeline(0)
    with pytest.raises(TypeError, match="input_size"):
        train_pipeline(AugmentConfig(), 12.5)  # type: ignore[arg-type]


def test_preview_count_size_and_determinism(patch):
    config = AugmentConfig()
    first = preview(config, patch, 6, seed=2)
    again = preview(config, patch, 6, seed=2)
    longer = preview(config, patch, 9, seed=2)
    other = preview(config, patch, 6, seed=3)
    assert len(first) == 6 and len(longer) == 9
    assert all(p.shape == (128, 128, 3) and p.dtype == np.uint8 for p in first)
    for a, b, c in zip(first, again, longer, strict=False):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    assert preview(config, patch, 0) == []


def test_preview_size_defaults_to_the_image_capped():
    config = AugmentConfig()
    assert preview(config, _random((90, 70, 3)), 1)[0].shape == (90, 90, 3)
    assert preview(config, _random((700, 300, 3)), 1)[0].shape == (512, 512, 3)
    assert preview(config, _random((700, 300, 3)), 1, input_size=64)[0].shape == (64, 64, 3)


def test_preview_refuses_what_is_not_rgb_uint8():
    with pytest.raises(ValueError, match="HxWx3"):
        preview(AugmentConfig(), _random((32, 32)), 2)
    with pytest.raises(ValueError, match="HxWx3"):
        preview(AugmentConfig(), np.zeros((32, 32, 3), np.float32), 2)


def test_importing_inspector_turns_off_albumentations_update_check():
    assert inspector.__name__ == "inspector"
    assert os.environ.get("NO_ALBUMENTATIONS_UPDATE") == "1"
    # In a fresh interpreter with the variable unset: importing inspector sets it, and the
    # augment module does not import albumentations until a pipeline is built.
    code = (
        "import os, sys\n"
        "assert 'NO_ALBUMENTATIONS_UPDATE' not in os.environ\n"
        "import inspector.core.data.augment as aug\n"
        "assert os.environ['NO_ALBUMENTATIONS_UPDATE'] == '1'\n"
        "assert 'albumentations' not in sys.modules and 'cv2' not in sys.modules\n"
        "import socket\n"
        "calls = []\n"
        "def refuse(*a, **k):\n"  # albumentations swallows errors: record, then check
        "    calls.append(a)\n"
        "    raise OSError('no network in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from inspector.config import AugmentConfig\n"
        "aug.train_pipeline(AugmentConfig(), 64)\n"
        "aug.eval_pipeline(64)\n"
        "assert 'albumentations' in sys.modules\n"
        "assert not calls, calls\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NO_ALBUMENTATIONS_UPDATE"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
