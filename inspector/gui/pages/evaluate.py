"""The Evaluation page: a model on a split, its metrics, its confusion matrix, and the images
behind any cell with their Grad-CAM maps, relabelled on the spot when they are mislabelled.

Layout and decisions only: evaluation, Grad-CAM and relabelling run in workers (one of each at
a time; a new request cancels the previous Grad-CAM job).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.core.evaluation.metrics import Metrics, compute_metrics
from inspector.gui.widgets.confusion_matrix import ConfusionMatrixWidget
from inspector.gui.widgets.gallery import GalleryItem, GalleryMode, GalleryView
from inspector.gui.widgets.message_bar import MessageBar
from inspector.gui.workers.base import Worker, while_alive
from inspector.gui.workers.evaluation import (
    Catalog,
    catalog_worker,
    evaluate_worker,
    explain_cell_worker,
    relabel_worker,
)

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.evaluation.attribution import CamResult, CellExplanation
    from inspector.core.evaluation.report import EvaluationReport
    from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

SPLITS = ("test", "val")
LAYERS = ("layer4", "layer3", "layer2", "layer1")  # attribution.LAYERS (no torch import here)
SHOW_PROGRESS_AFTER_MS = 200
METRIC_HEADERS = ("Class", "Precision", "Recall", "F1", "Support")


class EvaluatePage(QWidget):
    """Build it, then `set_workspace(workspace, dataset)`; it lists the workspace's models."""

    evaluation_finished = Signal()  # a report is on screen
    cell_loaded = Signal(int)  # the gallery shows this many images of the opened cell
    relabelled = Signal(object, str)  # (new path, class): an image was moved
    dataset_changed = Signal()  # the dataset's files changed (the Datasets page refreshes)
    error_shown = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, workspace: Workspace | None = None, dataset: Dataset | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Workspace | None = None
        self.dataset: Dataset | None = None
        self.catalog: Catalog | None = None
        self.report: EvaluationReport | None = None
        self.metrics: Metrics | None = None
        self.cell: tuple[int, int] | None = None
        self.cell_results: list[CamResult] = []
        self._job: Worker | None = None
        self._cell_job: Worker | None = None
        self._relabel_job: Worker | None = None
        self._evaluated: tuple[Path, str] | None = None  # (model, split) of the report
        self._build()
        self.set_workspace(workspace, dataset)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.message_bar = MessageBar()

        self.model_combo = QComboBox()
        self.model_combo.setMinimumContentsLength(22)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.setToolTip("The trained model to evaluate (newest first; the active "
                                    "one is marked ★)")
        self.split_combo = QComboBox()
        self.split_combo.addItems(SPLITS)
        self.split_combo.setToolTip("test: images never used in training · val: the images "
                                    "that chose the best epoch and the calibration")
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Run the model on the split (Ctrl+E)")
        self.evaluate_button.clicked.connect(self.evaluate)
        QShortcut(QKeySequence("Ctrl+E"), self, self.evaluate)
        model_label = QLabel("&Model:")
        model_label.setBuddy(self.model_combo)
        split_label = QLabel("&Split:")
        split_label.setBuddy(self.split_combo)

        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(240)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running evaluation or Grad-CAM (Esc)")
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
        self._progress_timer.timeout.connect(self._show_progress_row)

        controls = QHBoxLayout()
        controls.addWidget(model_label)
        controls.addWidget(self.model_combo)
        controls.addWidget(split_label)
        controls.addWidget(self.split_combo)
        controls.addWidget(self.evaluate_button)
        controls.addSpacing(12)
        controls.addWidget(self.progress_row, 1)
        controls.addStretch(0)

        # left: overall figures, per-class table, confusion matrix
        self.summary = QLabel("Choose a model and a split, then press Evaluate.")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.metrics_table = QTableWidget(0, len(METRIC_HEADERS))
        self.metrics_table.setHorizontalHeaderLabels(METRIC_HEADERS)
        self.metrics_table.verticalHeader().hide()
        self.metrics_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.metrics_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.metrics_table.setAlternatingRowColors(True)
        header = self.metrics_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.matrix = ConfusionMatrixWidget()
        self.matrix.view.cell_activated.connect(self.open_cell)
        metrics_box = QGroupBox("Metrics")
        metrics_layout = QVBoxLayout(metrics_box)
        metrics_layout.addWidget(self.summary)
        metrics_layout.addWidget(self.metrics_table, 1)
        matrix_box = QGroupBox("Confusion matrix (click or Enter on a cell)")
        matrix_layout = QVBoxLayout(matrix_box)
        matrix_layout.addWidget(self.matrix)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(metrics_box)
        left.addWidget(matrix_box)
        left.setChildrenCollapsible(False)
        left.setSizes([300, 400])

        # right: the opened cell
        self.cell_title = QLabel("Open a cell of the confusion matrix to see its images.")
        self.cell_title.setWordWrap(True)
        self.cell_title.setTextFormat(Qt.TextFormat.RichText)
        self.layer_combo = QComboBox()
        self.layer_combo.addItems(LAYERS)
        self.layer_combo.setToolTip("The layer Grad-CAM explains: layer4 is the most semantic "
                                    "and coarsest, earlier layers are sharper")
        self.explain_combo = QComboBox()
        self.explain_combo.addItem("predicted class", "predicted")
        self.explain_combo.addItem("true class", "true")
        self.explain_combo.setToolTip("Which class the heat map explains")
        self.view_combo = QComboBox()
        for mode in GalleryMode:
            self.view_combo.addItem(mode.value, mode)
        self.view_combo.setToolTip("What each item shows")
        self.layer_combo.currentIndexChanged.connect(self._reload_cell)
        self.explain_combo.currentIndexChanged.connect(self._reload_cell)
        self.view_combo.currentIndexChanged.connect(
            lambda _i: self.gallery.set_mode(self.view_combo.currentData()))
        options = QHBoxLayout()
        for text, combo in (("&Layer:", self.layer_combo), ("E&xplain:", self.explain_combo),
                            ("Sho&w:", self.view_combo)):
            label = QLabel(text)
            label.setBuddy(combo)
            options.addWidget(label)
            options.addWidget(combo)
        options.addStretch(1)

        self.gallery = GalleryView()
        self.gallery.digit_pressed.connect(self._relabel_by_number)
        self.gallery.current_item_changed.connect(lambda _row: self._update_actions())
        self.relabel_combo = QComboBox()
        self.relabel_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.relabel_combo.setToolTip("The class the selected image really belongs to")
        self.relabel_button = QPushButton("Relabel")
        self.relabel_button.setToolTip("Move the selected image to the chosen class (number "
                                       "keys in the gallery do it at once; Undo on the "
                                       "Datasets page reverts it)")
        self.relabel_button.clicked.connect(
            lambda: self.relabel_selected(self.relabel_combo.currentText()))
        self.keys_hint = QLabel()
        self.keys_hint.setWordWrap(True)
        self.keys_hint.setStyleSheet("color: palette(dark);")
        relabel_row = QHBoxLayout()
        relabel_label = QLabel("Selected image is &really:")
        relabel_label.setBuddy(self.relabel_combo)
        relabel_row.addWidget(relabel_label)
        relabel_row.addWidget(self.relabel_combo)
        relabel_row.addWidget(self.relabel_button)
        relabel_row.addWidget(self.keys_hint, 1)

        cell_box = QGroupBox("Images of the cell")
        cell_layout = QVBoxLayout(cell_box)
        cell_layout.addWidget(self.cell_title)
        cell_layout.addLayout(options)
        cell_layout.addWidget(self.gallery, 1)
        cell_layout.addLayout(relabel_row)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(cell_box)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([540, 740])
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message_bar)
        layout.addLayout(controls)
        layout.addWidget(self.splitter, 1)

    # ------------------------------------------------------------------ workspace and models
    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None:
        for job in (self._job, self._cell_job):
            if job is not None:
                job.cancel()
        self._job = self._cell_job = None
        self.workspace, self.dataset = workspace, dataset
        self.catalog = None
        self.model_combo.clear()
        self._show_report(None)
        self.message_bar.dismiss()
        if workspace is None:
            self.title.setText("<b>No workspace open.</b> Open or create one from the File menu.")
        else:
            self.title.setText(f"Evaluate the models of <b>{_html(workspace.name)}</b>"
                               + (f" on the dataset <b>{_html(dataset.root.name)}</b>"
                                  if dataset is not None else ""))
            self.refresh_models()
        self._set_busy_state()

    def refresh_models(self) -> None:
        """Read the workspace's models again (after a training, an export or a deletion)."""
        if self.workspace is None:
            return
        worker = catalog_worker(self.workspace)
        workspace = self.workspace
        worker.finished.connect(while_alive(self, lambda catalog: self._show_catalog(
            catalog) if workspace is self.workspace else None))
        worker.failed.connect(while_alive(self, self.show_error))
        worker.start()

    def _show_catalog(self, catalog: Catalog) -> None:
        previous = self.model_path()
        self.catalog = catalog
        self.model_combo.clear()
        for model in catalog.models:
            if not model.usable:
                continue
            star = "★ " if catalog.active and model.folder == catalog.active.folder else ""
            self.model_combo.addItem(f"{star}{model.name}", str(model.checkpoint))
            self.model_combo.setItemData(self.model_combo.count() - 1,
                                         f"{model.created} · classes: {', '.join(model.classes)}",
                                         Qt.ItemDataRole.ToolTipRole)
        chosen = previous or (catalog.active.checkpoint if catalog.active else None)
        if chosen is not None:
            self.select_model(chosen)
        if self.model_combo.count() == 0:
            self.summary.setText("This workspace has no trained model yet: train one on the "
                                 "Training page.")
        self._update_actions()

    def select_model(self, path: Path) -> None:
        """Choose a model by its folder or checkpoint path (e.g. when the active one changes)."""
        path = Path(path)
        checkpoint = path / "best.safetensors" if path.suffix != ".safetensors" else path
        index = self.model_combo.findData(str(checkpoint))
        if index >= 0:
            self.model_combo.setCurrentIndex(index)

    def model_path(self) -> Path | None:
        data = self.model_combo.currentData()
        return Path(data) if data else None

    # ------------------------------------------------------------------ jobs
    @property
    def busy(self) -> bool:
        return any(j is not None for j in (self._job, self._cell_job, self._relabel_job))

    def _start(self, worker: Worker, slot: str, text: str, on_finished: Callable[[Any], None],
               on_cancelled: Callable[[Any], None] | None = None) -> None:
        """Run `worker` in the job slot `slot` ("_job", "_cell_job" or "_relabel_job")."""
        was_busy = self.busy
        setattr(self, slot, worker)

        def mine(handler: Callable[..., None]) -> Callable[..., None]:
            def call(*args: Any) -> None:
                if getattr(self, slot) is worker:
                    handler(*args)
            return while_alive(self, call)

        def progress(done: int, total: int) -> None:
            if total > 0:
                self.progress_bar.setRange(0, total)
                self.progress_bar.setValue(done)
                self.progress_bar.setFormat(f"{done} of {total}")

        def ended() -> None:
            if getattr(self, slot) is worker:
                setattr(self, slot, None)
            self._set_busy_state()
            if not self.busy:
                self.busy_changed.emit(False)

        worker.progress.connect(mine(progress))
        worker.finished.connect(mine(on_finished))
        worker.cancelled.connect(mine(on_cancelled or (
            lambda _r: self.message_bar.show_info("Cancelled."))))
        worker.failed.connect(mine(self.show_error))
        worker.done.connect(while_alive(self, ended))
        self.progress_label.setText(text)
        self.progress_bar.setRange(0, 0)
        self.cancel_button.setEnabled(slot != "_relabel_job")
        self._progress_timer.start(SHOW_PROGRESS_AFTER_MS)
        self._update_actions()
        if not was_busy:
            self.busy_changed.emit(True)
        worker.start()

    def _show_progress_row(self) -> None:
        if self.busy:
            self.progress_row.show()

    def _set_busy_state(self) -> None:
        if not self.busy:
            self._progress_timer.stop()
            self.progress_row.hide()
        self._update_actions()

    def cancel(self) -> None:
        for job in (self._job, self._cell_job):
            if job is not None:
                job.cancel()
                self.progress_label.setText("Cancelling…")

    def show_error(self, message: str) -> None:
        self.message_bar.show_error(message)
        self.error_shown.emit(message)

    def _update_actions(self) -> None:
        ready = self.dataset is not None and self.model_combo.count() > 0
        self.evaluate_button.setEnabled(ready and self._job is None)
        self.model_combo.setEnabled(self._job is None)
        self.split_combo.setEnabled(self._job is None)
        can_relabel = (self._relabel_job is None and self.gallery.current_row() >= 0
                       and self.relabel_combo.count() > 0)
        self.relabel_button.setEnabled(can_relabel)
        self.relabel_combo.setEnabled(can_relabel)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self) -> None:
        model = self.model_path()
        if self.dataset is None or model is None or self._job is not None:
            return
        split = self.split_combo.currentText()
        device = self.workspace.config.train.device if self.workspace else "auto"
        self.message_bar.dismiss()
        self._start(evaluate_worker(model, self.dataset, split, device), "_job",
                    f"Evaluating {model.parent.name} on {split}…",
                    lambda report: self._evaluated_with(report, model, split))

    def _evaluated_with(self, report: EvaluationReport | None, model: Path, split: str) -> None:
        if report is None:  # cancelled inside the core
            self.message_bar.show_info("Cancelled.")
            return
        self._evaluated = (model, split)
        self._show_report(report)
        self.evaluation_finished.emit()

    def _show_report(self, report: EvaluationReport | None) -> None:
        self.report = report
        self.metrics = report.metrics if report is not None else None
        self._close_cell()
        if report is None:
            self._evaluated = None
            self.summary.setText("Choose a model and a split, then press Evaluate.")
            self.metrics_table.setRowCount(0)
            self.matrix.view.set_matrix(None, [])
            self.relabel_combo.clear()
            self.keys_hint.clear()
            return
        classes = report.metrics.classes
        self.relabel_combo.clear()
        self.relabel_combo.addItems(classes)
        keys = ", ".join(f"{i}: {c}" for i, c in enumerate(classes[:9], 1))
        self.keys_hint.setText(f"Keys in the gallery: {keys}")
        self._show_metrics()
        self.matrix.view.setFocus()
        if not self.matrix.view.currentIndex().isValid() and classes:
            self.matrix.view.setCurrentIndex(self.matrix.view.matrix.index(0, 0))

    def _show_metrics(self, changed: bool = False) -> None:
        report, metrics = self.report, self.metrics
        if report is None or metrics is None:
            return
        ece = _fmt(report.ece)
        calibrated = _fmt(report.ece_calibrated)
        note = ("<br><span style='color:#B26A00'>Counts and metrics updated after "
                "relabelling; ECE is the evaluation's. Evaluate again for exact figures.</span>"
                if changed else "")
        self.summary.setText(
            f"<b>{metrics.confusion.sum()}</b> {_html(report.split)} images · accuracy "
            f"<b>{_fmt(metrics.accuracy)}</b> · macro-F1 <b>{_fmt(metrics.macro_f1)}</b> · "
            f"ECE {ece} (after temperature scaling {calibrated}, T = "
            f"{_fmt(report.temperature, 2)})<br><span style='color:#757575'>"
            f"{_html(Path(report.model).parent.name)}</span>{note}")
        self.metrics_table.setRowCount(len(metrics.per_class))
        for row, item in enumerate(metrics.per_class):
            values = (item.name, _fmt(item.precision), _fmt(item.recall), _fmt(item.f1),
                      str(item.support))
            for column, value in enumerate(values):
                cell = QTableWidgetItem(value)
                if column:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.metrics_table.setItem(row, column, cell)
        self.matrix.view.set_matrix(metrics.confusion, metrics.classes)

    # ------------------------------------------------------------------ cells
    def open_cell(self, true_index: int, predicted_index: int) -> None:
        """Show the images of the split that are `true_index` and predicted `predicted_index`."""
        if self.metrics is None or self._evaluated is None or self.dataset is None:
            return
        classes = self.metrics.classes
        self.cell = (true_index, predicted_index)
        self.cell_results = []
        self.gallery.set_items([])
        count = self.matrix.view.count(true_index, predicted_index)
        self._set_cell_title()
        if count == 0:
            self.cell_loaded.emit(0)
            return
        if self._cell_job is not None:
            self._cell_job.cancel()
        model, split = self._evaluated
        device = self.workspace.config.train.device if self.workspace else "auto"
        worker = explain_cell_worker(model, self.dataset, split, classes[true_index],
                                     classes[predicted_index], self.layer_combo.currentText(),
                                     self.explain_combo.currentData(), device)
        plural = "s" if count != 1 else ""
        self._start(worker, "_cell_job", f"Grad-CAM of {count} image{plural}…",
                    self._show_cell, self._show_cell)

    def _reload_cell(self) -> None:
        if self.cell is not None:
            self.open_cell(*self.cell)

    def _close_cell(self) -> None:
        if self._cell_job is not None:
            self._cell_job.cancel()
        self.cell = None
        self.cell_results = []
        self.gallery.set_items([])
        self.cell_title.setText("Open a cell of the confusion matrix to see its images.")

    def _set_cell_title(self) -> None:
        if self.cell is None or self.metrics is None:
            return
        classes = self.metrics.classes
        t, p = self.cell
        count = self.matrix.view.count(t, p)
        what = "correctly predicted" if t == p else f"predicted as <b>{_html(classes[p])}</b>"
        self.cell_title.setText(f"<b>{count}</b> image{'s' if count != 1 else ''} of "
                                f"<b>{_html(classes[t])}</b> {what}")

    def _show_cell(self, cell: CellExplanation | None) -> None:
        if cell is None or self.metrics is None:
            return
        classes = self.metrics.classes
        self.cell_results = list(cell.results)
        items = []
        for result in self.cell_results:
            caption = (f"{result.path.name}\n{classes[result.predicted]} "
                       f"{result.confidence:.0%} · CAM: {classes[result.target]}")
            items.append(GalleryItem(result.path, caption, result.image, result.overlay,
                                     f"{result.path}\ntrue: {classes[result.label]} · "
                                     f"predicted: {classes[result.predicted]} "
                                     f"({result.confidence:.1%})\nGrad-CAM of "
                                     f"{classes[result.target]} on {cell.layer}"))
        self.gallery.set_items(items)
        if cell.stopped:
            self.message_bar.show_info(f"Stopped: {len(items)} images shown.")
        self._update_actions()
        self.cell_loaded.emit(len(items))

    # ------------------------------------------------------------------ relabelling
    def _relabel_by_number(self, number: int) -> None:
        if self.metrics is not None and 1 <= number <= len(self.metrics.classes):
            self.relabel_selected(self.metrics.classes[number - 1])

    def relabel_selected(self, label: str) -> None:
        row = self.gallery.current_row()
        if (self.dataset is None or self.metrics is None or row < 0 or not label
                or self._relabel_job is not None or row >= len(self.cell_results)):
            return
        result = self.cell_results[row]
        classes = self.metrics.classes
        if result.label >= 0 and classes[result.label] == label:
            self.message_bar.show_info(f"{result.path.name} is already in '{label}'.")
            return
        self._start(relabel_worker(self.dataset, result.path, label), "_relabel_job",
                    f"Moving {result.path.name} to {label}…",
                    lambda new_path: self._relabelled(result, label, Path(new_path)))

    def _relabelled(self, result: CamResult, label: str, new_path: Path) -> None:
        if self.metrics is not None and result in self.cell_results:
            classes = self.metrics.classes
            counts = self.metrics.confusion.copy()
            if result.label >= 0:
                counts[result.label, result.predicted] -= 1
            counts[classes.index(label), result.predicted] += 1
            self.metrics = _metrics_from_confusion(counts, classes)
            self._show_metrics(changed=True)
            row = self.cell_results.index(result)
            self.cell_results.pop(row)
            self.gallery.remove_row(row)
            self._set_cell_title()
        self.message_bar.show_info(f"Moved {result.path.name} to '{label}'. Undo on the "
                                   "Datasets page brings it back.")
        self.relabelled.emit(new_path, label)
        self.dataset_changed.emit()
        self.gallery.setFocus()


def _metrics_from_confusion(counts: np.ndarray, classes: list[str]) -> Metrics:
    """The metrics of a confusion matrix (after moving an image from one row to another)."""
    n = len(classes)
    true = np.repeat(np.repeat(np.arange(n), n), counts.reshape(-1))
    predicted = np.repeat(np.tile(np.arange(n), n), counts.reshape(-1))
    return compute_metrics(true, predicted, classes)


def _fmt(value: float, digits: int = 3) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
