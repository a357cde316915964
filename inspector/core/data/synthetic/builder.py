"""Placing conductors: the building blocks shared by patch scenes and whole boards.

Everything placed is marked (grown by the clearance) on an occupancy grid, and optional items
are placed only where they fit, so that nothing touches by accident: every short, spur or blob
in an image is an injected defect with a box.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from inspector.core.data.synthetic.defects import uniform
from inspector.core.data.synthetic.geometry import (
    DIRS,
    Layout,
    Occupancy,
    Pad,
    Shape,
    Text,
    circle,
    line,
    offset_polyline,
    perp,
    rect,
    rotate,
)

QUARTER = math.pi / 4
_REF_PREFIXES = ("R", "C", "U", "L", "D", "Q", "J", "TP", "FB", "Y", "SW")
_WORDS = ("GND", "+5V", "3V3", "VCC", "RX", "TX", "SDA", "SCL", "REV A", "10/16", "DJD", "388")


def random_label(rng: np.random.Generator) -> str:
    if rng.random() < 0.3:
        return _WORDS[int(rng.random() * len(_WORDS))]
    return f"{_REF_PREFIXES[int(rng.random() * len(_REF_PREFIXES))]}{1 + int(rng.random() * 99)}"


def sign(rng: np.random.Generator) -> int:
    return 1 if rng.random() < 0.5 else -1


class Builder:
    """A layout under construction with its occupancy grid and the board's design rules."""

    def __init__(self, rng: np.random.Generator, width: int, height: int, px: float,
                 scan: bool, w_range: tuple[float, float] = (3.0, 9.5),
                 occupancy_scale: float = 1.0) -> None:
        self.rng = rng
        self.width, self.height = width, height
        self.scan = scan
        self.px = px
        self.w = max(2, round(uniform(rng, *w_range) * px))
        # The scanner's blur and binarisation close gaps narrower than about 4 px.
        self.clr = max(4.5 if scan else 2.5, self.w * uniform(rng, 0.6, 1.2))
        self.layout = Layout(width, height, self.clr)
        self.occ = Occupancy(height, width, occupancy_scale)
        self.far = 2.5 * max(width, height)
        self.via_exposed = rng.random() < 0.75

    def direction(self, axis_share: float = 0.7) -> np.ndarray:
        """An octilinear direction, along the axes with probability `axis_share`."""
        rng = self.rng
        diagonal = rng.random() >= axis_share
        return DIRS[2 * int(rng.random() * 2) + diagonal] * sign(rng)

    def fits(self, shape: Shape, extra: float = 0.0) -> bool:
        """True if `shape` keeps the clearance (plus `extra`) from everything placed so far."""
        return self.occ.fits(shape, self.clr / 2 + 0.5 + extra)

    def add_trace(self, shape: Shape) -> None:
        self.layout.traces.append(shape)
        self.occ.mark(shape, self.clr / 2 + 0.5)

    def add_pad(self, pad: Pad) -> int:
        self.layout.pads.append(pad)
        self.occ.mark(pad.shape, self.clr / 2 + 0.5)
        return len(self.layout.pads) - 1

    def round_pad(self, centre: np.ndarray, radius: float, hole: float,
                  exposed: bool = True) -> Pad:
        return Pad(circle(centre, radius), hole, exposed, np.asarray(centre, dtype=np.float64))

    def via(self, centre: np.ndarray, w: float | None = None) -> Pad:
        w = self.w if w is None else w
        d = max(w + 4.0, uniform(self.rng, 1.5, 2.3) * w)
        return self.round_pad(centre, d / 2, d / 2 * uniform(self.rng, 0.42, 0.6),
                              self.via_exposed)

    def path(self, start: np.ndarray, t: np.ndarray, bend_at: float | None = None,
             turn: int = 0, length: float | None = None) -> np.ndarray:
        """From `start` along t, optionally turning 45 degrees at `bend_at`, to `length` or far."""
        far = self.far if length is None else length
        if bend_at is None or bend_at >= far:
            return np.array([start, start + t * far])
        b = start + t * bend_at
        return np.array([start, b, b + rotate(t, turn * QUARTER) * (far - bend_at)])

    def side_offsets(self, first_edge: float, side: int, gap: float,
                     count: int) -> list[tuple[float, float]]:
        """`count` parallel neighbours on one side of a line: (signed offset, width) each, the
        first one's near edge `first_edge` from the line, the next ones `gap` apart."""
        out = []
        pos = first_edge - gap
        for _ in range(count):
            wj = self.w if self.rng.random() < 0.75 else max(
                2, round(self.w * uniform(self.rng, 0.6, 1.7)))
            d = pos + gap + wj / 2
            out.append((side * d, float(wj)))
            pos = d + wj / 2
        return out

    def neighbour_count(self) -> int:
        r = self.rng.random()
        return 0 if r < 0.2 else 1 if r < 0.55 else 2 if r < 0.85 else 3

    def bus_shapes(self, base: np.ndarray, offsets: list[tuple[float, float]],
                   end_pads: bool) -> tuple[list[Shape], list[Pad]]:
        """Parallel traces along `base` at `offsets` (signed distance, width); with
        `end_pads`, each ends at a pad where `base` ends."""
        pads: dict[float, tuple[Pad, float]] = {}
        if end_pads:
            t = base[-1] - base[-2]
            t = t / np.linalg.norm(t)
            pads = self.end_pads(base[-1], t, offsets)
        traces = []
        for d, wd in offsets:
            pts = offset_polyline(base, d)
            if d in pads:
                pts[-1] += (pts[-1] - pts[-2]) / np.linalg.norm(pts[-1] - pts[-2]) * pads[d][1]
            traces.append(line(pts, wd))
        return traces, [pad for pad, _ in pads.values()]

    def end_pads(self, e: np.ndarray, t: np.ndarray,
                 offsets: list[tuple[float, float]]) -> dict[float, tuple[Pad, float]]:
        """Pads where bus traces end (staggered when wider than the pitch), keyed by offset,
        each with how much further its trace must run to reach it."""
        rng = self.rng
        n = perp(t)
        ds = sorted(d for d, _ in offsets)
        pitch = min((b - a for a, b in itertools.pairwise(ds)), default=8.0 * self.w)
        stagger = rng.random() < 0.4 and len(ds) > 1
        widest = max(wd for _, wd in offsets)
        # Side by side, pads share the pitch; staggered, each pad has a trace running past it.
        room = 2 * (pitch - widest / 2 - self.clr) if stagger else pitch - self.clr
        across = min(uniform(rng, 1.6, 3.4) * self.w, room)
        if across < widest + 1:
            return {}
        along = across * uniform(rng, 1.0, 2.2)
        kind = rng.random()
        pads: dict[float, tuple[Pad, float]] = {}
        for i, d in enumerate(ds):
            shift = (along + self.clr + 1) * (i % 2) if stagger else 0.0
            centre = e + n * d + t * (shift + along / 2 - widest / 2)
            if kind < 0.45:
                r = min(across, along) / 2
                pad = self.round_pad(centre + t * (r - along / 2), r, r * uniform(rng, 0.35, 0.6))
            elif kind < 0.8:
                pad = Pad(rect(centre, t, along / 2, across / 2), 0.0, True, centre)
            else:
                half = across / 2
                shape = line([centre - t * (along / 2 - half), centre + t * (along / 2 - half)],
                             across)
                hole = half * uniform(rng, 0.35, 0.55) if rng.random() < 0.5 else 0.0
                pad = Pad(shape, hole, True, centre)
            pads[d] = (pad, shift)
        return pads

    def walk(self, start: np.ndarray, t: np.ndarray, lengths: list[float],
             turns: list[int]) -> np.ndarray:
        """An octilinear polyline: `lengths[i]` along the current direction, then a turn of
        `turns[i]` * 45 degrees."""
        pts = [np.asarray(start, dtype=np.float64)]
        d = t
        for length, turn in zip(lengths, turns, strict=True):
            pts.append(pts[-1] + d * length)
            d = rotate(d, turn * QUARTER)
        return np.array(pts)

    def half_plane(self, point: np.ndarray, normal: np.ndarray) -> np.ndarray:
        """A pour polygon beyond the line through `point`, on the side `normal` points to."""
        t = perp(normal)
        f = self.far
        return np.array([point - t * f, point + t * f, point + t * f + normal * f,
                         point - t * f + normal * f])

    def full_pour(self) -> np.ndarray:
        f = self.far
        return np.array([[-f, -f], [f, -f], [f, f], [-f, f]])

    # ---- optional items, placed only where they fit -------------------------------------

    def try_via(self, centre: np.ndarray) -> bool:
        pad = self.via(centre)
        if self.fits(pad.shape):
            self.add_pad(pad)
            return True
        return False

    def try_stub(self) -> None:
        """A trace entering from outside the picture and ending at a via."""
        rng = self.rng
        t = DIRS[int(rng.random() * 8)]
        mid = np.array([self.width / 2, self.height / 2])
        reach = 0.5 * math.hypot(self.width, self.height)
        start = mid - t * reach * 1.05 + perp(t) * uniform(rng, -0.9, 0.9) * reach
        length = reach * uniform(rng, 0.2, 1.0)
        bend = uniform(rng, 0.2, 0.8) * length if rng.random() < 0.5 else None
        pts = self.path(start, t, bend, sign(rng), length)
        w = self.w if rng.random() < 0.7 else max(2, round(self.w * uniform(rng, 0.6, 1.5)))
        shape = line(pts, w)
        pad = self.via(pts[-1], w)
        if self.fits(shape) and self.fits(pad.shape):
            self.add_trace(shape)
            self.add_pad(pad)

    def try_text(self, copper: bool, height: float, org: tuple[int, int] | None = None,
                 text: str | None = None) -> bool:
        rng = self.rng
        scale = height / 22
        thick = max(1, round(scale * uniform(rng, 1.5, 2.5)))
        if org is None:
            org = (int(rng.random() * self.width * 0.85),
                   int(height + rng.random() * (self.height - height)))
        item = Text(text or random_label(rng), org, scale, thick, copper)
        box = item.box()
        if self.occ.fits(box, 1.0) if not copper else self.fits(box):
            self.layout.texts.append(item)
            self.occ.mark(box, 1.0 if not copper else self.clr / 2 + 0.5)
            return True
        return False

    def try_outline(self, length: float) -> None:
        rng = self.rng
        p = rng.random(2) * (self.width, self.height)
        t = DIRS[2 * int(rng.random() * 4)]
        a, b = uniform(rng, 0.4, 1.0) * length, uniform(rng, 0.2, 0.7) * length
        pts = np.array([p, p + t * a, p + t * a + perp(t) * b])
        shape = line(pts, max(1.0, round(uniform(rng, 1.0, 2.2) * self.px)))
        if self.occ.fits(shape, 1.5):
            self.layout.silk.append(shape)
            self.occ.mark(shape, 1.0)
