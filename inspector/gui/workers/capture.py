"""Live frames from a camera for the capture dialog, and saving a frame into a class.

`LiveFeed` runs the frame source (core `open_source`) in a Worker thread. The thread keeps only
the newest frame in a one-slot buffer and signals the GUI only when the slot was empty, so a
slow GUI paints the latest frame and nothing queues up. Saving goes through
`Dataset.add_encoded`, so hashing, duplicates and the split are the dataset's own.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from inspector.core.data.dataset import AddReport, Dataset
from inspector.gui.workers.base import Progress, Worker, while_alive

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.2


class LiveFeed(QObject):
    """Frames of one source; `frame_ready` on the GUI thread whenever a newer one waits."""

    frame_ready = Signal()  # take it with latest()
    state_changed = Signal(str, str)  # state value, error message ("" when none)
    ended = Signal()  # the source's thread has ended (stopped, failed or finished)

    def __init__(self, spec: str, options: dict[str, Any] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.options = dict(options or {})
        self._lock = threading.Lock()
        self._frame: Any = None
        self._state: tuple[str, str] | None = None
        self.frames_shown = 0
        self.worker: Worker | None = None

    def start(self) -> None:
        if self.worker is not None:
            return
        self.worker = Worker(self._task, f"reading frames from {self.spec}")
        self.worker.progress.connect(while_alive(self, self._deliver))
        self.worker.failed.connect(while_alive(self, lambda m: self.state_changed.emit(
            "failed", m)))
        self.worker.done.connect(while_alive(self, self._on_done))
        self.worker.start()

    def stop(self, wait_ms: int = 3000) -> None:
        worker = self.worker
        if worker is not None:
            worker.cancel()
            worker.wait(wait_ms)

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.is_running

    def latest(self) -> Any:
        """The newest Frame not taken yet, or None."""
        with self._lock:
            frame, self._frame = self._frame, None
        return frame

    # ------------------------------------------------------------------ the reader thread
    def _task(self, progress: Progress, stop: threading.Event) -> None:
        from inspector.core.inference.sources import TERMINAL_STATES, open_source

        def on_state(state: Any, error: str | None) -> None:
            with self._lock:
                self._state = (str(state), error or "")
            progress(0, 0)

        source = open_source(self.spec, on_state=on_state, **self.options)
        with source:
            while not stop.is_set():
                frame = source.read(timeout=READ_TIMEOUT_S)
                if frame is None:
                    if source.state in TERMINAL_STATES:
                        break
                    continue
                with self._lock:
                    was_empty = self._frame is None
                    self._frame = frame
                if was_empty:
                    progress(frame.index, frame.index)  # done >= total: never throttled

    # ------------------------------------------------------------------ the GUI thread
    def _deliver(self, _done: int, _total: int) -> None:
        with self._lock:
            state, self._state = self._state, None
            has_frame = self._frame is not None
        if state is not None:
            self.state_changed.emit(*state)
        if has_frame:
            self.frame_ready.emit()

    def _on_done(self) -> None:
        self._deliver(0, 0)
        self.worker = None
        self.ended.emit()


@dataclass(frozen=True)
class CaptureResult:
    report: AddReport
    label: str
    class_total: int  # images in the class after the capture


def capture_worker(dataset: Dataset, label: str, image: np.ndarray,
                   name: str | None = None) -> Worker:
    """Encode the frame as PNG and add it to the class; the result is a CaptureResult."""

    def task(_progress: Progress, _stop: threading.Event) -> CaptureResult:
        from inspector.core.data.images import encode_png

        file_name = name or time.strftime("capture-%Y%m%d-%H%M%S") + \
            f"-{int(time.time() * 1000) % 1000:03d}.png"
        report = dataset.add_encoded(label, [(file_name, encode_png(image))], 1)
        return CaptureResult(report, label, len(dataset.image_files(label)))

    return Worker(task, f"saving a frame into {label}")
