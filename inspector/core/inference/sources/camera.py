"""A local camera by index, through OpenCV (V4L2 on Linux, MSMF/DirectShow on Windows)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ClassVar

from inspector.config import SourceConfig
from inspector.core.inference.sources.base import Feed, StateCallback
from inspector.core.inference.sources.capture import Capture, LiveCaptureSource, open_video_capture

log = logging.getLogger(__name__)


class CameraSource(LiveCaptureSource):
    """Camera `index`. SourceConfig width, height, fps and exposure are asked of the driver
    when set; what it refuses is logged, and what it actually uses is in `actual` (read back
    after each open). A camera that does not open at first is FAILED at once; one lost later
    is reopened with back-off (see capture.py).

    `capture_factory(index)` replaces cv2.VideoCapture (tests, or a specific backend).
    """

    kind: ClassVar[str] = "camera"
    retry_first_open: ClassVar[bool] = False
    OPTIONS: ClassVar[frozenset[str]] = frozenset({"drop", "on_state", "capture_factory"})

    def __init__(self, index: int, config: SourceConfig | None = None, *, drop: bool = True,
                 on_state: StateCallback | None = None,
                 capture_factory: Callable[[int], Capture] | None = None) -> None:
        super().__init__(f"camera {index}", config, drop=drop, on_state=on_state)
        self.index = index
        self._factory = capture_factory or open_video_capture
        self.actual: dict[str, float] = {}
        """What the driver reports after the last open: width, height, fps, exposure."""

    def _open(self, feed: Feed) -> tuple[Capture | None, str]:
        cap = self._factory(self.index)
        if not cap.isOpened():
            cap.release()
            return None, (f"no camera at index {self.index}: check the cable, or that another "
                          f"program is not using it")
        self._configure(cap)
        return cap, ""

    def _lost_message(self, connected: bool) -> str:
        if connected:
            return (f"lost camera {self.index}: no frame came (unplugged, or taken by another "
                    f"program)")
        return (f"camera {self.index} opened but sends no frames: check that another program is "
                f"not using it")

    def _configure(self, cap: Capture) -> None:
        import cv2

        config = self.config
        asked: list[tuple[str, int, float]] = []
        if config.width is not None:
            asked.append(("width", cv2.CAP_PROP_FRAME_WIDTH, float(config.width)))
        if config.height is not None:
            asked.append(("height", cv2.CAP_PROP_FRAME_HEIGHT, float(config.height)))
        if config.fps is not None:
            asked.append(("fps", cv2.CAP_PROP_FPS, float(config.fps)))
        if config.exposure is not None:
            # Manual exposure first: V4L2 takes 1 for manual, the DirectShow convention is 0.25.
            backend = _backend_name(cap)
            manual = 1.0 if backend == "V4L2" else 0.25
            if not cap.set(cv2.CAP_PROP_AUTO_EXPOSURE, manual):
                log.warning("camera %d: the driver refused manual exposure", self.index)
            asked.append(("exposure", cv2.CAP_PROP_EXPOSURE, float(config.exposure)))
        for name, prop, value in asked:
            if not cap.set(prop, value):
                log.warning("camera %d: the driver refused %s = %g", self.index, name, value)
        props = {"width": cv2.CAP_PROP_FRAME_WIDTH, "height": cv2.CAP_PROP_FRAME_HEIGHT,
                 "fps": cv2.CAP_PROP_FPS, "exposure": cv2.CAP_PROP_EXPOSURE}
        self.actual = {name: float(cap.get(prop)) for name, prop in props.items()}
        for name, _, value in asked:
            got = self.actual[name]
            if abs(got - value) > 1e-3 * max(1.0, abs(value)):
                log.warning("camera %d: asked for %s = %g, the driver uses %g",
                            self.index, name, value, got)
        log.info("camera %d: %dx%d at %g fps", self.index, self.actual["width"],
                 self.actual["height"], self.actual["fps"])


def _backend_name(cap: Capture) -> str:
    try:
        return str(cap.getBackendName())  # type: ignore[attr-defined]
    except Exception:  # stand-ins and some builds have none
        return ""
