"""The main window: menus, the page list on the left, the status bar, and the open workspace.

Pages are added by whoever builds the window (app.py), one `add_page` call each. A page is any
QWidget with `set_workspace(workspace, dataset)`; the window calls it whenever the open
workspace changes (with None, None when none is open).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from inspector.core.workspace import RecentWorkspaces
from inspector.gui.theme import THEMES, apply_theme
from inspector.gui.workers.base import Worker, while_alive
from inspector.gui.workers.dataset import (
    OpenedWorkspace,
    demo_workspace_worker,
    open_workspace_worker,
)

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

APP_TITLE = "Inspector"


@runtime_checkable
class Page(Protocol):
    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None: ...


class LazyPage(QWidget):
    """A page built the first time it is shown, so its imports (pyqtgraph, ~0.75 s) do not
    delay the window. It relays `set_workspace` to the page, before and after it is built."""

    def __init__(self, factory: Callable[[], QWidget],
                 on_built: Callable[[QWidget], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._factory = factory
        self._on_built = on_built
        self._workspace: tuple[Workspace | None, Dataset | None] = (None, None)
        self.page: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def build(self) -> QWidget:
        if self.page is None:
            page = self._factory()
            if not isinstance(page, Page):
                raise TypeError(f"{type(page).__name__} has no set_workspace(workspace, dataset)")
            self.page = page
            self._layout.addWidget(page)
            page.set_workspace(*self._workspace)
            if self._on_built is not None:
                self._on_built(page)
        return self.page

    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None:
        self._workspace = (workspace, dataset)
        if self.page is not None:
            self.page.set_workspace(workspace, dataset)  # type: ignore[attr-defined]

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        self.build()
        super().showEvent(event)


class MainWindow(QMainWindow):
    workspace_changed = Signal(object)  # OpenedWorkspace | None
    undo_requested = Signal()  # Edit > Undo: app.py connects it to the dataset's undo
    error_shown = Signal(str)

    def __init__(self, settings: QSettings, recent: RecentWorkspaces,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.recent = recent
        self.opened: OpenedWorkspace | None = None
        self._loader: Worker | None = None
        self._pages: list[tuple[str, QWidget]] = []
        self.setWindowTitle(APP_TITLE)
        self._build()
        self._show_workspace(None)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setMinimumWidth(100)
        self.nav.setMaximumWidth(220)
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setStyleSheet("#navigation { font-size: 11pt; }"
                               "#navigation::item { padding: 6px 10px; }")
        self.stack = QStackedWidget()
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.nav)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([160, 1000])
        self.setCentralWidget(self.splitter)

        # menus
        file_menu = self.menuBar().addMenu("&File")
        self.new_action = QAction("&New workspace…", self)
        self.new_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_action.triggered.connect(self._ask_new_workspace)
        self.open_action = QAction("&Open workspace…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._ask_open_workspace)
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.aboutToShow.connect(self.rebuild_recent_menu)
        self.demo_action = QAction("Open the &demo workspace", self)
        self.demo_action.triggered.connect(lambda _checked=False: self.open_demo_workspace())
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.new_action)
        file_menu.addAction(self.open_action)
        file_menu.addMenu(self.recent_menu)
        file_menu.addAction(self.demo_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = QAction("&Undo", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setToolTip("Undo the last dataset operation")
        self.undo_action.triggered.connect(self.undo_requested)
        edit_menu.addAction(self.undo_action)
        view_menu = self.menuBar().addMenu("&View")
        theme_menu = view_menu.addMenu("&Theme")
        self.theme_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for name in THEMES:
            action = QAction(name.capitalize(), self, checkable=True)
            action.triggered.connect(lambda _checked=False, n=name: self.set_theme(n))
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[name] = action
        self.page_actions_menu = view_menu.addMenu("&Go to page")
        self.rebuild_recent_menu()

        # status bar: loading progress (temporary) | workspace | dataset
        self.loading_label = QLabel()
        self.loading_bar = QProgressBar()
        self.loading_bar.setMaximumWidth(220)
        self.loading_cancel = QToolButton()
        self.loading_cancel.setText("Cancel")
        self.loading_cancel.clicked.connect(self.cancel_loading)
        self.loading = QWidget()
        row = QHBoxLayout(self.loading)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.loading_label)
        row.addWidget(self.loading_bar)
        row.addWidget(self.loading_cancel)
        self.loading.hide()
        self.workspace_label = QLabel()
        self.workspace_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dataset_label = QLabel()
        # Filled in after start-up (finding the device imports torch, which the window must
        # not wait for), by the Models page (active model) and the Live page (camera).
        self.device_label = QLabel("Device: …")
        self.device_label.setToolTip("The compute device used for training and the torch "
                                     "backend of live inspection")
        self.model_label = QLabel("Model: none")
        self.camera_label = QLabel("Camera: not in use")
        status = self.statusBar()
        status.addWidget(self.loading)
        status.addPermanentWidget(self.workspace_label, 1)
        status.addPermanentWidget(self.dataset_label)
        status.addPermanentWidget(self.model_label)
        status.addPermanentWidget(self.camera_label)
        status.addPermanentWidget(self.device_label)

    def add_page(self, title: str, page: QWidget) -> None:
        """Add a page to the navigation list; it is told about the open workspace from now on."""
        if not isinstance(page, Page):
            raise TypeError(f"{type(page).__name__} has no set_workspace(workspace, dataset)")
        self._pages.append((title, page))
        self.nav.addItem(QListWidgetItem(title))
        # A scroll area, so a page's minimum size never forces the window wider than a small
        # screen (a 1280 px station, a laptop): below it the page scrolls instead.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        self.stack.addWidget(scroll)
        number = len(self._pages)
        action = self.page_actions_menu.addAction(title)
        if number <= 9:  # Ctrl+1..9 go to the pages, so the keyboard reaches every page
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
        action.triggered.connect(lambda _checked=False, t=title: self.show_page(t))
        if self.opened is not None:
            page.set_workspace(self.opened.workspace, self.opened.dataset)
        if self.nav.currentRow() < 0:
            self.nav.setCurrentRow(0)

    def page(self, title: str) -> QWidget:
        """The page with that title (a lazy page is built now)."""
        for name, page in self._pages:
            if name == title:
                return page.build() if isinstance(page, LazyPage) else page
        raise KeyError(title)

    def page_titles(self) -> list[str]:
        return [name for name, _ in self._pages]

    def show_page(self, title: str) -> None:
        self.nav.setCurrentRow(self.page_titles().index(title))

    # ------------------------------------------------------------------ workspaces
    @property
    def workspace(self) -> Workspace | None:
        return self.opened.workspace if self.opened else None

    @property
    def is_loading(self) -> bool:
        return self._loader is not None

    def open_workspace(self, root: Path) -> Worker:
        return self._load(open_workspace_worker(Path(root)), f"Opening {root}…",
                          "Cannot open the workspace")

    def create_workspace(self, root: Path) -> Worker:
        return self._load(open_workspace_worker(Path(root), create=True),
                          f"Creating a workspace in {root}…", "Cannot create the workspace")

    def open_demo_workspace(self, root: Path | None = None,
                            per_class: int | None = None) -> Worker:
        return self._load(demo_workspace_worker(root, per_class),
                          "Preparing the demo workspace (generated on first use)…",
                          "Cannot open the demo workspace", cancellable=True)

    def _load(self, worker: Worker, text: str, error_title: str,
              cancellable: bool = False) -> Worker:
        if self._loader is not None:  # the newest request wins
            self._loader.cancel()
        self._loader = worker

        def progress(done: int, total: int) -> None:
            if worker is self._loader and total > 0:
                self.loading_bar.setRange(0, total)
                self.loading_bar.setValue(done)

        def finished(opened: OpenedWorkspace) -> None:
            if worker is self._loader:
                self.set_workspace(opened)

        def failed(message: str) -> None:
            if worker is self._loader:
                self.show_error(error_title, message)

        def cancelled(_result: object) -> None:
            if worker is self._loader:
                self.statusBar().showMessage("Cancelled.", 5000)

        def done() -> None:
            if worker is self._loader:
                self._loader = None
                self.loading.hide()

        for signal, slot in ((worker.progress, progress), (worker.finished, finished),
                             (worker.failed, failed), (worker.cancelled, cancelled),
                             (worker.done, done)):
            signal.connect(while_alive(self, slot))
        self.loading_label.setText(text)
        self.loading_bar.setRange(0, 0)
        self.loading_cancel.setVisible(cancellable)
        self.loading.show()
        worker.start()
        return worker

    def cancel_loading(self) -> None:
        if self._loader is not None:
            self._loader.cancel()
            self.loading_label.setText("Cancelling…")

    def set_workspace(self, opened: OpenedWorkspace | None) -> None:
        self.opened = opened
        if opened is not None:
            try:
                self.recent.add(opened.workspace.root)
            except OSError as exc:  # the recent list is a convenience; never fatal
                log.warning("cannot update the recent workspaces list: %s", exc)
            log.info("opened workspace %s", opened.workspace.root)
        self._show_workspace(opened)
        for _, page in self._pages:
            page.set_workspace(opened.workspace if opened else None,  # type: ignore[attr-defined]
                               opened.dataset if opened else None)
        self.rebuild_recent_menu()
        self.workspace_changed.emit(opened)

    def _show_workspace(self, opened: OpenedWorkspace | None) -> None:
        if opened is None:
            self.setWindowTitle(APP_TITLE)
            self.workspace_label.setText("No workspace open")
            self.dataset_label.setText("")
            return
        root = opened.workspace.root
        self.setWindowTitle(f"{opened.workspace.name} — {APP_TITLE}")
        self.workspace_label.setText(f"Workspace: {root}")
        self.workspace_label.setToolTip(str(root))
        self.dataset_label.setText(f"Dataset: {opened.dataset.root.name}")

    def rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        roots = self.recent.list()
        for root in roots:
            action = self.recent_menu.addAction(str(root))
            exists = (root / "config.toml").is_file()
            action.setEnabled(exists)
            if not exists:
                action.setText(f"{root} (missing)")
            action.triggered.connect(lambda _checked=False, r=root: self.open_workspace(r))
        if not roots:
            self.recent_menu.addAction("No recent workspaces").setEnabled(False)

    def _ask_open_workspace(self) -> None:
        start = str(self.workspace.root.parent) if self.workspace else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open workspace", start)
        if folder:
            self.open_workspace(Path(folder))

    def _ask_new_workspace(self) -> None:
        start = str(self.workspace.root.parent) if self.workspace else str(Path.home())
        folder = QFileDialog.getExistingDirectory(
            self, "New workspace: choose or create an empty folder", start)
        if folder:
            self.create_workspace(Path(folder))

    # ------------------------------------------------------------------ status bar
    def find_device(self, name: str = "auto") -> Worker:
        """Describe the compute device in the status bar, off the GUI thread."""
        from inspector.gui.workers.system import device_worker

        worker = device_worker(name)
        worker.finished.connect(while_alive(self, lambda text: self.device_label.setText(
            f"Device: {text}")))
        worker.failed.connect(while_alive(self, lambda message: self.device_label.setText(
            "Device: unknown")))
        worker.start()
        return worker

    def set_active_model(self, name: str | None) -> None:
        self.model_label.setText(f"Model: {name}" if name else "Model: none")

    def set_camera_state(self, state: str) -> None:
        self.camera_label.setText(f"Camera: {state}")

    def set_theme(self, name: str) -> None:
        applied = apply_theme(name)
        self.theme_actions[applied].setChecked(True)
        self.settings.setValue("ui/theme", applied)

    def show_error(self, title: str, message: str) -> None:
        self.error_shown.emit(message)
        QMessageBox.critical(self, title, message)

    # ------------------------------------------------------------------ settings
    def restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes) and geometry:
            self.restoreGeometry(QByteArray(geometry))
        else:
            self.resize(1200, 800)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray | bytes) and state:
            self.restoreState(QByteArray(state))
        splitter = self.settings.value("window/splitter")
        if isinstance(splitter, QByteArray | bytes) and splitter:
            self.splitter.restoreState(QByteArray(splitter))
        theme = self.settings.value("ui/theme", "system")
        self.set_theme(theme if isinstance(theme, str) else "system")
        page = _to_int(self.settings.value("window/page"), 0)
        if 0 <= page < self.nav.count():
            self.nav.setCurrentRow(page)

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("window/page", self.nav.currentRow())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_settings()
        if self._loader is not None:
            self._loader.cancel()
        super().closeEvent(event)


def _to_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
