"""The main window: menus, the page list on the left, the status bar, and the open workspace.

Pages are added by whoever builds the window (app.py), one `add_page` call each. A page is any
QWidget with `set_workspace(workspace, dataset)`; the window calls it whenever the open
workspace changes (with None, None when none is open). A page that also has
`set_session(session)` gets the window's StationSession when it is added.

The window owns the station session: who is at the station and in which role. Opening a
workspace attaches its engineer PIN and audit log and starts in the role its config says
(`station.start_role`: with a PIN set, operator mode). In operator mode only the pages titled
"Live" and "Results" are shown and reachable (by the list, `show_page` and the Ctrl+digit
shortcuts), and the actions that change workspaces or data are disabled; engineer mode is
unlocked with the PIN (Station menu, Ctrl+L) and locks again after the configured idle time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
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

from inspector.core.station.access import AccessControl, Role
from inspector.core.station.audit import AuditError, AuditLog
from inspector.core.workspace import RecentWorkspaces
from inspector.gui.session import StationSession
from inspector.gui.theme import THEMES, apply_theme
from inspector.gui.widgets.pin_dialog import SetPinDialog, UnlockDialog, lock_icon
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
OPERATOR_PAGES = ("Live", "Results")  # what operator mode shows; every other page is hidden
_INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
    QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TabletPress,
})


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
        self._session: StationSession | None = None
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
            if self._session is not None and hasattr(page, "set_session"):
                page.set_session(self._session)
            page.set_workspace(*self._workspace)
            if self._on_built is not None:
                self._on_built(page)
        return self.page

    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None:
        self._workspace = (workspace, dataset)
        if self.page is not None:
            self.page.set_workspace(workspace, dataset)  # type: ignore[attr-defined]

    def set_session(self, session: StationSession) -> None:
        self._session = session
        if self.page is not None and hasattr(self.page, "set_session"):
            self.page.set_session(session)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        self.build()
        super().showEvent(event)


class _InputWatcher(QObject):
    """An application-wide event filter: any key or mouse input counts as someone present."""

    def __init__(self, session: StationSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in _INPUT_EVENTS:
            self._session.touch()
        return False


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
        self._scrolls: list[QScrollArea] = []
        self._page_actions: list[QAction] = []
        self._engineer_row = 0  # the page shown before locking, shown again on unlocking
        self.unlock_dialog: UnlockDialog | None = None
        self.pin_dialog: SetPinDialog | None = None
        self.session = StationSession(self)
        self.session.role_changed.connect(lambda _role: self._apply_role())
        self.session.user_changed.connect(lambda _user: self._show_role())
        self.session.audit_failed.connect(self._show_audit_failure)
        self.session.recorded.connect(lambda _entry: self.audit_warning.hide())
        # installed while the window is open: every event of the application passes through it,
        # so a closed window's filter would tax every later event (it did: 40 stale filters in
        # the GUI tests stretched event-loop stalls from 40 ms to 130-330 ms)
        self._input_watcher = _InputWatcher(self.session, self)
        self._watching = False
        self.setWindowTitle(APP_TITLE)
        self._build()
        self._show_workspace(None)
        self._apply_role()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        self._watch_input(True)
        super().showEvent(event)

    def _watch_input(self, on: bool) -> None:
        """The application-wide input filter that keeps engineer mode from locking."""
        app = QApplication.instance()
        if app is None or on == self._watching:
            return
        if on:
            app.installEventFilter(self._input_watcher)
        else:
            app.removeEventFilter(self._input_watcher)
        self._watching = on

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
        self.locked_page = QLabel()
        self.locked_page.setObjectName("lockedPage")
        self.locked_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.locked_page.setWordWrap(True)
        self.locked_page.setTextFormat(Qt.TextFormat.RichText)
        self.stack.addWidget(self.locked_page)  # shown when no page may be shown
        self.nav.currentRowChanged.connect(self._show_row)
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
        station_menu = self.menuBar().addMenu("&Station")
        # Ctrl+L on both: only one of them is enabled at a time, so the key toggles
        self.unlock_action = QAction("&Unlock engineer mode…", self)
        self.unlock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.unlock_action.triggered.connect(lambda _checked=False: self.request_unlock())
        self.lock_action = QAction("&Lock now", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.setToolTip("Back to operator mode: only Live and Results")
        self.lock_action.triggered.connect(lambda _checked=False: self.lock_now())
        self.set_pin_action = QAction("Set engineer &PIN…", self)
        self.set_pin_action.triggered.connect(lambda _checked=False: self.request_set_pin())
        self.operator_action = QAction("&Operator name…", self)
        self.operator_action.triggered.connect(lambda _checked=False: self.ask_operator_name())
        for action in (self.unlock_action, self.lock_action, self.set_pin_action,
                       self.operator_action):
            station_menu.addAction(action)
        station_menu.insertSeparator(self.set_pin_action)
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
        self.role_button = QToolButton()
        self.role_button.setObjectName("roleIndicator")
        self.role_button.setAutoRaise(True)
        self.role_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.role_button.setIconSize(QSize(16, 16))
        self.role_button.clicked.connect(self.toggle_lock)
        self.audit_warning = QLabel()
        self.audit_warning.setStyleSheet("color: #C62828; font-weight: bold;")
        self.audit_warning.hide()
        status = self.statusBar()
        status.addWidget(self.loading)
        status.addPermanentWidget(self.role_button)
        status.addPermanentWidget(self.audit_warning)
        status.addPermanentWidget(self.workspace_label, 1)
        status.addPermanentWidget(self.dataset_label)
        status.addPermanentWidget(self.model_label)
        status.addPermanentWidget(self.camera_label)
        status.addPermanentWidget(self.device_label)

    def add_page(self, title: str, page: QWidget) -> None:
        """Add a page to the navigation list; it is told about the open workspace from now on
        (and given the station session first, if it has `set_session`)."""
        if not isinstance(page, Page):
            raise TypeError(f"{type(page).__name__} has no set_workspace(workspace, dataset)")
        if title in self.page_titles():
            raise ValueError(f"there is already a page titled {title!r}")
        self._pages.append((title, page))
        if hasattr(page, "set_session"):
            page.set_session(self.session)
        self.nav.addItem(QListWidgetItem(title))
        # A scroll area, so a page's minimum size never forces the window wider than a small
        # screen (a 1280 px station, a laptop): below it the page scrolls instead.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        self.stack.addWidget(scroll)
        self._scrolls.append(scroll)
        action = self.page_actions_menu.addAction(title)
        action.triggered.connect(lambda _checked=False, t=title: self.show_page(t))
        self._page_actions.append(action)
        if self.opened is not None:
            page.set_workspace(self.opened.workspace, self.opened.dataset)
        self._apply_role()

    def page_allowed(self, title: str) -> bool:
        """Whether the page may be shown in the current role."""
        return self.session.is_engineer or title in OPERATOR_PAGES

    def visible_page_titles(self) -> list[str]:
        return [title for title in self.page_titles() if self.page_allowed(title)]

    def set_page_badge(self, title: str, count: int) -> None:
        """A count after the page's name in the list and the menu: "Review (3)"."""
        row = self.page_titles().index(title)
        text = f"{title} ({count})" if count > 0 else title
        item = self.nav.item(row)
        item.setText(text)
        item.setToolTip(f"{count} waiting" if count > 0 else "")
        self._page_actions[row].setText(text)

    def page(self, title: str) -> QWidget:
        """The page with that title (a lazy page is built now)."""
        for name, page in self._pages:
            if name == title:
                return page.build() if isinstance(page, LazyPage) else page
        raise KeyError(title)

    def page_titles(self) -> list[str]:
        return [name for name, _ in self._pages]

    def show_page(self, title: str) -> bool:
        """Show the page; refused (False, nothing happens) for a page the role hides."""
        row = self.page_titles().index(title)
        if not self.page_allowed(title):
            log.info("page %s refused in %s mode", title, self.session.role.value)
            return False
        self.nav.setCurrentRow(row)
        return True

    def current_page_title(self) -> str | None:
        row = self.nav.currentRow()
        if row < 0 or self.stack.currentWidget() is self.locked_page:
            return None
        return self.page_titles()[row]

    def _show_row(self, row: int) -> None:
        titles = self.page_titles()
        if 0 <= row < len(titles) and self.page_allowed(titles[row]):
            self.stack.setCurrentWidget(self._scrolls[row])
            if self.session.is_engineer:
                self._engineer_row = row
        else:
            self.stack.setCurrentWidget(self.locked_page)

    # ------------------------------------------------------------------ roles
    def _apply_role(self) -> None:
        """Show what the role may see and use; called on every role change and new page."""
        engineer = self.session.is_engineer
        titles = self.page_titles()
        number = 0
        for row, title in enumerate(titles):
            allowed = self.page_allowed(title)
            self.nav.item(row).setHidden(not allowed)
            action = self._page_actions[row]
            action.setVisible(allowed)
            action.setEnabled(allowed)
            if allowed:
                number += 1  # Ctrl+1..9 go to the pages shown, so the keyboard reaches them
            action.setShortcut(QKeySequence(f"Ctrl+{number}") if allowed and number <= 9
                               else QKeySequence())
        for action in (self.new_action, self.open_action, self.demo_action, self.undo_action):
            action.setEnabled(engineer)
        self.recent_menu.setEnabled(engineer)
        has_pin = self.session.has_pin
        self.unlock_action.setEnabled(not engineer)
        self.lock_action.setEnabled(engineer)
        self.set_pin_action.setEnabled(engineer and self.session.access is not None)
        self.set_pin_action.setText("Change engineer &PIN…" if has_pin
                                    else "Set engineer &PIN…")
        allowed_rows = [row for row, title in enumerate(titles) if self.page_allowed(title)]
        current = self.nav.currentRow()
        if current not in allowed_rows:
            if engineer and 0 <= self._engineer_row < len(titles):
                target = self._engineer_row
            else:
                target = allowed_rows[0] if allowed_rows else -1
            self.nav.setCurrentRow(target)
        self._show_row(self.nav.currentRow())
        self.nav.setVisible(bool(allowed_rows))  # an empty list says nothing
        self.locked_page.setText(
            "<p style='font-size:14pt'><b>Operator mode</b></p><p>There is no page for "
            "operators here yet.<br>An engineer unlocks the other pages with "
            "<b>Station ▸ Unlock engineer mode…</b> (Ctrl+L).</p>" if not engineer else
            "<p>No page.</p>")
        self._show_role()
        if self.unlock_dialog is not None and engineer:
            self.unlock_dialog.close()
        if self.pin_dialog is not None and not engineer:
            self.pin_dialog.close()

    def _show_role(self) -> None:
        engineer = self.session.is_engineer
        if engineer:
            text = "Engineer mode"
            name = self.session.engineer_name
            tip = ("Engineer mode: every page. Click or press Ctrl+L to lock (operator mode)."
                   if self.session.has_pin else
                   "Engineer mode: every page. Set an engineer PIN (Station menu) to make "
                   "this workspace a station that starts in operator mode.")
        else:
            text = "Operator mode"
            name = self.session.operator_name
            tip = "Operator mode: Live and Results. Click or press Ctrl+L to unlock."
        if name:
            text += f" · {name}"
        self.role_button.setText(text)
        self.role_button.setToolTip(tip)
        self.role_button.setIcon(lock_icon(not engineer,
                                           "#5D4037" if not engineer else "#1565C0"))
        self.role_button.setStyleSheet(
            "#roleIndicator { font-weight: bold; color: %s; }"
            % ("#8D4A00" if not engineer else "#1565C0"))

    def _show_audit_failure(self, message: str) -> None:
        self.audit_warning.setText("Audit log not written!")
        self.audit_warning.setToolTip(message)
        self.audit_warning.show()
        self.statusBar().showMessage(message, 15_000)

    def toggle_lock(self) -> None:
        if self.session.is_engineer:
            self.lock_now()
        else:
            self.request_unlock()

    def request_unlock(self) -> UnlockDialog | None:
        """The unlock dialog (window-modal, not blocking); None in engineer mode."""
        if self.session.is_engineer:
            return None
        if self.unlock_dialog is not None and self.unlock_dialog.isVisible():
            self.unlock_dialog.raise_()
            return self.unlock_dialog
        workspace = self.workspace.name if self.workspace else ""
        name = self.settings.value("station/engineer_name", "")
        dialog = UnlockDialog(self.session, name if isinstance(name, str) else "", workspace,
                              self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.unlocked.connect(lambda: self.settings.setValue(
            "station/engineer_name", self.session.engineer_name))
        dialog.destroyed.connect(lambda _obj=None: self._forget_dialog("unlock_dialog"))
        self.unlock_dialog = dialog
        dialog.open()
        return dialog

    def lock_now(self) -> bool:
        if not self.session.is_engineer:
            return False
        if not self.session.lock(reason="locked by hand"):
            QMessageBox.information(
                self, "Lock",
                "This workspace has no engineer PIN, so engineer mode could not be unlocked "
                "again. Set one first: Station ▸ Set engineer PIN…")
            return False
        return True

    def request_set_pin(self) -> SetPinDialog | None:
        if not self.session.is_engineer or self.session.access is None:
            return None
        dialog = SetPinDialog(self.session, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.pin_set.connect(lambda: (self._apply_role(), self.statusBar().showMessage(
            "The engineer PIN is set.", 5000)))
        dialog.destroyed.connect(lambda _obj=None: self._forget_dialog("pin_dialog"))
        self.pin_dialog = dialog
        dialog.open()
        return dialog

    def _forget_dialog(self, name: str) -> None:
        setattr(self, name, None)

    def ask_operator_name(self) -> None:
        name, ok = QInputDialog.getText(
            self, "Operator name", "Name of the operator at this station (written with every "
            "decision and in the audit log):", text=self.session.operator_name)
        if ok:
            self.session.set_user(name)

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
        self._attach_station(opened)
        self._show_workspace(opened)
        for _, page in self._pages:
            page.set_workspace(opened.workspace if opened else None,  # type: ignore[attr-defined]
                               opened.dataset if opened else None)
        self.rebuild_recent_menu()
        self.workspace_changed.emit(opened)

    def _attach_station(self, opened: OpenedWorkspace | None) -> None:
        """The workspace's PIN and audit log, and the role it starts in (before the pages are
        told about the workspace, so they see the new role)."""
        if opened is None:
            self.session.detach()
            return
        root = opened.workspace.root
        station = opened.workspace.config.station
        access = AccessControl(root, station.max_pin_attempts, station.lockout_seconds)
        audit: AuditLog | None = None
        try:
            audit = AuditLog.for_workspace(root)
        except AuditError as exc:
            log.error("%s", exc)
            self._show_audit_failure(str(exc))
            QMessageBox.warning(self, "No audit log", f"{exc}\n\nRole changes, overrides and "
                                "threshold changes are not recorded until this is fixed.")
        start: Role = access.start_role(station.start_role)
        self.session.attach(access, audit, station.lock_after_minutes * 60, start, root)
        if audit is not None:
            self.audit_warning.hide()
        self._apply_role()

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
        if event.isAccepted():
            self._watch_input(False)
            # pages stop their runs and close their stores before the audit log closes
            for _title, page in self._pages:
                target = page.page if isinstance(page, LazyPage) else page
                if target is not None and hasattr(target, "shutdown"):
                    target.shutdown()
            self.session.close()


def _to_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
