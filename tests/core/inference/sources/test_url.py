"""Network streams, against an MJPEG server on 127.0.0.1 started by the test."""

from __future__ import annotations

import time

import numpy as np

from inspector.core.inference.sources import SourceState, UrlSource, open_source

from .conftest import MjpegServer, StateLog, closed_port, number_of, wait_until


def test_frames_from_an_mjpeg_stream(mjpeg_server: MjpegServer) -> None:
    log = StateLog()
    with open_source(mjpeg_server.url, on_state=log) as source:
        frames = [source.read(timeout=5.0) for _ in range(5)]
        assert source.state == SourceState.CONNECTED
    assert all(f is not None for f in frames)
    indices = [f.index for f in frames if f is not None]
    assert indices == sorted(indices)
    image = frames[-1].image  # type: ignore[union-attr]
    assert image.shape == (96, 160, 3) and image.dtype == np.uint8
    assert 0 <= number_of(image) < 256
    assert log.states[:2] == [SourceState.CONNECTING, SourceState.CONNECTED]
    assert source.state == SourceState.STOPPED


def test_a_lost_stream_reconnects(mjpeg_server: MjpegServer) -> None:
    log = StateLog()
    source = open_source(mjpeg_server.url, on_state=log, reconnect_initial_s=0.1,
                         reconnect_max_s=0.2, open_timeout_s=2.0)
    with source:
        assert source.read(timeout=5.0) is not None
        mjpeg_server.stop()
        assert log.wait_for(SourceState.RECONNECTING, timeout=5.0)
        assert "lost the stream" in " ".join(e or "" for _, e in log.events)
        again = MjpegServer(port=mjpeg_server.port).start()  # the same address comes back
        try:
            assert wait_until(lambda: source.stats.reconnects == 1, timeout=8.0)
            assert source.state == SourceState.CONNECTED and source.error is None
            assert source.read(timeout=5.0) is not None
        finally:
            again.stop()
    assert log.states[:4] == [SourceState.CONNECTING, SourceState.CONNECTED,
                              SourceState.RECONNECTING, SourceState.CONNECTED]


def test_a_closed_port_reconnects_then_fails() -> None:
    log = StateLog()
    url = f"http://127.0.0.1:{closed_port()}/video.mjpg"
    source = open_source(url, on_state=log, reconnect_attempts=2, reconnect_initial_s=0.05,
                         reconnect_max_s=0.1)
    with source:
        assert log.wait_for(SourceState.FAILED, timeout=5.0)
        assert source.read(timeout=5.0) is None  # at once: FAILED
    assert log.states == [SourceState.CONNECTING, SourceState.RECONNECTING, SourceState.FAILED]
    tries = [e for s, e in log.events if s == SourceState.RECONNECTING]
    assert len(tries) == 2 and "try 1 of 2" in (tries[0] or "")
    assert source.state == SourceState.FAILED
    assert "cannot open" in (source.error or "") and "gave up after 2 tries" in source.error


def test_stop_is_quick_while_waiting_to_reconnect() -> None:
    url = f"rtsp://127.0.0.1:{closed_port()}/live"
    source = open_source(url, reconnect_initial_s=30.0)
    source.start()
    assert wait_until(lambda: source.state == SourceState.RECONNECTING)
    start = time.monotonic()
    source.stop()
    assert time.monotonic() - start < 0.5
    assert not source.running and source.state == SourceState.STOPPED


def test_stop_is_quick_while_an_address_does_not_answer(silent_port: int) -> None:
    log = StateLog()
    source = open_source(f"http://127.0.0.1:{silent_port}/video.mjpg", open_timeout_s=3.0,
                         on_state=log)
    source.start()
    time.sleep(0.3)  # the open is waiting for an answer
    assert source.state == SourceState.CONNECTING
    start = time.monotonic()
    source.stop()
    assert time.monotonic() - start < 1.0
    assert not source.running
    assert log.states == [SourceState.CONNECTING, SourceState.STOPPED]


def test_no_answer_is_reported_as_such(silent_port: int) -> None:
    source = open_source(f"http://127.0.0.1:{silent_port}/x", open_timeout_s=0.5,
                         reconnect_attempts=1, reconnect_initial_s=0.05)
    with source:
        assert wait_until(lambda: source.state == SourceState.FAILED, timeout=5.0)
    assert "no answer within 0.5 s" in (source.error or "")


def test_a_slow_consumer_of_a_stream_gets_the_newest(mjpeg_server: MjpegServer) -> None:
    with UrlSource(mjpeg_server.url) as source:
        assert source.read(timeout=5.0) is not None
        time.sleep(0.3)  # ~15 frames come meanwhile
        frame = source.read(timeout=5.0)
        assert frame is not None and frame.index > 3
        assert source.stats.frames_dropped > 0
