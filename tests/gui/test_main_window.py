"""The main window as app.py builds it: menus, pages, workspaces, settings, and run_app."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from inspector.core.workspace import RecentWorkspaces
from inspector.gui.app import build_main_window, gui_settings, run_app, start_workspace
from inspector.gui.main_window import MainWindow
from inspector.gui.pages.datasets import DatasetsPage
from inspector.gui.workers.base import log_file_path

TIMEOUT = 5000


@pytest.fixture
def recent(tmp_path: Path) -> RecentWorkspaces:
    return RecentWorkspaces(tmp_path / "recent.json")


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings, recent) -> MainWindow:
    window = build_main_window(settings, recent)
    qtbot.addWidget(window)
    window.show()
    return window


def datasets_page(window: MainWindow) -> DatasetsPage:
    page = window.page("Datasets")
    assert isinstance(page, DatasetsPage)
    return page


def open_and_wait(qtbot, window: MainWindow, root: Path) -> None:
    page = datasets_page(window)
    with qtbot.waitSignals([window.workspace_changed, page.refreshed], timeout=TIMEOUT):
        window.open_workspace(root)


def menu_texts(window: MainWindow, title: str) -> list[str]:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == title)
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_window_has_menus_pages_and_an_empty_status(window):
    assert window.page_titles() == ["Datasets", "Augmentation", "Training", "Evaluation",
                                    "Models", "Live", "Results", "Review", "Audit log"]
    assert window.nav.count() == 9 and window.nav.currentRow() == 0
    assert window.stack.currentWidget().widget() is datasets_page(window)
    assert menu_texts(window, "&File")[:3] == ["&New workspace…", "&Open workspace…",
                                               "Open &recent"]
    assert menu_texts(window, "&File")[-1] == "&Quit"
    assert menu_texts(window, "&Edit") == ["&Undo"]
    assert window.minimumSizeHint().width() <= 800  # fits a small screen: pages scroll
    assert window.workspace_label.text() == "No workspace open"


def test_opening_a_workspace_shows_it_everywhere(qtbot, window, workspace, recent):
    open_and_wait(qtbot, window, workspace.root)
    assert window.workspace_label.text() == f"Workspace: {workspace.root}"
    assert window.dataset_label.text() == "Dataset: main"
    assert workspace.root.name in window.windowTitle()
    page = datasets_page(window)
    assert page.model.rowCount() == 2
    assert recent.list() == [workspace.root]
    window.rebuild_recent_menu()
    assert [a.text() for a in window.recent_menu.actions()] == [str(workspace.root)]
    assert not window.loading.isVisible()


def test_opening_a_folder_that_is_not_a_workspace_shows_the_error(qtbot, window, tmp_path,
                                                                   dialogs):
    folder = tmp_path / "holiday-photos"
    folder.mkdir()
    with qtbot.waitSignal(window.error_shown, timeout=TIMEOUT):
        window.open_workspace(folder)
    [(_kind, title, text)] = [s for s in dialogs.shown if s[0] == "critical"]
    assert title == "Cannot open the workspace"
    assert "is not an Inspector workspace" in text
    assert window.workspace is None
    assert window.workspace_label.text() == "No workspace open"
    qtbot.waitUntil(lambda: not window.is_loading, timeout=TIMEOUT)


def test_open_recent_lists_missing_workspaces_disabled(window, recent, workspace, tmp_path):
    recent.add(tmp_path / "gone")
    recent.add(workspace.root)
    window.rebuild_recent_menu()
    actions = window.recent_menu.actions()
    assert [a.isEnabled() for a in actions] == [True, False]
    assert actions[1].text().endswith("(missing)")


def test_file_open_recent_opens_it(qtbot, window, recent, workspace):
    recent.add(workspace.root)
    window.rebuild_recent_menu()
    with qtbot.waitSignal(datasets_page(window).refreshed, timeout=TIMEOUT):
        window.recent_menu.actions()[0].trigger()
    assert window.workspace is not None and window.workspace.root == workspace.root


def test_new_workspace_from_the_menu_creates_and_opens_it(qtbot, window, tmp_path, dialogs):
    target = tmp_path / "line-3"
    dialogs.folders.append(str(target))
    with qtbot.waitSignal(window.workspace_changed, timeout=TIMEOUT):
        window.new_action.trigger()
    assert (target / "config.toml").is_file()
    assert (target / "datasets" / "main").is_dir()
    assert window.workspace_label.text() == f"Workspace: {target}"


def test_new_workspace_over_an_existing_one_is_refused(qtbot, window, workspace, dialogs):
    dialogs.folders.append(str(workspace.root))
    with qtbot.waitSignal(window.error_shown, timeout=TIMEOUT) as blocker:
        window.new_action.trigger()
    assert "already a workspace" in blocker.args[0]
    assert dialogs.messages("critical")


def test_edit_undo_undoes_the_last_dataset_operation(qtbot, window, workspace):
    open_and_wait(qtbot, window, workspace.root)
    page = datasets_page(window)
    window.opened.dataset.delete_class("short")
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        window.undo_action.trigger()
    assert (window.opened.dataset.root / "short").is_dir()
    assert page.model.rowCount() == 2


def test_ctrl_z_in_the_datasets_page_undoes_and_ctrl_shift_n_adds_a_class(qtbot, window,
                                                                          workspace, dialogs):
    open_and_wait(qtbot, window, workspace.root)
    page = datasets_page(window)
    window.activateWindow()
    page.table.setFocus()
    dialogs.texts.append(("scratch", True))
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        qtbot.keyClick(page.table, Qt.Key.Key_N,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert (window.opened.dataset.root / "scratch").is_dir()
    window.opened.dataset.delete_class("short")
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        qtbot.keyClick(page.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (window.opened.dataset.root / "short").is_dir()


def test_geometry_and_page_are_restored_next_time(qtbot, settings, recent):
    first = build_main_window(settings, recent)
    qtbot.addWidget(first)
    first.show()
    first.resize(first.minimumSizeHint().width(), 520)  # fits the offscreen screen (800 x 600)
    size = (first.width(), first.height())
    assert size != (1200, 800)  # the first-run default
    first.close()
    second = build_main_window(QSettings(settings.fileName(), QSettings.Format.IniFormat),
                               recent)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == size


def test_start_prefers_the_given_then_the_last_workspace_then_the_demo(qtbot, window, recent,
                                                                        workspace, monkeypatch):
    demo_calls = []
    monkeypatch.setattr(window, "open_demo_workspace", lambda *a: demo_calls.append(a))
    start_workspace(window, None, recent)
    assert demo_calls == [()]
    recent.add(workspace.root)
    with qtbot.waitSignal(window.workspace_changed, timeout=TIMEOUT):
        start_workspace(window, None, recent)
    assert window.workspace.root == workspace.root


def test_the_demo_workspace_is_generated_in_a_worker(qtbot, window, tmp_path):
    synthetic = pytest.importorskip("inspector.core.data.synthetic")
    if not hasattr(synthetic, "generate_patch_dataset"):
        pytest.skip("the synthetic generator is not written yet")
    page = datasets_page(window)
    with qtbot.waitSignals([window.workspace_changed, page.refreshed], timeout=20_000):
        window.open_demo_workspace(tmp_path / "demo", per_class=2)
        assert window.loading.isVisible()  # the window is free while it generates
    assert page.stats is not None and page.stats.total > 0


def test_run_app_opens_the_workspace_logs_and_exits_cleanly(qtbot, qapp, workspace):
    shown = {}

    def close_when_ready() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        page = datasets_page(windows[0]) if windows else None
        if page is not None and page.stats is not None and not page.busy:
            shown["status"] = windows[0].workspace_label.text()
            windows[0].close()
        else:
            QTimer.singleShot(20, close_when_ready)

    QTimer.singleShot(0, close_when_ready)
    safety = QTimer()
    safety.setSingleShot(True)
    safety.timeout.connect(qapp.quit)
    safety.start(15_000)
    assert run_app(workspace.root) == 0
    safety.stop()
    assert shown["status"] == f"Workspace: {workspace.root}"
    assert "opened workspace" in log_file_path().read_text(encoding="utf-8")
    assert Path(gui_settings().fileName()).is_file()  # window state saved for next time


def test_exit_after_start_shows_the_window_and_opens_no_workspace(qtbot, qapp, workspace):
    """What the installer's smoke test times: a start without the last or the demo workspace."""
    RecentWorkspaces().add(workspace.root)  # a normal start would open it
    safety = QTimer()
    safety.setSingleShot(True)
    safety.timeout.connect(qapp.quit)
    safety.start(15_000)
    started = time.perf_counter()
    assert run_app(exit_after_start=True) == 0
    assert time.perf_counter() - started < 10
    assert safety.isActive()  # it quit by itself
    safety.stop()
    log = log_file_path().read_text(encoding="utf-8")
    assert "Inspector exits with 0" in log and "opened workspace" not in log


def test_the_window_does_not_import_heavy_libraries(tmp_path, workspace):
    """`import inspector.gui.main_window`, the window, and a validation: no torch, no cv2."""
    script = textwrap.dedent(f"""
        import sys
        import inspector.gui.main_window
        from PySide6.QtCore import QEventLoop, QTimer
        from inspector.gui.app import build_main_window, make_application
        app = make_application()
        window = build_main_window()
        window.show()
        page = window.page("Datasets")
        def wait(signal):
            loop = QEventLoop()
            signal.connect(loop.quit)
            QTimer.singleShot(10000, loop.quit)
            loop.exec()
        window.open_workspace({str(workspace.root)!r})
        wait(page.refreshed)
        page.validate()
        wait(page.validation_finished)
        assert page.report is not None, "validation did not finish"
        heavy = ("torch", "torchvision", "cv2", "albumentations", "captum", "onnxruntime",
                 "pyqtgraph")
        loaded = sorted(set(m.split(".")[0] for m in sys.modules) & set(heavy))
        from inspector.gui.workers.base import stop_all
        stop_all(10000)
        print(loaded)
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               INSPECTOR_CONFIG_DIR=str(tmp_path / "config"),
               INSPECTOR_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_dark_theme_applies_and_is_kept_for_next_time(qtbot, settings, recent, window):
    from inspector.gui.theme import is_dark

    try:
        window.theme_actions["dark"].trigger()
        assert is_dark(QApplication.instance())
        assert window.theme_actions["dark"].isChecked()
        window.close()
        again = build_main_window(QSettings(settings.fileName(), QSettings.Format.IniFormat),
                                  recent)
        qtbot.addWidget(again)
        assert again.theme_actions["dark"].isChecked() and is_dark(QApplication.instance())
        again.theme_actions["light"].trigger()
        assert not is_dark(QApplication.instance())
    finally:
        window.set_theme("system")


def test_every_page_has_a_keyboard_shortcut(qtbot, window):
    from PySide6.QtWidgets import QWidget

    from inspector.gui.main_window import Page

    class Blank(QWidget):
        def set_workspace(self, workspace, dataset) -> None:
            pass

    assert isinstance(Blank(), Page)
    window.add_page("Second", Blank())
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.nav.currentRow() == 1
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.nav.currentRow() == 0


def test_the_status_bar_names_the_device_model_and_camera(qtbot, window):
    assert window.device_label.text() == "Device: …"  # nothing heavy at start-up
    worker = window.find_device("cpu")
    with qtbot.waitSignal(worker.done, timeout=30_000):
        pass
    assert window.device_label.text().startswith("Device: CPU (")
    window.set_active_model("run-2026-12-01")
    assert window.model_label.text() == "Model: run-2026-12-01"
    window.set_camera_state("reconnecting")
    assert window.camera_label.text() == "Camera: reconnecting"


def test_a_lazy_page_is_built_when_first_shown_and_gets_the_workspace(qtbot, window, workspace):
    from PySide6.QtWidgets import QWidget

    from inspector.gui.main_window import LazyPage

    seen = []

    class Heavy(QWidget):
        def set_workspace(self, ws, dataset) -> None:
            seen.append(ws.root if ws else None)

    built = []
    lazy = LazyPage(lambda: built.append(1) or Heavy())
    window.add_page("Heavy", lazy)
    open_and_wait(qtbot, window, workspace.root)
    assert built == []  # opening a workspace does not build it
    window.show_page("Heavy")
    qtbot.waitUntil(lambda: built == [1], timeout=TIMEOUT)
    assert seen == [workspace.root]
    assert isinstance(window.page("Heavy"), Heavy) and built == [1]


def test_hints_styled_from_the_palette_follow_a_theme_change(qtbot, window):
    from PySide6.QtWidgets import QLabel

    hint = QLabel("a hint in placeholder grey")
    hint.setStyleSheet("color: palette(placeholder-text);")
    qtbot.addWidget(hint)
    hint.show()
    try:
        window.set_theme("light")
        window.set_theme("dark")
        # the dark theme's placeholder grey, not the light theme's near-black left behind
        assert hint.palette().color(hint.foregroundRole()).lightness() >= 120
    finally:
        window.set_theme("system")
