"""The operator's picture: the frame with its heat map, tile marks and a verdict banner.

Returned as an RGB uint8 array that any front end (Qt, a video writer, a JPEG) shows as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inspector.core.inference.verdict import Decision, Verdict

# RGB, chosen to stay distinguishable for the common colour-vision deficiencies.
VERDICT_COLOURS = {Verdict.PASS: (0, 158, 115), Verdict.FAIL: (213, 54, 40),
                   Verdict.REVIEW: (240, 170, 0)}


@dataclass(frozen=True)
class TileMark:
    x: int
    y: int
    w: int
    h: int
    decision: Decision
    cam: np.ndarray | None = None  # [0, 1], any size; drawn over the tile


def heat_map(cam: np.ndarray, width: int, height: int) -> np.ndarray:
    """A [0, 1] map -> RGB uint8 (JET colour map) of the given size."""
    import cv2

    resized = cv2.resize(np.ascontiguousarray(cam, dtype=np.float32), (width, height),
                         interpolation=cv2.INTER_LINEAR)
    coloured = cv2.applyColorMap(np.clip(resized * 255.0, 0, 255).astype(np.uint8),
                                 cv2.COLORMAP_JET)
    return cv2.cvtColor(coloured, cv2.COLOR_BGR2RGB)


def _blend(region: np.ndarray, cam: np.ndarray, alpha: float) -> None:
    import cv2

    h, w = region.shape[:2]
    colours = heat_map(cam, w, h)
    cv2.addWeighted(colours, alpha, region, 1.0 - alpha, 0.0, dst=region)


def render_overlay(frame: np.ndarray, decision: Decision, cam: np.ndarray | None = None,
                   alpha: float = 0.45, fps: float | None = None,
                   roi: tuple[int, int, int, int] | None = None,
                   tiles: Sequence[TileMark] = ()) -> np.ndarray:
    """Heat map on the frame (or the region of interest, or each tile), plus the banner."""
    import cv2

    out = np.array(frame, dtype=np.uint8, copy=True)
    height, width = out.shape[:2]
    if tiles:
        for tile in tiles:
            region = out[tile.y:tile.y + tile.h, tile.x:tile.x + tile.w]
            if tile.cam is not None and tile.decision.verdict is not Verdict.PASS:
                _blend(region, tile.cam, alpha)
            if tile.decision.verdict is not Verdict.PASS:
                colour = VERDICT_COLOURS[tile.decision.verdict]
                cv2.rectangle(out, (tile.x, tile.y), (tile.x + tile.w - 1, tile.y + tile.h - 1),
                              colour, max(2, width // 320))
    elif cam is not None:
        x, y, w, h = roi if roi is not None else (0, 0, width, height)
        _blend(out[y:y + h, x:x + w], cam, alpha)
    if roi is not None:
        x, y, w, h = roi
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), (255, 255, 255), 1)
    _banner(out, decision, fps)
    return out


def _banner(out: np.ndarray, decision: Decision, fps: float | None) -> None:
    import cv2

    height, width = out.shape[:2]
    bar = max(22, height // 9)
    colour = VERDICT_COLOURS[decision.verdict]
    cv2.rectangle(out, (0, 0), (width - 1, bar), colour, thickness=-1)
    scale = bar / 34.0
    thick = max(1, round(scale * 2))
    font = cv2.FONT_HERSHEY_DUPLEX
    baseline = int(bar * 0.72)
    cv2.putText(out, decision.verdict.value, (int(bar * 0.3), baseline), font, scale * 1.1,
                (255, 255, 255), thick + 1, cv2.LINE_AA)
    text = f"{decision.label} {decision.confidence:.0%}"
    verdict_width = cv2.getTextSize(decision.verdict.value, font, scale * 1.1, thick + 1)[0][0]
    cv2.putText(out, text, (int(bar * 0.6) + verdict_width, baseline), font, scale * 0.7,
                (255, 255, 255), thick, cv2.LINE_AA)
    if fps is not None:
        label = f"{fps:.1f} FPS"
        size = cv2.getTextSize(label, font, scale * 0.6, thick)[0][0]
        cv2.putText(out, label, (width - size - int(bar * 0.3), baseline), font, scale * 0.6,
                    (255, 255, 255), thick, cv2.LINE_AA)
