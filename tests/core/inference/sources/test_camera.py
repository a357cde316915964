"""Cameras: a missing index, settings asked of the driver, a camera lost and found again.

The machine that runs the tests has no camera: the missing index is real, the rest runs on a
stand-in for cv2.VideoCapture.
"""

from __future__ import annotations

import logging
import threading
import time

import cv2
import numpy as np
import pytest

from inspector.config import SourceConfig
from inspector.core.inference.sources import CameraSource, SourceState, open_source

from .conftest import StateLog, wait_until


def test_a_missing_camera_fails_with_a_message_and_start_does_not_raise() -> None:
    log = StateLog()
    source = open_source("57", on_state=log)
    source.start()
    try:
        assert log.wait_for(SourceState.FAILED, timeout=5.0)
        assert source.read(timeout=5.0) is None
    finally:
        start = time.monotonic()
        source.stop()
        assert time.monotonic() - start < 2.0
    assert source.state == SourceState.FAILED
    assert source.error == ("no camera at index 57: check the cable, or that another program "
                            "is not using it")
    assert log.states == [SourceState.CONNECTING, SourceState.FAILED]


class FakeCamera:
    """A stand-in for cv2.VideoCapture: `plan` says, open by open, how many frames it gives
    before a read fails (None: for ever; False: it does not open)."""

    def __init__(self, plan: list[int | bool | None], refuse: frozenset[int] = frozenset()) -> None:
        self.plan = list(plan)
        self.refuse = refuse
        self.opens = 0
        self.released = 0
        self.props: dict[int, float] = {cv2.CAP_PROP_FRAME_WIDTH: 640.0,
                                         cv2.CAP_PROP_FRAME_HEIGHT: 480.0,
                                         cv2.CAP_PROP_FPS: 30.0, cv2.CAP_PROP_EXPOSURE: -5.0}
        self.lock = threading.Lock()

    def __call__(self, index: int) -> FakeCamera.Capture:
        with self.lock:
            frames = self.plan.pop(0) if self.plan else False
            self.opens += 1
        return FakeCamera.Capture(self, frames)

    class Capture:
        def __init__(self, camera: FakeCamera, frames: int | bool | None) -> None:
            self.camera, self.frames = camera, frames
            self.n = 0

        def isOpened(self) -> bool:  # noqa: N802
            return self.frames is not False

        def read(self) -> tuple[bool, np.ndarray | None]:
            time.sleep(0.002)
            if self.frames is not None and self.n >= self.frames:
                return False, None
            self.n += 1
            image = np.zeros((48, 64, 3), np.uint8)
            image[:, :, 0] = 255  # blue in BGR
            return True, image

        def release(self) -> None:
            self.camera.released += 1

        def set(self, prop: int, value: float) -> bool:
            if prop in self.camera.refuse:
                return False
            if prop == cv2.CAP_PROP_FRAME_WIDTH:  # this driver rounds widths to 100
                value = round(value, -2)
            self.camera.props[prop] = value
            return True

        def get(self, prop: int) -> float:
            return self.camera.props.get(prop, 0.0)


def test_settings_are_asked_refusals_logged_actual_values_read_back(
        caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeCamera([None], refuse=frozenset({cv2.CAP_PROP_FPS}))
    config = SourceConfig(spec="0", width=1234, height=720, fps=60, exposure=-3)
    source = CameraSource(0, config, capture_factory=fake)
    with caplog.at_level(logging.INFO), source:
        frame = source.read(timeout=3.0)
    assert frame is not None
    assert (frame.image[:, :, 2] == 255).all() and (frame.image[:, :, 0] == 0).all()  # RGB
    assert source.actual == {"width": 1200.0, "height": 720.0, "fps": 30.0, "exposure": -3.0}
    assert "refused fps = 60" in caplog.text
    assert "asked for width = 1234, the driver uses 1200" in caplog.text
    assert fake.released == fake.opens == 1


def test_a_lost_camera_reconnects_with_back_off() -> None:
    log = StateLog()
    fake = FakeCamera([5, False, False, None])  # 5 frames, lost, two failed reopens, then fine
    config = SourceConfig(spec="0", reconnect_initial_s=0.05, reconnect_max_s=0.08)
    source = CameraSource(0, config, capture_factory=fake, on_state=log)
    start = time.monotonic()
    with source:
        assert wait_until(lambda: source.stats.reconnects == 1, timeout=5.0)
        elapsed = time.monotonic() - start
        assert source.state == SourceState.CONNECTED and source.read(3.0) is not None
    assert elapsed >= 0.05 + 0.08 + 0.08  # waits of 0.05, then doubled but capped at 0.08
    assert fake.opens == 4
    assert log.states == [SourceState.CONNECTING, SourceState.CONNECTED,
                          SourceState.RECONNECTING, SourceState.CONNECTED, SourceState.STOPPED]
    messages = [e for s, e in log.events if s == SourceState.RECONNECTING]
    assert "lost camera 0" in (messages[0] or "")
    assert "no camera at index 0" in (messages[-1] or "")
    assert fake.released == fake.opens


def test_a_lost_camera_fails_when_the_attempts_are_used_up() -> None:
    fake = FakeCamera([3])
    config = SourceConfig(spec="0", reconnect_initial_s=0.01, reconnect_attempts=3)
    with CameraSource(0, config, capture_factory=fake) as source:
        assert wait_until(lambda: source.state == SourceState.FAILED, timeout=5.0)
    assert fake.opens == 4  # the first, then 3 tries
    assert "gave up after 3 tries" in (source.error or "")
    assert source.stats.frames_read == 3


def test_a_camera_that_does_not_open_at_first_is_not_retried() -> None:
    fake = FakeCamera([False, None])
    with CameraSource(0, capture_factory=fake) as source:
        assert wait_until(lambda: source.state == SourceState.FAILED)
    assert fake.opens == 1


def test_a_camera_that_opens_but_gives_nothing_is_retried() -> None:
    fake = FakeCamera([0, None])
    config = SourceConfig(spec="0", reconnect_initial_s=0.01)
    log = StateLog()
    with CameraSource(0, config, capture_factory=fake, on_state=log) as source:
        assert source.read(timeout=3.0) is not None
    assert "opened but sends no frames" in (log.events[1][1] or "")
    assert log.states[:3] == [SourceState.CONNECTING, SourceState.RECONNECTING,
                              SourceState.CONNECTED]
    assert source.stats.reconnects == 0  # frames had never flowed: not a reconnection


def test_stop_during_back_off_is_quick() -> None:
    fake = FakeCamera([2])
    config = SourceConfig(spec="0", reconnect_initial_s=60)
    source = CameraSource(0, config, capture_factory=fake)
    source.start()
    assert wait_until(lambda: source.state == SourceState.RECONNECTING)
    start = time.monotonic()
    source.stop()
    assert time.monotonic() - start < 0.5
    assert source.state == SourceState.STOPPED
