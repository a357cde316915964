"""The generic worker: one core call on its own QThread, reported through signals (DESIGN rule 2).

A *task* is a plain function `task(progress, stop_event) -> result`. It calls `progress(done,
total)` as the core's `on_progress` callback and returns early once `stop_event` is set; most
tasks are one line that passes both to a core function.

    worker = Worker(lambda progress, stop: validate(ds, on_progress=progress, stop_event=stop),
                    "validating the dataset")
    worker.progress.connect(bar.set_progress)
    worker.finished.connect(show_report)
    worker.failed.connect(show_error)
    worker.start()
    ...
    worker.cancel()     # sets the stop event; the task ends at its next check

Signals, always delivered on the GUI thread (the worker lives there; the thread that runs the
task only emits to it through queued connections), so any slot or lambda may touch widgets:

- `progress(int, int)`: done, total; throttled to a few updates a second, the last always sent.
- `finished(object)`: the task's result, when it returned and was not cancelled.
- `cancelled(object)`: the (partial) result, when the task returned after `cancel()`.
- `failed(str)`: a message for the user. An `InspectorError` gives its own message; any other
  exception is logged with its traceback and gives a short "unexpected error" message that says
  where the log is.
- `done()`: last of all, whatever the outcome, once the thread has ended.

Running workers are kept alive by a module registry until their thread has ended, so a caller
need not hold a reference; `stop_all()` cancels and waits for them (window close, tests).
A closure connected to a worker's signal that touches widgets goes through `while_alive`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThread, Signal, Slot

from inspector.core.errors import InspectorError
from inspector.core.paths import user_log_dir

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Task = Callable[[Progress, threading.Event], Any]

LOG_FILE_NAME = "inspector.log"
PROGRESS_INTERVAL_S = 0.05

_ACTIVE: set[Worker] = set()


def log_file_path() -> Path:
    """The application's log file (the GUI writes it; messages about unexpected errors cite it)."""
    return user_log_dir() / LOG_FILE_NAME


def unexpected_error_message(description: str) -> str:
    return (f"An unexpected error happened while {description}. "
            f"The details are in the log at {log_file_path()}.")


class _Runner(QThread):
    """The thread. Its signals are emitted from the running thread and queued to the worker."""

    progress = Signal(int, int)
    result = Signal(object)
    error = Signal(str)

    def __init__(self, task: Task, stop_event: threading.Event, description: str) -> None:
        super().__init__()
        self._task = task
        self._stop = stop_event
        self._description = description
        self._last_progress = 0.0

    def _report(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self.progress.emit(int(done), int(total))

    def run(self) -> None:
        threading.current_thread().name = f"worker ({self._description})"  # for the log
        try:
            result = self._task(self._report, self._stop)
        except InspectorError as exc:
            log.info("%s failed: %s", self._description, exc)
            self.error.emit(str(exc))
        except Exception:
            log.exception("unexpected error while %s", self._description)
            self.error.emit(unexpected_error_message(self._description))
        else:
            self.result.emit(result)


class Worker(QObject):
    progress = Signal(int, int)
    finished = Signal(object)
    cancelled = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, task: Task, description: str = "working",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.description = description
        self._task = task
        self._stop = threading.Event()
        self._thread: _Runner | None = None
        self._ended = False

    # -- control
    def start(self) -> Worker:
        if self._thread is not None:
            raise RuntimeError("a worker runs once; make a new one")
        thread = _Runner(self._task, self._stop, self.description)
        thread.progress.connect(self._on_progress)
        thread.result.connect(self._on_result)
        thread.error.connect(self._on_error)
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        _ACTIVE.add(self)
        log.debug("started: %s", self.description)
        thread.start()
        return self

    def cancel(self) -> None:
        """Ask the task to stop; it ends at its next check of the stop event."""
        self._stop.set()

    @property
    def is_cancelled(self) -> bool:
        return self._stop.is_set()

    @property
    def is_running(self) -> bool:
        return self._thread is not None and not self._ended

    def wait(self, timeout_ms: int = 5000) -> bool:
        """Block until the thread has ended (queued signals are delivered by the event loop)."""
        if self._thread is None:
            return True
        return self._thread.wait(timeout_ms)

    # -- relays: these run on the GUI thread
    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progress.emit(done, total)

    @Slot(object)
    def _on_result(self, result: object) -> None:
        if self._stop.is_set():
            log.debug("cancelled: %s", self.description)
            self.cancelled.emit(result)
        else:
            self.finished.emit(result)

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self.failed.emit(message)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is not None:
            self._thread.wait()
        self._ended = True
        _ACTIVE.discard(self)
        self.done.emit()


def while_alive(receiver: QObject, slot: Callable[..., Any]) -> Callable[..., None]:
    """`slot`, made to do nothing once `receiver` has been deleted.

    Connect a worker's signal to a closure through this when the closure touches a widget: a
    result may arrive after the widget that asked for it was closed and deleted.
    """

    def call(*args: Any) -> None:
        if shiboken6.isValid(receiver):
            slot(*args)

    return call


def active_workers() -> list[Worker]:
    return [w for w in _ACTIVE if w.is_running]


def stop_all(timeout_ms: int = 5000) -> bool:
    """Cancel every running worker and wait for their threads; True if all ended in time."""
    workers = list(_ACTIVE)
    for worker in workers:
        worker.cancel()
    deadline = time.monotonic() + timeout_ms / 1000
    ended = True
    for worker in workers:
        left = max(0, int((deadline - time.monotonic()) * 1000))
        if not worker.wait(left):
            log.warning("still running after %d ms: %s", timeout_ms, worker.description)
            ended = False
    return ended
