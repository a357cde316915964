"""Network streams (rtsp://, http(s):// MJPEG or any stream FFmpeg reads) by URL.

Opened through cv2.VideoCapture's FFmpeg backend with open_timeout_s as both the open and the
read timeout (CAP_PROP_OPEN_TIMEOUT_MSEC, CAP_PROP_READ_TIMEOUT_MSEC), so a dead address or a
stalled stream turns into RECONNECTING (and FAILED when reconnect_attempts are used up) instead
of a hang. The open runs in a helper thread: stop() never waits for an address that does not
answer (the helper releases what it opened when the open finally returns). A read is bounded by
the read timeout; stop() waits ~2 s for it and then returns anyway.

Passwords in URLs are never shown: describe() and messages print rtsp://user:***@host/...
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

from inspector.config import SourceConfig
from inspector.core.inference.sources.base import Feed, StateCallback
from inspector.core.inference.sources.capture import Capture, LiveCaptureSource, open_video_capture

log = logging.getLogger(__name__)

URL_SCHEMES: tuple[str, ...] = ("rtsp", "rtsps", "http", "https")


def redact_url(url: str) -> str:
    """The URL with its password (if any) replaced by ***."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        netloc = f"{parts.username}:***@{host}" if parts.username else f"***@{host}"
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return url.split("@", 1)[-1] if "@" in url else url


def _ffmpeg_capture(url: str, timeout_s: float) -> Capture:
    import cv2

    if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
        ms = max(1, round(timeout_s * 1000))
        return open_video_capture(url, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms,
                                                        cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
    return open_video_capture(url)  # pragma: no cover - OpenCV builds without FFmpeg


class UrlSource(LiveCaptureSource):
    """A stream by URL; a stream that is not up yet is retried like a lost one.

    `capture_factory(url, timeout_s)` replaces the FFmpeg capture (tests).
    """

    kind: ClassVar[str] = "url"
    retry_first_open: ClassVar[bool] = True
    OPTIONS: ClassVar[frozenset[str]] = frozenset({"drop", "on_state", "capture_factory"})

    def __init__(self, url: str, config: SourceConfig | None = None, *, drop: bool = True,
                 on_state: StateCallback | None = None,
                 capture_factory: Callable[[str, float], Capture] | None = None) -> None:
        self.url = url
        self.shown = redact_url(url)
        super().__init__(f"stream {self.shown}", config, drop=drop, on_state=on_state)
        self._factory = capture_factory or _ffmpeg_capture

    def _open(self, feed: Feed) -> tuple[Capture | None, str]:
        timeout = self.config.open_timeout_s
        start = time.monotonic()
        cap = _open_interruptibly(lambda: self._factory(self.url, timeout), feed,
                                  f"open {self.shown}")
        if cap is None:
            return None, ""  # stopping
        if cap.isOpened():
            return cap, ""
        cap.release()
        if time.monotonic() - start >= 0.9 * timeout:
            why = f"no answer within {timeout:g} s"
        else:
            why = "the connection was refused or what it sends is not a video stream"
        return None, (f"cannot open {self.shown}: {why}; check the address, the network, and "
                      f"that the camera is on")

    def _lost_message(self, connected: bool) -> str:
        timeout = self.config.open_timeout_s
        if connected:
            return (f"lost the stream {self.shown}: it closed, or sent nothing for "
                    f"{timeout:g} s")
        return f"{self.shown} answered but sent no frame within {timeout:g} s"


def _open_interruptibly(opener: Callable[[], Capture], feed: Feed,
                        what: str) -> Capture | None:
    """opener() in a helper thread; None at once if the source stops meanwhile (the helper
    then releases the capture itself when the open returns)."""
    lock = threading.Lock()
    done = threading.Event()
    box: dict[str, object] = {}

    def work() -> None:
        try:
            cap = opener()
        except Exception as exc:  # reported to the reader thread below
            box["error"] = exc
            done.set()
            return
        with lock:
            abandoned = box.get("abandoned", False)
            if not abandoned:
                box["cap"] = cap
        if abandoned:
            cap.release()
        done.set()

    threading.Thread(target=work, name=what, daemon=True).start()
    while not done.wait(0.05):
        if feed.stopping:
            with lock:
                if "cap" not in box:
                    box["abandoned"] = True
                    return None
            break
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    cap = box["cap"]
    if feed.stopping:
        cap.release()  # type: ignore[attr-defined]
        return None
    return cap  # type: ignore[return-value]
