"""The shapes of each defect, placed at a given point of a conductor.

Every builder returns a `Defect`: copper to add, copper to remove, and the defect's bounding box
(floats, x2/y2 inclusive of the drawn pixels). Sizes follow the conductor's width `w`, with a
floor of about two pixels so that a defect survives the blur of the "photo" style.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from inspector.core.data.synthetic.geometry import Shape, circle, line, perp, polygon, rotate

MIN_FEATURE = 3.0


def uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A scalar uniform draw (rng.uniform is several times slower for one number)."""
    return lo + (hi - lo) * rng.random()


@dataclass
class Defect:
    add: list[Shape] = field(default_factory=list)
    sub: list[Shape] = field(default_factory=list)

    def box(self, margin: float = 1.5) -> tuple[float, float, float, float]:
        boxes = np.array([s.bbox() for s in (*self.add, *self.sub)])
        return (float(boxes[:, 0].min() - margin), float(boxes[:, 1].min() - margin),
                float(boxes[:, 2].max() + margin), float(boxes[:, 3].max() + margin))


def _jagged(rng: np.random.Generator, p0: np.ndarray, p1: np.ndarray, amp: float,
            n_mid: int = 2) -> np.ndarray:
    """A polyline from p0 to p1 whose inner points wander sideways by up to `amp`."""
    d = p1 - p0
    side = perp(d / max(1e-6, float(np.linalg.norm(d))))
    pts = [p0]
    for i in range(1, n_mid + 1):
        f = i / (n_mid + 1)
        pts.append(p0 + d * f + side * uniform(rng, -amp, amp))
    pts.append(p1)
    return np.array(pts)


# Sizes, drawn before the scene so that the scene leaves room for them.

def open_gap(rng: np.random.Generator, w: float) -> float:
    return max(MIN_FEATURE, min(uniform(rng, 0.5, 1.1) * w, 10.0 + 0.3 * w))


def bite_radius(rng: np.random.Generator, w: float) -> float:
    return max(2.2, min(uniform(rng, 0.35, 0.55) * w, 0.6 * w))


def spur_length(rng: np.random.Generator, w: float) -> float:
    return max(6.0, uniform(rng, 1.0, 2.0) * w)


def blob_radius(rng: np.random.Generator, w: float) -> float:
    return max(4.0, uniform(rng, 0.7, 1.6) * w)


def short_gap(rng: np.random.Generator, w: float, clearance: float) -> float:
    return max(3.0, clearance * uniform(rng, 1.0, 1.8), w * uniform(rng, 0.4, 0.9))


def hole_radius(rng: np.random.Generator, room: float) -> float:
    """A pin hole's radius, fitting in copper `room` pixels wide."""
    hi = max(1.5, room / 2 - 1.5)
    return min(hi, max(2.0, uniform(rng, 0.2, 0.35) * room))


# Builders. a: a point on a trace's centre line; t: its direction; e: a point on its edge;
# out: the unit normal pointing out of the conductor at e.

def make_open(rng: np.random.Generator, a: np.ndarray, t: np.ndarray, w: float,
              gap: float) -> Defect:
    n = perp(t)
    slant = uniform(rng, -0.5, 0.5)
    m = rotate(n, slant)
    half = (w / 2 + 0.8) / math.cos(slant)
    pts = _jagged(rng, a - m * half, a + m * half, 0.25 * gap)
    return Defect(sub=[line(pts, gap)])


def make_mousebite(rng: np.random.Generator, e: np.ndarray, t: np.ndarray, out: np.ndarray,
                   radius: float, w: float) -> Defect:
    count = 1 + int(rng.random() * 3)
    inward = max(0.0, min(0.35 * radius, 0.7 * w - radius))
    step = radius * uniform(rng, 1.2, 1.8)
    bites = []
    for j in range(count):
        r = radius * (uniform(rng, 0.75, 1.0) if count > 1 else 1.0)
        centre = e + t * (j - (count - 1) / 2) * step - out * inward * rng.random()
        bites.append(circle(centre, r))
    return Defect(sub=bites)


def make_spur(rng: np.random.Generator, e: np.ndarray, t: np.ndarray, out: np.ndarray,
              w: float, length: float) -> Defect:
    base = max(MIN_FEATURE, uniform(rng, 0.4, 0.8) * w)
    tip_dir = rotate(out, uniform(rng, -0.6, 0.6))
    root = e - out * 1.0
    tip = e + tip_dir * length
    mid = root + (tip - root) * uniform(rng, 0.35, 0.6) + t * uniform(rng, -0.15, 0.15) * base
    half = t * base / 2
    body = polygon([root - half, mid - half * 0.55, tip, mid + half * 0.55, root + half])
    spine = line([root, mid, tip], max(1.0, base * 0.3))
    return Defect(add=[body, spine])


def make_short(rng: np.random.Generator, e: np.ndarray, t: np.ndarray, out: np.ndarray,
               w: float, gap: float) -> Defect:
    thick = max(MIN_FEATURE, min(uniform(rng, 0.3, 0.7) * w, 0.9 * gap + 2))
    p0 = e - out * 1.0
    p1 = e + out * (gap + 1.2) + t * uniform(rng, -0.6, 0.6) * gap
    return Defect(add=[line(_jagged(rng, p0, p1, 0.2 * gap + 0.5), thick)])


def make_blob(rng: np.random.Generator, c: np.ndarray, radius: float) -> Defect:
    count = 7 + int(rng.random() * 5)
    ang = np.sort(rng.random(count)) * 2 * math.pi
    rad = radius * (0.6 + 0.45 * rng.random(count))
    squash = uniform(rng, 0.5, 1.0)
    rot = rng.random() * math.pi
    x, y = np.cos(ang) * rad, np.sin(ang) * rad * squash
    cr, sr = math.cos(rot), math.sin(rot)
    pts = np.stack([c[0] + cr * x - sr * y, c[1] + sr * x + cr * y], axis=1)
    return Defect(add=[polygon(pts)])


def make_pin_hole(rng: np.random.Generator, c: np.ndarray, radius: float) -> Defect:
    count = 9
    ang = np.arange(count) * (2 * math.pi / count) + rng.random()
    rad = radius * (0.8 + 0.25 * rng.random(count))
    pts = np.stack([c[0] + np.cos(ang) * rad, c[1] + np.sin(ang) * rad], axis=1)
    return Defect(sub=[polygon(pts)])
