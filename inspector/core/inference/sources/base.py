"""The frame-source contract: states, frames, the one-slot buffer and the reader thread.

A source runs one daemon reader thread that takes frames from its device (camera, stream,
file, folder, generator) and puts each into a one-slot buffer:

- ``drop=True`` (cameras, URLs, the virtual camera): the newest frame replaces one the consumer
  has not taken yet; ``stats.frames_dropped`` counts those the consumer never saw, and the
  gaps in ``Frame.index`` show where. A slow consumer always works on the latest frame.
- ``drop=False`` (video files and folders, offline work): the reader waits until the consumer
  has taken the previous frame, so every frame is delivered and nothing is ever dropped.

Frames are never queued. States are reported (``state``, ``error``, ``on_state``), not raised:
a camera that is missing or a stream that dies does not raise in the consumer's thread.

Subclasses implement ``_produce(feed)``, which runs in the reader thread and talks to the
buffer only through the `Feed` it is given.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import ClassVar, Self

import numpy as np

from inspector.core.data.synthetic.common import DefectBox

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 2.0
"""How long stop() waits for the reader thread. A thread still blocked in a driver call after
that (an open or read bounded by the source's own timeout) is left to end on its own: it is a
daemon, it has been told to stop, and it releases its device as soon as the call returns."""


class SourceState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    ENDED = "ended"
    STOPPED = "stopped"


TERMINAL_STATES = frozenset({SourceState.FAILED, SourceState.ENDED, SourceState.STOPPED})
"""No frame will come after these (apart from one still waiting in the buffer)."""


@dataclass(frozen=True)
class Frame:
    """One frame, as a consumer gets it from `FrameSource.read`."""

    image: np.ndarray
    """HxWx3 uint8 RGB, C-contiguous; the consumer's own copy (the source keeps no reference)."""
    index: int
    """Frames produced by the source so far, from 0 (gaps are frames dropped for this one)."""
    timestamp: float
    """time.monotonic() when the frame was captured (files: when it was produced)."""
    source: str
    """describe() of the source."""
    truth: tuple[str, ...] | None = None
    """Virtual camera: labels of the defects in view, ("ok",) when none; None elsewhere."""
    boxes: tuple[DefectBox, ...] = ()
    """Virtual camera: the defects' boxes in frame coordinates (x2, y2 exclusive)."""


@dataclass(frozen=True)
class SourceStats:
    frames_read: int
    """Frames taken from the device and offered to the consumer."""
    frames_dropped: int
    """Frames replaced by a newer one before the consumer took them (always 0 with drop=False)."""
    reconnects: int
    """Times frames flowed again after the device or stream was lost."""


StateCallback = Callable[[SourceState, str | None], None]


class Feed:
    """The reader thread's handle on its source: one per start(), so a thread left behind by
    an earlier stop() can never touch the buffer or the state of a later run."""

    def __init__(self, source: FrameSource) -> None:
        self._source = source
        self._stop = threading.Event()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking at once on stop(); True when the source is stopping."""
        if seconds > 0:
            return self._stop.wait(seconds)
        return self._stop.is_set()

    def set_state(self, state: SourceState, error: str | None = None) -> None:
        """Change the state (and the error shown with it); ignored once stop() was called."""
        if not self.stopping:
            self._source._change_state(state, error, self)

    def note(self, error: str) -> None:
        """Record a problem that does not change the state (a skipped file)."""
        if not self.stopping:
            self._source._note(error, self)

    def count_reconnect(self) -> None:
        self._source._count_reconnect(self)

    def publish(self, image: np.ndarray, timestamp: float | None = None,
                truth: tuple[str, ...] | None = None,
                boxes: tuple[DefectBox, ...] = ()) -> bool:
        """Offer a frame to the consumer (blocks with drop=False until the previous one was
        taken); False when the source is stopping and the producer should return."""
        return self._source._publish(self, image, timestamp, truth, boxes)

    def drain(self) -> bool:
        """Wait until the consumer took the frame in the buffer (drop=False only: then a
        consumer that watches `state` never sees ENDED before the last frame). False when
        stopping."""
        return self._source._drain(self)


class FrameSource(ABC):
    """A camera, stream, file, folder or generator of frames; a context manager.

    ``with source: frame = source.read()`` starts the reader thread on entry and stops it on
    exit (the thread is joined, the device released). ``start()`` after ``stop()`` starts
    afresh (a file from its first frame, the index from 0).
    """

    kind: ClassVar[str] = "source"
    OPTIONS: ClassVar[frozenset[str]] = frozenset({"drop", "on_state"})
    """Keyword options the constructor takes besides the SourceConfig fields."""

    def __init__(self, name: str, *, drop: bool,
                 on_state: StateCallback | None = None) -> None:
        self._name = name
        self.drop = drop
        self.on_state: StateCallback | None = on_state
        self._cond = threading.Condition()
        self._lifecycle = threading.Lock()
        self._callback_lock = threading.RLock()
        self._state = SourceState.STOPPED
        self._error: str | None = None
        self._slot: Frame | None = None
        self._produced = 0
        self._dropped = 0
        self._reconnects = 0
        self._feed: Feed | None = None
        self._thread: threading.Thread | None = None

    # ---- what subclasses provide -------------------------------------------------------

    @abstractmethod
    def _produce(self, feed: Feed) -> None:
        """Run in the reader thread: open the device, publish frames, set states; return when
        done or when feed.stopping. Release everything it opened before returning."""

    def describe(self) -> str:
        """A short user-readable name ("camera 0", "video clip.avi", ...); Frame.source."""
        return self._name

    # ---- public API --------------------------------------------------------------------

    @property
    def state(self) -> SourceState:
        with self._cond:
            return self._state

    @property
    def error(self) -> str | None:
        """The last problem, written for the user (None when there is none)."""
        with self._cond:
            return self._error

    @property
    def stats(self) -> SourceStats:
        with self._cond:
            return SourceStats(self._produced, self._dropped, self._reconnects)

    @property
    def running(self) -> bool:
        """True while the reader thread is alive and has not been told to stop."""
        thread, feed = self._thread, self._feed
        return bool(thread and thread.is_alive() and feed and not feed.stopping)

    def start(self) -> None:
        """Start the reader thread (no-op if running). Never raises for a device problem:
        watch `state` and `error`."""
        with self._lifecycle:
            if self.running:
                return
            feed = Feed(self)
            with self._cond:
                self._feed = feed
                self._slot = None
                self._produced = self._dropped = self._reconnects = 0
                self._state = SourceState.CONNECTING
                self._error = None
                self._cond.notify_all()
            self._thread = threading.Thread(
                target=self._thread_main, args=(feed,), name=f"frames: {self._name}",
                daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the reader thread, wait for it (up to ~2 s) and release the device.
        Idempotent. A source that already ENDED or FAILED keeps that state and its error;
        any other becomes STOPPED."""
        thread = self._thread
        if thread is not None and thread is threading.current_thread():
            # from an on_state callback: tell the thread, which reports STOPPED as it ends
            feed = self._feed
            if feed is not None:
                feed._stop.set()
            return
        with self._lifecycle:
            feed, thread = self._feed, self._thread
            if feed is None:
                return
            feed._stop.set()
            with self._cond:
                self._cond.notify_all()
            if thread is not None:
                thread.join(JOIN_TIMEOUT_S)
                if thread.is_alive():
                    log.warning("%s: the reader thread is still blocked in the driver; it will "
                                "release the device when that call returns", self._name)
                    self._finish(feed)  # it cannot report STOPPED itself in time
            with self._cond:
                self._slot = None  # a frame left behind is stale now
            self._feed = None
            self._thread = None

    def read(self, timeout: float = 1.0) -> Frame | None:
        """The newest frame not returned before, waiting up to `timeout` seconds for one.

        None when nothing new came in time, or at once when the source has ENDED, FAILED or
        STOPPED and its buffer is empty: check `state` to tell which.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while self._slot is None:
                if self._state in TERMINAL_STATES:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            frame, self._slot = self._slot, None
            self._cond.notify_all()  # a drop=False producer waits for the slot
            return frame

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r} {self.state.value}>"

    # ---- the reader thread -------------------------------------------------------------

    def _thread_main(self, feed: Feed) -> None:
        self._emit(SourceState.CONNECTING, None)
        try:
            self._produce(feed)
        except Exception as exc:  # a driver or a bug must not kill the thread silently
            log.exception("%s: the reader thread failed", self._name)
            feed.set_state(SourceState.FAILED, f"{self._name} stopped on an unexpected error: "
                                               f"{exc}")
        finally:
            if feed.stopping:
                self._finish(feed)
            else:
                with self._cond:
                    unfinished = self._feed is feed and self._state not in TERMINAL_STATES
                if unfinished:  # _produce returned without saying why
                    feed.set_state(SourceState.ENDED)

    def _finish(self, feed: Feed) -> None:
        """The final STOPPED, once per run, from whichever thread gets here first."""
        with self._cond:
            if self._feed is not feed or self._state in TERMINAL_STATES:
                return
            self._state = SourceState.STOPPED
            self._cond.notify_all()
            error = self._error
        self._emit(SourceState.STOPPED, error)

    def _change_state(self, state: SourceState, error: str | None, feed: Feed) -> None:
        with self._cond:
            if self._feed is not feed or self._state in TERMINAL_STATES:
                return
            if state == self._state and error == self._error:
                return
            self._state = state
            self._error = error
            self._cond.notify_all()
        log_at = logging.WARNING if error and state != SourceState.CONNECTED else logging.INFO
        log.log(log_at, "%s: %s%s", self._name, state.value, f" ({error})" if error else "")
        self._emit(state, error)

    def _emit(self, state: SourceState, error: str | None) -> None:
        callback = self.on_state
        if callback is None:
            return
        with self._callback_lock:  # never two at once, and in order
            try:
                callback(state, error)
            except Exception:
                log.exception("%s: the on_state callback failed", self._name)

    def _note(self, error: str, feed: Feed) -> None:
        with self._cond:
            if self._feed is feed:
                self._error = error

    def _count_reconnect(self, feed: Feed) -> None:
        with self._cond:
            if self._feed is feed:
                self._reconnects += 1

    def _publish(self, feed: Feed, image: np.ndarray, timestamp: float | None,
                 truth: tuple[str, ...] | None, boxes: tuple[DefectBox, ...]) -> bool:
        stamp = time.monotonic() if timestamp is None else timestamp
        with self._cond:
            if not self.drop:
                while self._slot is not None and not feed.stopping:
                    self._cond.wait(0.5)
            if feed.stopping or self._feed is not feed:
                return False
            if self._slot is not None:
                self._dropped += 1
            self._slot = Frame(image, self._produced, stamp, self._name, truth, boxes)
            self._produced += 1
            self._cond.notify_all()
            return True

    def _drain(self, feed: Feed) -> bool:
        if self.drop:
            return not feed.stopping
        with self._cond:
            while self._slot is not None and not feed.stopping:
                self._cond.wait(0.5)
        return not feed.stopping


class Pacer:
    """Spaces frames 1/fps apart in real time; a late frame is not followed by a burst."""

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps
        self._due: float | None = None

    def wait(self, feed: Feed) -> bool:
        """Sleep until the next frame is due; False when the source is stopping."""
        now = time.monotonic()
        if self._due is None or now - self._due > self.period:
            self._due = now  # first frame, or fell behind: start again from now
        elif self._due > now and feed.wait(self._due - now):
            return False
        self._due += self.period
        return not feed.stopping
