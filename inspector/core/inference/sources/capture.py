"""Live captures (cameras, streams) through cv2.VideoCapture, with reconnection.

A read that fails means the device or the stream was lost: the source goes RECONNECTING and
reopens it after reconnect_initial_s, doubling the wait each time up to reconnect_max_s, for
reconnect_attempts tries (0: for ever); CONNECTED again once frames flow, FAILED when the tries
are used up.
"""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from typing import Any, ClassVar, Protocol

import numpy as np

from inspector.config import SourceConfig
from inspector.core.inference.sources.base import Feed, FrameSource, SourceState, StateCallback
from inspector.core.inference.sources.convert import bgr_to_rgb

log = logging.getLogger(__name__)


class Capture(Protocol):
    """What the sources use of cv2.VideoCapture (tests pass stand-ins)."""

    def isOpened(self) -> bool: ...  # noqa: N802 - OpenCV's names
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def release(self) -> None: ...
    def set(self, prop: int, value: float) -> bool: ...
    def get(self, prop: int) -> float: ...


class LiveCaptureSource(FrameSource):
    """A device read as fast as it delivers (no pacing: the driver blocks), newest frame kept."""

    retry_first_open: ClassVar[bool] = True
    """False: a device that does not open at first is FAILED at once (a camera index that
    does not exist); True: it is retried like a lost one (a stream that is not up yet)."""

    def __init__(self, name: str, config: SourceConfig | None, *, drop: bool,
                 on_state: StateCallback | None) -> None:
        super().__init__(name, drop=drop, on_state=on_state)
        self.config = config or SourceConfig()

    @abstractmethod
    def _open(self, feed: Feed) -> tuple[Capture | None, str]:
        """(an opened capture, "") or (None, why it could not be opened: for the user)."""

    @abstractmethod
    def _lost_message(self, connected: bool) -> str:
        """Why a read failed: the device was lost (connected) or sends nothing (not yet)."""

    def _produce(self, feed: Feed) -> None:
        config = self.config
        limit = config.reconnect_attempts
        delay = config.reconnect_initial_s
        attempt = 0  # failed tries since frames last flowed
        was_connected = False  # frames flowed at some point: a later success is a reconnect
        flowing = False  # frames flow from the current capture
        cap: Capture | None = None
        reason = ""
        first = True
        try:
            while not feed.stopping:
                if cap is None:
                    if not first:
                        attempt += 1
                        if limit and attempt > limit:
                            tries = "try" if limit == 1 else "tries"
                            feed.set_state(SourceState.FAILED,
                                           f"{reason}; gave up after {limit} {tries} to reconnect")
                            return
                        of = f" of {limit}" if limit else ""
                        feed.set_state(SourceState.RECONNECTING,
                                       f"{reason}; trying again in {delay:g} s "
                                       f"(try {attempt}{of})")
                        if feed.wait(delay):
                            return
                        delay = min(delay * 2, max(config.reconnect_max_s,
                                                   config.reconnect_initial_s))
                    cap, reason = self._open(feed)
                    if feed.stopping:
                        return
                    if cap is None:
                        if first and not self.retry_first_open:
                            feed.set_state(SourceState.FAILED, reason)
                            return
                        first = False
                        log.info("%s: %s", self.describe(), reason)
                        continue
                    first = False
                    flowing = False
                ok, image = cap.read()
                stamp = time.monotonic()
                if feed.stopping:
                    return
                if not ok or image is None or getattr(image, "size", 0) == 0:
                    reason = self._lost_message(flowing)
                    log.warning("%s: %s", self.describe(), reason)
                    cap.release()
                    cap = None
                    continue
                if not flowing:
                    flowing = True
                    if was_connected:
                        feed.count_reconnect()
                    was_connected = True
                    attempt = 0
                    delay = config.reconnect_initial_s
                    feed.set_state(SourceState.CONNECTED)
                if not feed.publish(bgr_to_rgb(image), stamp):
                    return
        finally:
            if cap is not None:
                cap.release()


def open_video_capture(target: int | str, backend: int | None = None,
                       params: list[int] | None = None) -> Any:
    """cv2.VideoCapture(target[, backend[, params]]), imported here (cv2 is heavy)."""
    import cv2

    if backend is None:
        return cv2.VideoCapture(target)
    if params:
        return cv2.VideoCapture(target, backend, params)
    return cv2.VideoCapture(target, backend)
