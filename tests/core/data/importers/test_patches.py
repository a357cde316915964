from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from inspector.core.data.importers.patches import (
    Rect,
    board_rng,
    box_from_corners,
    encode_patch,
    expand,
    patch_rect,
    sample_ok_rects,
)


def test_box_from_corners_orders_and_rounds_outwards():
    assert box_from_corners(40, 30, 10.5, 20.2) == Rect(10, 20, 40, 30)
    assert box_from_corners(5, 5, 5, 9) is None


def test_expand_by_context():
    assert expand(Rect(100, 100, 140, 120), 0.5) == Rect(80, 90, 160, 130)
    assert expand(Rect(100, 100, 140, 120), 0.0) == Rect(100, 100, 140, 120)


@pytest.mark.parametrize("box", [Rect(0, 0, 10, 10), Rect(630, 630, 640, 640),
                                 Rect(300, 10, 340, 200), Rect(0, 300, 640, 310)])
def test_patch_rect_is_a_square_inside_the_image_holding_the_box(box):
    rect = patch_rect(box, 0.5, 64, 640, 640)
    assert rect.inside(640, 640) and rect.contains(box)
    assert rect.width == rect.height >= 64


def test_patch_rect_on_an_image_smaller_than_the_patch():
    rect = patch_rect(Rect(5, 5, 10, 10), 0.5, 64, 40, 30)
    assert rect == Rect(0, 0, 40, 30)


def test_ok_sampling_avoids_and_is_deterministic():
    image = np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    avoid = [Rect(0, 0, 150, 200)]
    first = sample_ok_rects(image, 3, sides=[40], avoid=avoid, rng=board_rng(1, "a.jpg"),
                            min_side=32)
    again = sample_ok_rects(image, 3, sides=[40], avoid=avoid, rng=board_rng(1, "a.jpg"),
                            min_side=32)
    assert first == again and len(first) == 3
    for i, rect in enumerate(first):
        assert rect.x1 >= 150 and rect.inside(300, 200)
        assert not any(rect.intersects(other) for other in first[i + 1:])
    full = [Rect(0, 0, 300, 200)]
    assert sample_ok_rects(image, 2, sides=[40], avoid=full, rng=board_rng(1, "a"),
                           min_side=32) == []


def test_ok_sampling_prefers_textured_regions():
    image = np.full((100, 200), 255, np.uint8)
    image[:, 100:] = np.random.default_rng(0).integers(0, 255, (100, 100), dtype=np.uint8)
    for seed in range(5):
        [rect] = sample_ok_rects(image, 1, sides=[32], avoid=[], rng=board_rng(seed, "b"),
                                 min_side=32)
        assert rect.x2 > 100


def test_encode_patch_is_lossless_grey_when_it_can_and_carries_its_source():
    grey = np.random.default_rng(0).integers(0, 255, (8, 8), dtype=np.uint8)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    data = encode_patch(rgb, {"Source": "a.jpg", "Box": "1,2,3,4"})
    image = Image.open(io.BytesIO(data))
    assert image.mode == "L" and np.array_equal(np.asarray(image), grey)
    assert image.text == {"Source": "a.jpg", "Box": "1,2,3,4"}
    assert data == encode_patch(rgb, {"Source": "a.jpg", "Box": "1,2,3,4"})
    assert data != encode_patch(rgb, {"Source": "a.jpg", "Box": "1,2,3,5"})
    colour = rgb.copy()
    colour[0, 0] = (1, 2, 3)
    assert Image.open(io.BytesIO(encode_patch(colour, {}))).mode == "RGB"
