"""Driver images (BGR, BGRA, grey, 16-bit, float) to the HxWx3 uint8 RGB every Frame holds."""

from __future__ import annotations

import numpy as np


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:  # the full 16-bit range onto 8 bits, as data.images does
        return (image.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        peak = float(np.nanmax(image)) if image.size else 0.0
        scale = 255.0 if peak <= 1.0 else 1.0
        return np.clip(np.nan_to_num(image) * scale, 0, 255).round().astype(np.uint8)
    return np.clip(image, 0, 255).astype(np.uint8)


def bgr_to_rgb(image: np.ndarray) -> np.ndarray:
    """An OpenCV image (HxW, HxWx1, HxWx3 BGR or HxWx4 BGRA, any depth) as a new
    C-contiguous HxWx3 uint8 RGB array."""
    import cv2

    array = _to_uint8(np.asarray(image))
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        return cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_GRAY2RGB)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected a grey, BGR or BGRA image, got shape {array.shape}")
    code = cv2.COLOR_BGR2RGB if array.shape[2] == 3 else cv2.COLOR_BGRA2RGB
    return cv2.cvtColor(np.ascontiguousarray(array), code)
