"""The Live page as an operator and an engineer use it: live inspection on a video and on the
virtual camera, the verdicts and counters, a decision by key into the results store, the review
inbox and the audit log, operator mode refusing the engineer's actions, a camera that drops out
and comes back, and an event loop that never stalls while the frames flow."""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import tiny_training_config
from PySide6.QtCore import QPoint, Qt, QTimer

from inspector.config import load_config
from inspector.core.data.synthetic import generate_patch_dataset
from inspector.core.inference.sources import FrameSource, SourceState, open_source
from inspector.core.station.access import Role
from inspector.core.station.audit import AuditLog
from inspector.core.station.inbox import ReviewInbox
from inspector.core.training.fit import fit
from inspector.core.workspace import Workspace
from inspector.gui.pages.live import LivePage
from inspector.gui.session import StationSession

CLASSES = ("ok", "short", "missing_hole")
START_TIMEOUT = 60_000  # loading the model on a busy 2-core machine
VIDEO_FPS = 25.0


class StallMeter:
    """A 10 ms timer on the GUI thread; the longest gap between its ticks is the worst stall."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.longest = 0.0
        self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny model for the module: 3 classes of 48 px patches, input 32 px, one epoch."""
    root = tmp_path_factory.mktemp("live-model")
    workspace = Workspace.create(root / "ws")
    dataset = workspace.dataset()
    generate_patch_dataset(dataset.root, per_class=6, seed=5, size=48, classes=CLASSES)
    dataset.split()
    config = tiny_training_config()
    config.train.epochs = 1
    return fit(config, dataset, root / "model-1").out_dir


def write_board_video(path: Path, frames: int, fps: float = VIDEO_FPS) -> Path:
    """An MJPG video of `frames` frames of the virtual camera's moving boards (320x240)."""
    with open_source("virtual:3", realtime=False, width=320, height=240) as source:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (320, 240))
        assert writer.isOpened()
        for _ in range(frames):
            frame = source.read(timeout=5.0)
            assert frame is not None
            writer.write(cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR))
        writer.release()
    return path


@pytest.fixture
def live_workspace(tmp_path: Path, trained_model: Path) -> Workspace:
    workspace = Workspace.create(tmp_path / "ws")
    (workspace.models_dir / "model-1").symlink_to(trained_model, target_is_directory=True)
    return workspace


@pytest.fixture
def audit(live_workspace: Workspace):
    log = AuditLog.for_workspace(live_workspace.root)
    yield log
    log.close()


@pytest.fixture
def session(qtbot, audit) -> StationSession:
    session = StationSession()
    session.attach(None, audit, 0.0, Role.ENGINEER)
    return session


@pytest.fixture
def page(qtbot, live_workspace, session):
    page = LivePage()
    qtbot.addWidget(page)
    page.resize(1100, 760)
    page.set_session(session)
    page.show()
    with qtbot.waitSignal(page.model_changed, timeout=10_000) as loaded:
        page.set_workspace(live_workspace, live_workspace.dataset())
    assert loaded.args[0] is not None
    yield page
    page.shutdown()


def start(qtbot, page: LivePage, source=None) -> None:
    with qtbot.waitSignal(page.live_started, timeout=START_TIMEOUT):
        assert page.start(source)


def stop(qtbot, page: LivePage) -> None:
    if page.running:
        with qtbot.waitSignal(page.live_stopped, timeout=10_000):
            page.stop()
    qtbot.waitUntil(lambda: not page.running, timeout=10_000)


def counters(page: LivePage) -> dict[str, str]:
    return {key: label.text() for key, label in page.count_labels.items()}


def stored_rows(workspace: Workspace) -> int:
    with sqlite3.connect(workspace.results_path) as db:
        return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]


# ---------------------------------------------------------------------------- inspection
def test_virtual_camera_verdicts_fill_the_banner_counters_and_strip(qtbot, page):
    page.set_source("virtual", "patch")
    shown = []
    page.result_shown.connect(shown.append)
    start(qtbot, page)
    qtbot.waitUntil(lambda: len(shown) >= 4, timeout=30_000)
    assert page.state_label.text() == "Connected"
    stop(qtbot, page)

    last = page.current
    assert page.banner.text() == last.decision.verdict.value in {"PASS", "FAIL", "REVIEW"}
    assert last.decision.label in page.class_label.text()
    assert "engine" in page.fps_label.text() and "on screen" in page.fps_label.text()
    counts = page.counts
    assert counts.total >= len(shown)  # every result is counted, shown or not
    assert counters(page)["PASS"] == str(counts.passed)
    assert counters(page)["REVIEW"] == str(counts.review)
    assert counters(page)["yield"] == f"{counts.yield_pct:.1f} %"
    assert page.strip.keys()[0] == page.current_key  # newest first
    assert len(page.strip.entries) == min(20, len(shown))
    assert page.strip.entries[0].verdict == last.decision.verdict.value
    assert page.state_label.text() == "Stopped"


def test_a_video_is_inspected_to_its_end_and_every_frame_counted(qtbot, page, tmp_path):
    video = write_board_video(tmp_path / "boards.avi", 40)
    page.set_source(str(video))
    assert page.source_spec() == (str(video), "board")
    start(qtbot, page)
    with qtbot.waitSignal(page.live_stopped, timeout=60_000) as stopped:
        pass
    summary = stopped.args[0]
    assert summary.frames == 40 and summary.end_state == "ended"
    assert page.counts.total == 40  # the counters saw every frame, not only those painted
    assert sum(int(counters(page)[k]) for k in ("PASS", "FAIL", "REVIEW")) == 40
    assert 0 < page.view.frames_set <= 40
    assert "has ended after 40 frames" in page.message_bar.text()
    assert page.state_label.text().startswith("Ended")
    page.stores.open().flush()
    assert stored_rows(page.workspace) == 40


def test_the_source_that_started_is_the_one_the_next_shift_gets(qtbot, page, live_workspace,
                                                                  tmp_path, session):
    video = write_board_video(tmp_path / "line3.avi", 5)
    page.set_source(str(video))
    start(qtbot, page)
    stop(qtbot, page)
    assert load_config(live_workspace.root / "config.toml").live.source.spec == str(video)
    reopened = LivePage()
    qtbot.addWidget(reopened)
    reopened.set_session(session)
    with qtbot.waitSignal(reopened.model_changed, timeout=10_000):
        reopened.set_workspace(Workspace.open(live_workspace.root), live_workspace.dataset())
    assert reopened.source_spec() == (str(video), "board")
    reopened.shutdown()


def test_no_stall_and_displayed_fps_follows_the_engine(qtbot, page, tmp_path, app_heap):
    video = write_board_video(tmp_path / "boards.avi", 150)  # 6 s at 25 fps, paced like a camera
    page.set_source(str(video))
    meter = StallMeter()
    samples: list[tuple[float, float]] = []

    def sample(_result) -> None:
        if page.view.frames_set > 40:  # past the warm-up of both rates
            samples.append((page.displayed_fps(), page.engine_fps()))

    page.result_shown.connect(sample)
    start(qtbot, page)
    meter.start()
    with qtbot.waitSignal(page.live_stopped, timeout=90_000):
        pass
    meter.stop()
    assert meter.longest < 0.100, f"the event loop stalled {meter.longest * 1000:.0f} ms"
    assert len(samples) >= 20
    shown = statistics.median(s for s, _ in samples)
    engine = statistics.median(e for _, e in samples)
    print(f"\nlive page: {shown:.1f} FPS on screen, {engine:.1f} FPS engine; "
          f"longest stall {meter.longest * 1000:.0f} ms")
    assert engine <= VIDEO_FPS * 1.15  # the file plays at its own rate, like a camera
    assert abs(shown - engine) <= 0.15 * engine


# ---------------------------------------------------------------------------- decisions
def test_an_override_by_key_reaches_the_store_the_inbox_and_the_audit_log(
        qtbot, page, live_workspace, audit, dialogs):
    page.set_source("virtual", "patch")
    start(qtbot, page)
    qtbot.waitUntil(lambda: len(page.strip.entries) >= 3, timeout=30_000)
    stop(qtbot, page)

    # pick the second newest result in the strip with the mouse
    strip = page.strip
    key = strip.keys()[1]
    with qtbot.waitSignal(page.strip_clicked) as clicked:
        qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.slot_rect(1).center())
    assert clicked.args == [key] and page.selected_key == key
    target = page.decision_target()[1]
    model_label = target.decision.label
    other = next(c for c in page.classes if c != model_label)
    number = page.classes.index(other) + 1
    assert page._class_buttons[number - 1].text().startswith(f"{number}  {other}")

    # an operator without a name: the decision is refused, with a message
    page.session.attach(None, audit, 0.0, Role.OPERATOR)
    assert page.session.user == "" and not page.operator_edit.isReadOnly()
    page.view.setFocus()
    qtbot.keyClick(page.view, getattr(Qt.Key, f"Key_{number}"))
    assert "Enter your name" in page.message_bar.text()

    qtbot.keyClicks(page.operator_edit, "Ana")
    qtbot.keyClick(page.operator_edit, Qt.Key.Key_Return)  # the name is set; keys go to the view
    assert page.session.user == "Ana"
    assert page.view.hasFocus()
    with qtbot.waitSignal(page.decision_recorded, timeout=20_000) as recorded:
        qtbot.keyClick(page.view, getattr(Qt.Key, f"Key_{number}"))
    outcome = recorded.args[0]
    assert outcome.kind == "override" and outcome.label == other
    assert page.ack_label.text().startswith(f"Saved: override {model_label} → {other} by Ana")
    assert strip.entry(key).decided == f"override {model_label} → {other}"

    with sqlite3.connect(live_workspace.results_path) as db:
        operator, decision, decided_at, label = db.execute(
            "SELECT operator, decision, decided_at, label FROM results WHERE id = ?",
            (outcome.result_id,)).fetchone()
    assert (operator, decision, label) == ("Ana", other, model_label)
    assert abs(decided_at - time.time()) < 60
    items = ReviewInbox(live_workspace.root).items()
    assert [(i.result_id, i.operator, i.operator_label, i.model_label) for i in items] == [
        (outcome.result_id, "Ana", other, model_label)]
    entries = audit.entries(action="override")
    assert len(entries) == 1 and entries[0].user == "Ana" and entries[0].role == "operator"
    assert entries[0].detail["result"] == outcome.result_id
    assert entries[0].detail["operator_class"] == other

    # Enter confirms the newest result (Esc leaves the selection)
    qtbot.keyClick(page.view, Qt.Key.Key_Escape)
    assert page.selected_key is None
    with qtbot.waitSignal(page.decision_recorded, timeout=20_000) as confirmed:
        qtbot.keyClick(page.view, Qt.Key.Key_Return)
    assert confirmed.args[0].kind == "confirm"
    assert confirmed.args[0].label == page.current.decision.label

    # double-click asks the Results page to show the stored row; there it is, decided
    with qtbot.waitSignal(page.show_result_requested, timeout=10_000) as asked:
        qtbot.mouseDClick(strip, Qt.MouseButton.LeftButton, pos=strip.slot_rect(1).center())
    assert asked.args == [outcome.result_id]
    from inspector.gui.pages.results import ResultsPage
    from inspector.gui.widgets.results_model import DECISION, OPERATOR

    results = ResultsPage()
    qtbot.addWidget(results)
    results.set_workspace(live_workspace, None)
    results.set_period("all")
    qtbot.waitUntil(lambda: not results.counting, timeout=10_000)
    assert results.select_result(outcome.result_id)
    row = results.model.row_of_id(outcome.result_id)
    assert results.model.index(row, OPERATOR).data() == "Ana"
    assert results.model.index(row, DECISION).data() == f"→ {other}"
    results.shutdown()


# ---------------------------------------------------------------------------- roles
def drag(qtbot, view, start: QPoint, end: QPoint) -> None:
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, end)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=end)


def test_operator_mode_hides_and_refuses_what_engineers_do(qtbot, page, live_workspace,
                                                           session, audit):
    config = live_workspace.config
    session.attach(None, audit, 0.0, Role.OPERATOR)
    assert not page.engineer_box.isVisible()
    before = dict(config.live.verdict.thresholds)
    assert not page.set_threshold("short", 0.9)
    assert "Only an engineer" in page.message_bar.text()
    assert config.live.verdict.thresholds == before
    assert not page.set_roi((10, 10, 100, 100))
    assert not page.reset_thresholds()
    page.draw_roi_button.setChecked(True)  # even if the hidden button were pressed
    assert not page.draw_roi_button.isChecked() and not page.view.roi_editable
    page.view.set_frame(np.zeros((240, 320, 3), np.uint8))
    drawn = []
    page.view.roi_drawn.connect(lambda *roi: drawn.append(roi))
    drag(qtbot, page.view, QPoint(300, 200), QPoint(600, 500))
    assert drawn == [] and config.live.roi is None
    assert audit.entries(action="threshold") == [] and audit.entries(action="roi") == []

    # engineer mode: the sliders and the ROI come back and work, saved and audited
    session.attach(None, audit, 0.0, Role.ENGINEER)
    assert page.engineer_box.isVisible()
    page.draw_roi_button.click()
    assert page.view.roi_editable
    target = page.view.target_rect()
    drag(qtbot, page.view, target.topLeft() + QPoint(target.width() // 4, target.height() // 4),
         target.center())
    roi = config.live.roi
    assert roi is not None and 70 <= roi[0] <= 90 and 50 <= roi[1] <= 70
    assert 70 <= roi[2] <= 90 and 50 <= roi[3] <= 70  # a quarter of 320 x 240
    assert Workspace.open(live_workspace.root).config.live.roi == roi
    assert audit.entries(action="roi")[0].detail == {"old": None, "new": list(roi)}
    assert not page.view.roi_editable  # one region per press of the button

    old = page.thresholds["short"]
    assert page.set_threshold("short", 0.8)
    assert Workspace.open(live_workspace.root).config.live.verdict.thresholds == {"short": 0.8}
    entry = audit.entries(action="threshold")[0]
    assert entry.detail == {"class": "short", "old": round(old, 4), "new": 0.8}
    assert entry.user == "engineer" and entry.role == "engineer"

    # a slider drag applies at once, and is saved and audited once it rests
    slider = page._sliders["ok"]
    slider.setValue(30)
    slider.setValue(35)
    assert config.live.verdict.thresholds["ok"] == 0.35
    qtbot.waitUntil(lambda: len(audit.entries(action="threshold")) == 2, timeout=3000)
    assert audit.entries(action="threshold")[0].detail["new"] == 0.35


def test_threshold_changes_reach_the_running_inspection(qtbot, page):
    page.set_source("virtual", "patch")
    start(qtbot, page)
    qtbot.waitUntil(lambda: page.current is not None, timeout=30_000)
    for name in page.classes:
        assert page.set_threshold(name, 0.11)
    qtbot.waitUntil(lambda: page.current.decision.threshold == pytest.approx(0.11),
                    timeout=20_000)
    qtbot.waitUntil(lambda: "threshold 11 %" in page.confidence_label.text(), timeout=2000)
    stop(qtbot, page)


# ---------------------------------------------------------------------------- the camera
class FlakyCamera(FrameSource):
    """A camera that streams, is unplugged (`unplug`), and comes back (`plug_in`)."""

    kind = "camera"

    def __init__(self) -> None:
        super().__init__("flaky camera", drop=True)
        self.unplugged = threading.Event()
        self.plugged = threading.Event()
        rng = np.random.default_rng(1)
        self.image = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)

    def _produce(self, feed) -> None:
        feed.set_state(SourceState.CONNECTED)
        while not feed.stopping:
            if self.unplugged.is_set():
                feed.set_state(SourceState.RECONNECTING, "lost the camera; retrying")
                while not self.plugged.is_set():
                    if feed.wait(0.05):
                        return
                self.unplugged.clear()
                feed.count_reconnect()
                feed.set_state(SourceState.CONNECTED)
            feed.publish(self.image.copy())
            if feed.wait(0.05):
                return


def test_a_camera_that_drops_out_shows_it_and_recovers_by_itself(qtbot, page):
    camera = FlakyCamera()
    states: list[str] = []
    page.source_state_changed.connect(states.append)
    start(qtbot, page, camera)
    qtbot.waitUntil(lambda: page.view.frames_set >= 2, timeout=30_000)
    assert page.state_label.text() == "Connected"

    camera.unplugged.set()
    qtbot.waitUntil(lambda: page.state_label.text().startswith("Reconnecting"), timeout=5000)
    assert "lost the camera" in page.state_label.text()
    shown = page.view.frames_set
    camera.plugged.set()
    qtbot.waitUntil(lambda: page.state_label.text() == "Connected", timeout=5000)
    qtbot.waitUntil(lambda: page.view.frames_set > shown + 2, timeout=10_000)
    assert page.running  # it never stopped
    assert states[states.index("reconnecting"):][:2] == ["reconnecting", "connected"]
    assert camera.stats.reconnects == 1
    stop(qtbot, page)


# ---------------------------------------------------------------------------- errors
def test_without_a_trained_model_start_says_what_to_do(qtbot, tmp_path, session):
    workspace = Workspace.create(tmp_path / "empty")
    page = LivePage()
    qtbot.addWidget(page)
    page.set_session(session)
    with qtbot.waitSignal(page.model_changed, timeout=10_000):
        page.set_workspace(workspace, None)
    with qtbot.waitSignal(page.error_shown, timeout=START_TIMEOUT) as shown:
        page.start()
    assert "no trained model yet" in shown.args[0]
    assert "Training page" in page.message_bar.text()
    qtbot.waitUntil(lambda: not page.running, timeout=10_000)
    assert page.start_button.isEnabled()


def test_a_video_or_url_must_be_given_before_start(qtbot, page):
    page.source_combo.setCurrentIndex(page._source_index("url", None))
    assert page.target_edit.isVisible() and not page.target_edit.isReadOnly()
    assert not page.start()
    assert "URL" in page.message_bar.text()
    assert not page.running
