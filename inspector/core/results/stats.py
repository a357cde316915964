"""Yield statistics over the results store: by local clock hour, by shift, and a summary.

Yield is PASS / (PASS + FAIL + REVIEW) in percent, None for an empty bucket. Hours and shift
starts are in the computer's local time (the `TZ` the process runs with), DST included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inspector.core.results.store import ResultsStore

_HOUR = 3600.0


@dataclass(frozen=True)
class YieldBucket:
    start: float  # UTC epoch seconds
    end: float
    passed: int
    failed: int
    review: int
    total: int
    yield_pct: float | None


@dataclass(frozen=True)
class ShiftBucket(YieldBucket):
    name: str
    day: date  # the local date the shift starts on


def yield_pct(passed: int, total: int) -> float | None:
    return None if total == 0 else 100.0 * passed / total


def _counts(counts: Mapping[str, int]) -> dict[str, Any]:
    passed, failed, review = counts["PASS"], counts["FAIL"], counts["REVIEW"]
    total = passed + failed + review
    return {"passed": passed, "failed": failed, "review": review, "total": total,
            "yield_pct": yield_pct(passed, total)}


def _hour_floor(t: float) -> float:
    # fromtimestamp sets `fold` for the repeated hour at a DST change; timestamp() honours it
    return datetime.fromtimestamp(t).replace(minute=0, second=0, microsecond=0).timestamp()


def hour_ranges(start: float, end: float) -> list[tuple[float, float]]:
    """The local clock hours that overlap [start, end), each cut to that window."""
    ranges = []
    hour = _hour_floor(start)
    while hour < end:
        following = _hour_floor(hour + _HOUR + 1.0)
        if following <= hour:  # never loop on an odd zone change
            following = hour + _HOUR
        ranges.append((max(hour, start), min(following, end)))
        hour = following
    return ranges


def yield_by_hour(store: ResultsStore, start: float, end: float) -> list[YieldBucket]:
    """One bucket per local clock hour overlapping [start, end), each counting the rows in the
    part of its hour inside the window (its start/end are that part): the totals add up to
    `store.count(start, end)`."""
    ranges = hour_ranges(float(start), float(end))
    counts = store.verdict_counts(ranges)
    return [YieldBucket(lo, hi, **_counts(c)) for (lo, hi), c in zip(ranges, counts, strict=True)]


def parse_shifts(shifts: Mapping[str, str]) -> list[tuple[str, clock]]:
    """{name: "HH:MM"} as (name, start) sorted by start; ValueError on a bad time."""
    parsed = []
    for name, text in shifts.items():
        try:
            hours, minutes = (int(part) for part in text.strip().split(":"))
            parsed.append((name, clock(hours, minutes)))
        except ValueError:
            raise ValueError(f"shift {name!r} starts at {text!r}, not a HH:MM time") from None
    parsed.sort(key=lambda item: item[1])
    if len({start for _, start in parsed}) != len(parsed):
        raise ValueError("two shifts start at the same time")
    return parsed


def shift_ranges(start: float, end: float,
                 shifts: Mapping[str, str]) -> list[tuple[str, date, float, float]]:
    """(name, day, start, end) of every shift that STARTS in [start, end). A shift lasts until
    the next one starts, so the last one of a day ("night": "22:00") runs past midnight and
    belongs to the day it starts."""
    parsed = parse_shifts(shifts)
    if not parsed:
        return []
    out = []
    day = datetime.fromtimestamp(start).date() - timedelta(days=1)
    last_day = datetime.fromtimestamp(end).date()
    while day <= last_day:
        following = day + timedelta(days=1)
        for index, (name, begins) in enumerate(parsed):
            lo = datetime.combine(day, begins).timestamp()
            if index + 1 < len(parsed):
                hi = datetime.combine(day, parsed[index + 1][1]).timestamp()
            else:
                hi = datetime.combine(following, parsed[0][1]).timestamp()
            if start <= lo < end:
                out.append((name, day, lo, hi))
        day = following
    return out


def yield_by_shift(store: ResultsStore, start: float, end: float,
                   shifts: Mapping[str, str]) -> list[ShiftBucket]:
    """One bucket per shift that starts in [start, end), counted whole (even the part of a
    night shift after `end`): ask for one local day, 00:00 to 00:00, to get that day's shifts."""
    found = shift_ranges(float(start), float(end), shifts)
    counts = store.verdict_counts([(lo, hi) for _, _, lo, hi in found])
    return [ShiftBucket(lo, hi, name=name, day=day, **_counts(c))
            for (name, day, lo, hi), c in zip(found, counts, strict=True)]


def summary(store: ResultsStore, start: float | None = None,
            end: float | None = None) -> dict[str, Any]:
    """Rows in [start, end): {"total", "verdicts": {verdict: n} (all three), "labels":
    {label: n} (most frequent first), "yield_pct", "decided" (rows an operator has decided),
    "operators": {operator: n}, "first", "last" (epoch seconds, None when empty)}."""
    verdicts = store.group_counts("verdict", start, end)
    counts = {v: int(verdicts.get(v, 0)) for v in ("PASS", "FAIL", "REVIEW")}
    total = sum(counts.values())
    operators = {str(k): n for k, n in store.group_counts("operator", start, end).items()
                 if k is not None}
    span = store.time_span(start, end)
    return {
        "total": total,
        "verdicts": counts,
        "labels": {str(k): n for k, n in store.group_counts("label", start, end).items()},
        "yield_pct": yield_pct(counts["PASS"], total),
        "decided": sum(operators.values()),
        "operators": operators,
        "first": span[0] if span else None,
        "last": span[1] if span else None,
    }
