"""The Models page: the workspace's model versions as a tree, the promotion gate, promote,
rollback, export and delete.

Every trained model is a version (core/registry.py), under the version it was warm-started
from. One is active: live inspection loads it. A version becomes active only through the
registry, which writes the change to the workspace's audit log first:

- **Compare with active** runs the promotion gate in a worker (both models on the same test
  split plus the review inbox's corrections); the gate view shows the verdict, the per-class
  differences, the confusion difference and the images that changed verdict with their Grad-CAM
  maps (computed on demand, off the GUI thread).
- **Promote** needs a comparison against the version active now; when the gate refused the
  candidate, only with a written reason (at least 10 characters), which goes to the audit log.
- **Roll back** makes a version that ran before (or an older one) active again in one action,
  with an optional reason; a newer version that never ran goes through the gate instead.

Every action needs engineer mode when a station session is attached; activation also needs the
session's audit log (an activation that cannot be audited does not happen). Listing reads
checkpoint headers only (no torch); comparing, Grad-CAM, export and deletion run in workers.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from inspector.core.errors import InspectorError
from inspector.core.model_catalog import ModelInfo, delete_model
from inspector.core.registry import PromotionError, Registry
from inspector.core.station.audit import AuditError
from inspector.gui.widgets.gate_view import GateView
from inspector.gui.widgets.message_bar import MessageBar
from inspector.gui.widgets.version_tree import VersionTree
from inspector.gui.workers.base import Worker, while_alive
from inspector.gui.workers.dataset import operation_worker
from inspector.gui.workers.evaluation import (
    ChangedCam,
    ExportResult,
    Versions,
    changed_cam_worker,
    compare_worker,
    export_worker,
    torchscript_worker,
    versions_worker,
)

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.evaluation.compare import ChangedImage, GateReport
    from inspector.core.registry import ModelVersion
    from inspector.core.station.audit import AuditEntry, AuditLog
    from inspector.core.workspace import Workspace
    from inspector.gui.session import StationSession

log = logging.getLogger(__name__)

SHOW_PROGRESS_AFTER_MS = 200
MIN_FORCE_REASON = 10  # the registry's own minimum for promoting past a refusal
EXPORT_KINDS = {"onnx": "ONNX (model.onnx)",
                "int8": "ONNX and INT8 (calibrated on the dataset)",
                "torchscript": "TorchScript (model.torchscript.pt)"}
ENGINEER_ONLY = ("Only an engineer can compare, promote, roll back, export or delete models: "
                 "unlock engineer mode first.")


class ReasonDialog(QDialog):
    """Asks for a written reason: required (at least `min_length` characters) or optional."""

    def __init__(self, parent: QWidget | None, title: str, text: str, accept_text: str,
                 min_length: int = 0, placeholder: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.min_length = min_length
        message = QLabel(text)
        message.setWordWrap(True)
        message.setTextFormat(Qt.TextFormat.RichText)
        self.edit = QPlainTextEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setTabChangesFocus(True)
        self.edit.setMaximumHeight(90)
        self.hint = QLabel()
        self.hint.setStyleSheet("color: #757575;")
        buttons = QDialogButtonBox()
        self.accept_button = buttons.addButton(accept_text,
                                               QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.edit.textChanged.connect(self._update)
        layout = QVBoxLayout(self)
        layout.addWidget(message)
        layout.addWidget(self.edit)
        layout.addWidget(self.hint)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())
        self._update()
        self.edit.setFocus()

    def reason(self) -> str:
        return " ".join(self.edit.toPlainText().split())

    def _update(self) -> None:
        written = len(self.reason())
        enough = written >= self.min_length
        self.accept_button.setEnabled(enough)
        if self.min_length:
            self.hint.setText("It goes to the audit log with your name. "
                              + ("" if enough else f"At least {self.min_length} characters "
                                                   f"({written} so far)."))
        else:
            self.hint.setText("Optional; it goes to the audit log with your name.")


class _AuditCapture:
    """The session's audit log as the registry sees it, keeping the entries written so the
    page can announce them to the audit viewers (the registry writes them itself)."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self.entries: list[AuditEntry] = []

    def append(self, user: str, role: str, action: str, **detail: Any) -> AuditEntry:
        entry = self.audit.append(user, role, action, **detail)
        self.entries.append(entry)
        return entry


class ModelsPage(QWidget):
    """Build it, then `set_workspace(workspace, dataset)` (and `set_session(session)`)."""

    active_model_changed = Signal(object)  # Path of the active model's folder, or None
    models_changed = Signal()  # a version was exported, deleted or activated (others re-list)
    refreshed = Signal()
    exported = Signal(object)  # ExportResult
    compared = Signal(object)  # GateReport
    activated = Signal(object)  # the ModelVersion promote or rollback made active
    error_shown = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, workspace: Workspace | None = None, dataset: Dataset | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Workspace | None = None
        self.dataset: Dataset | None = None
        self.session: StationSession | None = None
        self.versions: Versions | None = None
        self.reports: dict[str, GateReport] = {}  # gate reports against the active version
        self._job: Worker | None = None
        self._cancellable = False
        self._cam_job: Worker | None = None
        self._cam_wanted: tuple[GateReport, ChangedImage] | None = None
        self._announced: Path | bool | None = False  # the active model last signalled
        self._select_after: str | None = None
        self._after_job: Any = None  # what to do once the running job has ended
        self._build()
        self.set_workspace(workspace, dataset)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.message_bar = MessageBar()
        style = self.style()
        self.compare_button = QPushButton("&Compare with active")
        self.compare_button.setToolTip(
            "Run the promotion gate: the selected version and the active one classify the same "
            "test images and the operators' corrections")
        self.promote_button = QPushButton("&Promote…")
        self.rollback_button = QPushButton("&Roll back to this version…")
        self.export_button = QPushButton("E&xport…")
        self.export_button.setToolTip("Write the selected version as ONNX or TorchScript, "
                                      "checked against PyTorch, with a model card "
                                      "(Ctrl+Shift+E: ONNX)")
        self.export_menu = QMenu(self)
        self.export_actions: dict[str, QAction] = {}
        for kind, text in EXPORT_KINDS.items():
            action = self.export_menu.addAction(text)
            action.triggered.connect(lambda _checked=False, k=kind: self.export(k))
            self.export_actions[kind] = action
        self.export_actions["int8"].setToolTip(
            "Also write model.int8.onnx, calibrated on the dataset's validation split and "
            "checked on its test split")
        self.export_button.setMenu(self.export_menu)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TrashIcon))
        self.delete_button.setToolTip("Move the selected version to models/.trash after asking "
                                      "(Delete)")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh_button.setToolTip("Read the models folder again (F5)")
        self.compare_button.clicked.connect(self.compare)
        self.promote_button.clicked.connect(lambda _checked=False: self.promote())
        self.rollback_button.clicked.connect(lambda _checked=False: self.rollback())
        self.delete_button.clicked.connect(self.delete)
        self.refresh_button.clicked.connect(self.refresh)
        QShortcut(QKeySequence("Ctrl+Shift+E"), self, lambda: self.export("onnx"))
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self, self.delete)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, self.refresh)

        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(200)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the comparison (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress_label)
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_button)
        self.progress_row.hide()
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.timeout.connect(
            lambda: self.progress_row.setVisible(self._job is not None))

        buttons = QHBoxLayout()
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.promote_button)
        buttons.addWidget(self.rollback_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.progress_row)
        buttons.addWidget(self.refresh_button)

        self.tree = VersionTree()
        self.tree.version_selected.connect(lambda _name: self._selection_changed())
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.gate_view = GateView()
        self.gate_view.cam_requested.connect(self._want_cam)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.tree, 1)
        top_layout.addWidget(self.details)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.gate_view)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 5)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([170, 580])

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message_bar)
        layout.addLayout(buttons)
        layout.addWidget(self.splitter, 1)

    # ------------------------------------------------------------------ workspace & session
    def set_session(self, session: StationSession) -> None:
        self.session = session
        session.role_changed.connect(while_alive(self, lambda _role: self._update_actions()))
        session.attached.connect(while_alive(self, self._update_actions))
        self._update_actions()

    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None:
        if self._job is not None:
            self._job.cancel()  # an export cannot stop early; its result is dropped
            self._set_job(None)
        self._stop_cam()
        self.workspace, self.dataset = workspace, dataset
        self.versions = None
        self.reports = {}
        self.tree.set_versions([], None)
        self.gate_view.set_report(None)
        self.message_bar.dismiss()
        if workspace is None:
            self.title.setText("<b>No workspace open.</b> Open or create one from the File menu.")
            self.details.setText("")
            self.gate_view.set_placeholder("")
            self._announce(None)
        else:
            self.title.setText(f"Model versions of <b>{_html(workspace.name)}</b>"
                               f"&nbsp;&nbsp;<span style='color:#757575'>"
                               f"{_html(str(workspace.models_dir))}</span>")
            self.refresh()
        self._update_actions()

    def refresh(self) -> None:
        if self.workspace is None or self._job is not None:
            return
        self._run(versions_worker(self.workspace), self._show_versions, "Reading the models…")

    def _show_versions(self, versions: Versions) -> None:
        selected = self._select_after or self.tree.selected_name()
        self._select_after = None
        self.versions = versions
        self.reports = dict(versions.reports)
        active = versions.active.name if versions.active else None
        self.tree.set_versions(versions.tree, active, versions.exports,
                               {name: (r.refused, r.reasons) for name, r in self.reports.items()})
        if selected is None or not self.tree.select(selected):
            newest = _newest(versions)
            if newest is not None:
                self.tree.select(newest)
        self._selection_changed()
        self._announce(versions.active.folder if versions.active else None)
        self._update_actions()
        self._after_job = self.refreshed.emit  # once idle: a test or caller may act at once

    def _announce(self, folder: Path | None) -> None:
        if folder != self._announced:
            self._announced = folder
            self.active_model_changed.emit(folder)

    # ------------------------------------------------------------------ selection
    @property
    def active_name(self) -> str | None:
        active = self.versions.active if self.versions else None
        return active.name if active else None

    def selected_version(self) -> ModelVersion | None:
        return self.tree.selected_version()

    def selected_model(self) -> ModelInfo | None:
        version = self.selected_version()
        return version.info if version else None

    def selected_folder(self) -> Path | None:
        version = self.selected_version()
        return version.folder if version else None

    def select_version(self, name: str) -> bool:
        return self.tree.select(name)

    def _selection_changed(self) -> None:
        self._show_details()
        self._show_gate()
        self._update_actions()

    def _show_details(self) -> None:
        version = self.selected_version()
        if version is None:
            self.details.setText("No trained model yet: train one on the Training page."
                                 if self.versions is not None and not self.versions.tree
                                 else "")
            return
        info = version.info
        if not info.usable:
            self.details.setText(f"<b>{_html(version.name)}</b>: "
                                 f"{_html(info.problem or 'unreadable')}")
            return
        lines = [_details_line(version, version.name == self.active_name,
                               self.versions.exports.get(version.name, ())
                               if self.versions else ())]
        train = version.train_config
        settings = []
        epochs = train.get("epochs")
        if isinstance(epochs, int):
            settings.append(f"{epochs} epoch{'s' if epochs != 1 else ''}"
                            + (f" (best: epoch {info.epoch})" if info.epoch is not None
                               else ""))
        if isinstance(train.get("batch_size"), int):
            settings.append(f"batch {train['batch_size']}")
        head, backbone = train.get("lr_head"), train.get("lr_backbone")
        if isinstance(head, int | float) and isinstance(backbone, int | float):
            settings.append(f"lr head {head:g} / backbone {backbone:g}")
        loss = train.get("loss")
        if isinstance(loss, dict) and loss.get("kind"):
            settings.append(f"{loss['kind']} loss")
        settings.append(f"temperature {version.temperature:.2f}")
        if version.thresholds:
            settings.append("thresholds " + ", ".join(
                f"{_html(k)} {v:.2f}" for k, v in sorted(version.thresholds.items())))
        lines.append("Training: " + " · ".join(settings))
        self.details.setText("<br>".join(lines))

    def _show_gate(self) -> None:
        version = self.selected_version()
        report = self.reports.get(version.name) if version is not None else None
        self.gate_view.set_report(report)
        if report is not None:
            return
        active = self.active_name
        if version is None:
            text = ""
        elif not version.info.usable:
            text = f"{version.name} cannot be read: {version.info.problem}"
        elif version.name == active:
            text = (f"{version.name} is the active version (live inspection loads it). Select "
                    "another version to compare it with this one.")
        else:
            text = (f"Compare {version.name} with the active version {active or ''} to see, "
                    "class by class, whether it is better: both classify the same test images "
                    "and the operators' corrections. Promotion goes through this gate.")
        self.gate_view.set_placeholder(text)

    def _rollback_refusal(self, version: ModelVersion) -> str | None:
        """Why `version` may not be rolled back to (None: it may): only a version that ran on
        the line before, or one older than the active version, skips the gate."""
        if self.versions is None or version.name in self.versions.was_active:
            return None
        active = self.versions.active
        if active is None:
            return None
        mine, theirs = _timestamp(version.info), _timestamp(active.info)
        if mine is not None and theirs is not None and mine < theirs:
            return None
        return (f"{version.name} has never been active and is not older than {active.name}: "
                "compare it with the active version and promote it instead.")

    def _update_actions(self) -> None:
        version = self.selected_version()
        engineer = self.session is None or self.session.is_engineer
        idle = self._job is None and self.workspace is not None
        usable = idle and engineer and version is not None and version.info.usable
        active = version is not None and version.name == self.active_name
        candidate = usable and not active
        self.compare_button.setEnabled(candidate)
        self.promote_button.setEnabled(candidate and version is not None
                                       and version.name in self.reports)
        refusal = self._rollback_refusal(version) if version is not None else None
        self.rollback_button.setEnabled(candidate and refusal is None)
        self.export_button.setEnabled(usable)
        self.export_actions["int8"].setEnabled(usable and self.dataset is not None)
        self.delete_button.setEnabled(idle and engineer and version is not None and not active)
        self.refresh_button.setEnabled(idle)
        if not engineer:
            for button in (self.compare_button, self.promote_button, self.rollback_button):
                button.setToolTip(ENGINEER_ONLY)
            return
        if version is not None and version.name in self.reports:
            report = self.reports[version.name]
            self.promote_button.setToolTip(
                f"Make {version.name} the active version. "
                + ("The gate refused it: a written reason is required and goes to the audit "
                   "log." if report.refused else "It passed the gate."))
        else:
            self.promote_button.setToolTip("Make the selected version active: compare it with "
                                           "the active version first (the promotion gate)")
        self.rollback_button.setToolTip(
            refusal or "Make the selected version active again at once (audited, with an "
                       "optional reason)")

    # ------------------------------------------------------------------ jobs
    def _set_job(self, worker: Worker | None, cancellable: bool = False) -> None:
        was = self._job is not None
        self._job = worker
        self._cancellable = cancellable and worker is not None
        self.cancel_button.setVisible(self._cancellable)
        self.cancel_button.setEnabled(self._cancellable)
        if worker is None:
            self._progress_timer.stop()
            self.progress_row.hide()
        self._update_actions()
        if was != (worker is not None):
            self.busy_changed.emit(worker is not None)

    def _run(self, worker: Worker, on_finished: Any, text: str, cancellable: bool = False,
             on_cancelled: Any = None) -> None:
        if self._job is not None:
            return

        def mine(handler: Any) -> Any:
            def call(*args: Any) -> None:
                if worker is self._job:
                    handler(*args)
            return while_alive(self, call)

        def progress(done: int, total: int) -> None:
            if total > 0:
                self.progress_bar.setRange(0, total)
                self.progress_bar.setValue(done)

        def ended() -> None:
            if worker is self._job:
                self._set_job(None)
                if self._after_job is not None:
                    follow, self._after_job = self._after_job, None
                    follow()

        self._after_job = None
        worker.progress.connect(mine(progress))
        worker.finished.connect(mine(on_finished))
        if on_cancelled is not None:
            worker.cancelled.connect(mine(on_cancelled))
        worker.failed.connect(mine(self.show_error))
        worker.done.connect(while_alive(self, ended))
        self.progress_label.setText(text)
        self.progress_bar.setRange(0, 0)
        self._set_job(worker, cancellable)
        self._progress_timer.start(SHOW_PROGRESS_AFTER_MS)
        worker.start()

    def cancel(self) -> None:
        if self._job is not None and self._cancellable:
            self._job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Cancelling…")

    @property
    def busy(self) -> bool:
        return self._job is not None

    def show_error(self, message: str) -> None:
        self.message_bar.show_error(message)
        self.error_shown.emit(message)

    def _may_act(self) -> bool:
        if self.session is not None and not self.session.is_engineer:
            self.show_error(ENGINEER_ONLY)
            return False
        return True

    def _target(self) -> ModelVersion | None:
        """The selected version, when an action may run on it now."""
        version = self.selected_version()
        if (self.workspace is None or version is None or self._job is not None
                or not self._may_act()):
            return None
        if not version.info.usable:
            self.show_error(f"{version.name} cannot be used: {version.info.problem}")
            return None
        return version

    # ------------------------------------------------------------------ the gate
    def compare(self) -> None:
        """Run the promotion gate for the selected version against the active one."""
        version = self._target()
        workspace = self.workspace
        if version is None or workspace is None:
            return
        active = self.active_name
        if version.name == active:
            self.message_bar.show_info(f"{version.name} is the active version already: select "
                                       "another version to compare with it.")
            return
        self.message_bar.dismiss()

        def done(report: GateReport | None) -> None:
            if report is None:
                self.message_bar.show_info("Comparison cancelled.")
                return
            self.reports[report.candidate] = report
            self.tree.set_gate(report.candidate, report.refused, report.reasons)
            if self.tree.selected_name() == report.candidate:
                self.gate_view.set_report(report)
            if report.refused:
                self.message_bar.show_info(
                    f"The gate refuses {report.candidate}: it is worse than "
                    f"{report.baseline} on {len(report.reasons)} class"
                    f"{'es' if len(report.reasons) != 1 else ''} (below). Retrain it, or "
                    "promote it anyway with a written reason.")
            else:
                self.message_bar.show_info(f"{report.candidate} passes the gate: it can be "
                                           "promoted.")
            self._after_job = lambda: self.compared.emit(report)  # once idle

        against = f" with {active}" if active else ""
        self._run(compare_worker(workspace, version.name, None, workspace.config.train.device),
                  done, f"Comparing {version.name}{against}…", cancellable=True,
                  on_cancelled=done)
        self._progress_timer.start(0)

    def _want_cam(self, changed: ChangedImage) -> None:
        report = self.gate_view.report
        if report is None or self.workspace is None:
            return
        self._cam_wanted = (report, changed)
        if self._cam_job is None:
            self._start_cam()
        # else: the running one ends first, then the latest wanted image starts

    def _start_cam(self) -> None:
        wanted, self._cam_wanted = self._cam_wanted, None
        workspace = self.workspace
        if wanted is None or workspace is None:
            return
        report, changed = wanted
        shown = self.gate_view.report
        if (shown is None or (shown.candidate, shown.baseline) != (report.candidate,
                                                                   report.baseline)
                or self.gate_view.has_cam(changed.path)):
            return
        models = workspace.models_dir
        worker = changed_cam_worker(models / report.candidate,
                                    models / report.baseline if report.baseline else None,
                                    Path(changed.path), device=workspace.config.train.device)

        def current() -> bool:
            now = self.gate_view.report
            return now is not None and (now.candidate, now.baseline) == (report.candidate,
                                                                         report.baseline)

        def finished(cam: ChangedCam | None) -> None:
            if cam is None or not current():
                return
            shown_image = next((r.image for r in (cam.candidate, cam.baseline)
                                if r is not None), None)
            self.gate_view.set_cam(changed.path, shown_image,
                                   cam.baseline.overlay if cam.baseline else None,
                                   cam.candidate.overlay if cam.candidate else None)

        def failed(message: str) -> None:
            if current():
                self.gate_view.set_cam_failed(changed.path, message)

        def done() -> None:
            if worker is self._cam_job:
                self._cam_job = None
                if self._cam_wanted is not None and not worker.is_cancelled:
                    self._start_cam()  # the image selected meanwhile

        worker.finished.connect(while_alive(self, finished))
        worker.failed.connect(while_alive(self, failed))
        worker.done.connect(while_alive(self, done))
        self._cam_job = worker
        worker.start()

    def _stop_cam(self) -> None:
        self._cam_wanted = None
        if self._cam_job is not None:
            self._cam_job.cancel()
            self._cam_job = None

    # ------------------------------------------------------------------ activation
    def promote(self, reason: str | None = None) -> bool:
        """Make the selected version active after its gate comparison. A refused one needs a
        written reason: asked in a dialog unless `reason` is given (the registry checks it)."""
        version = self._target()
        if version is None:
            return False
        if version.name == self.active_name:
            self.message_bar.show_info(f"{version.name} is the active version already.")
            return False
        report = self.reports.get(version.name)
        if report is None:
            self.show_error(f"Compare {version.name} with the active version first: a version "
                            "becomes active through the promotion gate.")
            return False
        if reason is None:
            if report.refused:
                dialog = ReasonDialog(
                    self, "Promote anyway",
                    f"The gate refused <b>{_html(version.name)}</b>:<br>"
                    + "<br>".join(f"• {_html(r)}" for r in report.reasons)
                    + f"<br><br>To make it the active version anyway, write why (at least "
                      f"{MIN_FORCE_REASON} characters).",
                    "Promote anyway", MIN_FORCE_REASON,
                    "e.g. line trial approved by the quality lead, ticket 1234")
                if dialog.exec() != QDialog.DialogCode.Accepted:
                    self.message_bar.show_info(f"{version.name} was not promoted.")
                    return False
                reason = dialog.reason()
            else:
                answer = QMessageBox.question(
                    self, "Promote",
                    f"Make {version.name} the active version? It passed the gate against "
                    f"{report.baseline or 'no active version'}; live inspection will load it.",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                    QMessageBox.StandardButton.No)
                if answer != QMessageBox.StandardButton.Yes:
                    return False
        forced = report.refused

        def act(registry: Registry, user: str, role: str, audit: Any) -> ModelVersion:
            now = registry.active()
            if report.baseline != (now.name if now else None):  # changed elsewhere (the CLI)
                raise PromotionError(
                    f"{version.name} was compared with {report.baseline or 'no version'}, "
                    f"but {now.name if now else 'no version'} is active now: compare it "
                    "again.")
            return registry.promote(version.name, report, user=user, role=role, audit=audit,
                                    force_reason=reason or None)

        done = (f"{version.name} is the active version"
                + (", promoted past the gate's refusal; your reason is in the audit log."
                   if forced else ", promoted after passing the gate."))
        return self._activate(act, done)

    def rollback(self, reason: str | None = None) -> bool:
        """Make the selected version active again: one audited action, no gate. Asks for a
        confirmation with an optional reason unless `reason` is given."""
        version = self._target()
        if version is None:
            return False
        if version.name == self.active_name:
            self.message_bar.show_info(f"{version.name} is the active version already.")
            return False
        refusal = self._rollback_refusal(version)
        if refusal is not None:
            self.show_error(refusal)
            return False
        if reason is None:
            dialog = ReasonDialog(
                self, "Roll back",
                f"Make <b>{_html(version.name)}</b> the active version again, in place of "
                f"<b>{_html(self.active_name or 'none')}</b>? Live inspection will load it.",
                "Roll back", 0, "Why (optional), e.g. more false rejects on line 2 since "
                                "Monday")
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
            reason = dialog.reason()

        def act(registry: Registry, user: str, role: str, audit: Any) -> ModelVersion:
            return registry.rollback(version.name, user=user, role=role, audit=audit,
                                     reason=reason or None)

        return self._activate(act, f"Rolled back: {version.name} is the active version.")

    def _activate(self, act: Any, done_text: str) -> bool:
        """Run a registry activation with the session's user, role and audit log."""
        workspace, session = self.workspace, self.session
        if workspace is None:
            return False
        if session is None or session.audit is None:
            self.show_error("The active version can only change when the change is written to "
                            "the workspace's audit log, and the audit log is not open. Reopen "
                            "the workspace; if the problem stays, check that its folder is "
                            "writable.")
            return False
        capture = _AuditCapture(session.audit)
        try:
            version = act(Registry(workspace), session.user, session.role.value, capture)
        except AuditError as exc:
            session.audit_failed.emit(str(exc))
            self.show_error(f"{exc} The active version did not change.")
            return False
        except InspectorError as exc:
            self.show_error(str(exc))
            return False
        except OSError as exc:
            log.exception("activation failed")
            self.show_error(f"The active version could not be saved: {exc.strerror or exc}.")
            return False
        session.announce(capture.entries)
        self.message_bar.show_info(done_text)
        self._select_after = version.name
        self.activated.emit(version)
        self.models_changed.emit()
        self.refresh()
        return True

    # ------------------------------------------------------------------ export & delete
    def export(self, kind: str = "onnx") -> None:
        """Export the selected version: "onnx", "int8" (ONNX and INT8) or "torchscript"."""
        version = self._target()
        if version is None:
            return
        if kind not in EXPORT_KINDS:
            raise ValueError(f"unknown export kind {kind!r}")
        if kind == "int8" and self.dataset is None:
            self.show_error("INT8 needs a dataset: it is calibrated on the validation split "
                            "and checked on the test split.")
            return
        self.message_bar.dismiss()
        if kind == "torchscript":
            worker = torchscript_worker(version.folder)
            text = f"Exporting {version.name} to TorchScript…"
        else:
            worker = export_worker(version.folder, self.dataset, kind == "int8")
            text = f"Exporting {version.name}{' (fp32 and INT8)' if kind == 'int8' else ''}…"

        def done(result: ExportResult) -> None:
            files = [p.name for p in (result.onnx, result.int8, result.torchscript)
                     if p is not None]
            message = f"Exported {version.name} to {' and '.join(files)}"
            report = result.int8_report
            if result.int8 is not None and report is not None and (
                    report.int8_accuracy is not None):
                message += (f" (test accuracy {report.int8_accuracy:.3f} vs fp32 "
                            f"{report.fp32_accuracy:.3f})")
            self.message_bar.show_info(message + ", checked against PyTorch; a model card is "
                                                 "beside it.")
            self._select_after = version.name
            self._after_job = self.refresh
            self.exported.emit(result)
            self.models_changed.emit()

        self._run(worker, done, text)
        self._progress_timer.start(0)

    def delete(self) -> None:
        version = self.selected_version()
        workspace = self.workspace
        if workspace is None or version is None or self._job is not None or not self._may_act():
            return
        if version.name == self.active_name:
            self.show_error(f"{version.name} is the active version: make another version "
                            "active first (promote or roll back), so that the change is "
                            "audited.")
            return
        children = [v.name for _, v in (self.versions.tree if self.versions else [])
                    if v.parent == version.name]
        note = (f"\n\n{', '.join(children)} will be listed without a parent."
                if children else "")
        answer = QMessageBox.question(
            self, "Delete model",
            f"Delete the model '{version.name}'?{note}\n\nIts folder is moved to "
            f"{workspace.models_dir / '.trash'}, from where it can be moved back by hand.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return

        def done(target: Any) -> None:
            self.message_bar.show_info(f"Moved '{version.name}' to {Path(target)}.")
            self._after_job = self.refresh
            self.models_changed.emit()

        self._run(operation_worker(lambda: delete_model(workspace, version.folder),
                                   f"deleting {version.name}"), done, "Deleting…")


def _timestamp(info: ModelInfo) -> float | None:
    created = info.created_at()
    if created is None:
        return None
    if created.tzinfo is None:
        created = created.astimezone()
    return created.timestamp()


def _newest(versions: Versions) -> str | None:
    usable = [(stamp, v.name) for _, v in versions.tree
              if v.info.usable and (stamp := _timestamp(v.info)) is not None]
    if usable:
        return max(usable)[1]
    return versions.tree[0][1].name if versions.tree else None


def _details_line(version: ModelVersion, active: bool, exports: Any) -> str:
    info = version.info
    parts = [f"<b>{_html(version.name)}</b>" + (" (active)" if active else "")]
    if version.parent:
        parts.append(f"warm-started from <b>{_html(version.parent)}</b>"
                     + (f", adding {_html(', '.join(version.new_classes))}"
                        if version.new_classes else ""))
    created = info.created_at()
    if created is not None:
        parts.append("trained " + created.astimezone().strftime("%Y-%m-%d %H:%M"))
    parts.append(f"{len(info.classes)} classes: {_html(', '.join(info.classes))}")
    if version.dataset_fingerprint:
        dataset = Path(version.dataset).name if version.dataset else "dataset"
        parts.append(f"data {_html(dataset)} #{_html(version.dataset_fingerprint[:8])}")
    parts.append(f"{info.input_size} px, "
                 + ("ImageNet weights" if info.imagenet else "random initial weights"))
    parts.append(f"exports: {_html(', '.join(exports) or 'none')}")
    parts.append(f"<span style='color:#757575'>{_html(str(info.folder))}</span>")
    return " · ".join(parts)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

