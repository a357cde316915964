"""The generic worker: results, progress, errors and cancel, all delivered on the GUI thread."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest

from inspector.core.data.dataset import Dataset
from inspector.core.data.stats import DatasetStats
from inspector.core.data.validation import ValidationReport
from inspector.core.errors import DatasetError
from inspector.gui.workers.base import Worker, active_workers, log_file_path, stop_all
from inspector.gui.workers.dataset import (
    OpenedWorkspace,
    load_image_worker,
    open_workspace_worker,
    stats_worker,
    validate_worker,
)

SAFETY_S = 10.0  # a task that ignored cancel would end here, and the test would fail


def _wait_for_stop(stop: threading.Event) -> bool:
    """A long job: runs until cancelled (or the safety limit); True if it was cancelled."""
    return stop.wait(SAFETY_S)


def test_result_and_progress_arrive_on_the_gui_thread(qtbot):
    worker_threads: list[threading.Thread] = []
    seen: list[tuple[int, int, bool]] = []

    def task(progress, _stop):
        worker_threads.append(threading.current_thread())
        for i in range(1, 4):
            progress(i, 3)
        return "result"

    worker = Worker(task, "counting")
    worker.progress.connect(
        lambda done, total: seen.append((done, total,
                                         threading.current_thread() is threading.main_thread())))
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == ["result"]
    assert worker_threads[0] is not threading.main_thread()
    assert seen[-1] == (3, 3, True)  # the last report always arrives, on the GUI thread
    assert all(on_gui for _, _, on_gui in seen)


def test_done_comes_last_and_the_worker_is_released(qtbot):
    order: list[str] = []
    worker = Worker(lambda _p, _s: 1)
    worker.finished.connect(lambda _r: order.append("finished"))
    worker.done.connect(lambda: order.append("done"))
    with qtbot.waitSignal(worker.done, timeout=5000):
        worker.start()
    assert order == ["finished", "done"]
    assert not worker.is_running
    assert worker not in active_workers()
    with pytest.raises(RuntimeError):
        worker.start()


def test_an_inspector_error_reaches_failed_with_its_message(qtbot):
    def task(_progress, _stop):
        raise DatasetError("There is no class 'bridge' to rename.")

    worker = Worker(task, "renaming")
    finished = []
    worker.finished.connect(finished.append)
    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == ["There is no class 'bridge' to rename."]
    qtbot.waitUntil(lambda: not worker.is_running, timeout=5000)
    assert finished == []


def test_an_unexpected_error_is_logged_with_its_traceback(qtbot, caplog):
    def task(_progress, _stop):
        return {}["missing"]

    worker = Worker(task, "reading the statistics")
    with caplog.at_level(logging.ERROR), qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.start()
    message = blocker.args[0]
    assert "unexpected error" in message
    assert "reading the statistics" in message
    assert str(log_file_path()) in message
    assert "KeyError" not in message  # the user gets a sentence, the log gets the traceback
    record = next(r for r in caplog.records if "reading the statistics" in r.getMessage())
    assert record.exc_info is not None and record.exc_info[0] is KeyError


def test_cancel_stops_a_long_job(qtbot):
    started = threading.Event()

    def task(progress, stop):
        started.set()
        progress(0, 100)
        return _wait_for_stop(stop)

    worker = Worker(task, "waiting")
    finished = []
    worker.finished.connect(finished.append)
    with qtbot.waitSignal(worker.progress, timeout=5000):
        worker.start()
    assert worker.is_running
    with qtbot.waitSignal(worker.cancelled, timeout=5000) as blocker:
        worker.cancel()
    assert blocker.args == [True]  # the task saw the stop event, well before its safety limit
    assert finished == []
    assert worker.is_cancelled


def test_stop_all_cancels_and_waits(qtbot):
    workers = [Worker(lambda _p, s: _wait_for_stop(s)).start() for _ in range(3)]
    assert stop_all(timeout_ms=5000)
    qtbot.waitUntil(lambda: not active_workers(), timeout=5000)
    assert all(not w.is_running for w in workers)


def test_stats_worker_counts_the_dataset(qtbot, dataset: Dataset):
    worker = stats_worker(dataset)
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.start()
    stats = blocker.args[0]
    assert isinstance(stats, DatasetStats)
    assert stats.class_totals == {"ok": 10, "short": 4}


def test_validation_cancelled_before_it_starts_reports_a_partial_result(qtbot, dataset):
    worker = validate_worker(dataset)
    worker.cancel()
    with qtbot.waitSignal(worker.cancelled, timeout=5000) as blocker:
        worker.start()
    report = blocker.args[0]
    assert isinstance(report, ValidationReport)
    assert report.stopped
    assert report.images_checked < 14


def test_opening_a_folder_that_is_not_a_workspace_fails_with_a_message(qtbot, tmp_path):
    worker = open_workspace_worker(tmp_path)
    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.start()
    assert "is not an Inspector workspace" in blocker.args[0]


def test_open_workspace_worker_opens_its_dataset(qtbot, workspace):
    worker = open_workspace_worker(workspace.root)
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.start()
    opened = blocker.args[0]
    assert isinstance(opened, OpenedWorkspace)
    assert opened.dataset.classes() == ["ok", "short"]


def test_load_image_worker_decodes_or_explains(qtbot, dataset: Dataset, tmp_path: Path):
    good = dataset.image_files("ok")[0]
    worker = load_image_worker(good)
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.start()
    assert blocker.args[0].shape == (24, 24, 3)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    worker = load_image_worker(empty)
    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.start()
    assert "zero-byte file" in blocker.args[0]


def test_the_qt_binding_keeps_none_and_true_alive(qtbot):
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on every call of a void method
    and to True on every signal emit (harmless on 3.12+, where both are immortal). The counts
    reach zero within minutes of real use and Python aborts: "Fatal Python error: none_dealloc".
    6.11.3 is correct. If this fails, install another PySide6-Essentials version."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    worker = Worker(lambda _p, _s: None)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(50):
        label.setText("x")  # a void method
        worker.progress.emit(1, 2)  # emit() returns True
    none_lost = none_before - sys.getrefcount(None)
    true_lost = true_before - sys.getrefcount(True)
    assert none_lost < 25 and true_lost < 25, (
        f"PySide6 {pyside_version} on Python {sys.version.split()[0]} loses references: "
        f"{none_lost} to None, {true_lost} to True in 50 calls; the application would abort."
    )
