"""GUI test fixtures: offscreen Qt, isolated user folders, scripted dialogs, no stray threads."""

from __future__ import annotations

import os
import time

# Before anything imports Qt: no window ever appears on a developer's screen or needs a display.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from inspector.core.data.dataset import Dataset
from inspector.core.workspace import Workspace
from inspector.gui.workers.base import active_workers, stop_all


@pytest.fixture(autouse=True)
def _user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings, the recent list and logs go to a temporary folder, never the user's."""
    home = tmp_path_factory.mktemp("gui-user")
    monkeypatch.setenv("INSPECTOR_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(home / "data"))
    return home


@dataclass
class Dialogs:
    """Stands in for the modal dialogs: records what was shown and gives scripted answers."""

    texts: list[tuple[str, bool]] = field(default_factory=list)  # QInputDialog.getText answers
    answer: QMessageBox.StandardButton = QMessageBox.StandardButton.No  # for question()
    folders: list[str] = field(default_factory=list)  # QFileDialog.getExistingDirectory
    shown: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, title, text)

    def messages(self, kind: str | None = None) -> list[str]:
        return [text for k, _, text in self.shown if kind in (None, k)]


@pytest.fixture(autouse=True)
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    """Every test runs with the static dialog calls patched: a modal dialog would block it."""
    script = Dialogs()

    def message(kind: str, result: QMessageBox.StandardButton | None = None) -> Callable:
        def show(_parent: Any, title: str, text: str, *_args: Any, **_kwargs: Any) -> Any:
            script.shown.append((kind, title, text))
            return script.answer if result is None else result
        return staticmethod(show)

    ok = QMessageBox.StandardButton.Ok
    monkeypatch.setattr(QMessageBox, "critical", message("critical", ok))
    monkeypatch.setattr(QMessageBox, "warning", message("warning", ok))
    monkeypatch.setattr(QMessageBox, "information", message("information", ok))
    monkeypatch.setattr(QMessageBox, "question", message("question"))

    def get_text(_parent: Any, title: str, label: str, *_args: Any,
                 **_kwargs: Any) -> tuple[str, bool]:
        script.shown.append(("getText", title, label))
        return script.texts.pop(0) if script.texts else ("", False)

    def get_folder(_parent: Any, title: str, *_args: Any, **_kwargs: Any) -> str:
        script.shown.append(("getExistingDirectory", title, ""))
        return script.folders.pop(0) if script.folders else ""

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(get_folder))
    return script


@pytest.fixture
def app_heap() -> Iterator[list[tuple[int, float]]]:
    """For event-loop stall measurements: the test runner's heap holds every earlier test's
    objects (a million or more by the GUI tests), which the application's never does, and one
    full collection of it on the GUI thread took 300 ms. So the heap so far is collected and
    frozen (what the application does with its start-up objects: workers/training.py
    import_quietly), and the collections that do run during the test are timed and returned
    as (generation, seconds) for the test to report."""
    import gc

    gc.collect()
    gc.freeze()
    pauses: list[tuple[int, float]] = []
    started: list[float] = []

    def timer(phase: str, info: dict) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            pauses.append((info["generation"], time.perf_counter() - started[0]))

    gc.callbacks.append(timer)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(timer)
        gc.unfreeze()


@pytest.fixture(autouse=True)
def _no_threads_left(qapp: Any) -> Iterator[None]:
    """A test ends with every worker thread finished, whatever it left running."""
    yield
    assert stop_all(timeout_ms=10_000), "a worker thread did not stop within 10 s"
    qapp.processEvents()
    assert not active_workers()
    # and no window outlives its test: qtbot closes them, but a closed window is only hidden,
    # and hundreds of them (with their timers and filters) slowed the event loop of later tests
    from PySide6.QtCore import QCoreApplication, QEvent

    for widget in qapp.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def workspace(tmp_path: Path, class_tree: Callable[..., Path]) -> Workspace:
    """A workspace whose active dataset has ok: 10 and short: 4 images, split."""
    ws = Workspace.create(tmp_path / "ws")
    dataset = ws.dataset()
    class_tree({"ok": 10, "short": 4}, root=dataset.root)
    dataset.split()
    return ws


@pytest.fixture
def dataset(workspace: Workspace) -> Dataset:
    return workspace.dataset()
