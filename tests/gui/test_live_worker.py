"""The live worker: the engine on its own thread, only the newest result handed to the GUI, every
result counted, threshold changes applied between frames (never within one), clear failures;
and an operator's decision that survives the application being killed right after it was
acknowledged."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from inspector.core.station.audit import AuditLog
from inspector.core.station.inbox import ReviewInbox
from inspector.core.training.checkpoint import save_untrained_model
from inspector.core.workspace import Workspace
from inspector.gui.workers.live import LiveWorker, StationStore

CLASSES = ["missing_hole", "ok", "short"]
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight model at 32 px: enough for the plumbing, quick to make."""
    folder = tmp_path_factory.mktemp("model") / "model-1"
    folder.mkdir()
    save_untrained_model(folder / "best.safetensors", CLASSES, 32)
    return folder


@pytest.fixture
def workspace(tmp_path: Path, checkpoint: Path) -> Workspace:
    workspace = Workspace.create(tmp_path / "ws")
    (workspace.models_dir / "model-1").symlink_to(checkpoint, target_is_directory=True)
    live = workspace.config.live
    live.verdict.ood_method = "none"
    live.source.spec = "virtual:1"
    return workspace


@pytest.fixture
def stores(workspace: Workspace):
    stores = StationStore(workspace)
    yield stores
    stores.close()


def test_the_gui_gets_the_newest_result_and_every_one_is_counted(qtbot, workspace, stores):
    worker = LiveWorker(workspace, stores, virtual_mode="patch", realtime_files=False)
    emitted = []
    worker.result_ready.connect(lambda: emitted.append(1))
    with qtbot.waitSignal(worker.run_started, timeout=TIMEOUT) as started:
        worker.start()
    info = started.args[0]
    assert info.classes == CLASSES and info.model_version == "model-1/best.safetensors"
    # a GUI that takes nothing for a while: one signal waits, not one per frame
    qtbot.waitUntil(lambda: worker.results_counted >= 8, timeout=TIMEOUT)
    assert len(emitted) <= 1
    newest = worker.take_latest()
    assert newest is not None and worker.take_latest() is None
    assert newest.index >= 7  # the newest, not the first
    counted = worker.results_counted
    with qtbot.waitSignal(worker.cancelled, timeout=10_000) as stopped:
        worker.cancel()
    summary = stopped.args[0]
    counts = worker.counts()
    assert counts.total == worker.results_counted == summary.frames >= counted
    stores.open().flush()
    with sqlite3.connect(workspace.results_path) as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == counts.total


def test_thresholds_change_between_frames_never_within_one(qtbot, workspace, stores):
    live = workspace.config.live
    live.tiling = True  # a frame is judged tile by tile: each tile's threshold must agree
    worker = LiveWorker(workspace, stores, virtual_mode="patch")  # 64 px: 3 x 3 tiles
    results = []
    worker.result_ready.connect(lambda: results.append(worker.take_latest()))
    with qtbot.waitSignal(worker.run_started, timeout=TIMEOUT):
        worker.start()
    qtbot.waitUntil(lambda: len(results) >= 2, timeout=TIMEOUT)
    for value in (0.1, 0.2, 0.3, 0.4):
        verdict = live.verdict.model_copy(deep=True)
        verdict.default_threshold = value
        worker.set_verdict(verdict)
        qtbot.waitUntil(lambda v=value: results[-1] is not None
                        and results[-1].decision.threshold == pytest.approx(v), timeout=TIMEOUT)
    assert results[-1].tiles and len(results[-1].tiles) == 9
    worker.set_roi((0, 0, 64, 48))
    qtbot.waitUntil(lambda: results[-1] is not None and len(results[-1].tiles) == 6,
                    timeout=TIMEOUT)  # 64 x 48: 3 x 2 tiles of 32 px
    worker.cancel()
    qtbot.waitUntil(lambda: not worker.is_running, timeout=10_000)
    seen = [r for r in results if r is not None and r.tiles]
    assert len(seen) >= 6
    for result in seen:
        assert len({round(tile.decision.threshold, 6) for tile in result.tiles}) == 1


def test_without_a_trained_model_the_worker_fails_with_the_cores_message(qtbot, tmp_path):
    empty = Workspace.create(tmp_path / "empty")
    stores = StationStore(empty)
    worker = LiveWorker(empty, stores)
    with qtbot.waitSignal(worker.failed, timeout=TIMEOUT) as failed:
        worker.start()
    assert "no trained model yet" in failed.args[0]
    assert "Training page" in failed.args[0]
    assert not stores.is_open  # nothing was opened for nothing
    stores.close()


def test_a_source_that_cannot_be_named_fails_clearly(qtbot, workspace, stores):
    config = workspace.config.live.model_copy(deep=True)
    config.source.spec = str(workspace.root / "missing.mp4")
    worker = LiveWorker(workspace, stores, config=config)
    with qtbot.waitSignal(worker.failed, timeout=TIMEOUT) as failed:
        worker.start()
    assert "there is no such video file" in failed.args[0]


KILL_HELPER = textwrap.dedent('''
    import sys, time
    import numpy as np
    from inspector.core.inference.live import LiveResult
    from inspector.core.inference.verdict import Decision, Verdict
    from inspector.core.results import InspectionResult
    from inspector.core.station.audit import AuditLog
    from inspector.core.workspace import Workspace
    from inspector.gui.workers.live import StationStore, decide

    workspace = Workspace.open(sys.argv[1])
    stores = StationStore(workspace)
    store = stores.open()
    audit = AuditLog.for_workspace(workspace.root)
    frame = np.full((48, 64, 3), 90, np.uint8)
    ticket = store.add(InspectionResult(
        time=time.time(), source="virtual", model_version="model-1", verdict="REVIEW",
        label="ok", confidence=0.41, probabilities={"ok": 0.41, "short": 0.59},
        thresholds={"ok": 0.6}, frame=frame, overlay=frame))
    decision = Decision(Verdict.REVIEW, "ok", 0.41, 0.6, None, "unsure")
    result = LiveResult(7, decision, frame, frame, 15.0, 20.0, None, ticket=ticket,
                        source="virtual", model_version="model-1")
    outcome = decide(stores, audit, result, operator="Ana", label="short", role="operator")
    print(f"saved {outcome.result_id}", flush=True)  # what the page acknowledges on screen
    time.sleep(60)  # killed here, with the store, the inbox and the audit log still open
''')


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_decision_acknowledged_survives_a_kill(tmp_path, workspace):
    helper = tmp_path / "decide_then_die.py"
    helper.write_text(KILL_HELPER)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    process = subprocess.Popen([sys.executable, str(helper), str(workspace.root)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        os.kill(process.pid, signal.SIGKILL)  # right after the acknowledgement
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert line.startswith("saved "), process.stderr.read() if process.stderr else line
    assert process.returncode == -signal.SIGKILL
    row_id = int(line.split()[1])

    with sqlite3.connect(workspace.results_path) as db:  # replays the WAL the kill left
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        row = db.execute("SELECT operator, decision, decided_at, verdict FROM results "
                         "WHERE id = ?", (row_id,)).fetchone()
    assert row[0] == "Ana" and row[1] == "short" and row[3] == "REVIEW"
    assert abs(row[2] - time.time()) < 120
    items = ReviewInbox(workspace.root).items()
    assert [(i.result_id, i.operator, i.operator_label, i.model_label) for i in items] == [
        (row_id, "Ana", "short", "ok")]
    image = ReviewInbox(workspace.root).image_path(items[0])
    assert image.read_bytes()[:4] == b"\x89PNG"  # the whole frame, as PNG
    with AuditLog.for_workspace(workspace.root) as audit:
        entries = audit.entries(action="override")
        assert len(entries) == 1 and entries[0].user == "Ana"
        assert entries[0].detail["result"] == row_id
        assert audit.verify() is None
