"""A video file, every frame in order (offline processing) or at the file's own rate.

Defaults: drop=False (the reader waits for the consumer: every frame is delivered, none
dropped) and realtime=False (as fast as the consumer takes them). realtime=True paces frames
at SourceConfig.fps if set, else at the file's own rate. loop=True starts again at the end
(Frame.index keeps rising); otherwise the source ends ENDED.

OpenCV only says "no frame" when a file is damaged. When that happens before the frame count
the container declares, the frames before it have been delivered and the source ends ENDED
with an error naming the frame where decoding stopped (a looping source stops there too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from inspector.config import SourceConfig
from inspector.core.inference.sources.base import (
    Feed,
    FrameSource,
    Pacer,
    SourceState,
    StateCallback,
)
from inspector.core.inference.sources.capture import Capture, open_video_capture
from inspector.core.inference.sources.convert import bgr_to_rgb

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm"})

_EXACT_COUNT = frozenset({".mp4", ".avi", ".mov", ".m4v"})
"""Containers with a frame index; others' counts are estimated from the duration."""

DEFAULT_FPS = 25.0
"""Pace of a realtime file whose rate the container does not give."""


class VideoFileSource(FrameSource):
    kind: ClassVar[str] = "video"
    OPTIONS: ClassVar[frozenset[str]] = frozenset(
        {"drop", "on_state", "realtime", "capture_factory"})

    def __init__(self, path: Path, config: SourceConfig | None = None, *, drop: bool = False,
                 realtime: bool = False, on_state: StateCallback | None = None,
                 capture_factory: Callable[[str], Capture] | None = None) -> None:
        super().__init__(f"video {path.name}", drop=drop, on_state=on_state)
        self.path = Path(path)
        self.config = config or SourceConfig(spec=str(path))
        self.realtime = realtime
        self._factory = capture_factory or open_video_capture
        self.frame_count: int | None = None
        """Frames the container declares (None until opened, or when it does not say)."""
        self.file_fps: float | None = None

    def _open(self) -> Capture | None:
        cap = self._factory(str(self.path))
        if cap.isOpened():
            return cap
        cap.release()
        return None

    def _produce(self, feed: Feed) -> None:
        import cv2

        name = self.path.name
        cap = self._open()
        if cap is None:
            feed.set_state(SourceState.FAILED,
                           f"cannot open {self.path} as a video: the file is damaged, or its "
                           f"format or codec is not supported")
            return
        try:
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            fps = float(cap.get(cv2.CAP_PROP_FPS))
            self.frame_count = count if count > 0 else None
            self.file_fps = fps if fps > 0 else None
            slack = 0 if self.path.suffix.lower() in _EXACT_COUNT else max(1, count // 50)
            pacer = Pacer(self.config.fps or self.file_fps or DEFAULT_FPS) if self.realtime \
                else None
            done = 0  # frames delivered in this pass through the file
            feed.set_state(SourceState.CONNECTED)
            while not feed.stopping:
                ok, image = cap.read()
                if not ok or image is None:
                    if self.frame_count and done + slack < self.frame_count:
                        feed.drain()
                        feed.set_state(SourceState.ENDED,
                                       f"{name} is damaged or cut short: decoding stopped at "
                                       f"frame {done + 1} of {self.frame_count}; the {done} "
                                       f"frames before it were delivered")
                        return
                    if done == 0:
                        feed.set_state(SourceState.FAILED, f"{name} holds no frame that can "
                                                           f"be decoded")
                        return
                    if not self.config.loop:
                        feed.drain()
                        feed.set_state(SourceState.ENDED)
                        return
                    cap.release()
                    cap = self._open()
                    if cap is None:
                        feed.set_state(SourceState.FAILED, f"cannot open {self.path} again "
                                                           f"to loop: was it moved or deleted?")
                        return
                    done = 0
                    continue
                done += 1
                if pacer is not None and not pacer.wait(feed):
                    return
                if not feed.publish(bgr_to_rgb(image)):
                    return
        finally:
            if cap is not None:
                cap.release()
