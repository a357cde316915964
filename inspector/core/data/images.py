"""Reading images from disk: every supported format and mode becomes HxWx3 uint8 RGB.

Pillow reads the header before decoding, so sizes are checked (decompression bombs) before any
pixel is decoded, and truncation is detected instead of silently padded.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inspector.core.errors import DatasetError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
DEFAULT_MAX_PIXELS = 80_000_000


class ImageProblem(StrEnum):
    EMPTY = "zero-byte file"
    NOT_IMAGE = "not an image"
    TRUNCATED = "truncated image"
    UNREADABLE = "unreadable file"
    TOO_LARGE = "too many pixels"


_ADVICE = {
    ImageProblem.EMPTY: "the file is empty; copy it again from its source or delete it",
    ImageProblem.NOT_IMAGE: "the content is not a supported image; delete or replace it",
    ImageProblem.TRUNCATED: "the file is cut short; copy it again from its source",
    ImageProblem.UNREADABLE: "check the file's permissions or copy it again",
    ImageProblem.TOO_LARGE: "downscale it or raise dataset.max_image_pixels if it is genuine",
}


class ImageReadError(DatasetError):
    """An image file that cannot be used, with the kind of problem and what to do."""

    def __init__(self, path: Path, problem: ImageProblem, detail: str = "") -> None:
        self.path = path
        self.problem = problem
        self.detail = detail
        extra = f" ({detail})" if detail else ""
        super().__init__(f"{path}: {problem.value}{extra}: {_ADVICE[problem]}.")


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    mode: str
    format: str


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def content_hash(path: Path) -> str:
    """Hash of the file's bytes: equal files are exact duplicates, whatever their names."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


def bytes_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _open(path: Path, max_pixels: int, data: bytes | None = None) -> Image.Image:
    """Open from the file, or from `data` (then `path` only names it in messages)."""
    try:
        size = path.stat().st_size if data is None else len(data)
    except OSError as exc:
        raise ImageReadError(path, ImageProblem.UNREADABLE, exc.strerror or str(exc)) from None
    if size == 0:
        raise ImageReadError(path, ImageProblem.EMPTY)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path if data is None else io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageReadError(path, ImageProblem.TOO_LARGE, str(exc).split(" could")[0]) from None
    except UnidentifiedImageError:
        raise ImageReadError(path, ImageProblem.NOT_IMAGE) from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.strerror:
            raise ImageReadError(path, ImageProblem.UNREADABLE, exc.strerror) from None
        raise ImageReadError(path, ImageProblem.NOT_IMAGE, str(exc)) from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise ImageReadError(
            path, ImageProblem.TOO_LARGE, f"{width}x{height} is over {max_pixels:,} pixels"
        )
    return image


def probe_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Header only: size, mode and format, without decoding pixels."""
    with _open(path, max_pixels) as image:
        return ImageInfo(image.width, image.height, image.mode, image.format or "")


def _decode(image: Image.Image, path: Path) -> Image.Image:
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        text = str(exc)
        problem = ImageProblem.TRUNCATED
        if "truncated" not in text.lower() and not isinstance(exc, EOFError):
            is_os = isinstance(exc, OSError)
            problem = ImageProblem.UNREADABLE if is_os else ImageProblem.NOT_IMAGE
        raise ImageReadError(path, problem, text) from None
    return image


def to_rgb(image: Image.Image) -> np.ndarray:
    """Normalise any Pillow mode to HxWx3 uint8 RGB.

    16-bit greys are scaled by 1/257 (the full 16-bit range onto 8 bits) rather than clipped;
    alpha is dropped; palettes and CMYK are converted by Pillow.
    """
    mode = image.mode
    if mode.startswith("I;16") or mode in {"I", "F"}:
        array = np.asarray(image)
        if mode == "F":
            array = np.clip(array, 0.0, 1.0 if array.max(initial=0) <= 1.0 else 65535.0)
            scale = 255.0 if array.max(initial=0) <= 1.0 else 255.0 / 65535.0
            grey = np.round(array * scale).astype(np.uint8)
        else:
            grey = (np.clip(array, 0, 65535).astype(np.uint32) * 255 // 65535).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode != "RGB":
        if mode in {"P", "PA"} and "transparency" in image.info:
            image = image.convert("RGBA")
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8).copy()


def load_rgb(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an image file to HxWx3 uint8 RGB, honouring EXIF orientation."""
    with _open(path, max_pixels) as image:
        _decode(image, path)
        try:
            oriented = ImageOps.exif_transpose(image)
        except (OSError, ValueError, SyntaxError):
            oriented = image  # a broken EXIF block must not make a good image unusable
        return to_rgb(oriented)


def verify_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Decode the whole file (detects truncation); returns its header info or raises."""
    with _open(path, max_pixels) as image:
        info = ImageInfo(image.width, image.height, image.mode, image.format or "")
        _decode(image, path)
        return info


def verify_bytes(data: bytes, name: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """verify_image for an encoded image in memory (`name` is used in messages)."""
    with _open(Path(name), max_pixels, data) as image:
        info = ImageInfo(image.width, image.height, image.mode, image.format or "")
        _decode(image, Path(name))
        return info


def encode_png(rgb: np.ndarray) -> bytes:
    """Lossless PNG bytes of an RGB (or grey) uint8 array."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
