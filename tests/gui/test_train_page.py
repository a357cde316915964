"""The Training page: a real (tiny) training started, cancelled and resumed from the page, with
the event loop watched for stalls the whole time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer

from inspector.config import load_config
from inspector.core.data.synthetic import generate_patch_dataset
from inspector.core.workspace import Workspace
from inspector.gui.pages.train import TrainPage
from inspector.gui.workers.training import WeightsCheck

TRAIN_TIMEOUT = 300_000  # a ResNet-50 on a shared 2-core CPU
CHECK_TIMEOUT = 60_000  # the weights check imports torch in its worker
# Measured with the training in its own process at a lower priority: 38-44 ms, alone and after
# every other GUI test (it was 69-330 ms while a message resized the plots, the four plots were
# redrawn in one pass, and closed windows' input filters taxed every event).
MAX_STALL_S = 0.100
# A gap in which the GUI thread hardly ran (descheduled on a shared 2-core machine): seen up to
# 354 ms at the end of the full suite on CI-like machines, while the same test alone measured
# 21-44 ms; over this it fails whatever the cause.
MAX_WAIT_S = 0.500


class StallMeter:
    """A 10 ms timer on the GUI thread; the longest gap between its ticks is the worst stall.

    Each gap is also measured in the GUI thread's own CPU time. A gap in which the thread ran
    for most of the time is work on the GUI thread (what the requirement forbids); a gap in
    which it hardly ran is the thread waiting to be scheduled on a busy 2-core machine (the
    training beside it, other programs): `longest_busy` is the longest gap of the first kind.
    """

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.longest = 0.0
        self.longest_cpu = 0.0  # the GUI thread's CPU time within the longest gap
        self.longest_busy = 0.0
        self.ticks = 0
        self._last = 0.0
        self._last_cpu = 0.0

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gap, ran = now - self._last, cpu - self._last_cpu
        if gap > self.longest:
            self.longest, self.longest_cpu = gap, ran
        if ran >= 0.5 * gap:
            self.longest_busy = max(self.longest_busy, gap)
        self._last, self._last_cpu = now, cpu
        self.ticks += 1

    def start(self) -> None:
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


@pytest.fixture
def tiny_workspace(tmp_path: Path) -> Workspace:
    """Three classes of 48 px synthetic patches; input 32 px, 2 epochs of 2 batches of 8."""
    workspace = Workspace.create(tmp_path / "ws")
    dataset = workspace.dataset()
    generate_patch_dataset(dataset.root, per_class=8, seed=3, size=48,
                           classes=("ok", "short", "missing_hole"))
    dataset.split()
    config = workspace.config
    config.model.input_size = 32
    config.train.epochs = 2
    config.train.batch_size = 8
    config.train.workers = 0
    config.train.warmup_epochs = 0.5
    config.train.patience = 0
    config.train.device = "cpu"
    workspace.save_config()
    return workspace


@pytest.fixture
def page(qtbot, tiny_workspace: Workspace) -> TrainPage:
    page = TrainPage(tiny_workspace, tiny_workspace.dataset())
    qtbot.addWidget(page)
    page.resize(1280, 800)
    return page


def test_train_cancel_and_resume_with_curves_progress_and_no_stall(qtbot, page, tiny_workspace,
                                                                   capsys, app_heap):
    meter = StallMeter()
    progress_values: list[int] = []
    page.progress_shown.connect(lambda _p: progress_values.append(page.progress_bar.value()))
    # as in the application: the page's first showing checks for ImageNet weights, which
    # imports torch in a worker (a one-off, measured apart in the report); then Start
    with qtbot.waitSignal(page.weights_checked, timeout=CHECK_TIMEOUT):
        page.show()
    meter.start()

    # start; cancel once the first batch is on screen
    with qtbot.waitSignal(page.training_started, timeout=1000) as started:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    run = started.args[0]
    assert run.parent == tiny_workspace.models_dir
    assert not page.start_button.isEnabled() and page.cancel_button.isEnabled()
    assert not page.train_form.editors["epochs"].isEnabled()  # settings are locked meanwhile
    qtbot.waitUntil(lambda: page.curves.step_points() >= 1, timeout=TRAIN_TIMEOUT)
    assert "batch 1/" in page.progress_bar.format()
    assert "img/s" in page.speed_label.text() and "ETA" in page.speed_label.text()
    with qtbot.waitSignal(page.training_stopped, timeout=TRAIN_TIMEOUT) as stopped:
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    partial = stopped.args[0]
    assert partial.stopped
    assert (run / "last.safetensors").is_file()
    assert not (run / "evaluation.json").exists()
    assert "Stopped" in page.result_label.text()
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)
    assert page.selected_run() == run
    assert page.resume_button.isEnabled()
    steps_before_resume = page.curves.step_points()

    # resume finishes it
    trained: list[Path] = []
    page.model_trained.connect(trained.append)
    with qtbot.waitSignal(page.training_finished, timeout=TRAIN_TIMEOUT) as finished:
        qtbot.mouseClick(page.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)
    meter.stop()
    result = finished.args[0]

    assert not result.stopped and result.epochs_run == 2
    assert trained == [run]
    assert (run / "best.safetensors").is_file() and (run / "evaluation.json").is_file()
    # curves: every epoch and more batches after the resume
    assert page.curves.epoch_points() == 2
    assert page.curves.step_points() > steps_before_resume
    assert len(page.curves.val_f1.x) == 2 and len(page.curves.step_lr.x) >= 2
    # progress moved forward and ended full
    moving = [v for v in progress_values if v > 0]
    assert len(set(moving)) >= 2
    assert page.progress_bar.value() == page.progress_bar.maximum()
    # the result summary, the log and the no-ImageNet warning
    summary = page.result_label.text()
    assert "Best epoch" in summary and str(run) in summary and "Test: accuracy" in summary
    assert "No ImageNet weights" in summary
    assert page.weights_banner.isVisible()
    assert "No ImageNet weights were found" in page.weights_label.text()
    log_text = page.log_text()
    assert "Resuming at epoch" in log_text and "Epoch 2/2" in log_text
    assert log_text.count("No ImageNet weights were found") == 1  # logged and reported: once
    assert not page.message_bar.isVisible() or page.message_bar.level.name == "INFO"

    with capsys.disabled():
        print(f"\n[stall] longest event-loop gap while training: {meter.longest * 1000:.1f} ms "
              f"(the GUI thread ran {meter.longest_cpu * 1000:.1f} ms of it); longest gap "
              f"spent working: {meter.longest_busy * 1000:.1f} ms; {meter.ticks} ticks; longest "
              f"collection {max((s for _, s in app_heap), default=0.0) * 1000:.1f} ms")
    assert meter.ticks > 100
    # checkpoints must be written and read with the GIL released (safetensors save_file and
    # safe_open, not save() and load(bytes)): see inspector/core/training/checkpoint.py
    assert meter.longest_busy < MAX_STALL_S, (
        f"the GUI thread worked {meter.longest_busy * 1000:.0f} ms without returning to the "
        "event loop")
    # waiting to be scheduled is the machine's doing, but a freeze is a freeze
    assert meter.longest < MAX_WAIT_S, f"the event loop stalled {meter.longest * 1000:.0f} ms"


def test_the_weights_warning_shows_before_a_start(qtbot, page, tiny_workspace):
    with qtbot.waitSignal(page.weights_checked, timeout=CHECK_TIMEOUT) as checked:
        page.show()  # the check runs when the page is first seen
    check = checked.args[0]
    assert isinstance(check, WeightsCheck) and check.warning
    assert page.weights_banner.isVisible()
    assert "No ImageNet weights were found" in page.weights_label.text()
    # turning ImageNet off: no warning, the status says why every layer is trained
    with qtbot.waitSignal(page.weights_checked, timeout=CHECK_TIMEOUT):
        qtbot.keyClick(page.model_form.editors["pretrained"], Qt.Key.Key_Space)
    assert tiny_workspace.config.model.pretrained is False
    assert not page.weights_banner.isVisible()
    assert "random weights" in page.status_label.text()
    # a named file that does not exist is reported there too
    page.model_form.editors["pretrained"].setChecked(True)
    line = page.model_form.editors["imagenet_weights"]
    with qtbot.waitSignal(page.weights_checked, timeout=CHECK_TIMEOUT) as checked:
        line.setText(str(tiny_workspace.root / "missing.pth"))
        qtbot.keyClick(line, Qt.Key.Key_Return)
    while checked.args and isinstance(checked.args[0], WeightsCheck):  # the earlier re-check
        with qtbot.waitSignal(page.weights_checked, timeout=CHECK_TIMEOUT) as checked:
            pass
    assert "does not exist" in checked.args[0]
    assert "does not exist" in page.weights_label.text()


def test_a_training_error_appears_in_the_message_bar(qtbot, tmp_path):
    workspace = Workspace.create(tmp_path / "empty")  # no classes, no images
    page = TrainPage(workspace, workspace.dataset())
    qtbot.addWidget(page)
    page.show()
    with qtbot.waitSignal(page.error_shown, timeout=TRAIN_TIMEOUT) as error:
        qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert "unexpected" not in error.args[0].lower()
    assert page.message_bar.isVisible() and page.message_bar.text() == error.args[0]
    qtbot.waitUntil(lambda: not page.busy, timeout=10_000)
    assert page.start_button.isEnabled()
    assert page.progress_bar.format() == "Failed"


def test_the_forms_edit_and_save_the_workspace_config(qtbot, page, tiny_workspace, dialogs):
    page.show()
    page.activateWindow()  # Ctrl+S belongs to the page's window
    qtbot.waitUntil(page.isActiveWindow, timeout=5000)
    epochs = page.train_form.editors["epochs"]
    epochs.lineEdit().selectAll()
    qtbot.keyClicks(epochs.lineEdit(), "7")
    qtbot.keyClick(epochs.lineEdit(), Qt.Key.Key_Return)
    assert tiny_workspace.config.train.epochs == 7
    assert page.modified_label.isVisible()
    gamma = page.loss_form.editors["gamma"]
    kind = page.loss_form.editors["kind"]
    kind.setCurrentIndex(kind.findData("cross_entropy"))
    assert tiny_workspace.config.train.loss.kind == "cross_entropy"
    assert not gamma.isEnabled()  # gamma is a Focal Loss setting
    qtbot.keyClick(page.train_form.editors["epochs"], Qt.Key.Key_S,
                   Qt.KeyboardModifier.ControlModifier)
    saved = load_config(tiny_workspace.config_path)
    assert saved.train.epochs == 7 and saved.train.loss.kind == "cross_entropy"
    assert not page.modified_label.isVisible()


def test_warm_start_names_the_active_model_and_hands_it_to_the_training(
        qtbot, page, tiny_workspace, monkeypatch):
    from inspector.core.selftest import make_model

    assert not page.warm_check.isEnabled()  # no model yet: nothing to start from
    folder = tiny_workspace.models_dir / "v1"
    folder.mkdir(parents=True)
    make_model(folder)  # a random-weight model of the production architecture
    page.refresh_warm_start()
    assert page.warm_check.isEnabled() and "v1" in page.warm_check.text()

    handed: dict = {}

    class HandedError(Exception):
        pass

    def training_worker(config, dataset, out, resume=False, warm_start=None):
        handed.update(out=out, warm_start=warm_start)
        raise HandedError

    monkeypatch.setattr("inspector.gui.pages.train.training_worker", training_worker)
    page.warm_check.setChecked(True)
    with pytest.raises(HandedError):
        page.start()
    assert handed["warm_start"] == folder
    assert handed["out"].parent == tiny_workspace.models_dir and handed["out"] != folder
    page.warm_check.setChecked(False)
    with pytest.raises(HandedError):
        page.start()
    assert handed["warm_start"] is None
