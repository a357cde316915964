"""`fit` in a child process, for front ends that must stay responsive while a model trains.

A training in a thread of the desktop application shares the GIL with the GUI thread: building
the model, writing checkpoints and the collector's passes over a large heap each held it for
100-350 ms, and the window froze for as long. In its own process the training shares nothing:
the calling thread only waits on a queue (releasing the GIL) and relays what arrives.

The child is started with the "spawn" method (the same on Linux, Windows and macOS, and safe
with Qt's threads in the parent), rebuilds the Dataset from its root and settings, and sends
back, through one queue: TrainProgress reports, the warnings the core logs, and at the end the
TrainResult or the error (typed errors keep their type and message). Cancel sets an event that
`fit` polls, so a stopped run is resumable as in the thread. A child that dies without a word
(killed, out of memory) becomes a TrainingError that says the last checkpoint can be resumed.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspector.config import DatasetConfig, InspectorConfig
from inspector.core import errors
from inspector.core.errors import InspectorError, TrainingError

log = logging.getLogger(__name__)

POLL_S = 0.1
ORPHAN_CHECK_S = 1.0
NICE = 10


class _QueueLogHandler(logging.Handler):
    """In the child: the core's warnings go to the parent, which shows them in its log."""

    def __init__(self, channel: Any) -> None:
        super().__init__(logging.WARNING)
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._channel.put(("log", record.getMessage()))
        except Exception:  # a log line must never break the training
            self.handleError(record)


class _StopFlag:
    """A stop flag in shared memory without a lock: `multiprocessing.Event` takes a shared
    lock in `is_set()`, so a child killed while polling it would leave the parent blocked
    forever in `set()`. One byte, written by the parent (or the child's watcher), read by fit."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def is_set(self) -> bool:
        return bool(self._value.value)

    def set(self) -> None:
        self._value.value = 1


def _stop_when_orphaned(stop: _StopFlag) -> None:
    """In the child: stop (after the current batch, checkpoint kept) if the parent dies.

    The child is not a daemon process, because its DataLoader needs worker processes of its
    own; so it watches its parent instead of being killed with it.
    """
    parent = os.getppid()

    def watch() -> None:
        while not stop.is_set():
            time.sleep(ORPHAN_CHECK_S)
            if os.getppid() != parent:
                stop.set()

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


def _child(channel: Any, stop: Any, config_data: dict[str, Any], dataset_root: str,
           dataset_config: dict[str, Any], out_dir: str, resume: bool,
           warm_start: str | None = None) -> None:
    # Below the window's priority: the training still takes every idle cycle, but the GUI
    # thread gets the CPU at once when it has something to paint (it waited 60-85 ms behind
    # the training's threads otherwise). Windows has no nice(); there the child stays normal.
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(NICE)
    _stop_when_orphaned(stop)
    from inspector.core.data.dataset import Dataset
    from inspector.core.training.fit import fit

    logging.getLogger("inspector").addHandler(_QueueLogHandler(channel))
    try:
        config = InspectorConfig.model_validate(config_data)
        dataset = Dataset(Path(dataset_root), DatasetConfig.model_validate(dataset_config))
        result = fit(config, dataset, Path(out_dir), lambda p: channel.put(("progress", p)),
                     stop, resume=resume,
                     warm_start=Path(warm_start) if warm_start else None)
        channel.put(("result", result))
    except InspectorError as exc:
        channel.put(("error", type(exc).__name__, str(exc)))
    except BaseException as exc:  # reported to the parent, which logs and shows it
        channel.put(("crash", f"{type(exc).__name__}: {exc}"))


def fit_in_subprocess(config: InspectorConfig, dataset_root: Path,
                      dataset_config: DatasetConfig, out_dir: Path,
                      on_progress: Callable[[Any], None] | None = None,
                      stop_event: threading.Event | None = None, resume: bool = False,
                      on_log: Callable[[str], None] | None = None,
                      warm_start: Path | None = None) -> Any:
    """Run `fit` in a child process; returns its TrainResult (see the module's docstring)."""
    context = multiprocessing.get_context("spawn")
    channel = context.Queue()
    stop = _StopFlag(context.RawValue("b", 0))
    process = context.Process(
        target=_child, name=f"training {Path(out_dir).name}", daemon=False,
        args=(channel, stop, config.model_dump(mode="json"), str(dataset_root),
              dataset_config.model_dump(mode="json"), str(out_dir), resume,
              str(warm_start) if warm_start else None))
    process.start()
    log.info("training %s in process %s", out_dir, process.pid)
    try:
        while True:
            if stop_event is not None and stop_event.is_set():
                stop.set()
            try:
                message = channel.get(timeout=POLL_S)
            except queue.Empty:
                if not process.is_alive():
                    break
                continue
            kind = message[0]
            if kind == "progress":
                if on_progress is not None:
                    on_progress(message[1])
            elif kind == "log":
                if on_log is not None:
                    on_log(message[1])
            elif kind == "result":
                return message[1]
            elif kind == "error":
                error_type = getattr(errors, message[1], TrainingError)
                if not (isinstance(error_type, type) and issubclass(error_type, InspectorError)):
                    error_type = TrainingError
                raise error_type(message[2])
            elif kind == "crash":
                log.error("the training process failed: %s", message[1])
                raise RuntimeError(message[1])
        code = process.exitcode
        raise TrainingError(
            f"The training process ended unexpectedly (exit code {code}); the run's last "
            "checkpoint, if one was written, can be resumed.")
    finally:
        stop.set()
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
            process.join()
        channel.close()
