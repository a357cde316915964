"""The Models page: the workspace's trained models with their metrics, the active one, export.

Listing reads checkpoint headers only (no torch); export and deletion run in workers.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.core.model_catalog import ModelInfo, delete_model, set_active_model
from inspector.gui.widgets.message_bar import MessageBar
from inspector.gui.workers.base import Worker, while_alive
from inspector.gui.workers.dataset import operation_worker
from inspector.gui.workers.evaluation import Catalog, ExportResult, catalog_worker, export_worker

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex
SHOW_PROGRESS_AFTER_MS = 200


class ModelsTableModel(QAbstractTableModel):
    HEADERS = ("", "Model", "Trained", "Classes", "Input", "Val macro-F1", "Test accuracy",
               "Test macro-F1", "ECE", "Weights", "Export", "Size")
    NUMERIC = frozenset({4, 5, 6, 7, 8, 11})

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models: list[ModelInfo] = []
        self.active: Path | None = None

    def set_catalog(self, catalog: Catalog | None) -> None:
        self.beginResetModel()
        self.models = list(catalog.models) if catalog else []
        self.active = catalog.active.folder if catalog and catalog.active else None
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.models)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return {0: "★ marks the active model (live inspection uses it)",
                    8: "Expected calibration error on the test split, after temperature "
                       "scaling (lower is better)",
                    9: "ImageNet: fine-tuned from pretrained weights · random: trained from "
                       "scratch (needs more data)"}.get(section)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        model = self.models[index.row()]
        column = index.column()
        active = model.folder == self.active
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(model, column, active)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and active:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole:
            if not model.usable:
                return QColor("#B71C1C")
            if column == 9 and not model.imagenet:
                return QColor("#B26A00")
        if role == Qt.ItemDataRole.ToolTipRole:
            if not model.usable:
                return model.problem
            if column == 9:
                return model.pretrained or "Random initial weights (no ImageNet weights found)"
            return str(model.folder)
        return None

    @staticmethod
    def _text(model: ModelInfo, column: int, active: bool) -> str:
        if column == 0:
            return "★" if active else ""
        if column == 1:
            return model.name
        if column == 2:
            created = model.created_at()
            return (created.astimezone().strftime("%Y-%m-%d %H:%M") if created
                    else model.created)
        if column == 11:
            return f"{model.size_bytes / 1e6:.0f} MB" if model.size_bytes >= 1e6 else (
                f"{model.size_bytes / 1e3:.0f} kB")
        if not model.usable:
            return "unreadable" if column == 3 else ""
        if column == 3:
            return ", ".join(model.classes)
        if column == 4:
            return f"{model.input_size} px"
        if column in (5, 6, 7, 8):
            value = (model.val_macro_f1, model.test_accuracy, model.test_macro_f1,
                     model.test_ece)[column - 5]
            return "–" if value is None or not math.isfinite(value) else f"{value:.3f}"
        if column == 9:
            return "ImageNet" if model.imagenet else "random"
        if column == 10:
            if model.has_int8:
                return "ONNX + INT8"
            return "ONNX" if model.has_onnx else "–"
        return ""


class ModelsPage(QWidget):
    """Build it, then `set_workspace(workspace, dataset)`."""

    active_model_changed = Signal(object)  # Path of the active model's folder, or None
    models_changed = Signal()  # a model was exported or deleted (other pages re-list)
    refreshed = Signal()
    exported = Signal(object)  # ExportResult
    error_shown = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, workspace: Workspace | None = None, dataset: Dataset | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Workspace | None = None
        self.dataset: Dataset | None = None
        self.catalog: Catalog | None = None
        self._job: Worker | None = None
        self._announced: Path | bool | None = False  # the active model last signalled
        self._select_after: Path | None = None
        self._after_job: Any = None  # what to do once the running job has ended
        self._build()
        self.set_workspace(workspace, dataset)

    def _build(self) -> None:
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.message_bar = MessageBar()
        style = self.style()
        self.active_button = QPushButton("Set active")
        self.active_button.setToolTip("Make the selected model the one live inspection uses "
                                      "(Ctrl+Return, or double-click a row)")
        self.export_button = QPushButton("Export to ONNX")
        self.export_button.setToolTip("Write model.onnx beside the checkpoint, checked against "
                                      "PyTorch (Ctrl+Shift+E)")
        self.int8_check = QCheckBox("also &INT8")
        self.int8_check.setToolTip("Also write model.int8.onnx, calibrated on the dataset's "
                                   "validation split and checked on its test split")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TrashIcon))
        self.delete_button.setToolTip("Move the selected model to models/.trash after asking "
                                      "(Delete)")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh_button.setToolTip("Read the models folder again (F5)")
        self.active_button.clicked.connect(self.set_active)
        self.export_button.clicked.connect(self.export)
        self.delete_button.clicked.connect(self.delete)
        self.refresh_button.clicked.connect(self.refresh)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.set_active)
        QShortcut(QKeySequence("Ctrl+Shift+E"), self, self.export)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self, self.delete)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, self.refresh)

        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(240)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress_label)
        row.addWidget(self.progress_bar, 1)
        self.progress_row.hide()
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.timeout.connect(
            lambda: self.progress_row.setVisible(self._job is not None))

        buttons = QHBoxLayout()
        buttons.addWidget(self.active_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.int8_check)
        buttons.addSpacing(12)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.progress_row)
        buttons.addWidget(self.refresh_button)

        self.model = ModelsTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.table.doubleClicked.connect(lambda _index: self.set_active())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_details())

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message_bar)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)

    # ------------------------------------------------------------------ workspace
    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None:
        if self._job is not None:
            self._job.cancel()  # an export cannot stop early; its result is dropped
            self._set_job(None)
        self.workspace, self.dataset = workspace, dataset
        self.catalog = None
        self.model.set_catalog(None)
        self.message_bar.dismiss()
        if workspace is None:
            self.title.setText("<b>No workspace open.</b> Open or create one from the File menu.")
            self._announce(None)
        else:
            self.title.setText(f"Trained models of <b>{_html(workspace.name)}</b>"
                               f"&nbsp;&nbsp;<span style='color:#757575'>"
                               f"{_html(str(workspace.models_dir))}</span>")
            self.refresh()
        self._update_actions()

    def refresh(self) -> None:
        if self.workspace is None or self._job is not None:
            return
        self._run(catalog_worker(self.workspace), self._show_catalog, "Reading the models…")

    def _show_catalog(self, catalog: Catalog) -> None:
        selected = self._select_after or self.selected_folder()
        self._select_after = None
        self.catalog = catalog
        self.model.set_catalog(catalog)
        if not catalog.models:
            self.details.setText("No trained model yet: train one on the Training page.")
        folders = [m.folder for m in catalog.models]
        if selected in folders:
            self.select_row(folders.index(selected))
        elif catalog.models:
            self.select_row(0)
        self._show_details()
        self._announce(catalog.active.folder if catalog.active else None)
        self._update_actions()
        self.refreshed.emit()

    def _announce(self, folder: Path | None) -> None:
        if folder != self._announced:
            self._announced = folder
            self.active_model_changed.emit(folder)

    # ------------------------------------------------------------------ selection
    def selected_model(self) -> ModelInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.models[rows[0].row()] if rows else None

    def selected_folder(self) -> Path | None:
        model = self.selected_model()
        return model.folder if model else None

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 1)
        self.table.selectionModel().select(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.setCurrentIndex(index)

    def _show_details(self) -> None:
        model = self.selected_model()
        if model is None:
            return
        if not model.usable:
            self.details.setText(f"{model.folder}: {model.problem}")
            return
        epoch = f", best epoch {model.epoch + 1}" if model.epoch is not None else ""
        exports = [p.name for p in (model.onnx_path, model.folder / "model.int8.onnx")
                   if p.is_file()]
        self.details.setText(f"{model.folder}{epoch}. Classes: {', '.join(model.classes)}. "
                             f"Exports: {', '.join(exports) or 'none'}.")

    def _update_actions(self) -> None:
        model = self.selected_model()
        idle = self._job is None and self.workspace is not None
        usable = idle and model is not None and model.usable
        active = self.model.active is not None and model is not None and (
            model.folder == self.model.active)
        self.active_button.setEnabled(usable and not active)
        self.export_button.setEnabled(usable)
        self.int8_check.setEnabled(usable and self.dataset is not None)
        self.delete_button.setEnabled(idle and model is not None)
        self.refresh_button.setEnabled(idle)

    # ------------------------------------------------------------------ jobs
    def _set_job(self, worker: Worker | None) -> None:
        was = self._job is not None
        self._job = worker
        if worker is None:
            self._progress_timer.stop()
            self.progress_row.hide()
        self._update_actions()
        if was != (worker is not None):
            self.busy_changed.emit(worker is not None)

    def _run(self, worker: Worker, on_finished: Any, text: str) -> None:
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
        worker.failed.connect(mine(self.show_error))
        worker.done.connect(while_alive(self, ended))
        self.progress_label.setText(text)
        self.progress_bar.setRange(0, 0)
        self._set_job(worker)
        self._progress_timer.start(SHOW_PROGRESS_AFTER_MS)
        worker.start()

    def show_error(self, message: str) -> None:
        self.message_bar.show_error(message)
        self.error_shown.emit(message)

    # ------------------------------------------------------------------ actions
    def set_active(self) -> None:
        model = self.selected_model()
        workspace = self.workspace
        if workspace is None or model is None or self._job is not None or not model.usable:
            return

        def done(_info: Any) -> None:
            self.message_bar.show_info(f"'{model.name}' is now the active model.")
            self._select_after = model.folder
            self._after_job = self.refresh

        self._run(operation_worker(lambda: set_active_model(workspace, model.folder),
                                   f"making {model.name} active"), done, "Saving…")

    def export(self) -> None:
        model = self.selected_model()
        if self.workspace is None or model is None or self._job is not None or not model.usable:
            return
        int8 = self.int8_check.isChecked() and self.dataset is not None
        self.message_bar.dismiss()

        def done(result: ExportResult) -> None:
            text = f"Exported {model.name} to {result.onnx.name}"
            report = result.int8_report
            if result.int8 is not None and report is not None:
                text += f" and {result.int8.name}"
                if report.int8_accuracy is not None:
                    text += (f" (test accuracy {report.int8_accuracy:.3f} vs fp32 "
                             f"{report.fp32_accuracy:.3f})")
            self.message_bar.show_info(text + ".")
            self._select_after = model.folder
            self._after_job = self.refresh
            self.exported.emit(result)
            self.models_changed.emit()

        self._run(export_worker(model.folder, self.dataset, int8), done,
                  f"Exporting {model.name}{' (fp32 and INT8)' if int8 else ''}…")
        self._progress_timer.start(0)

    def delete(self) -> None:
        model = self.selected_model()
        workspace = self.workspace
        if workspace is None or model is None or self._job is not None:
            return
        active = " It is the active model: the newest remaining one will take its place." if (
            model.folder == self.model.active) else ""
        answer = QMessageBox.question(
            self, "Delete model",
            f"Delete the model '{model.name}'?{active}\n\nIts folder is moved to "
            f"{workspace.models_dir / '.trash'}, from where it can be moved back by hand.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return

        def done(target: Any) -> None:
            self.message_bar.show_info(f"Moved '{model.name}' to {Path(target)}.")
            self._after_job = self.refresh
            self.models_changed.emit()

        self._run(operation_worker(lambda: delete_model(workspace, model.folder),
                                   f"deleting {model.name}"), done, "Deleting…")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
