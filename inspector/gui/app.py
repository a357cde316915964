"""Start the desktop application: the one place that builds the objects and connects them."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import (
    QObject,
    QSettings,
    Qt,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from inspector import __version__
from inspector.core.paths import APP_NAME, user_config_dir
from inspector.core.station import audit as audit_actions
from inspector.core.workspace import RecentWorkspaces
from inspector.gui.main_window import LazyPage, MainWindow
from inspector.gui.pages.audit import AuditPage
from inspector.gui.pages.datasets import DatasetsPage
from inspector.gui.pages.evaluate import EvaluatePage
from inspector.gui.pages.live import LivePage
from inspector.gui.pages.models import ModelsPage
from inspector.gui.pages.results import ResultsPage
from inspector.gui.pages.review import ReviewPage
from inspector.gui.workers.base import log_file_path, stop_all, unexpected_error_message

log = logging.getLogger(__name__)

ORGANIZATION = "Inspector"
SETTINGS_FILE = "gui.ini"
# Package data, so that a wheel, a source checkout and the PyInstaller bundle all have it.
ICON_PATH = Path(__file__).resolve().parent / "resources" / "inspector.svg"
DESKTOP_FILE_NAME = "inspector"  # matches resources/inspector.desktop (Wayland taskbar icon)
LOG_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def gui_settings() -> QSettings:
    """Window state in an ini file in Inspector's config folder (so INSPECTOR_CONFIG_DIR and
    portable installs keep it beside the recent list, and tests never touch the user's)."""
    return QSettings(str(user_config_dir() / SETTINGS_FILE), QSettings.Format.IniFormat)


class ActiveModelAudit(QObject):
    """Writes ACTIVE_MODEL to the audit log when the active model changes. The Models page
    also announces the active model when it first lists a workspace's models: that is what
    the workspace already had, not a change, so the first announcement after a workspace
    opens is only noted."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)  # lives as long as the window
        self.window = window
        self.known = False
        self.model: str | None = None
        self.audited: str | None = None  # made active through the registry, which audited it
        window.workspace_changed.connect(self.workspace_changed)

    def workspace_changed(self, _opened: object) -> None:
        self.known = False

    def registry_activated(self, version: object) -> None:
        self.audited = getattr(version, "name", None)

    def changed(self, folder: Path | None) -> None:
        name = folder.name if folder is not None else None
        self.window.set_active_model(name)
        if self.known and name not in (self.model, self.audited):
            self.window.session.record(audit_actions.ACTIVE_MODEL, model=name,
                                       previous=self.model)
        self.known, self.model, self.audited = True, name, None


def build_main_window(settings: QSettings | None = None,
                      recent: RecentWorkspaces | None = None) -> MainWindow:
    """The window with its pages, connected. A new page is one `add_page` line here."""
    window = MainWindow(settings or gui_settings(), recent or RecentWorkspaces())
    datasets = DatasetsPage()
    evaluate = EvaluatePage()
    models = ModelsPage()
    live = LivePage()
    results = ResultsPage()
    review = ReviewPage()

    def training_built(train: QWidget) -> None:
        train.model_trained.connect(lambda _folder: models.refresh())  # type: ignore[attr-defined]
        train.model_trained.connect(  # type: ignore[attr-defined]
            lambda _folder: evaluate.refresh_models())
        train.model_trained.connect(lambda _folder: live.refresh_model())  # type: ignore[attr-defined]
        models.active_model_changed.connect(  # the warm-start option names the active model
            lambda _folder: train.refresh_warm_start())  # type: ignore[attr-defined]

    def augment_page() -> QWidget:
        # built when first shown: its preview loads albumentations and cv2 (~1 s)
        from inspector.gui.pages.augment import AugmentPage

        return AugmentPage()

    def train_page() -> QWidget:
        from inspector.gui.pages.train import TrainPage  # pyqtgraph: built when first shown

        return TrainPage()

    window.add_page("Datasets", datasets)
    window.add_page("Augmentation", LazyPage(augment_page))
    window.add_page("Training", LazyPage(train_page, training_built))
    window.add_page("Evaluation", evaluate)
    window.add_page("Models", models)
    window.add_page("Live", live)
    window.add_page("Results", results)
    window.add_page("Review", review)
    window.add_page("Audit log", AuditPage())
    window.undo_requested.connect(datasets.undo)
    evaluate.dataset_changed.connect(datasets.refresh)
    review.dataset_changed.connect(datasets.refresh)
    review.count_changed.connect(lambda count: window.set_page_badge("Review", count))
    models.models_changed.connect(evaluate.refresh_models)
    active_audit = ActiveModelAudit(window)
    models.activated.connect(active_audit.registry_activated)
    models.active_model_changed.connect(active_audit.changed)
    models.active_model_changed.connect(lambda _folder: live.refresh_model())
    live.source_state_changed.connect(window.set_camera_state)
    live.decision_recorded.connect(lambda _outcome: review.refresh())

    def show_result(result_id: int) -> None:
        if window.show_page("Results"):
            results.select_result(result_id)

    live.show_result_requested.connect(show_result)
    window.restore_settings()
    return window


def start_workspace(window: MainWindow, workspace: Path | None,
                    recent: RecentWorkspaces) -> None:
    """Open the given workspace, else the last one that still exists, else the demo."""
    if workspace is not None:
        window.open_workspace(workspace)
    elif (last := recent.last_existing()) is not None:
        window.open_workspace(last)
    else:
        window.open_demo_workspace()


def configure_logging() -> logging.Handler | None:
    """Log INFO and above to a rotating file in the user's log folder; returns the handler."""
    path = log_file_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError as exc:
        log.warning("cannot write the log file %s: %s", path, exc)
        return None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return handler


def _qt_message(mode: QtMsgType, _context: object, message: str) -> None:
    level = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
             QtMsgType.QtWarningMsg: logging.WARNING}.get(mode, logging.ERROR)
    logging.getLogger("qt").log(level, "%s", message)


def _excepthook(kind: type[BaseException], value: BaseException,
                tb: TracebackType | None) -> None:
    """An exception escaping a slot: log it and tell the user, instead of dying silently."""
    log.critical("unhandled exception", exc_info=(kind, value, tb))
    app = QApplication.instance()
    if app is not None and not getattr(_excepthook, "showing", False):
        _excepthook.showing = True  # type: ignore[attr-defined]
        try:
            QMessageBox.critical(None, APP_NAME, unexpected_error_message("doing that"))
        finally:
            _excepthook.showing = False  # type: ignore[attr-defined]


def make_application() -> QApplication:
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        # Qt 6 scales for high DPI by itself; pass fractional factors (125 %, 150 %) through.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    if ICON_PATH.is_file():
        app.setWindowIcon(QIcon(str(ICON_PATH)))
    app.setStyle("Fusion")
    return app


def close_without_quitting(window: QWidget) -> None:
    """Close a window without Qt's quit-on-last-window: that quit is a posted event, and one
    left in the queue after exec() returns ends whichever event loop runs next (in the GUI
    tests, every later test's)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        window.close()
        return
    keep = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)
    try:
        window.close()
    finally:
        app.setQuitOnLastWindowClosed(keep)


def run_app(workspace: Path | None = None, exit_after_start: bool = False) -> int:
    """Run the desktop application until its window closes; returns the exit code.

    `exit_after_start`: show the window, open `workspace` only if one is given (not the last
    one, nor the demo), and quit once the event loop has run: a start-up check and timing.
    """
    root = logging.getLogger()
    root_level = root.level
    # The file gets INFO; handlers already there (the CLI's stderr) keep the verbosity they had.
    unleveled = [h for h in root.handlers if h.level == logging.NOTSET]
    for existing in unleveled:
        existing.setLevel(root.getEffectiveLevel())
    handler = configure_logging()
    previous_hook = sys.excepthook
    previous_qt = qInstallMessageHandler(_qt_message)
    sys.excepthook = _excepthook
    try:
        app = make_application()
        log.info("Inspector %s starting (Qt platform %s)", __version__, app.platformName())
        recent = RecentWorkspaces()
        window = build_main_window(recent=recent)
        window.show()
        if exit_after_start:
            if workspace is not None:
                start_workspace(window, workspace, recent)

            def close_and_quit() -> None:
                close_without_quitting(window)  # as a user would close it: settings saved
                app.quit()

            QTimer.singleShot(0, close_and_quit)
        else:
            start_workspace(window, workspace, recent)
            window.find_device()
        code = app.exec()
        if not stop_all(timeout_ms=10_000):
            log.warning("some work was still running at exit")
        log.info("Inspector exits with %d", code)
        return int(code)
    finally:
        sys.excepthook = previous_hook
        qInstallMessageHandler(previous_qt)
        if handler is not None:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(root_level)
        for existing in unleveled:
            existing.setLevel(logging.NOTSET)
