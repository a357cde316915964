"""The Datasets page: classes with their counts per split, the images as a thumbnail grid,
class and image operations, import, capture and validation.

The page holds layout and the user's decisions (which class, confirm or not); every call into
the dataset runs in a worker, one at a time, and each operation ends with a refresh of the
statistics and the image list (also in a worker: hashing new files takes time). Thumbnails are
decoded by a ThumbnailLoader off the GUI thread, only for the cells on screen.

Keyboard: 1..9 in the grid move the selected images to the class at that row of the table (the
numbers are shown in the table), Delete moves them to the trash, Ctrl+Z undoes, Ctrl+Shift+N adds
a class, Ctrl+I imports, Ctrl+Shift+C captures, F5 refreshes, Enter opens an image.
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
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QTableView,
    QTabWidget,
    QToolBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.core.data.split import SPLITS
from inspector.core.data.stats import UNASSIGNED, DatasetStats
from inspector.core.data.validation import IssueKind, ValidationReport
from inspector.gui.pages.capture_dialog import CaptureDialog
from inspector.gui.pages.import_dialog import ImportDialog
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
from inspector.gui.widgets.thumbnail_grid import (
    ANY_PROBLEM,
    DUPLICATE,
    LABEL_CONFLICT,
    MIME_TYPE,
    PROBLEM_NAMES,
    UNREADABLE,
    ThumbnailGrid,
    decode_paths,
)
from inspector.gui.workers.base import Worker, while_alive
from inspector.gui.workers.dataset import (
    DatasetSnapshot,
    delete_images_worker,
    load_image_worker,
    operation_worker,
    relabel_worker,
    snapshot_worker,
    validate_worker,
)
from inspector.gui.workers.thumbnails import ThumbnailLoader

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

SPLIT_COLUMNS: tuple[str, ...] = (*SPLITS, UNASSIGNED)
PATH_ROLE = Qt.ItemDataRole.UserRole + 2
ISSUE_PATHS_ROLE = Qt.ItemDataRole.UserRole + 3  # an issue's files (an issue item)
KIND_ROLE = Qt.ItemDataRole.UserRole + 4  # an IssueKind (a kind item)
ISSUE_LABEL_ROLE = Qt.ItemDataRole.UserRole + 5  # the class an issue is about, if any
NUMBER_KEYS = 9  # classes 1..9 have a key
SHOW_PROGRESS_AFTER_MS = 300
EXPAND_ISSUES_UP_TO = 20  # a kind with more issues shows them folded

# how the report's kinds group into the grid's problem filter
PROBLEM_OF_KIND: dict[IssueKind, str] = {
    IssueKind.EMPTY: UNREADABLE,
    IssueKind.NOT_IMAGE: UNREADABLE,
    IssueKind.TRUNCATED: UNREADABLE,
    IssueKind.UNREADABLE: UNREADABLE,
    IssueKind.TOO_LARGE: UNREADABLE,
    IssueKind.DUPLICATE: DUPLICATE,
    IssueKind.LABEL_CONFLICT: LABEL_CONFLICT,
}

Index = QModelIndex | QPersistentModelIndex


class ClassCountsModel(QAbstractTableModel):
    """One row per class: its name, counts per split, total and the split bar.

    Rows are numbered 1..9 in the vertical header (the grid's number keys) and take images
    dropped from the thumbnail grid: `images_dropped(paths, class)`.
    """

    images_dropped = Signal(list, str)

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
        if orientation == Qt.Orientation.Vertical:
            if role == Qt.ItemDataRole.DisplayRole:
                return str(section + 1) if section < NUMBER_KEYS else ""
            if role == Qt.ItemDataRole.ToolTipRole and section < NUMBER_KEYS:
                return f"Press {section + 1} in the image grid to move the selected images here"
            return None
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.HEADERS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and 0 < section <= self.TOTAL_COLUMN:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # -- drops from the thumbnail grid: the images move to the class dropped on
    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDropEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME_TYPE]

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def _drop_row(self, row: int, parent: Index) -> int:
        return parent.row() if parent.isValid() else row

    def canDropMimeData(self, data: QMimeData, _action: Qt.DropAction, row: int,  # noqa: N802
                        _column: int, parent: Index) -> bool:
        return data.hasFormat(MIME_TYPE) and 0 <= self._drop_row(row, parent) < len(self._classes)

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int,  # noqa: N802
                     column: int, parent: Index) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        paths = decode_paths(data)
        if not paths:
            return False
        self.images_dropped.emit(paths, self._classes[self._drop_row(row, parent)])
        return False  # the dataset moves the files; nothing for the dragging view to remove

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
    dataset_changed = Signal()  # this page changed the dataset (files, classes or splits)

    def __init__(self, dataset: Dataset | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.workspace: Workspace | None = None
        self.camera_source = "virtual:0"  # the capture dialog's first choice
        self.import_dialog: ImportDialog | None = None
        self.capture_dialog: CaptureDialog | None = None
        self.snapshot: DatasetSnapshot | None = None
        self._report_problems: dict[str, set[str]] = {}
        self._syncing = False
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
        self.add_button = QPushButton("Add defect class…")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete class")
        self.import_button = QPushButton("Import…")
        self.capture_button = QPushButton("Capture…")
        self.split_button = QPushButton("Split")
        self.validate_button = QPushButton("Validate")
        self.undo_button = QPushButton("Undo")
        self.refresh_button = QPushButton("Refresh")
        # adding a defect class is a main task: it stands out
        self.add_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_FileDialogNewFolder))
        font = self.add_button.font()
        font.setBold(True)
        self.add_button.setFont(font)
        self.add_button.setMinimumHeight(30)
        self.delete_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TrashIcon))
        self.import_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogOpenButton))
        self.undo_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowBack))
        self.refresh_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.add_button.setToolTip("Create a new, empty defect class (Ctrl+Shift+N); then "
                                   "capture or import its images, or move images into it")
        self.rename_button.setToolTip("Rename the selected class (its images keep their split)")
        self.delete_button.setToolTip("Move the selected class and its images to the trash; "
                                      "Undo brings them back")
        self.import_button.setToolTip("Import a folder, a zip, DeepPCB or Pascal VOC data "
                                      "(Ctrl+I)")
        self.capture_button.setToolTip("Capture images from a camera into a class "
                                       "(Ctrl+Shift+C)")
        self.split_button.setToolTip("Assign every image that has no split yet to train, val or "
                                     "test; assigned images never move")
        self.validate_button.setToolTip("Decode every image and report broken files, "
                                        "duplicates, label conflicts and imbalance")
        self.undo_button.setToolTip("Undo the last dataset operation (Ctrl+Z)")
        self.refresh_button.setToolTip("Read the dataset again (F5)")
        self.add_button.clicked.connect(self.add_class)
        self.rename_button.clicked.connect(self.rename_class)
        self.delete_button.clicked.connect(self.delete_class)
        self.import_button.clicked.connect(self.open_import_dialog)
        self.capture_button.clicked.connect(self.open_capture_dialog)
        self.split_button.clicked.connect(self.assign_splits)
        self.validate_button.clicked.connect(self.validate)
        self.undo_button.clicked.connect(self.undo)
        self.refresh_button.clicked.connect(self.refresh)
        # Undo (Ctrl+Z) is the window's Edit > Undo, and Ctrl+N its New workspace: a page
        # shortcut on the same keys would make both ambiguous, and Qt would fire neither.
        for keys, slot in (("Ctrl+Shift+N", self.add_class), ("Ctrl+I", self.open_import_dialog),
                           ("Ctrl+Shift+C", self.open_capture_dialog), ("F5", self.refresh)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        # a tool bar, so that a narrow window folds the last buttons into its » menu
        buttons = QToolBar()
        buttons.setMovable(False)
        buttons.setFloatable(False)
        buttons.setStyleSheet("QToolBar { border: none; spacing: 4px; }")
        for group in ((self.add_button, self.rename_button, self.delete_button),
                      (self.import_button, self.capture_button),
                      (self.split_button, self.validate_button), (self.undo_button,)):
            if group[0] is not self.add_button:
                buttons.addSeparator()
            for widget in group:
                buttons.addWidget(widget)
        self.buttons = buttons

        # progress of the running job, in the button row so that nothing moves when it shows
        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setMinimumWidth(120)
        self.progress_bar.setMaximumWidth(240)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress_label)
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_button)
        self.progress_row.hide()
        button_row = QHBoxLayout()
        button_row.addWidget(buttons, 1)
        button_row.addWidget(self.progress_row)
        button_row.addWidget(self.refresh_button)
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.timeout.connect(self._show_progress_row)

        # classes: table (numbered rows take drops), totals, legend
        self.model = ClassCountsModel(self)
        self.model.images_dropped.connect(self.relabel_images)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setAcceptDrops(True)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.table.setDragDropOverwriteMode(True)  # a drop lands on a row, never between
        self.table.setDropIndicatorShown(True)
        self.table.setItemDelegateForColumn(ClassCountsModel.BAR_COLUMN, SplitBarDelegate(self))
        self.table.setToolTip("Drop images here to move them to a class; in the grid, the "
                              "number keys do the same")
        vertical = self.table.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        vertical.setMinimumWidth(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ClassCountsModel.BAR_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.table.selectionModel().selectionChanged.connect(self._on_class_selected)
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

        # validation report | chart, in tabs under the table
        self.report_label = QLabel()
        self.report_label.setWordWrap(True)
        self.issue_tree = QTreeWidget()
        self.issue_tree.setHeaderHidden(True)
        self.issue_tree.setUniformRowHeights(True)
        self.issue_tree.itemDoubleClicked.connect(self._on_issue_double_clicked)
        self.issue_tree.currentItemChanged.connect(self._on_issue_selected)
        report_box = QWidget()
        report_layout = QVBoxLayout(report_box)
        report_layout.setContentsMargins(4, 4, 4, 4)
        report_layout.addWidget(self.report_label)
        report_layout.addWidget(self.issue_tree, 1)
        chart_panel = QWidget()
        chart_layout = QVBoxLayout(chart_panel)
        chart_layout.setContentsMargins(4, 4, 4, 4)
        chart_layout.addWidget(self.chart)
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(chart_panel, "Images per class")
        self.side_tabs.addTab(report_box, "Validation")
        self.report_tab = report_box

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(table_panel)
        left.addWidget(self.side_tabs)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 2)
        left.setChildrenCollapsible(False)

        # the images: filters, the grid, and what the keys do
        self.loader = ThumbnailLoader(parent=self)
        self.grid = ThumbnailGrid(self.loader)
        self.grid.number_pressed.connect(self.relabel_selected_to_row)
        self.grid.delete_requested.connect(self.delete_selected_images)
        self.grid.open_requested.connect(lambda path: self.show_image(Path(path)))
        self.grid.grid_model.filter_changed.connect(self._update_grid_status)
        self.grid.selectionModel().selectionChanged.connect(self._update_grid_status)
        self.class_filter = QComboBox()
        self.class_filter.setToolTip("Show the images of one class (follows the table)")
        self.split_filter = QComboBox()
        self.split_filter.addItem("All splits", None)
        for split in SPLIT_COLUMNS:
            self.split_filter.addItem(split.capitalize(), split)
        self.problem_filter = QComboBox()
        self.problem_filter.addItem("All images", None)
        self.problem_filter.addItem("With a problem", ANY_PROBLEM)
        for key, name in PROBLEM_NAMES.items():
            self.problem_filter.addItem(name, key)
        self.problem_filter.setToolTip("Problems found by Validate (unreadable files are known "
                                       "from reading the dataset)")
        for combo in (self.class_filter, self.split_filter, self.problem_filter):
            combo.currentIndexChanged.connect(self._on_filter_changed)
        self.show_all_button = QPushButton("Show all")
        self.show_all_button.setToolTip("Clear every filter")
        self.show_all_button.clicked.connect(self.clear_filters)
        self.grid_status = QLabel()
        self.grid_status.setMinimumWidth(40)  # it elides rather than widen the page
        self.grid_status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.grid_status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for combo in (self.class_filter, self.split_filter, self.problem_filter):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(5)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            combo.setMaximumWidth(200)
        filters = QHBoxLayout()
        filters.addWidget(self.class_filter, 1)
        filters.addWidget(self.split_filter, 1)
        filters.addWidget(self.problem_filter, 1)
        filters.addWidget(self.show_all_button)
        filters.addWidget(self.grid_status, 2)
        hint = QLabel("Select images, then press <b>1</b>–<b>9</b> (the class numbers in the "
                      "table) or drag them onto a class to move them · <b>Del</b> moves them "
                      "to the trash · <b>Ctrl+Z</b> undoes · <b>Enter</b> opens")
        hint.setTextFormat(Qt.TextFormat.RichText)
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text);")
        grid_panel = QWidget()
        grid_layout = QVBoxLayout(grid_panel)
        grid_layout.setContentsMargins(0, 0, 0, 0)
        grid_layout.addLayout(filters)
        grid_layout.addWidget(self.grid, 1)
        grid_layout.addWidget(hint)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(grid_panel)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([520, 760])
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message_bar)
        layout.addLayout(button_row)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        layout.addWidget(self.splitter, 1)

    # ------------------------------------------------------------------ showing a dataset
    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None:
        """The page protocol of the main window: show the workspace's active dataset."""
        self.workspace = workspace
        if workspace is not None:
            self.camera_source = workspace.config.live.source.spec
        self.set_dataset(dataset)

    def set_dataset(self, dataset: Dataset | None) -> None:
        if self._job is not None:  # its results belong to the previous dataset
            self._job.cancel()
            self._set_job(None)
            self._pending_signals.clear()
        self.dataset = dataset
        self.stats = None
        self.snapshot = None
        self.model.set_stats(None)
        self.loader.clear()
        self.grid.grid_model.set_images([])
        self._set_class_choices([])
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
        self._run(snapshot_worker(self.dataset), self._show_snapshot, "Reading the dataset…",
                  cancellable=True, refresh_after=False,
                  on_cancelled=lambda _r: self.totals_label.setText(
                      "Reading was cancelled; the counts are not up to date (press Refresh)."))

    def _show_snapshot(self, snapshot: DatasetSnapshot) -> None:
        self.snapshot = snapshot
        scroll = self.grid.verticalScrollBar().value()
        self._show_stats(snapshot.stats)  # may select a class, which filters the grid
        self.grid.grid_model.set_images(snapshot.images)
        self._apply_problems()
        self.grid.doItemsLayout()
        self.grid.verticalScrollBar().setValue(scroll)

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
        self._set_class_choices(stats.classes)
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
                       self.undo_button, self.refresh_button, self.import_button,
                       self.capture_button):
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
        self._notify(self.dataset_changed)

    # ------------------------------------------------------------------ image operations
    def relabel_images(self, paths: list[str], label: str) -> None:
        """Move images to a class (drop on the table, number keys); Undo moves them back."""
        if self.dataset is None or not paths:
            return
        if self.busy:
            self.message_bar.show_info("Wait for the running operation to finish, then move "
                                       "the images again.")
            return
        dataset = self.dataset
        n = len(paths)
        self.loader.forget(paths)

        def done(moved: list[Path]) -> None:
            if moved:
                self._after_change(f"Moved {_plural(len(moved), 'image')} to '{label}'. "
                                   "Undo (Ctrl+Z) moves them back.")
            else:
                self._show_result(f"{'The image is' if n == 1 else 'The images are'} already "
                                  f"in '{label}'.")

        self._run(relabel_worker(dataset, [Path(p) for p in paths], label), done,
                  f"Moving {_plural(n, 'image')}…")

    def relabel_selected_to_row(self, number: int) -> None:
        """Number key `number` (1..9): the selected images go to the class at that row."""
        if number < 1 or number > self.model.rowCount():
            self.message_bar.show_info(f"There is no class {number}: the classes are numbered "
                                       "in the table.")
            return
        paths = self.grid.selected_paths()
        if not paths:
            self.message_bar.show_info("Select images in the grid first.")
            return
        self.relabel_images(paths, self.model.class_at(number - 1))

    def delete_selected_images(self) -> None:
        """Move the selected images to the dataset's trash; Undo brings them back."""
        paths = self.grid.selected_paths()
        if self.dataset is None or not paths:
            return
        if self.busy:
            self.message_bar.show_info("Wait for the running operation to finish.")
            return
        dataset = self.dataset
        self.loader.forget(paths)
        self._run(delete_images_worker(dataset, [Path(p) for p in paths]),
                  lambda count: self._after_change(
                      f"Moved {_plural(count, 'image')} to the trash. Undo (Ctrl+Z) "
                      "restores them."),
                  "Deleting images…")

    # ------------------------------------------------------------------ the grid's filters
    def _set_class_choices(self, classes: list[str]) -> None:
        current = self.class_filter.currentData()
        self._syncing = True
        try:
            self.class_filter.clear()
            self.class_filter.addItem("All classes", None)
            for label in classes:
                self.class_filter.addItem(label, label)
            index = self.class_filter.findData(current)
            self.class_filter.setCurrentIndex(max(index, 0))
        finally:
            self._syncing = False
        self._on_filter_changed()

    def _on_class_selected(self) -> None:
        label = self.selected_class()
        if label is None or self._syncing:
            return
        index = self.class_filter.findData(label)
        if index >= 0:
            self.class_filter.setCurrentIndex(index)

    def _on_filter_changed(self) -> None:
        if self._syncing:
            return
        label = self.class_filter.currentData()
        self.grid.set_show_labels(label is None)
        self.grid.grid_model.set_filter(label=label, split=self.split_filter.currentData(),
                                        problem=self.problem_filter.currentData())

    def set_grid_filter(self, *, label: str | None = None, split: str | None = None,
                        problem: str | None = None) -> None:
        """Set the filter combos (None: all) and show the matching images."""
        self._syncing = True
        try:
            self.class_filter.setCurrentIndex(max(self.class_filter.findData(label), 0))
            self.split_filter.setCurrentIndex(max(self.split_filter.findData(split), 0))
            self.problem_filter.setCurrentIndex(max(self.problem_filter.findData(problem), 0))
        finally:
            self._syncing = False
        self._on_filter_changed()

    def clear_filters(self) -> None:
        self.set_grid_filter()

    def show_issue_images(self, paths: list[str], select: str | None = None) -> None:
        """Show just these images (those of a problem picked in the validation report)."""
        self.set_grid_filter()
        self.grid.set_show_labels(True)
        self.grid.grid_model.set_filter(paths=paths)
        if select is not None:
            self.grid.select_path(select)

    def _update_grid_status(self) -> None:
        model = self.grid.grid_model
        shown, total = model.rowCount(), model.total
        text = f"{shown} of {total} images" if shown != total else f"{total} images"
        if model.paths is not None:
            text += " (from the validation report)"
        selected = len(self.grid.selectionModel().selectedIndexes())
        if selected:
            text += f" · {selected} selected"
        self.grid_status.setText(text)

    def _apply_problems(self) -> None:
        problems: dict[str, set[str]] = {p: set(k) for p, k in self._report_problems.items()}
        if self.snapshot is not None:
            for path in self.snapshot.unreadable:
                problems.setdefault(path, set()).add(UNREADABLE)
        self.grid.grid_model.set_problems(problems)

    # ------------------------------------------------------------------ import and capture
    def open_import_dialog(self) -> ImportDialog | None:
        if self.dataset is None or self.busy:
            return None
        config = self.workspace.config.importers if self.workspace else None
        dialog = ImportDialog(self.dataset, config, self)
        self.import_dialog = dialog
        dialog.imported.connect(self._on_imported)
        dialog.open()
        return dialog

    def _on_imported(self, report: Any) -> None:
        if report.added:
            self._select_after_refresh = self.selected_class()
            self._show_result(f"Imported {_plural(report.added, 'image')}. Undo (Ctrl+Z) "
                              "removes the last class's batch.")
            self._notify(self.dataset_changed)
            self.refresh()

    def open_capture_dialog(self) -> CaptureDialog | None:
        if self.dataset is None or self.busy:
            return None
        dialog = CaptureDialog(self.dataset, self.selected_class(), self.camera_source,
                               parent=self)
        self.capture_dialog = dialog
        dialog.finished.connect(lambda _result: self._on_capture_closed(dialog))
        dialog.open()
        return dialog

    def _on_capture_closed(self, dialog: CaptureDialog) -> None:
        if dialog.changed:
            label = dialog.label or None
            self._select_after_refresh = label
            self._show_result(f"Captured {_plural(dialog.count, 'image')}"
                              + (f" into '{label}'." if label else "."))
            self._notify(self.dataset_changed)
            self.refresh()

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
        self._report_problems = {}
        if report is not None:
            for issue in report.issues:
                key = PROBLEM_OF_KIND.get(issue.kind)
                if key is not None:
                    for path in issue.paths:
                        self._report_problems.setdefault(str(path), set()).add(key)
            self.side_tabs.setCurrentWidget(self.report_tab)
        self._apply_problems()
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
            kind_item.setData(0, KIND_ROLE, kind.value)
            kind_item.setIcon(0, error_icon if issues[0].is_error else warning_icon)
            font = kind_item.font(0)
            font.setBold(True)
            kind_item.setFont(0, font)
            for issue in issues:
                message = _relative_text(issue.message, root)
                issue_item = QTreeWidgetItem([message])
                issue_item.setToolTip(0, issue.message)
                issue_item.setData(0, ISSUE_PATHS_ROLE, [str(p) for p in issue.paths])
                issue_item.setData(0, ISSUE_LABEL_ROLE, issue.label)
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

    def _on_issue_selected(self, item: QTreeWidgetItem | None, _previous: Any = None) -> None:
        """Picking a problem in the report shows its images in the grid."""
        if item is None:
            return
        kind = item.data(0, KIND_ROLE)
        if kind is not None:  # a whole kind: the problem filter, or the class it is about
            problem = PROBLEM_OF_KIND.get(IssueKind(kind))
            if problem is not None:
                self.set_grid_filter(problem=problem)
            return
        paths = item.data(0, ISSUE_PATHS_ROLE)
        select = None
        if paths is None and item.parent() is not None:  # a file of an issue
            paths = item.parent().data(0, ISSUE_PATHS_ROLE)
            select = item.data(0, PATH_ROLE)
        if paths:
            self.show_issue_images(paths, select)
            return
        label = item.data(0, ISSUE_LABEL_ROLE)
        if label and self.stats is not None and label in self.stats.counts:
            self.set_grid_filter(label=label)

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
