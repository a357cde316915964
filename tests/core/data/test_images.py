from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import png_claiming
from PIL import Image

from inspector.core.data.images import (
    ImageProblem,
    ImageReadError,
    content_hash,
    load_rgb,
    probe_image,
    verify_image,
)


@pytest.mark.parametrize(
    ("name", "mode", "kwargs"),
    [
        ("a.png", "RGB", {}),
        ("a.jpg", "RGB", {"quality": 95}),
        ("a.jpeg", "L", {}),
        ("a.bmp", "RGB", {}),
        ("a.tif", "RGB", {}),
        ("a.tiff", "I;16", {}),
        ("a.webp", "RGB", {"lossless": True}),
        ("grey.png", "L", {}),
        ("alpha.png", "RGBA", {}),
        ("palette.png", "P", {}),
        ("grey16.png", "I;16", {}),
        ("bilevel.png", "1", {}),
        ("cmyk.jpg", "CMYK", {}),
    ],
)
def test_every_supported_format_and_mode_becomes_rgb_uint8(tmp_path, make_image, name, mode,
                                                          kwargs):
    path = make_image(tmp_path / name, size=(31, 17), mode=mode, **kwargs)
    rgb = load_rgb(path)
    assert rgb.shape == (17, 31, 3)
    assert rgb.dtype == np.uint8


def test_16_bit_grey_is_scaled_not_clipped(tmp_path):
    ramp = np.linspace(0, 65535, 256, dtype=np.uint16).reshape(16, 16)
    path = tmp_path / "ramp16.tif"
    Image.fromarray(ramp).save(path)
    rgb = load_rgb(path)
    assert rgb[..., 0].min() == 0
    assert rgb[..., 0].max() == 255
    assert len(np.unique(rgb[..., 0])) > 200  # the whole range survives, not a clipped 0/255
    assert (rgb[..., 0] == rgb[..., 1]).all()


def test_rgb_values_survive_lossless_round_trip(tmp_path):
    data = np.random.default_rng(3).integers(0, 255, (9, 7, 3), dtype=np.uint8)
    Image.fromarray(data).save(tmp_path / "x.png")
    assert (load_rgb(tmp_path / "x.png") == data).all()


def _problem(path: Path, **kwargs) -> ImageProblem:
    with pytest.raises(ImageReadError) as info:
        verify_image(path, **kwargs)
    assert str(path) in str(info.value)  # the message names the file
    return info.value.problem


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    assert _problem(path) is ImageProblem.EMPTY


def test_text_named_png_is_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture")
    assert _problem(path) is ImageProblem.NOT_IMAGE


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_files_are_detected(tmp_path, make_image, suffix):
    path = make_image(tmp_path / f"full{suffix}", size=(128, 128))
    data = path.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    assert _problem(cut) is ImageProblem.TRUNCATED


def test_pixel_limit_is_checked_from_the_header(tmp_path, make_image):
    path = make_image(tmp_path / "big.png", size=(40, 30))
    assert _problem(path, max_pixels=1000) is ImageProblem.TOO_LARGE
    assert probe_image(path, max_pixels=1200).width == 40


def test_decompression_bomb_header_is_refused_without_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(200_000, 200_000))
    assert path.stat().st_size < 200
    assert _problem(path) is ImageProblem.TOO_LARGE


def test_unreadable_file(tmp_path):
    # Permissions cannot make a file unreadable for root (CI runs as root); a folder
    # with an image's name fails the same way an unreadable file does: at open.
    path = tmp_path / "folder.png"
    path.mkdir()
    assert _problem(path) is ImageProblem.UNREADABLE


def test_content_hash_ignores_names_and_sees_content(tmp_path, make_image):
    a = make_image(tmp_path / "a.png", seed=1)
    b = tmp_path / "b.png"
    b.write_bytes(a.read_bytes())
    c = make_image(tmp_path / "c.png", seed=2)
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(c)
