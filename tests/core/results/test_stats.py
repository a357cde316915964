from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from inspector.core.results import summary, yield_by_hour, yield_by_shift
from inspector.core.results.stats import hour_ranges, parse_shifts, shift_ranges

SHIFTS = {"early": "06:00", "late": "14:00", "night": "22:00"}


def at(day: int, hh: int, mm: int = 0) -> float:
    """Epoch seconds of 2024-05-<day> hh:mm UTC (the tests run with TZ=UTC)."""
    return datetime(2024, 5, day, hh, mm, tzinfo=UTC).timestamp()


@pytest.fixture
def filled(store, make_result, fixed_tz):
    rows = [
        (at(10, 2), "PASS"),     # the night shift of May 9
        (at(10, 6, 30), "PASS"), (at(10, 6, 45), "FAIL"), (at(10, 7, 10), "PASS"),
        (at(10, 13, 59), "REVIEW"),
        (at(10, 14), "PASS"),
        (at(10, 22, 30), "FAIL"), (at(11, 3), "PASS"), (at(11, 5, 59), "REVIEW"),  # night
        (at(11, 6), "PASS"),     # the early shift of May 11
    ]
    for t, verdict in rows:
        store.add(make_result(verdict, t=t))
    store.flush()
    return store


def test_yield_by_hour_in_local_hours(filled):
    buckets = yield_by_hour(filled, at(10, 0), at(11, 0))
    assert len(buckets) == 24
    assert [b.start for b in buckets] == [at(10, h) for h in range(24)]
    assert buckets[-1].end == at(11, 0)
    six = buckets[6]
    assert (six.passed, six.failed, six.review, six.total) == (1, 1, 0, 2)
    assert six.yield_pct == 50.0
    assert buckets[13].review == 1 and buckets[13].yield_pct == 0.0
    assert buckets[0].total == 0 and buckets[0].yield_pct is None
    assert buckets[2].total == 1 and buckets[2].yield_pct == 100.0
    assert sum(b.total for b in buckets) == filled.count(at(10, 0), at(11, 0)) == 7


def test_yield_by_hour_cuts_the_window_edges(filled):
    buckets = yield_by_hour(filled, at(10, 6, 40), at(10, 8, 15))
    assert [(b.start, b.end) for b in buckets] == [
        (at(10, 6, 40), at(10, 7)), (at(10, 7), at(10, 8)), (at(10, 8), at(10, 8, 15))]
    assert [b.total for b in buckets] == [1, 1, 0]
    assert yield_by_hour(filled, at(10, 5), at(10, 5)) == []


def test_yield_by_shift_with_a_night_shift_across_midnight(filled):
    buckets = yield_by_shift(filled, at(10, 0), at(11, 0), SHIFTS)
    assert [(b.name, b.day) for b in buckets] == [
        ("early", date(2024, 5, 10)), ("late", date(2024, 5, 10)),
        ("night", date(2024, 5, 10))]
    early, late, night = buckets
    assert (early.start, early.end) == (at(10, 6), at(10, 14))
    assert (early.passed, early.failed, early.review, early.yield_pct) == (2, 1, 1, 50.0)
    assert (late.total, late.yield_pct) == (1, 100.0)
    # the night shift of May 10 runs to 06:00 on May 11 and is counted whole
    assert (night.start, night.end) == (at(10, 22), at(11, 6))
    assert (night.passed, night.failed, night.review, night.total) == (1, 1, 1, 3)
    assert night.yield_pct == pytest.approx(100 / 3)
    two_days = yield_by_shift(filled, at(9, 0), at(11, 0), SHIFTS)
    assert [(b.name, b.day.day, b.total) for b in two_days] == [
        ("early", 9, 0), ("late", 9, 0), ("night", 9, 1),
        ("early", 10, 4), ("late", 10, 1), ("night", 10, 3)]


def test_shift_order_does_not_depend_on_the_dict_order(fixed_tz):
    shuffled = {"night": "22:00", "early": "06:00", "late": "14:00"}
    ranges = shift_ranges(at(10, 0), at(11, 0), shuffled)
    assert [r[0] for r in ranges] == ["early", "late", "night"]
    with pytest.raises(ValueError, match="HH:MM"):
        parse_shifts({"x": "25:99"})
    with pytest.raises(ValueError, match="same time"):
        parse_shifts({"a": "06:00", "b": "6:00"})


def test_hours_follow_daylight_saving_time(fixed_tz):
    fixed_tz("CET-1CEST,M3.5.0,M10.5.0/3")  # central Europe, no tz database needed
    spring = datetime(2024, 3, 31).timestamp(), datetime(2024, 4, 1).timestamp()
    autumn = datetime(2024, 10, 27).timestamp(), datetime(2024, 10, 28).timestamp()
    assert len(hour_ranges(*spring)) == 23
    assert len(hour_ranges(*autumn)) == 25
    assert all(hi - lo == 3600 for lo, hi in hour_ranges(*autumn))


def test_summary(filled):
    filled.set_decision(filled.query(verdicts=["FAIL"], limit=1)[0].id, "anna", "confirm")
    everything = summary(filled)
    assert everything["total"] == 10
    assert everything["verdicts"] == {"PASS": 6, "FAIL": 2, "REVIEW": 2}
    assert everything["labels"] == {"ok": 6, "short": 4}
    assert everything["yield_pct"] == 60.0
    assert everything["decided"] == 1 and everything["operators"] == {"anna": 1}
    assert (everything["first"], everything["last"]) == (at(10, 2), at(11, 6))
    day = summary(filled, at(10, 6), at(10, 14))
    assert day["total"] == 4 and day["yield_pct"] == 50.0
    empty = summary(filled, at(1, 0), at(2, 0))
    assert empty["total"] == 0 and empty["yield_pct"] is None and empty["first"] is None
    assert empty["verdicts"] == {"PASS": 0, "FAIL": 0, "REVIEW": 0}
