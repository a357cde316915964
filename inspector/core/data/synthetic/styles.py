"""How a rendered layout becomes a picture: palettes and the camera ("photo") or scanner ("scan").

"photo": a colour camera over a board: solder mask of varying colour, copper under the mask a
lighter shade of it, exposed pads in HASL silver or ENIG gold, dark drill holes, white
silkscreen; then blur, uneven illumination, a colour cast, sensor noise and sometimes JPEG.

"scan": like the DeepPCB dataset: a binarised greyscale scan of the copper layer (black copper on
a white laminate; holes white), with rough edges and JPEG speckle, returned as 3 channels.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from inspector.core.data.synthetic.defects import uniform
from inspector.core.data.synthetic.geometry import Color, Palette

# (weight, mask over laminate, mask over copper, silkscreen)
_MASKS: tuple[tuple[float, Color, Color, Color], ...] = (
    (0.42, (22, 82, 42), (64, 142, 70), (236, 238, 228)),  # green
    (0.12, (14, 56, 30), (40, 104, 52), (232, 234, 226)),  # dark green
    (0.06, (40, 96, 36), (96, 160, 70), (238, 238, 230)),  # light green
    (0.11, (16, 42, 110), (46, 96, 172), (236, 238, 240)),  # blue
    (0.09, (128, 22, 28), (188, 64, 56), (238, 236, 232)),  # red
    (0.10, (26, 26, 30), (58, 60, 66), (230, 230, 230)),  # black
    (0.06, (196, 200, 192), (236, 238, 232), (36, 36, 40)),  # white (black silkscreen)
    (0.04, (70, 30, 96), (120, 66, 152), (236, 232, 240)),  # purple
)
_MASK_CDF = np.cumsum([m[0] for m in _MASKS]) / sum(m[0] for m in _MASKS)

# (weight, colour): HASL, ENIG, bare copper (OSP)
_FINISHES: tuple[tuple[float, Color], ...] = (
    (0.55, (198, 198, 202)),
    (0.40, (222, 178, 86)),
    (0.05, (206, 128, 84)),
)
_FINISH_CDF = np.cumsum([f[0] for f in _FINISHES]) / sum(f[0] for f in _FINISHES)

SCAN_PALETTE = Palette(
    substrate=(255, 255, 255), copper=(0, 0, 0), finish=(0, 0, 0), hole=(255, 255, 255),
    silk=None, channels=1,
)


def _clamp(values: list[float]) -> Color:
    r, g, b = (min(255, max(0, round(v))) for v in values)
    return r, g, b


def photo_palette(rng: np.random.Generator) -> Palette:
    """A random board look: mask colour, shade of copper under it, finish, holes, silkscreen."""
    u = rng.random(12).tolist()
    _, sub, cu, silk = _MASKS[int(np.searchsorted(_MASK_CDF, u[0]))]
    common = (u[1] - 0.5) * 24
    sub_a = [s + (x - 0.5) * 18 + common for s, x in zip(sub, u[2:5], strict=True)]
    k = 0.65 + 0.65 * u[5]
    cu_a = [s + (c - s0) * k for s, c, s0 in zip(sub_a, cu, sub, strict=True)]
    finish = _FINISHES[int(np.searchsorted(_FINISH_CDF, u[6]))][1]
    finish_a = [f + (x - 0.5) * 16 for f, x in zip(finish, u[7:10], strict=True)]
    hole = 8 + 37 * u[10]
    opening = [0.7 * s + 0.3 * b for s, b in zip(sub_a, (150, 135, 85), strict=True)]
    bright = (u[11] - 0.5) * 20
    return Palette(
        substrate=_clamp(sub_a), copper=_clamp(cu_a), finish=_clamp(finish_a),
        hole=_clamp([hole] * 3), silk=_clamp([s + bright for s in silk]),
        opening=_clamp(opening),
    )


class NoiseBank:
    """Per-generator noise textures, made once from the seed: crops of them replace drawing
    fresh Gaussian noise for every image, which would cost more than the rest of a patch."""

    SIZE = 256

    def __init__(self, seed: int, style_id: int) -> None:
        self._seed = (seed, style_id)
        self._lock = threading.Lock()
        self._sensor: np.ndarray | None = None
        self._rough: np.ndarray | None = None

    def _make(self) -> None:
        with self._lock:
            if self._sensor is not None:
                return
            rng = np.random.default_rng([*self._seed, 0x5EED])
            n = self.SIZE
            sensor = rng.standard_normal((n, n, 3), dtype=np.float32)
            sensor += rng.standard_normal((n, n, 1), dtype=np.float32)  # luminance noise
            sensor *= 1 / np.sqrt(2)
            fine = cv2.GaussianBlur(rng.standard_normal((n, n), dtype=np.float32), (0, 0), 0.9)
            coarse = cv2.GaussianBlur(rng.standard_normal((n, n), dtype=np.float32), (0, 0), 2.5)
            rough = fine / fine.std() + 0.6 * coarse / coarse.std()
            self._rough = rough / rough.std()
            self._sensor = sensor

    @staticmethod
    def _view(bank: np.ndarray, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        n = bank.shape[0]
        if h <= n and w <= n:
            oy, ox = int(rng.random() * (n - h + 1)), int(rng.random() * (n - w + 1))
            return bank[oy:oy + h, ox:ox + w]
        oy, ox = int(rng.random() * n), int(rng.random() * n)
        reps = (-(-(h + oy) // n), -(-(w + ox) // n)) + (1,) * (bank.ndim - 2)
        return np.tile(bank, reps)[oy:oy + h, ox:ox + w]

    def sensor(self, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        """HxWx3 float32 noise of unit standard deviation."""
        if self._sensor is None:
            self._make()
        assert self._sensor is not None
        return self._view(self._sensor, h, w, rng)

    def rough(self, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
        """HxW float32 spatially correlated noise (1 to 3 px grain) of unit deviation."""
        if self._rough is None:
            self._make()
        assert self._rough is not None
        return self._view(self._rough, h, w, rng)


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    colour = img.ndim == 3
    src = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if colour else img
    ok, buf = cv2.imencode(".jpg", src, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
        return img
    out = cv2.imdecode(buf, cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB) if colour else out


def finish_photo(img: np.ndarray, rng: np.random.Generator, bank: NoiseBank,
                 vignette: bool = False) -> np.ndarray:
    """Camera effects on an RGB rendering: blur, illumination, colour cast, noise, JPEG."""
    h, w = img.shape[:2]
    sigma = uniform(rng, 0.35, 1.05)
    img = cv2.GaussianBlur(img, (3, 3) if sigma < 0.6 else (5, 5), sigma)
    # Uneven light: a smooth field from a 3x3 grid (gradients, a brighter spot) ...
    coarse = 1.0 + (rng.random((3, 3, 1)) - 0.5) * uniform(rng, 0.1, 0.45)
    if vignette:  # ... darker towards the corners of a whole frame ...
        coarse *= 1.0 - uniform(rng, 0.05, 0.3) * np.array([[1, 0.5, 1], [0.5, 0, 0.5],
                                                              [1, 0.5, 1]])[:, :, None]
    # ... times exposure and a colour cast, capped so the brightest colour does not clip.
    cast = uniform(rng, 0.8, 1.12) * (1.0 + (rng.random(3) - 0.5) * 0.16)
    field = (coarse * cast).astype(np.float32)
    peak = float(img.max()) * float(field.max())
    if peak > 248.0:
        field *= np.float32(248.0 / peak)
    gain = cv2.resize(field, (w, h), interpolation=cv2.INTER_CUBIC)
    out = cv2.multiply(img, gain, dtype=cv2.CV_32F)
    out = cv2.scaleAdd(bank.sensor(h, w, rng), uniform(rng, 1.5, 6.5), out)
    img = cv2.add(out, 0.0, dtype=cv2.CV_8U)  # rounds and saturates to 0..255
    if rng.random() < 0.25:
        img = _jpeg(img, int(uniform(rng, 45, 90)))
    return img


def finish_scan(gray: np.ndarray, rng: np.random.Generator, bank: NoiseBank) -> np.ndarray:
    """Scanner effects on a greyscale rendering: rough binarised edges, JPEG speckle; RGB out."""
    h, w = gray.shape
    img = cv2.GaussianBlur(gray, (5, 5), uniform(rng, 0.5, 1.0)).astype(np.float32)
    img += bank.rough(h, w, rng) * np.float32(uniform(rng, 8, 26))
    binary = (img > uniform(rng, 100, 155)).astype(np.uint8) * np.uint8(255)
    if rng.random() < 0.9:
        binary = _jpeg(binary, int(uniform(rng, 55, 95)))
    return cv2.cvtColor(binary, cv2.COLOR_GRAY2RGB)
