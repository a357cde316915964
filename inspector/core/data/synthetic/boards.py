"""Whole board layouts, procedurally.

The layout has buses entering from the edges with 45-degree bends, through-hole headers, SOIC
and two-pad footprints with their traces fanning out, vias, stubs, a mounting hole, sometimes a
copper pour, and silkscreen (or etched copper text in the "scan" style).
"""

from __future__ import annotations

import numpy as np

from inspector.core.data.synthetic.builder import Builder, sign
from inspector.core.data.synthetic.defects import uniform
from inspector.core.data.synthetic.geometry import (
    DIRS,
    Layout,
    Pad,
    circle,
    line,
    offset_polyline,
    perp,
    rect,
)


class BoardBuilder(Builder):
    """Lays out a whole board frame; `build()` returns its layout (no defects yet)."""

    def __init__(self, rng: np.random.Generator, width: int, height: int, scan: bool) -> None:
        px = min(width, height) / 480 * (2.0 if scan else 1.0)
        super().__init__(rng, width, height, px, scan, (2.6, 6.0))
        self.clr = self.layout.clearance = max(4.5 if scan else 2.5,
                                               self.w * uniform(rng, 0.8, 1.3))

    def inside(self, margin: float) -> np.ndarray:
        rng = self.rng
        return np.array([uniform(rng, margin, self.width - margin),
                         uniform(rng, margin, self.height - margin)])

    def place(self, pads: list[Pad], extra: float = 0.0) -> bool:
        if all(self.fits(p.shape, extra) for p in pads):
            for pad in pads:
                self.add_pad(pad)
            return True
        return False

    def route(self, start: np.ndarray, t: np.ndarray, skip: float, w: float,
              offsets: list[float] | None = None) -> None:
        """Traces leaving pads: from `start` along t, with up to two 45-degree bends, to the
        edge of the picture or to a via. With `offsets`, a parallel trace for each (pads in a
        row). A trace that would touch something is cut short and ends at a via instead, or
        left out; it is checked from `skip` past its pad."""
        rng = self.rng
        dim = min(self.width, self.height)
        skip += self.clr + w / 2 + 2
        turn = sign(rng)
        lengths = [uniform(rng, skip + w, skip + 0.3 * dim)]
        turns = [turn if rng.random() < 0.6 else 0]
        if turns[0]:
            lengths.append(uniform(rng, 0.05, 0.3) * dim)
            turns.append(-turn if rng.random() < 0.7 else 0)
        to_via = rng.random() < 0.4
        lengths.append(uniform(rng, 0.05, 0.25) * dim if to_via else self.far)
        turns.append(0)
        base = self.walk(start, t, lengths, turns)
        planned = min(sum(lengths), 1.2 * dim)
        tries = [planned * f for f in (1.0, 0.7, 0.45, 0.25) if planned * f > skip + 3 * w]
        for d in offsets or [0.0]:
            full = offset_polyline(base, d)
            for i, reach in enumerate(tries):
                pts = full if i == 0 else _truncate(full, reach)
                via = self.via(pts[-1], w) if (to_via or i > 0) else None
                check = pts.copy()
                check[0] = check[0] + t * skip
                if self.fits(line(check, w)) and (via is None or self.fits(via.shape)):
                    self.add_trace(line(pts, w))
                    if via is not None:
                        self.add_pad(via)
                    break

    def silk_box(self, lo: np.ndarray, hi: np.ndarray, label: bool = True) -> None:
        if self.scan:
            return
        rng = self.rng
        thick = max(1.0, round(uniform(rng, 1.0, 2.0) * self.px))
        if rng.random() < 0.7:
            box = line([lo, [hi[0], lo[1]], hi, [lo[0], hi[1]], lo], thick)
            if self.occ.fits(box, 1.0):
                self.layout.silk.append(box)
        if label:
            height = uniform(rng, 7.0, 12.0) * self.px
            org = (int(lo[0]), int(lo[1] - 3))
            self.try_text(False, height, org)

    # ---- footprints ---------------------------------------------------------------------

    def th_header(self) -> None:
        rng, w = self.rng, self.w
        t = DIRS[2 * int(rng.random() * 2)]
        n = perp(t)
        radius = max(w + 5.0, uniform(rng, 2.2, 3.4) * w) / 2
        hole = radius * uniform(rng, 0.4, 0.6)
        pitch = 2 * radius + self.clr * uniform(rng, 1.3, 2.5)
        count = 2 + int(rng.random() * 9)
        rows = 2 if rng.random() < 0.4 else 1
        sep = pitch * uniform(rng, 3.0, 6.0)
        origin = self.inside(3 * radius)
        pads: list[Pad] = []
        for r in range(rows):
            for j in range(count):
                p = origin + t * j * pitch + n * r * sep
                if j == 0 and r == 0:
                    pads.append(Pad(rect(p, t, radius, radius), hole, True, p))
                else:
                    pads.append(self.round_pad(p, radius, hole))
        if not self.place(pads, self.clr):
            return
        side = sign(rng)
        for r in range(rows):
            out = n * (side if rows == 1 else (-1 if r == 0 else 1))
            left = perp(out)
            first = origin + n * r * sep
            offs = [float(left @ (t * j * pitch)) for j in range(count) if rng.random() < 0.8]
            self.route(first, out, radius + self.clr + 1, w, offs)
        ends = np.array([p.centre for p in pads])
        self.silk_box(ends.min(0) - radius - 3, ends.max(0) + radius + 3)

    def soic(self) -> None:
        rng, w = self.rng, self.w
        t = DIRS[2 * int(rng.random() * 2)]
        n = perp(t)
        hw = max(1.5, uniform(rng, 0.6, 1.1) * w)
        hl = hw * uniform(rng, 2.0, 3.5)
        pitch = 2 * hw + self.clr * uniform(rng, 1.0, 1.6)
        count = 3 + int(rng.random() * 6)
        body = uniform(rng, 3.0, 7.0) * w
        origin = self.inside(body + 2 * hl + 4 * w)
        pads = []
        for s in (-1, 1):
            for j in range(count):
                p = origin + t * j * pitch + n * s * (body / 2 + hl)
                pads.append(Pad(rect(p, t, hw, hl), 0.0, True, p))
        if not self.place(pads, self.clr):
            return
        wt = max(2, round(min(w, 1.6 * hw)))
        for s in (-1, 1):
            out = n * s
            first = origin + out * (body / 2 + hl)
            offs = [float(perp(out) @ (t * j * pitch)) for j in range(count)
                    if rng.random() < 0.85]
            self.route(first, out, hl + self.clr + 1, wt, offs)
        if not self.scan:
            lo = origin - t * (hw + 2) - n * (body / 2 - 2)
            hi = origin + t * ((count - 1) * pitch + hw + 2) + n * (body / 2 - 2)
            corners = np.array([lo, hi])
            self.silk_box(corners.min(0), corners.max(0))
            dot = circle(origin + n * (body / 2 - 2 - 2 * self.px) + t * 0.5 * pitch,
                         1.5 * self.px)
            self.layout.silk.append(dot)

    def passive(self) -> None:
        rng, w = self.rng, self.w
        t = DIRS[2 * int(rng.random() * 2)]
        hw = uniform(rng, 0.8, 1.5) * w
        hl = hw * uniform(rng, 1.2, 2.0)
        gap = uniform(rng, 1.5, 3.0) * w
        origin = self.inside(gap + 4 * hw + 2 * w)
        ends = [origin + t * s * (gap / 2 + hw) for s in (-1, 1)]
        pads = [Pad(rect(p, t, hw, hl), 0.0, True, p) for p in ends]
        if not self.place(pads, self.clr):
            return
        for s, p in zip((-1, 1), ends, strict=True):
            if rng.random() < 0.85:
                self.route(p, t * s, hw + self.clr + 1, max(2, round(min(w, 1.5 * hl))))
        n = perp(t)
        corners = np.array([ends[0] - t * (hw + 2) - n * (hl + 2), ends[1] + t * (hw + 2)
                            + n * (hl + 2)])
        self.silk_box(corners.min(0), corners.max(0), rng.random() < 0.6)

    def edge_bus(self) -> None:
        rng = self.rng
        for _ in range(5):
            edge = int(rng.random() * 4)
            d0 = DIRS[(0, 4, 2, 6)[edge]]
            horizontal = edge < 2
            along = self.height if horizontal else self.width
            dim = self.width if horizontal else self.height
            pos = uniform(rng, 0.1, 0.9) * along
            x0 = (-4 * self.w, self.width + 4 * self.w)[edge] if horizontal else pos
            y0 = pos if horizontal else (-4 * self.w, self.height + 4 * self.w)[edge - 2]
            count = 2 + int(rng.random() * 5)
            wb = self.w if rng.random() < 0.8 else round(self.w * 1.5)
            pitch = wb + self.clr * uniform(rng, 1.0, 1.6)
            offsets = [((i - (count - 1) / 2) * pitch, float(wb)) for i in range(count)]
            turn = sign(rng)
            lengths = [uniform(rng, 0.1, 0.6) * dim, uniform(rng, 0.05, 0.35) * dim]
            turns = [turn, -turn if rng.random() < 0.6 else 0]
            end_pads = rng.random() < 0.3
            lengths.append(uniform(rng, 0.05, 0.3) * dim if end_pads else self.far)
            turns.append(0)
            base = self.walk(np.array([x0, y0]), d0, lengths, turns)
            traces, pads = self.bus_shapes(base, offsets, end_pads)
            if end_pads and len(pads) != len(offsets):
                continue
            if all(self.fits(s) for s in traces) and all(
                    self.fits(p.shape) for p in pads):
                for shape in traces:
                    self.add_trace(shape)
                for pad in pads:
                    self.add_pad(pad)
                return

    def mounting_hole(self) -> None:
        rng = self.rng
        radius = uniform(rng, 0.05, 0.09) * min(self.width, self.height)
        gap = radius * uniform(rng, 1.3, 2.0)
        cx = (gap, self.width - gap)[int(rng.random() * 2)]
        cy = (gap, self.height - gap)[int(rng.random() * 2)]
        pad = self.round_pad(np.array([cx, cy]), radius, radius * uniform(rng, 0.55, 0.7))
        self.place([pad])

    def pour(self) -> None:
        rng, f = self.rng, self.far
        sx, sy = sign(rng), sign(rng)
        cx = 0.0 if sx > 0 else float(self.width)
        cy = 0.0 if sy > 0 else float(self.height)
        if rng.random() < 0.5:
            ax, ay = uniform(rng, 0.25, 0.6) * self.width, uniform(rng, 0.25, 0.6) * self.height
        elif rng.random() < 0.5:
            ax, ay = f, uniform(rng, 0.15, 0.45) * self.height
        else:
            ax, ay = uniform(rng, 0.15, 0.45) * self.width, f
        ch = uniform(rng, 0.0, 0.5) * min(ax, ay, 0.5 * min(self.width, self.height))
        local = np.array([[-f, -f], [ax, -f], [ax, ay - ch], [ax - ch, ay], [-f, ay]])
        self.layout.pours.append(np.array([cx, cy]) + local * (sx, sy))

    def build(self) -> Layout:
        rng = self.rng
        unit = self.w * 12
        cells = self.width * self.height / unit**2
        if rng.random() < 0.3:
            self.mounting_hole()
        for _ in range(1 + int(rng.random() * 3) + round(cells * 0.02)):
            self.edge_bus()
        for _ in range(max(12, round(cells * uniform(rng, 0.15, 0.3)))):
            kind = rng.random()
            if kind < 0.35:
                self.th_header()
            elif kind < 0.65:
                self.soic()
            else:
                self.passive()
        for _ in range(max(8, round(cells * uniform(rng, 0.08, 0.2)))):
            self.try_stub()
        for _ in range(round(cells * uniform(rng, 0.03, 0.1))):
            self.try_via(self.inside(self.w))
        for _ in range(30):  # drilled pads to leave without a hole
            if sum(p.hole > 0 for p in self.layout.pads) >= 4:
                break
            self.try_via(self.inside(3 * self.w))
        if rng.random() < 0.45:
            self.pour()
        dim = min(self.width, self.height)
        if self.scan:
            if rng.random() < 0.5:
                self.try_text(True, uniform(rng, 0.04, 0.07) * dim)
        else:
            for _ in range(round(cells * uniform(rng, 0.0, 0.04))):
                self.try_text(False, uniform(rng, 7.0, 12.0) * self.px)
            for _ in range(int(rng.random() * 3)):
                self.try_outline(0.2 * dim)
        return self.layout


def _truncate(pts: np.ndarray, reach: float) -> np.ndarray:
    """The polyline cut `reach` pixels from its start."""
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    out = [pts[0]]
    for p0, p1, length in zip(pts[:-1], pts[1:], seg, strict=True):
        if reach <= length:
            out.append(p0 + (p1 - p0) * (reach / length))
            break
        out.append(p1)
        reach -= length
    return np.array(out)
