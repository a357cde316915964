"""The one-slot buffer, the reader thread and the states, on a source made for the test."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from inspector.core.inference.sources import Frame, FrameSource, SourceState, SourceStats
from inspector.core.inference.sources.base import Feed, Pacer

from .conftest import StateLog, wait_until


class Counter(FrameSource):
    """Frames carrying their own number, every `period` seconds, `n` of them (None: for ever)."""

    def __init__(self, n: int | None = None, period: float = 0.0, drop: bool = True,
                 fail_after: int | None = None) -> None:
        super().__init__("counter", drop=drop)
        self.n, self.period, self.fail_after = n, period, fail_after
        self.released = threading.Event()

    def _produce(self, feed: Feed) -> None:
        try:
            feed.set_state(SourceState.CONNECTED)
            i = 0
            while not feed.stopping and (self.n is None or i < self.n):
                if self.fail_after is not None and i == self.fail_after:
                    raise RuntimeError("driver exploded")
                if feed.wait(self.period):
                    return
                if not feed.publish(np.full((4, 4, 3), i % 256, np.uint8)):
                    return
                i += 1
            feed.drain()
            feed.set_state(SourceState.ENDED)
        finally:
            self.released.set()


def drain(source: FrameSource, delay: float = 0.0) -> list[Frame]:
    frames = []
    while True:
        frame = source.read(timeout=2.0)
        if frame is None:
            assert source.state in {SourceState.ENDED, SourceState.FAILED}
            return frames
        frames.append(frame)
        time.sleep(delay)


def test_slow_consumer_gets_the_newest_frame_and_drops_are_counted() -> None:
    with Counter(period=0.002) as source:
        indices = []
        for _ in range(15):
            frame = source.read(timeout=2.0)
            assert frame is not None
            indices.append(frame.index)
            time.sleep(0.02)  # ten frames come meanwhile
        stats = source.stats
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    gaps = np.diff(indices)
    assert gaps.max() > 1
    assert stats.frames_dropped > 0
    # every frame produced was either taken or dropped (one may still sit in the slot)
    assert stats.frames_read - stats.frames_dropped - len(indices) in (0, 1)


def test_with_drop_false_every_frame_reaches_a_slow_consumer() -> None:
    with Counter(n=40, drop=False) as source:
        frames = drain(source, delay=0.002)
        stats = source.stats
    assert [f.index for f in frames] == list(range(40))
    assert [int(f.image[0, 0, 0]) for f in frames] == list(range(40))
    assert stats == SourceStats(frames_read=40, frames_dropped=0, reconnects=0)
    assert source.state == SourceState.ENDED


def test_state_callbacks_in_order_and_ended_after_the_last_frame() -> None:
    log = StateLog()
    source = Counter(n=3, drop=False)
    source.on_state = log
    seen_states = []
    with source:
        while (frame := source.read(2.0)) is not None:
            seen_states.append(source.state)
            assert frame.source == "counter"
    assert all(s == SourceState.CONNECTED for s in seen_states)  # drop=False: ENDED comes last
    assert log.states == [SourceState.CONNECTING, SourceState.CONNECTED, SourceState.ENDED]
    assert source.state == SourceState.ENDED  # stop() keeps ENDED


def test_stop_is_quick_idempotent_and_releases() -> None:
    log = StateLog()
    source = Counter(period=0.001)
    source.on_state = log
    source.start()
    assert source.state in (SourceState.CONNECTING, SourceState.CONNECTED)
    assert source.read(2.0) is not None
    start = time.monotonic()
    source.stop()
    assert time.monotonic() - start < 2.0
    assert source.released.is_set() and not source.running
    assert source.state == SourceState.STOPPED
    source.stop()  # again: nothing happens
    assert log.states[-1] == SourceState.STOPPED
    assert [s for s, _ in log.events].count(SourceState.STOPPED) == 1
    assert source.read(timeout=5.0) is None  # at once: nothing will come


def test_stop_wakes_a_producer_waiting_for_the_consumer() -> None:
    source = Counter(drop=False)
    source.start()
    assert wait_until(lambda: source.stats.frames_read == 1)
    time.sleep(0.05)  # the producer now waits for the slot
    start = time.monotonic()
    source.stop()
    assert time.monotonic() - start < 1.0
    assert source.released.is_set()


def test_read_times_out_with_none_while_running() -> None:
    with Counter(period=10.0) as source:
        start = time.monotonic()
        assert source.read(timeout=0.2) is None
        assert 0.15 < time.monotonic() - start < 1.5
        assert source.state == SourceState.CONNECTED


def test_read_before_start_returns_at_once() -> None:
    source = Counter()
    start = time.monotonic()
    assert source.read(timeout=3.0) is None
    assert time.monotonic() - start < 0.5
    assert source.state == SourceState.STOPPED


def test_restart_starts_afresh() -> None:
    source = Counter(n=5, drop=False)
    with source:
        assert len(drain(source)) == 5
    with source:
        frames = drain(source)
    assert [f.index for f in frames] == list(range(5))


def test_an_error_in_the_reader_thread_is_a_failed_state() -> None:
    with Counter(n=10, drop=False, fail_after=2) as source:
        frames = drain(source)
    assert len(frames) == 2
    assert source.state == SourceState.FAILED
    assert source.error is not None and "driver exploded" in source.error
    assert source.released.is_set()


def test_a_failing_callback_does_not_stop_the_source() -> None:
    def explode(state: SourceState, error: str | None) -> None:
        raise ValueError("bad callback")

    source = Counter(n=3, drop=False)
    source.on_state = explode
    with source:
        assert len(drain(source)) == 3


def test_frames_are_rgb_with_increasing_timestamps() -> None:
    with Counter(n=5, drop=False) as source:
        frames = drain(source)
    stamps = [f.timestamp for f in frames]
    assert stamps == sorted(stamps)
    assert frames[0].truth is None and frames[0].boxes == ()
    with pytest.raises(AttributeError):
        frames[0].index = 3  # type: ignore[misc]


def test_pacer_spaces_frames() -> None:
    source = Counter()
    feed = Feed(source)
    pacer = Pacer(50.0)
    start = time.monotonic()
    for _ in range(11):
        assert pacer.wait(feed)
    assert 0.18 < time.monotonic() - start < 0.5


def test_stop_from_the_state_callback() -> None:
    source = Counter(period=0.001)
    states: list[SourceState] = []

    def on_state(state: SourceState, error: str | None) -> None:
        states.append(state)
        if state == SourceState.CONNECTED:
            source.stop()  # from the reader thread itself

    source.on_state = on_state
    source.start()
    assert wait_until(lambda: source.state == SourceState.STOPPED, timeout=2.0)
    assert source.released.wait(2.0)
    source.stop()
    assert states == [SourceState.CONNECTING, SourceState.CONNECTED, SourceState.STOPPED]
