"""Patch scenes: a small piece of board laid out around the point where a defect goes.

Each defect class has its scenes (a trace through the centre, two conductors with a gap at the
centre, free laminate at the centre, a drilled pad or via at the centre, copper at the centre);
"ok" draws the scene of a random defect class and leaves the defect out, so that the scene
itself tells nothing about the class. Around the main structure, vias, stubs, pours and
silkscreen are added where the occupancy grid says they touch nothing.
"""

from __future__ import annotations

import numpy as np

from inspector.core.data.synthetic import defects as dfx
from inspector.core.data.synthetic.builder import QUARTER, Builder, sign
from inspector.core.data.synthetic.common import DEFECT_CLASSES
from inspector.core.data.synthetic.defects import Defect, uniform
from inspector.core.data.synthetic.geometry import (
    DIRS,
    Layout,
    Pad,
    circle,
    line,
    offset_polyline,
    perp,
    rect,
    rotate,
)


class PatchScene(Builder):
    """Builds one patch layout; `build(label)` returns it with its defect (if any) included."""

    def __init__(self, rng: np.random.Generator, size: int, scan: bool) -> None:
        super().__init__(rng, size, size, size / 128 * (1.7 if scan else 1.0), scan,
                         (3.0, 9.5) if scan else (5.0, 13.0), occupancy_scale=0.5)
        self.size = size
        jitter = 4.0 * size / 128
        self.c = size / 2 + (rng.random(2) - 0.5) * 2 * jitter
        self.keep = 0.12 * size
        self.defect = Defect()
        self.missing: int | None = None

    def centre_line(self, a: np.ndarray, t: np.ndarray, s_min: float,
                    end: float | None = None) -> np.ndarray:
        """A line through `a` along t, straight for at least `s_min` either side, maybe bent
        45 degrees beyond that, running off the patch, or ending at `end` along t."""
        rng = self.rng
        limit = 0.62 * self.size
        pts = []
        if s_min < limit and rng.random() < 0.45:
            b = a - t * uniform(rng, s_min, limit)
            pts += [b + rotate(-t, sign(rng) * QUARTER) * self.far, b]
        else:
            pts.append(a - t * self.far)
        if end is not None:
            pts.append(a + t * end)
        elif s_min < limit and rng.random() < 0.45:
            b = a + t * uniform(rng, s_min, limit)
            pts += [b, b + rotate(t, sign(rng) * QUARTER) * self.far]
        else:
            pts.append(a + t * self.far)
        return np.array(pts)

    def bus(self, a: np.ndarray, t: np.ndarray, offsets: list[tuple[float, float]],
            s_min: float, end_pads: bool = False) -> None:
        """Parallel traces at `offsets` from the line through `a` along t."""
        spread = max(abs(d) for d, _ in offsets)
        s_min = s_min + 0.42 * spread
        if end_pads and s_min + 6 < 0.5 * self.size:
            end = uniform(self.rng, s_min + 3, 0.5 * self.size)
            traces, pads = self.bus_shapes(self.centre_line(a, t, s_min, end), offsets, True)
            # Every trace must end on its pad: a bare trace end would look like an open.
            if len(pads) == len(offsets) and all(self.fits(p.shape) for p in pads):
                for shape in traces:
                    self.add_trace(shape)
                for pad in pads:
                    self.add_pad(pad)
                return
        traces, _ = self.bus_shapes(self.centre_line(a, t, s_min), offsets, False)
        for shape in traces:
            self.add_trace(shape)

    # ---- scenes -------------------------------------------------------------------------

    def trace_scene(self, kind: str) -> None:
        rng, c = self.rng, self.c
        if kind == "pin_hole":
            self.w = max(self.w, round(uniform(rng, 8.0, 16.0) * self.px))
        w, clr = self.w, self.clr
        t = self.direction()
        out = perp(t) * sign(rng)
        need_side = need_other = clr
        extra = 0.0
        a = c.copy()
        if kind == "open":
            gap = dfx.open_gap(rng, w)
            need_side = need_other = max(clr, gap / 2 + 2.5)
        elif kind == "mousebite":
            r = dfx.bite_radius(rng, w)
            need_side = max(clr, r + 2.5)
            a = c - out * (w / 2 - 0.3 * r)
        elif kind == "spur":
            length = dfx.spur_length(rng, w)
            need_side = max(clr, length + 0.8 * clr + 2)
            a = c - out * (w / 2 + length / 2)
            extra = length
        else:
            r = dfx.hole_radius(rng, w)
        offsets = [(0.0, float(w))]
        side = 1 if (out @ perp(t)) > 0 else -1
        for sgn, need in ((side, need_side), (-side, need_other)):
            g = need * uniform(rng, 1.0, 1.7)
            offsets += self.side_offsets(w / 2 + g, sgn, g, self.neighbour_count())
        self.keep = max(self.keep, 1.5 * w + extra + clr)
        self.bus(a, t, offsets, max(2.5 * w, 0.14 * self.size) + extra,
                 end_pads=rng.random() < 0.35)
        if kind == "open":
            self.defect = dfx.make_open(rng, a, t, w, gap)
        elif kind == "mousebite":
            self.defect = dfx.make_mousebite(rng, a + out * w / 2, t, out, r, w)
        elif kind == "spur":
            self.defect = dfx.make_spur(rng, a + out * w / 2, t, out, w, length)
        else:
            self.defect = dfx.make_pin_hole(rng, c, r)

    def gap_scene(self) -> None:
        rng, c, w = self.rng, self.c, self.w
        t = self.direction()
        n = perp(t)
        gap = dfx.short_gap(rng, w, self.clr)
        a = c - n * (w / 2 + gap / 2)
        offsets = [(0.0, float(w))]
        g1 = self.clr * uniform(rng, 1.2, 2.0)
        offsets += self.side_offsets(w / 2 + g1, -1, g1, self.neighbour_count())
        if rng.random() < 0.2:
            self.clr = self.layout.clearance = min(self.clr, gap)
            self.layout.pours.append(self.half_plane(a + n * (w / 2 + gap), n))
        else:
            g2 = max(self.clr, gap) * uniform(rng, 1.0, 1.6)
            offsets += [(w / 2 + gap + w / 2, float(w))]
            offsets += self.side_offsets(1.5 * w + gap + g2, 1, g2, self.neighbour_count())
        self.keep = max(self.keep, gap / 2 + w + self.clr)
        self.bus(a, t, offsets, max(2.5 * w, 0.14 * self.size), end_pads=rng.random() < 0.3)
        self.defect = dfx.make_short(rng, a + n * w / 2, t, n, w, gap)

    def free_scene(self) -> None:
        rng, c, w, clr = self.rng, self.c, self.w, self.clr
        radius = dfx.blob_radius(rng, w)
        t = self.direction()
        n = perp(t)
        d1 = radius + clr * uniform(rng, 1.2, 2.6) + 2
        a = c - n * (d1 + w / 2)
        offsets = [(0.0, float(w))]
        g1 = clr * uniform(rng, 1.2, 2.0)
        offsets += self.side_offsets(w / 2 + g1, -1, g1, self.neighbour_count())
        s_min = max(2.5 * w, 0.14 * self.size)
        self.bus(a, t, offsets, s_min, end_pads=rng.random() < 0.3)
        d2 = radius + clr * uniform(rng, 1.2, 3.0) + 2
        other = rng.random()
        if other < 0.45:
            w2 = max(2, round(w * uniform(rng, 0.7, 1.5)))
            offs = [(0.0, float(w2))]
            g2 = clr * uniform(rng, 1.2, 2.0)
            offs += self.side_offsets(w2 / 2 + g2, 1, g2, self.neighbour_count())
            self.bus(c + n * (d2 + w2 / 2), t, offs, s_min)
        elif other < 0.65:
            self.layout.pours.append(self.half_plane(c + n * d2, n))
        self.keep = max(self.keep, radius + clr + 2)
        self.defect = dfx.make_blob(rng, c, radius)

    def pad_row(self, centre: np.ndarray, t: np.ndarray, radius: float, hole: float,
                pitch: float) -> int:
        """A row of drilled pads along t through `centre`, traces leaving them side by side;
        returns the index of the centre pad."""
        rng = self.rng
        n = perp(t)
        before, after = int(rng.random() * 3), int(rng.random() * 3)
        side = sign(rng)
        js = range(-before, after + 1)
        base = self.path(centre, n * side, uniform(rng, radius + 2 * self.w, 0.45 * self.size),
                         sign(rng))
        along = float(perp(n * side) @ t)
        for j in js:
            if rng.random() < 0.85:
                self.add_trace(line(offset_polyline(base, j * pitch * along), self.w))
        shape_kind = rng.random()
        index = -1
        for j in js:
            p = centre + t * j * pitch
            if shape_kind >= 0.7 and (shape_kind < 0.9 or j == -before):
                pad = Pad(rect(p, t, radius, radius), hole, True, p)
            else:
                pad = self.round_pad(p, radius, hole)
            i = self.add_pad(pad)
            if j == 0:
                index = i
        return index

    def pad_scene(self) -> None:
        rng, c, w = self.rng, self.c, self.w
        variant = rng.random()
        if variant < 0.45:
            radius = max(w + 5.0, uniform(rng, 2.2, 3.6) * w) / 2
            hole = radius * uniform(rng, 0.4, 0.62)
            pitch = 2 * radius + max(self.clr, uniform(rng, 1.0, 3.0) * self.clr)
            self.missing = self.pad_row(c, self.direction(), radius, hole, pitch)
            reach = radius * 1.42
        else:
            if variant < 0.8:
                pad = self.via(c)
                pad.exposed = True  # a tented via hides its drill hole anyway
            else:
                big = uniform(rng, 1.5, 2.6) * w
                pad = self.round_pad(c, big, big * uniform(rng, 0.35, 0.6))
                if rng.random() < 0.35:
                    self.layout.pours.append(self.full_pour())
            reach = pad.shape.size
            first = int(rng.random() * 8)
            ks = [first]
            if rng.random() < 0.6:
                ks.append((first + 2 + int(rng.random() * 5)) % 8)
            for k in ks:
                bend = uniform(rng, reach + 2 * w, 0.5 * self.size) if rng.random() < 0.5 else None
                wt = max(2, round(min(w * uniform(rng, 0.7, 1.4), 1.6 * reach)))
                self.add_trace(line(self.path(c, DIRS[k], bend, sign(rng)), wt))
            self.missing = self.add_pad(pad)
        self.keep = max(self.keep, reach + self.clr + 1)

    def pin_scene(self) -> None:
        rng, c = self.rng, self.c
        variant = rng.random()
        if variant < 0.4:
            self.trace_scene("pin_hole")
            return
        if variant < 0.7:
            self.smd_scene()
            return
        radius = max(2.5, uniform(rng, 2.5, 6.0) * self.px)
        if rng.random() < 0.3:
            self.layout.pours.append(self.full_pour())
        else:
            m = self.direction()
            edge = uniform(rng, radius + 4, 0.45 * self.size)
            self.layout.pours.append(self.half_plane(c + m * edge, -m))
            w = self.w
            gap = self.clr * uniform(rng, 1.0, 1.6)
            offs = [(0.0, float(w))]
            offs += self.side_offsets(w / 2 + gap, -1, gap, self.neighbour_count())
            self.bus(c + m * (edge + gap + w / 2), perp(m), offs, 0.14 * self.size)
        self.keep = max(self.keep, radius + self.clr + 3)
        self.defect = dfx.make_pin_hole(rng, c, radius)

    def smd_scene(self) -> None:
        rng, c = self.rng, self.c
        t = self.direction()
        n = perp(t)
        hw = max(3.5, uniform(rng, 0.7, 1.6) * self.w)
        hl = hw * uniform(rng, 1.4, 3.0)
        radius = dfx.hole_radius(rng, 2 * hw)
        o_t = uniform(rng, -1, 1) * max(0.0, hw - radius - 1.5)
        o_n = uniform(rng, -1, 1) * max(0.0, hl - radius - 1.5)
        p0 = c - t * o_t - n * o_n
        pitch = 2 * hw + self.clr * uniform(rng, 1.0, 2.0)
        side = sign(rng)
        wt = max(2, round(min(self.w, 1.4 * hw)))
        base = self.path(p0 + n * side * hl, n * side, uniform(rng, 2 * wt, 0.4 * self.size),
                         sign(rng))
        along = float(perp(n * side) @ t)
        js = range(-int(rng.random() * 3), 1 + int(rng.random() * 3))
        for j in js:
            if rng.random() < 0.8:
                pts = offset_polyline(base, j * pitch * along)
                pts[0] -= n * side * hl * 0.5
                self.add_trace(line(pts, wt))
        for j in js:
            p = p0 + t * j * pitch
            self.add_pad(Pad(rect(p, t, hw, hl), 0.0, True, p))
        self.keep = max(self.keep, float(np.hypot(hw, hl)) + self.clr)
        self.defect = dfx.make_pin_hole(rng, c, radius)

    # ---- decoration and entry -----------------------------------------------------------

    def decorate(self) -> None:
        rng, c, size = self.rng, self.c, self.size
        self.occ.mark(circle(c, self.keep))
        if not self.layout.pours and rng.random() < 0.2:
            m = self.direction()
            edge = uniform(rng, self.keep + self.clr, 0.55 * size)
            self.layout.pours.append(self.half_plane(c + m * edge, m))
        for _ in range(int(rng.random() * 4)):
            self.try_stub()
        for _ in range(int(rng.random() * 4)):
            self.try_via(rng.random(2) * size)
        if not self.scan:
            for _ in range(int(rng.random() * 3)):
                self.try_text(False, uniform(rng, 0.06, 0.12) * size)
            for _ in range(int(rng.random() * 3)):
                self.try_outline(0.4 * size)
        elif rng.random() < 0.15:
            self.try_text(True, uniform(rng, 0.09, 0.18) * size)

    def build(self, label: str) -> Layout:
        rng = self.rng
        scene = label if label != "ok" else DEFECT_CLASSES[int(rng.random() * len(DEFECT_CLASSES))]
        if scene in ("open", "mousebite", "spur"):
            self.trace_scene(scene)
        elif scene == "short":
            self.gap_scene()
        elif scene == "spurious_copper":
            self.free_scene()
        elif scene == "pin_hole":
            self.pin_scene()
        else:
            self.pad_scene()
        self.decorate()
        layout = self.layout
        if label != "ok":
            layout.add = list(self.defect.add)
            layout.sub = list(self.defect.sub)
            if label == "missing_hole" and self.missing is not None:
                layout.no_hole = {self.missing}
        return layout


def patch_layout(rng: np.random.Generator, label: str, size: int, scan: bool) -> Layout:
    return PatchScene(rng, size, scan).build(label)
