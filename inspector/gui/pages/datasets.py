"""The Datasets page: classes with their counts per split, class operations and validation.

The page holds layout and the user's decisions (which class, confirm or not); every call into
the dataset runs in a worker, one at a time, and each operation ends with a refresh of the
statistics (also in a worker: hashing new files takes time).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
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
    SignalInstance,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.core.data.split import SPLITS
from inspector.core.data.stats import UNASSIGNED, DatasetStats
from inspector.core.data.validation import ValidationReport
from inspector.gui.widgets.count_chart import CountChart
from inspector.gui.widgets.image_view import ImageDialog
from inspector.gui.widgets.message_bar import MessageBar
from inspector.gui.widgets.split_bar import (
    SPLIT_COUNTS_ROLE,
    SplitBarDelegate,
    SplitLegend,
    describe_counts,
    split_parts,
)
from inspector.gui.workers.base import Worker, while_alive
from inspector.gui.workers.dataset import (
    load_image_worker,
    operation_worker,
    stats_worker,
    validate_worker,
)

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

SPLIT_COLUMNS: tuple[str, ...] = (*SPLITS, UNASSIGNED)
PATH_ROLE = Qt.ItemDataRole.UserRole + 2
SHOW_PROGRESS_AFTER_MS = 300
EXPAND_ISSUES_UP_TO = 20  # a kind with more issues shows them folded

Index = QModelIndex | QPersistentModelIndex


class ClassCountsModel(QAbstractTableModel):
    """One row per class: its name, counts per split, total and the split bar."""

    HEADERS = ("Class", *(s.capitalize() for s in SPLIT_COLUMNS), "Total", "Split")
    TOTAL_COLUMN = 1 + len(SPLIT_COLUMNS)
    BAR_COLUMN = TOTAL_COLUMN + 1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stats: DatasetStats | None = None
        self._classes: list[str] = []

    def set_stats(self, stats: DatasetStats | None) -> None:
        self.beginResetModel()
        self.stats = stats
        self._classes = list(stats.counts) if stats else []
        self.endResetModel()

    def class_at(self, row: int) -> str:
        return self._classes[row]

    def row_of(self, label: str) -> int:
        return self._classes.index(label)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._classes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.HEADERS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and 0 < section <= self.TOTAL_COLUMN:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.stats is None:
            return None
        label = self._classes[index.row()]
        counts = self.stats.counts[label]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return label
            if column <= len(SPLIT_COLUMNS):
                return str(counts.get(SPLIT_COLUMNS[column - 1], 0))
            if column == self.TOTAL_COLUMN:
                return str(sum(counts.values()))
            return None
        if role == SPLIT_COUNTS_ROLE and column == self.BAR_COLUMN:
            return split_parts(counts, SPLIT_COLUMNS)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.BAR_COLUMN:
                return describe_counts(split_parts(counts, SPLIT_COLUMNS))
            if column == 0:
                return label
        if role == Qt.ItemDataRole.TextAlignmentRole and 0 < column <= self.TOTAL_COLUMN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and column == self.TOTAL_COLUMN:
            font = QFont()
            font.setBold(True)
            return font
        if (role == Qt.ItemDataRole.ForegroundRole and column == 1 + SPLIT_COLUMNS.index(UNASSIGNED)
                and counts.get(UNASSIGNED, 0) == 0):
            return QBrush(QColor("#9E9E9E"))
        return None


class DatasetsPage(QWidget):
    """Build it with a Dataset (or None) and it shows it; `set_dataset` shows another."""

    refreshed = Signal()  # new statistics are on screen
    operation_finished = Signal(str)  # an operation's result message is on screen
    validation_finished = Signal()  # a validation report (complete or partial) is on screen
    error_shown = Signal(str)  # an error message is on screen
    busy_changed = Signal(bool)

    def __init__(self, dataset: Dataset | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.stats: DatasetStats | None = None
        self.report: ValidationReport | None = None
        self._job: Worker | None = None
        self._job_cancellable = False
        self._refresh_pending = False
        self._preview: Worker | None = None
        self._select_after_refresh: str | None = None
        self._pending_signals: list[tuple[SignalInstance, tuple[Any, ...]]] = []
        self.image_dialog: ImageDialog | None = None
        self._build()
        self.set_dataset(dataset)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_bar = MessageBar()

        style = self.style()
        self.add_button = QPushButton("Add class…")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete class")
        self.split_button = QPushButton("Split")
        self.validate_button = QPushButton("Validate")
        self.undo_button = QPushButton("Undo")
        self.refresh_button = QPushButton("Refresh")
        self.delete_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TrashIcon))
        self.undo_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowBack))
        self.refresh_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.add_button.setToolTip("Create an empty class folder")
        self.rename_button.setToolTip("Rename the selected class (its images keep their split)")
        self.delete_button.setToolTip("Move the selected class and its images to the trash; "
                                      "Undo brings them back")
        self.split_button.setToolTip("Assign every image that has no split yet to train, val or "
                                     "test; assigned images never move")
        self.validate_button.setToolTip("Decode every image and report broken files, "
                                        "duplicates, label conflicts and imbalance")
        self.undo_button.setToolTip("Undo the last dataset operation")
        self.add_button.clicked.connect(self.add_class)
        self.rename_button.clicked.connect(self.rename_class)
        self.delete_button.clicked.connect(self.delete_class)
        self.split_button.clicked.connect(self.assign_splits)
        self.validate_button.clicked.connect(self.validate)
        self.undo_button.clicked.connect(self.undo)
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        for widget in (self.add_button, self.rename_button, self.delete_button):
            buttons.addWidget(widget)
        buttons.addSpacing(16)
        buttons.addWidget(self.split_button)
        buttons.addWidget(self.validate_button)
        buttons.addSpacing(16)
        buttons.addWidget(self.undo_button)
        buttons.addStretch(1)

        # progress of the running job, in the button row so that nothing moves when it shows
        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setMinimumWidth(160)
        self.progress_bar.setMaximumWidth(280)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress_label)
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_button)
        self.progress_row.hide()
        buttons.addWidget(self.progress_row)
        buttons.addSpacing(8)
        buttons.addWidget(self.refresh_button)
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.timeout.connect(self._show_progress_row)

        # classes: table, totals, legend | chart
        self.model = ClassCountsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setItemDelegateForColumn(ClassCountsModel.BAR_COLUMN, SplitBarDelegate(self))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ClassCountsModel.BAR_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.totals_label = QLabel()
        self.totals_label.setWordWrap(True)
        self.totals_label.setTextFormat(Qt.TextFormat.RichText)
        self.chart = CountChart()
        self.chart.setToolTip("Images per class, coloured by split")

        table_panel = QWidget()
        table_layout = QVBoxLayout(table_panel)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.table, 1)
        table_layout.addWidget(self.totals_label)
        table_layout.addWidget(SplitLegend())
        chart_panel = QGroupBox("Images per class")
        chart_layout = QVBoxLayout(chart_panel)
        chart_layout.setContentsMargins(4, 4, 4, 4)
        chart_layout.addWidget(self.chart)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(table_panel)
        top.addWidget(chart_panel)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setChildrenCollapsible(False)

        # validation report
        self.report_label = QLabel()
        self.report_label.setWordWrap(True)
        self.issue_tree = QTreeWidget()
        self.issue_tree.setHeaderHidden(True)
        self.issue_tree.setUniformRowHeights(True)
        self.issue_tree.itemDoubleClicked.connect(self._on_issue_double_clicked)
        report_box = QGroupBox("Validation")
        report_layout = QVBoxLayout(report_box)
        report_layout.addWidget(self.report_label)
        report_layout.addWidget(self.issue_tree, 1)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(report_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([420, 300])
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message_bar)
        layout.addLayout(buttons)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        layout.addWidget(self.splitter, 1)

    # ------------------------------------------------------------------ showing a dataset
    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None:
        """The page protocol of the main window: show the workspace's active dataset."""
        self.set_dataset(dataset)

    def set_dataset(self, dataset: Dataset | None) -> None:
        if self._job is not None:  # its results belong to the previous dataset
            self._job.cancel()
            self._set_job(None)
            self._pending_signals.clear()
        self.dataset = dataset
        self.stats = None
        self.model.set_stats(None)
        self.chart.set_counts([], {})
        self.message_bar.dismiss()
        self._show_report(None)
        if dataset is None:
            self.title.setText("<b>No dataset open.</b> Open or create a workspace from the "
                               "File menu.")
            self.totals_label.clear()
        else:
            self.title.setText(f"Dataset <b>{_html(dataset.root.name)}</b>"
                               f"&nbsp;&nbsp;<span style='color:#757575'>"
                               f"{_html(str(dataset.root))}</span>")
            self.totals_label.setText("Reading the dataset…")
            self.refresh()
        self._update_actions()

    # ------------------------------------------------------------------ jobs
    @property
    def busy(self) -> bool:
        return self._job is not None

    def _set_job(self, worker: Worker | None, cancellable: bool = False) -> None:
        was_busy = self.busy
        self._job = worker
        self._job_cancellable = cancellable
        self._progress_timer.stop()
        if worker is None:
            self.progress_row.hide()
        self._update_actions()
        if was_busy != self.busy:
            self.busy_changed.emit(self.busy)

    def _run(self, worker: Worker, on_finished: Callable[[Any], None], busy_text: str, *,
             cancellable: bool = False, show_progress_now: bool = False,
             refresh_after: bool = True,
             on_cancelled: Callable[[Any], None] | None = None) -> Worker | None:
        if self.busy:
            log.debug("busy; ignored: %s", worker.description)
            return None

        def mine(handler: Callable[[Any], None]) -> Callable[[Any], None]:
            def call(value: Any) -> None:
                if worker is self._job:
                    handler(value)
            return while_alive(self, call)

        worker.progress.connect(while_alive(self, self._on_progress_for(worker)))
        worker.finished.connect(mine(on_finished))
        worker.cancelled.connect(mine(on_cancelled or (lambda _r: self._on_cancelled())))
        worker.failed.connect(mine(self._on_failed))
        worker.done.connect(while_alive(self, lambda: self._on_job_done(worker, refresh_after)))
        self._set_job(worker, cancellable)
        self.progress_label.setText(busy_text)
        self.progress_bar.setRange(0, 0)  # busy until the first progress report
        self.cancel_button.setVisible(cancellable)
        if show_progress_now:
            self._show_progress_row()
        else:
            self._progress_timer.start(SHOW_PROGRESS_AFTER_MS)
        worker.start()
        return worker

    def _on_progress_for(self, worker: Worker) -> Callable[[int, int], None]:
        def on_progress(done: int, total: int) -> None:
            if worker is self._job and total > 0:
                self.progress_bar.setRange(0, total)
                self.progress_bar.setValue(done)
                self.progress_bar.setFormat(f"%v of %m ({100 * done // total}%)")
        return on_progress

    def _show_progress_row(self) -> None:
        if self.busy:
            self.progress_row.show()

    def _on_job_done(self, worker: Worker, refresh_after: bool) -> None:
        if worker is not self._job:
            return
        self._set_job(None)
        pending, self._pending_signals = self._pending_signals, []
        for signal, args in pending:
            signal.emit(*args)
        if self.busy:  # a listener started another job; refresh after it
            self._refresh_pending = self._refresh_pending or refresh_after
        elif refresh_after or self._refresh_pending:
            self._refresh_pending = False
            self.refresh()

    def _on_failed(self, message: str) -> None:
        self.show_error(message)

    def _on_cancelled(self) -> None:
        self.message_bar.show_info("Cancelled.")

    def cancel(self) -> None:
        """Cancel the running job if it can stop early (validation, refresh)."""
        if self._job is not None and self._job_cancellable:
            self._job.cancel()
            self.progress_label.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def show_error(self, message: str) -> None:
        self.message_bar.show_error(message)
        self._notify(self.error_shown, message)

    def _notify(self, signal: SignalInstance, *args: Any) -> None:
        """Emit now, or once the running job has ended: a listener may start the next job."""
        if self.busy:
            self._pending_signals.append((signal, args))
        else:
            signal.emit(*args)

    def _show_result(self, message: str) -> None:
        self.message_bar.show_info(message)
        self._notify(self.operation_finished, message)
        if self.report is not None:
            self.report_label.setText(self.report_label.text().split("\n")[0] +
                                      "\nThe dataset has changed since: validate again.")

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        if self.dataset is None:
            return
        if self.busy:
            self._refresh_pending = True
            return
        self._run(stats_worker(self.dataset), self._show_stats, "Reading the dataset…",
                  cancellable=True, refresh_after=False,
                  on_cancelled=lambda _r: self.totals_label.setText(
                      "Reading was cancelled; the counts are not up to date (press Refresh)."))

    def _show_stats(self, stats: DatasetStats) -> None:
        selected = self._select_after_refresh or self.selected_class()
        self._select_after_refresh = None
        self.stats = stats
        self.model.set_stats(stats)
        self.chart.set_counts(stats.classes, {
            split: [stats.counts[label][split] for label in stats.classes]
            for split in SPLIT_COLUMNS
        })
        self.totals_label.setText(self._totals_text(stats))
        if selected in stats.counts:
            self.select_class(selected)
        self._update_actions()
        self._notify(self.refreshed)

    def _totals_text(self, stats: DatasetStats) -> str:
        splits = stats.split_totals
        parts = [f"<b>{stats.total}</b> images in <b>{len(stats.classes)}</b> classes"]
        parts += [f"{name} {splits[name]}" for name in SPLIT_COLUMNS
                  if name != UNASSIGNED or splits[name]]
        ratio = stats.imbalance_ratio
        limit = self.dataset.config.imbalance_warn_ratio if self.dataset else math.inf
        if not stats.classes:
            ratio_text = "–"
        elif math.isinf(ratio):
            ratio_text = "<span style='color:#B71C1C'>n/a (a class is empty)</span>"
        elif ratio > limit:
            ratio_text = f"<span style='color:#B71C1C'>{ratio:.2f} : 1</span>"
        else:
            ratio_text = f"{ratio:.2f} : 1"
        lines = [" · ".join(parts), f"Imbalance ratio (largest / smallest class): {ratio_text}"]
        if stats.sizes.common:
            sizes = ", ".join(f"{w}×{h} ({n})" for (w, h), n in stats.sizes.common[:3])
            more = " …" if len(stats.sizes.common) > 3 else ""
            lines.append(f"Image sizes: {sizes}{more}")
        if stats.unreadable:
            files = ("1 unreadable file is" if stats.unreadable == 1
                     else f"{stats.unreadable} unreadable files are")
            lines.append(f"<span style='color:#B71C1C'>{files} not counted: press Validate "
                         "to see why.</span>")
        return "<br>".join(lines)

    # ------------------------------------------------------------------ selection
    def selected_class(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.class_at(rows[0].row()) if rows else None

    def select_class(self, label: str) -> None:
        row = self.model.row_of(label)
        flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect |
                 QItemSelectionModel.SelectionFlag.Rows)
        self.table.selectionModel().select(self.model.index(row, 0), flags)
        self.table.setCurrentIndex(self.model.index(row, 0))

    def _update_actions(self) -> None:
        ready = self.dataset is not None and not self.busy
        selected = ready and self.selected_class() is not None
        for button in (self.add_button, self.split_button, self.validate_button,
                       self.undo_button, self.refresh_button):
            button.setEnabled(ready)
        self.rename_button.setEnabled(selected)
        self.delete_button.setEnabled(selected)
        self.cancel_button.setEnabled(self._job_cancellable)

    # ------------------------------------------------------------------ operations
    def add_class(self) -> None:
        if self.dataset is None or self.busy:
            return
        name, ok = QInputDialog.getText(self, "Add class", "Name of the new class:")
        if not ok or not name.strip():
            return
        dataset = self.dataset
        self._run(operation_worker(lambda: dataset.create_class(name), f"creating class {name}"),
                  lambda folder: self._after_change(f"Created class '{Path(folder).name}'.",
                                                    Path(folder).name),
                  "Creating the class…")

    def rename_class(self) -> None:
        old = self.selected_class()
        if self.dataset is None or self.busy or old is None:
            return
        new, ok = QInputDialog.getText(self, "Rename class", f"New name for '{old}':", text=old)
        if not ok or not new.strip() or new.strip() == old:
            return
        dataset = self.dataset
        self._run(operation_worker(lambda: dataset.rename_class(old, new),
                                   f"renaming class {old}"),
                  lambda folder: self._after_change(
                      f"Renamed class '{old}' to '{Path(folder).name}'.", Path(folder).name),
                  "Renaming the class…")

    def delete_class(self) -> None:
        label = self.selected_class()
        if self.dataset is None or self.busy or label is None:
            return
        count = self.stats.class_totals.get(label, 0) if self.stats else 0
        images = f"its {count} image{'s' if count != 1 else ''}" if count else "its folder"
        answer = QMessageBox.question(
            self, "Delete class",
            f"Delete the class '{label}' and {images}?\n\n"
            "They go to the dataset's trash; Undo brings them back.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        dataset = self.dataset
        self._run(operation_worker(lambda: dataset.delete_class(label), f"deleting class {label}"),
                  lambda _r: self._after_change(
                      f"Moved class '{label}' to the trash. Undo restores it."),
                  "Deleting the class…")

    def assign_splits(self) -> None:
        if self.dataset is None or self.busy:
            return
        dataset = self.dataset

        def done(assigned: int) -> None:
            if assigned:
                self._after_change(f"Assigned {assigned} new image{'s' if assigned != 1 else ''}"
                                   " to train, val and test.")
            else:
                self._after_change("Every image already has a split; nothing changed.")

        self._run(operation_worker(dataset.split, "assigning splits"), done,
                  "Assigning splits…")

    def undo(self) -> None:
        if self.dataset is None or self.busy:
            return
        dataset = self.dataset
        self._run(operation_worker(dataset.undo, "undoing the last operation"),
                  lambda what: self._after_change(f"Undone: {what}." if what
                                                  else "There is nothing to undo."),
                  "Undoing…")

    def _after_change(self, message: str, select: str | None = None) -> None:
        self._show_result(message)
        self._select_after_refresh = select

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        if self.dataset is None or self.busy:
            return
        self.message_bar.dismiss()
        self._run(validate_worker(self.dataset), self._show_report, "Validating…",
                  cancellable=True, show_progress_now=True, refresh_after=False,
                  on_cancelled=self._show_report)

    def _show_report(self, report: ValidationReport | None) -> None:
        self.report = report
        self.issue_tree.clear()
        if report is None:
            self.report_label.setText("Validate decodes every image and reports broken files, "
                                      "duplicates, label conflicts, small classes and imbalance.")
            return
        errors, warnings = len(report.errors), len(report.warnings)
        if report.stopped:
            summary = (f"Cancelled after {report.images_checked} images: the report below is "
                       "partial.")
        elif not report.issues:
            summary = f"No problems found in {report.images_checked} images."
        else:
            summary = (f"Checked {report.images_checked} images: "
                       f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}. "
                       "Double-click a file to view it.")
        self.report_label.setText(summary)
        root = report.root
        style = self.style()
        error_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        warning_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for kind, issues in report.by_kind().items():
            kind_item = QTreeWidgetItem([f"{kind.value} ({len(issues)})"])
            kind_item.setIcon(0, error_icon if issues[0].is_error else warning_icon)
            font = kind_item.font(0)
            font.setBold(True)
            kind_item.setFont(0, font)
            for issue in issues:
                message = _relative_text(issue.message, root)
                issue_item = QTreeWidgetItem([message])
                issue_item.setToolTip(0, issue.message)
                if len(issue.paths) == 1:  # double-clicking the message shows its one file
                    issue_item.setData(0, PATH_ROLE, str(issue.paths[0]))
                for path in issue.paths:
                    path_item = QTreeWidgetItem([_relative_path(path, root)])
                    path_item.setData(0, PATH_ROLE, str(path))
                    path_item.setToolTip(0, f"{path}\nDouble-click to view")
                    issue_item.addChild(path_item)
                kind_item.addChild(issue_item)
            self.issue_tree.addTopLevelItem(kind_item)
            kind_item.setExpanded(True)
            if len(issues) <= EXPAND_ISSUES_UP_TO:
                for i in range(kind_item.childCount()):
                    kind_item.child(i).setExpanded(True)
        self._notify(self.validation_finished)

    def _on_issue_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        path = item.data(0, PATH_ROLE)
        if path:
            self.show_image(Path(path))

    def show_image(self, path: Path) -> None:
        """Decode the image in a worker and show it; an undecodable file shows why."""
        if self._preview is not None:
            self._preview.cancel()
        limit = self.dataset.config.max_image_pixels if self.dataset else None
        worker = load_image_worker(path, limit)
        self._preview = worker

        def shown(array: Any) -> None:
            if worker is self._preview:
                if self.image_dialog is None:
                    self.image_dialog = ImageDialog(self)
                self.image_dialog.show_image(path, array)

        def failed(message: str) -> None:
            if worker is self._preview:
                self.show_error(f"Cannot show the image: {message}")

        worker.finished.connect(while_alive(self, shown))
        worker.failed.connect(while_alive(self, failed))
        worker.start()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _relative_path(path: Path, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _relative_text(text: str, root: Path) -> str:
    """Messages name files by full path; inside the page, the path below the dataset is enough."""
    return text.replace(str(root) + os.sep, "").replace(str(root), ".")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
