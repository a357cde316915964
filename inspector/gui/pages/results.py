"""The Results page: every live-inspected item as a table over the SQLite results store,
filtered by time, verdict, class, operator and model version; the selected item's saved frame
and heat-map overlay with its probabilities and the operator's decision; yield charts by hour
and by shift; CSV export.

Reading. The table's model reads pages of rows on the GUI thread, through the store's shared
reader (at a million rows: 2-5 ms a page, ~15 ms for a jump to the middle of the table; see
bench/bench_results_table.py). What may scan many rows runs in a Worker on a connection of its
own (`paging.SideReader`): the count of a filter change (~1-50 ms, up to ~0.4 s for two broad
filters), the yield charts, the class / operator / model lists with their counts, the yield
figure (~0.1-0.6 s) and the CSV export.

Following the live loop. While the page is visible a timer asks the model to refresh every few
seconds: a look at two pragmas when nothing was written, otherwise only the new rows are
counted and inserted at the top; the charts follow at most every STATS_INTERVAL_S, or ten
times as long as they took to compute, whichever is longer (the worker's share of a core
stays under a tenth however large the period).
"""

from __future__ import annotations

import html
import logging
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDateTime, QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.core.results import VERDICTS, ResultsError, ResultsStore, export_csv, stats
from inspector.core.results.paging import Filters, Pager, SideReader, Snapshot, StoppedError
from inspector.gui.widgets.image_view import ImageView
from inspector.gui.widgets.message_bar import MessageBar
from inspector.gui.widgets.results_model import (
    COLUMNS,
    ID_ROLE,
    ResultsTableModel,
    local_time,
)
from inspector.gui.widgets.yield_chart import VERDICT_COLORS, YieldChart
from inspector.gui.workers.base import Worker, while_alive

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.results import InspectionResult, ShiftBucket, YieldBucket
    from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

PERIODS: tuple[tuple[str, str], ...] = (
    ("Last hour", "hour"), ("This shift", "shift"), ("Today", "today"),
    ("Last 7 days", "week"), ("All", "all"), ("Custom", "custom"),
)
DEFAULT_PERIOD = "today"
REFRESH_MS = 3000  # the live look while the page is visible
STATS_INTERVAL_S = 10.0  # charts and counts at most this often while rows arrive...
STATS_DUTY = 10.0  # ... and at most every ten times as long as they took (1 s: every 10 s)
MAX_HOURS = 7 * 24  # the hour chart shows at most the last week of the period
MAX_SHIFT_DAYS = 14  # the shift chart: at most the last two weeks
EDIT_DEBOUNCE_MS = 400
COUNTING_NOTE_MS = 150  # a count that takes longer says so in the count line
DATETIME_FORMAT = "yyyy-MM-dd HH:mm"
ALL = "__all__"  # a combo's "no filter" entry
NO_OPERATOR = "__none__"  # the operator combo's entry for rows without a decision
COLUMN_SAMPLES = ("2024-12-31 23:59:59", "REVIEW", "spurious_copper", "100.0 %", "operator",
                  "override", "v10", "camera:0", "1000000")


def _html(text: object) -> str:
    return html.escape(str(text))


class ResultsPage(QWidget):
    """Build it, then `set_workspace(workspace, dataset)` (opens the workspace's results
    store) or `set_store(store)` (shows a store someone else owns, e.g. the Live page's)."""

    result_selected = Signal(int)  # the id of the result now selected
    rows_shown = Signal()  # the table shows the rows of the latest filters
    stats_updated = Signal()  # the charts, the lists and the yield figure are up to date
    export_finished = Signal(object)  # (path, rows) of a finished CSV export
    error_shown = Signal(str)

    def __init__(self, workspace: Workspace | None = None, dataset: Dataset | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Workspace | None = None
        self.store: ResultsStore | None = None
        self._owns_store = False
        self._shifts: dict[str, str] = {}
        self._save_frames = "fail_review"
        self.hour_range: tuple[float, float] | None = None  # what the hour chart counts
        self.shift_range: tuple[float, float] | None = None
        self.verdict_totals: dict[str, int] = {}  # the yield figure's counts
        self._stats_job: Worker | None = None
        self._stats_dirty = False
        self._stats_at = 0.0
        self._stats_seconds = 0.0  # how long the last statistics took
        self._export_job: Worker | None = None
        self._count_job: Worker | None = None
        self._selected_id: int | None = None
        self._setting_filters = False
        self._build()
        self.set_workspace(workspace, dataset)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.message_bar = MessageBar()

        # the filter bar: the period, then what to show
        self.period_combo = QComboBox()
        for text, key in PERIODS:
            self.period_combo.addItem(text, key)
        self.period_combo.setCurrentIndex(self.period_combo.findData(DEFAULT_PERIOD))
        self.period_combo.setToolTip("The period shown; Custom: set From and To")
        self.period_combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.from_edit = self._datetime_edit("Show results from this time on")
        self.to_edit = self._datetime_edit("Show results before this time")
        self._edit_timer = QTimer(self)
        self._edit_timer.setSingleShot(True)
        self._edit_timer.setInterval(EDIT_DEBOUNCE_MS)
        self._edit_timer.timeout.connect(self._custom_period_edited)
        self.verdict_boxes: dict[str, QCheckBox] = {}
        for verdict in VERDICTS:
            box = QCheckBox(verdict.capitalize())
            box.setChecked(True)
            box.setToolTip(f"Show {verdict} results")
            box.setStyleSheet(f"QCheckBox {{ color: {VERDICT_COLORS[verdict]};"
                              " font-weight: bold; }")
            box.toggled.connect(lambda _on: self.apply_filters())
            self.verdict_boxes[verdict] = box
        self.class_combo = self._filter_combo("All classes", "The predicted class")
        self.operator_combo = self._filter_combo(
            "All operators", "The operator who confirmed or overrode the verdict")
        self.model_combo = self._filter_combo("All model versions",
                                              "The model version that inspected the item")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the results again, the period up to now (F5)")
        self.refresh_button.clicked.connect(self.reload)
        QShortcut(QKeySequence(Qt.Key.Key_F5), self, self.reload)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the results shown (all the filtered rows, not "
                                      "just the visible ones) as a CSV file")
        self.export_button.clicked.connect(lambda _checked=False: self.export_csv())

        period_row = QHBoxLayout()
        for text, widget in (("&Period:", self.period_combo), ("&From:", self.from_edit),
                             ("&To:", self.to_edit)):
            label = QLabel(text)
            label.setBuddy(widget)
            period_row.addWidget(label)
            period_row.addWidget(widget)
        period_row.addSpacing(16)
        for box in self.verdict_boxes.values():
            period_row.addWidget(box)
        period_row.addStretch(1)
        period_row.addWidget(self.refresh_button)
        period_row.addWidget(self.export_button)
        filter_row = QHBoxLayout()
        for text, widget in (("C&lass:", self.class_combo), ("&Operator:", self.operator_combo),
                             ("&Model:", self.model_combo)):
            label = QLabel(text)
            label.setBuddy(widget)
            filter_row.addWidget(label)
            filter_row.addWidget(widget, 1)
        filter_row.addStretch(0)

        # the count, and the export's progress
        self.count_label = QLabel()
        self.count_label.setTextFormat(Qt.TextFormat.RichText)
        self.count_label.setToolTip("Results matching the filters; the yield is PASS / all "
                                    "verdicts over the same filters, whatever verdicts are "
                                    "ticked")
        self.export_label = QLabel()
        self.export_bar = QProgressBar()
        self.export_bar.setMaximumWidth(220)
        self.export_cancel = QPushButton("Cancel")
        self.export_cancel.setToolTip("Stop the export; no file is written")
        self.export_cancel.clicked.connect(self.cancel_export)
        self.export_row = QWidget()
        export_layout = QHBoxLayout(self.export_row)
        export_layout.setContentsMargins(0, 0, 0, 0)
        export_layout.addWidget(self.export_label)
        export_layout.addWidget(self.export_bar)
        export_layout.addWidget(self.export_cancel)
        self.export_row.hide()
        count_row = QHBoxLayout()
        count_row.addWidget(self.count_label, 1)
        count_row.addWidget(self.export_row)

        # the table
        self.model = ResultsTableModel(self)
        self.model.error.connect(self.show_error)
        self.model.modelReset.connect(self._restore_selection)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setCornerButtonEnabled(False)
        self.table.verticalHeader().hide()
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        metrics = self.fontMetrics()
        for column, sample in enumerate(COLUMN_SAMPLES):
            width = max(metrics.horizontalAdvance(sample), metrics.horizontalAdvance(
                COLUMNS[column])) + 14
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(30)  # arrow keys held down: decode the last row only
        self._detail_timer.timeout.connect(self._show_current)

        # the selected result
        self.detail_title = QLabel("Select a result to see its saved images.")
        self.detail_title.setTextFormat(Qt.TextFormat.RichText)
        self.detail_title.setWordWrap(True)
        self.overlay_view = ImageView()
        self.frame_view = ImageView()
        self.overlay_caption = QLabel("Heat map")
        self.frame_caption = QLabel("Frame")
        images = QWidget()
        image_row = QHBoxLayout(images)
        image_row.setContentsMargins(0, 0, 0, 0)
        for view, caption in ((self.overlay_view, self.overlay_caption),
                              (self.frame_view, self.frame_caption)):
            column = QVBoxLayout()
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            column.addWidget(view, 1)
            column.addWidget(caption)
            image_row.addLayout(column, 1)
        self.no_snapshot_label = QLabel()
        self.no_snapshot_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_snapshot_label.setWordWrap(True)
        self.no_snapshot_label.setFrameShape(QFrame.Shape.StyledPanel)
        self.snapshot_stack = QStackedWidget()
        self.snapshot_stack.addWidget(images)
        self.snapshot_stack.addWidget(self.no_snapshot_label)
        self.snapshot_stack.setMinimumHeight(160)
        self.info_label = QLabel()
        self.info_label.setTextFormat(Qt.TextFormat.RichText)
        self.info_label.setWordWrap(True)
        self.info_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.probabilities_label = QLabel()
        self.probabilities_label.setTextFormat(Qt.TextFormat.RichText)
        self.probabilities_label.setAlignment(Qt.AlignmentFlag.AlignTop
                                              | Qt.AlignmentFlag.AlignLeft)
        self.decision_label = QLabel()
        self.decision_label.setTextFormat(Qt.TextFormat.RichText)
        self.decision_label.setWordWrap(True)
        facts = QHBoxLayout()
        facts.addWidget(self.info_label, 1)
        facts.addWidget(self.probabilities_label, 1)
        detail_box = QGroupBox("Selected result")
        detail = QVBoxLayout(detail_box)
        detail.addWidget(self.detail_title)
        detail.addWidget(self.snapshot_stack, 1)
        detail.addLayout(facts)
        detail.addWidget(self.decision_label)
        self._clear_detail()

        # the charts
        self.hour_chart = YieldChart()
        self.shift_chart = YieldChart()
        self.hour_box = QGroupBox("Yield by hour")
        QVBoxLayout(self.hour_box).addWidget(self.hour_chart)
        self.shift_box = QGroupBox("Yield by shift")
        QVBoxLayout(self.shift_box).addWidget(self.shift_chart)
        charts = QWidget()
        chart_row = QHBoxLayout(charts)
        chart_row.setContentsMargins(0, 0, 0, 0)
        chart_row.addWidget(self.hour_box, 3)
        chart_row.addWidget(self.shift_box, 2)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.table)
        top.addWidget(detail_box)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setSizes([810, 450])
        top.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(charts)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([480, 220])
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message_bar)
        layout.addLayout(period_row)
        layout.addLayout(filter_row)
        layout.addLayout(count_row)
        layout.addWidget(self.splitter, 1)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)

    def _datetime_edit(self, tip: str) -> QDateTimeEdit:
        edit = QDateTimeEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat(DATETIME_FORMAT)
        edit.setToolTip(tip)
        edit.dateTimeChanged.connect(self._datetime_edited)
        return edit

    def _filter_combo(self, all_text: str, tip: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem(all_text, ALL)
        combo.setToolTip(tip)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        combo.setMinimumContentsLength(14)
        combo.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        return combo

    # ------------------------------------------------------------------ store
    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None = None) -> None:
        """Show the workspace's results (its results.sqlite, opened here and closed on the next
        change or `shutdown()`)."""
        del dataset  # the results belong to the workspace, whatever the dataset
        self.workspace = workspace
        self.message_bar.dismiss()
        store = None
        if workspace is not None:
            try:
                store = ResultsStore(workspace.results_path, workspace.config.live.results)
            except ResultsError as exc:
                self._attach(None, owned=False)
                self.show_error(str(exc))
                return
        self._attach(store, owned=store is not None)

    def set_store(self, store: ResultsStore | None) -> None:
        """Show a store that someone else opened and will close (e.g. the Live page's)."""
        self.message_bar.dismiss()
        self._attach(store, owned=False)

    def shutdown(self) -> None:
        """Stop the jobs and close the store if this page opened it (the window closes)."""
        self._refresh_timer.stop()
        for job in (self._stats_job, self._export_job, self._count_job):
            if job is not None:
                job.cancel()
        self._attach(None, owned=False)

    def _attach(self, store: ResultsStore | None, *, owned: bool) -> None:
        if self._stats_job is not None:
            self._stats_job.cancel()
            self._stats_job = None
        old, old_owned = self.store, self._owns_store
        self.store, self._owns_store = store, owned
        if store is not None:
            self._shifts = dict(store.config.shifts)
            self._save_frames = store.config.save_frames
        self._selected_id = None
        self._setting_filters = True
        for combo in (self.class_combo, self.operator_combo, self.model_combo):
            while combo.count() > 1:
                combo.removeItem(1)
            combo.setCurrentIndex(0)
        self._setting_filters = False
        self._update_title()
        self.apply_filters(wait=True)  # at once: the model must let go of the old store
        if old is not None and old_owned and old is not store:
            try:
                old.close()
            except ResultsError as exc:
                log.warning("closing %s: %s", old.path, exc)
        self.export_button.setEnabled(store is not None and self._export_job is None)
        self.refresh_button.setEnabled(store is not None)

    def _update_title(self) -> None:
        if self.store is None:
            self.title.setText("<b>No results database open.</b> Open or create a workspace "
                               "from the File menu; results appear once the Live page runs.")
        elif self.workspace is not None:
            self.title.setText(f"Inspection results of <b>{_html(self.workspace.name)}</b>")
        else:
            self.title.setText(f"Inspection results in <b>{_html(self.store.path)}</b>")

    # ------------------------------------------------------------------ filters
    def current_filters(self, now: float | None = None) -> Filters:
        """The filters the controls describe (the period's start taken at `now`)."""
        start, end = self._period(time.time() if now is None else now)
        ticked = tuple(v for v in VERDICTS if self.verdict_boxes[v].isChecked())
        verdicts = None if len(ticked) == len(VERDICTS) else ticked
        label = self.class_combo.currentData()
        operator = self.operator_combo.currentData()
        version = self.model_combo.currentData()
        return Filters(
            start=start, end=end, verdicts=verdicts,
            labels=None if label in (ALL, None) else (label,),
            operators=(None if operator in (ALL, None) else
                       (None,) if operator == NO_OPERATOR else (operator,)),
            model_versions=None if version in (ALL, None) else (version,),
        )

    def _period(self, now: float) -> tuple[float | None, float | None]:
        key = self.period_combo.currentData()
        if key == "hour":
            return now - 3600.0, None
        if key == "shift":
            start = self._shift_start(now)
            if start is not None:
                return start, None
            key = "today"  # no shifts set up
        if key == "today":
            midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0,
                                                           microsecond=0)
            return midnight.timestamp(), None
        if key == "week":
            return now - 7 * 86_400.0, None
        if key == "custom":
            start = float(self.from_edit.dateTime().toSecsSinceEpoch())
            end = float(self.to_edit.dateTime().toSecsSinceEpoch())
            return start, max(start, end)
        return None, None

    def _shift_start(self, now: float) -> float | None:
        """When the shift going on at `now` started (None without valid shifts)."""
        try:
            found = stats.shift_ranges(now - 2 * 86_400.0, now + 1.0, self._shifts)
        except ValueError:
            return None
        starts = [lo for _name, _day, lo, _hi in found if lo <= now]
        return max(starts) if starts else None

    def apply_filters(self, *, wait: bool = False) -> None:
        """Show the rows the controls describe (on every change of a control).

        The rows are counted in a worker, the table showing the previous ones meanwhile
        (`rows_shown` tells when the new ones are in: a few ms mostly, up to ~0.4 s at a
        million rows for two broad filters); with `wait` they are counted here."""
        if self._setting_filters:
            return
        now = time.time()
        filters = self.current_filters(now)
        self._show_period(filters, now)
        store = self.store
        self._count_job = None  # a count still running for older filters is ignored
        if store is None or wait:
            self._show_rows(filters, None)
            return

        def task(_progress: Any, _stop: Any) -> Snapshot:
            with SideReader(store) as reader:
                return Pager(reader, filters).snapshot

        worker = Worker(task, "counting the results")
        self._count_job = worker

        def finished(snapshot: Snapshot) -> None:
            if self._count_job is worker and self.store is store:
                self._show_rows(filters, snapshot)

        def done() -> None:
            if self._count_job is worker:
                self._count_job = None
                self._update_count()

        def slow() -> None:
            if self._count_job is worker:
                self.count_label.setText("Counting the results…")

        worker.finished.connect(while_alive(self, finished))
        worker.failed.connect(while_alive(self, lambda message: self.show_error(message)
                                          if self._count_job is worker else None))
        worker.done.connect(while_alive(self, done))
        worker.start()
        QTimer.singleShot(COUNTING_NOTE_MS, while_alive(self, slow))

    @property
    def counting(self) -> bool:
        """Whether the rows of the latest filters are still being counted."""
        return self._count_job is not None

    def _show_rows(self, filters: Filters, snapshot: Snapshot | None) -> None:
        self._count_job = None
        self.model.set_store(self.store, filters, snapshot)
        self._update_count()
        self.update_stats(force=True)
        self.rows_shown.emit()

    def reload(self) -> None:
        """Read everything again, the period's window moved up to now (Refresh, F5)."""
        self.message_bar.dismiss()
        self.apply_filters()

    def _show_period(self, filters: Filters, now: float) -> None:
        """Put the period's bounds in the From / To fields, without making it Custom."""
        if self.period_combo.currentData() == "custom":
            return
        start, end = filters.start, filters.end if filters.end is not None else now
        if start is None:  # All: from the first result on
            span = self._time_span()
            start = span[0] if span else now
        self._setting_filters = True
        for edit, value in ((self.from_edit, start), (self.to_edit, end)):
            edit.blockSignals(True)
            edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(value)))
            edit.blockSignals(False)
        self._setting_filters = False

    def _time_span(self) -> tuple[float, float] | None:
        if self.store is None:
            return None
        try:
            return self.store.time_span()
        except ResultsError as exc:
            self.show_error(str(exc))
            return None

    def _datetime_edited(self) -> None:
        if not self._setting_filters:
            self._edit_timer.start()

    def _custom_period_edited(self) -> None:
        custom = self.period_combo.findData("custom")
        if self.period_combo.currentIndex() != custom:
            self.period_combo.setCurrentIndex(custom)  # applies
        else:
            self.apply_filters()

    def set_period(self, key: str) -> None:
        """Choose a period: "hour", "shift", "today", "week", "all" or "custom"."""
        index = self.period_combo.findData(key)
        if index < 0:
            raise ValueError(f"unknown period {key!r}")
        self.period_combo.setCurrentIndex(index)

    def set_custom_period(self, start: float, end: float) -> None:
        """Show [start, end) (epoch seconds; minutes are the fields' precision)."""
        self._setting_filters = True
        self.from_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(start)))
        self.to_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(end)))
        self.period_combo.setCurrentIndex(self.period_combo.findData("custom"))
        self._setting_filters = False
        self.apply_filters()

    def clear_filters(self, *, wait: bool = False) -> None:
        """Every result: period All, every verdict, no class / operator / model filter."""
        self._setting_filters = True
        self.period_combo.setCurrentIndex(self.period_combo.findData("all"))
        for box in self.verdict_boxes.values():
            box.setChecked(True)
        for combo in (self.class_combo, self.operator_combo, self.model_combo):
            combo.setCurrentIndex(0)
        self._setting_filters = False
        self.apply_filters(wait=wait)

    # ------------------------------------------------------------------ following the store
    def refresh(self) -> None:
        """Take in what was written since the last look; nothing to do costs two pragmas."""
        if self.store is None:
            return
        change = self.model.refresh()
        if change.kind == "none":
            return
        self._update_count()
        if self._selected_id is not None and change.kind != "reloaded":
            self._show_current()  # a decision may have been taken on it
        self.update_stats()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self._refresh_timer.start()
        self.refresh()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        super().hideEvent(event)
        self._refresh_timer.stop()

    # ------------------------------------------------------------------ count, charts, lists
    def _update_count(self) -> None:
        total = self.model.total
        text = f"<b>{total:,}</b> result{'s' if total != 1 else ''}"
        counts = self.verdict_totals
        checked = sum(counts.values())
        if checked:
            pct = 100.0 * counts.get("PASS", 0) / checked
            text += f" · yield <b>{pct:.1f} %</b>"
            if self.model.filters.verdicts is not None:
                text += " (all verdicts)"
        if self.store is None:
            text = "No results."
        self.count_label.setText(text)

    def update_stats(self, force: bool = False) -> None:
        """Recompute the charts, the filter lists and the yield in a worker (throttled to one
        every STATS_INTERVAL_S unless `force`; one at a time)."""
        if self.store is None:
            self.verdict_totals = {}
            self.hour_range = self.shift_range = None
            self.hour_chart.clear("No results database open")
            self.shift_chart.clear("No results database open")
            self._update_count()
            return
        if self._stats_job is not None:
            self._stats_dirty = True
            return
        interval = max(STATS_INTERVAL_S, STATS_DUTY * self._stats_seconds)
        if not force and time.monotonic() - self._stats_at < interval:
            if not self._stats_dirty:
                self._stats_dirty = True
                delay = interval - (time.monotonic() - self._stats_at)
                QTimer.singleShot(int(delay * 1000) + 50, while_alive(self, self._stats_due))
            return
        self._stats_dirty = False
        self._stats_at = time.monotonic()
        store, filters, shifts = self.store, self.model.filters, dict(self._shifts)
        now = time.time()

        def task(_progress: Any, _stop: Any) -> dict[str, Any]:
            with SideReader(store) as reader:
                return _period_stats(reader, filters, shifts, now)

        worker = Worker(task, "computing the yield statistics")
        self._stats_job = worker

        def finished(result: dict[str, Any]) -> None:
            if self._stats_job is worker:
                self._stats_seconds = time.monotonic() - self._stats_at
                self._show_stats(result)

        def done() -> None:
            if self._stats_job is worker:
                self._stats_job = None
                if self._stats_dirty:
                    self.update_stats(force=True)

        worker.finished.connect(while_alive(self, finished))
        worker.failed.connect(while_alive(self, lambda message: self.show_error(message)
                                          if self._stats_job is worker else None))
        worker.done.connect(while_alive(self, done))
        worker.start()

    def _stats_due(self) -> None:
        if self._stats_dirty and self._stats_job is None:
            self.update_stats(force=True)

    @property
    def stats_busy(self) -> bool:
        return self._stats_job is not None

    def _show_stats(self, result: dict[str, Any]) -> None:
        self.verdict_totals = result["verdicts"]
        self.hour_range = result["hour_range"]
        self.shift_range = result["shift_range"]
        self._update_count()
        self._fill_combo(self.class_combo, result["labels"])
        self._fill_combo(self.operator_combo, result["operators"])
        self._fill_combo(self.model_combo, result["models"])
        self._show_hours(result["hours"], result["hours_cut"])
        self._show_shifts(result["shifts"], result["shifts_cut"])
        self.stats_updated.emit()

    def _fill_combo(self, combo: QComboBox, counts: dict[str | None, int]) -> None:
        """The values seen in the period with their counts; the current choice stays."""
        current = combo.currentData()
        entries: list[tuple[str, str]] = []
        for value, n in counts.items():
            if value is None:
                entries.append((f"(no operator yet) · {n:,}", NO_OPERATOR))
            else:
                entries.append((f"{value} · {n:,}", str(value)))
        if current not in (ALL, None) and all(data != current for _, data in entries):
            text = "(no operator yet)" if current == NO_OPERATOR else str(current)
            entries.append((f"{text} · 0", current))
        self._setting_filters = True
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        for text, data in entries:
            combo.addItem(text, data)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)
        self._setting_filters = False

    def _show_hours(self, buckets: list[YieldBucket], cut: bool) -> None:
        if not buckets:
            self.hour_box.setTitle("Yield by hour")
            self.hour_chart.clear("No results in this period")
            return
        days = {datetime.fromtimestamp(b.start).date() for b in buckets}
        labels, details = [], []
        for bucket in buckets:
            start, end = datetime.fromtimestamp(bucket.start), datetime.fromtimestamp(bucket.end)
            hour = start.replace(minute=0, second=0)
            labels.append(f"{hour:%H:%M}" if len(days) == 1 else
                          f"{hour:%a %H}h" if len(days) <= 7 else f"{hour:%d.%m %H}h")
            details.append(f"{start:%a %Y-%m-%d %H:%M}–{end:%H:%M}")
        self.hour_chart.set_buckets(labels, [b.passed for b in buckets],
                                    [b.failed for b in buckets], [b.review for b in buckets],
                                    details)
        self.hour_box.setTitle("Yield by hour" + (" (the last 7 days of the period)" if cut
                                                  else ""))

    def _show_shifts(self, buckets: list[ShiftBucket], cut: bool) -> None:
        if not self._shifts:
            self.shift_box.setTitle("Yield by shift")
            self.shift_chart.clear("No shifts set up (live.results.shifts in the settings)")
            return
        if not buckets:
            self.shift_box.setTitle("Yield by shift")
            self.shift_chart.clear("No shift in this period")
            return
        days = {b.day for b in buckets}
        labels = [b.name if len(days) == 1 else f"{b.day:%a} {b.name}" if len(days) <= 7
                  else f"{b.day:%d.%m} {b.name}" for b in buckets]
        details = [f"{b.name} shift, {datetime.fromtimestamp(b.start):%a %Y-%m-%d %H:%M}"
                   f"–{datetime.fromtimestamp(b.end):%H:%M}" for b in buckets]
        self.shift_chart.set_buckets(labels, [b.passed for b in buckets],
                                     [b.failed for b in buckets], [b.review for b in buckets],
                                     details)
        self.shift_box.setTitle("Yield by shift (whole shifts" + (
            f", the last {MAX_SHIFT_DAYS} days)" if cut else ")"))

    # ------------------------------------------------------------------ selection and detail
    def select_result(self, id: int) -> bool:
        """Select result `id` and scroll to it; filters that hide it are cleared (said in the
        message bar). False, with a message, when it is not in the database."""
        if self.store is None:
            return False
        row = self.model.row_of_id(id)
        if row is None:
            try:
                result = self.store.get(id)
            except ResultsError as exc:
                self.show_error(str(exc))
                return False
            if result is None:
                self.show_error(f"Result {id} is not in the results database (removed by "
                                "retention, or written by another workspace?).")
                return False
            self.refresh()  # written since the last look?
            row = self.model.row_of_id(id)
            if row is None:
                self.clear_filters(wait=True)
                row = self.model.row_of_id(id)
                if row is None:
                    return False
                self.message_bar.show_info(f"The filters were cleared to show result {id}.")
        self._select_row(row)
        return True

    def selected_id(self) -> int | None:
        return self._selected_id

    def _select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self._detail_timer.stop()
        self._show_current()

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        result = self.model.result_at(current.row()) if current.isValid() else None
        if result is None or result.id is None:
            return
        if result.id != self._selected_id:
            self._selected_id = result.id
            self.result_selected.emit(result.id)
        self._detail_timer.start()

    def _restore_selection(self) -> None:
        """After a reset (new filters, a reload): select the same result again if shown."""
        if self._selected_id is None:
            return
        row = self.model.row_of_id(self._selected_id)
        if row is None:
            self._selected_id = None
            self._clear_detail()
            return
        chosen = self._selected_id
        QTimer.singleShot(0, while_alive(self, lambda: self._reselect(chosen, row)))

    def _reselect(self, id: int, row: int) -> None:
        if self._selected_id != id:
            return  # another result was chosen meanwhile
        if self.model.data(self.model.index(row, 0), ID_ROLE) != id:
            found = self.model.row_of_id(id)  # the rows changed again meanwhile
            if found is None:
                return
            row = found
        if 0 <= row < self.model.total:
            index = self.model.index(row, 0)
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            self.table.scrollTo(index)

    def _show_current(self) -> None:
        if self._selected_id is None or self.store is None:
            self._clear_detail()
            return
        try:
            result = self.store.get(self._selected_id)
        except ResultsError as exc:
            self.show_error(str(exc))
            return
        if result is None:
            self._clear_detail("This result was removed from the database (retention).")
            return
        self.show_detail(result)

    def show_detail(self, result: InspectionResult) -> None:
        """Fill the detail panel with `result` (its snapshots read from disk)."""
        assert self.store is not None
        color = VERDICT_COLORS.get(result.verdict, "#9E9E9E")
        self.detail_title.setText(
            f"<b>#{result.id}</b> · <span style='color:{color}'><b>{_html(result.verdict)}"
            f"</b></span> · <b>{_html(result.label)}</b> {100 * result.confidence:.1f} % · "
            f"{_html(local_time(result.time))}")
        overlay = self.store.read_snapshot(result.overlay_path)
        frame = self.store.read_snapshot(result.frame_path)
        if not result.overlay_path and not result.frame_path:
            self.no_snapshot_label.setText(
                f"No snapshot saved (save_frames = {self._save_frames})")
            self.snapshot_stack.setCurrentWidget(self.no_snapshot_label)
        elif overlay is None and frame is None:
            self.no_snapshot_label.setText(
                "The snapshot files are gone (removed by the snapshot size limit, or by "
                f"hand):\n{result.overlay_path or ''}\n{result.frame_path or ''}")
            self.snapshot_stack.setCurrentWidget(self.no_snapshot_label)
        else:
            self.snapshot_stack.setCurrentIndex(0)
            self.overlay_view.set_array(overlay)
            self.frame_view.set_array(frame)
            self.overlay_caption.setText("Heat map" if overlay is not None else
                                         "Heat map: file missing")
            self.frame_caption.setText("Frame" if frame is not None else "Frame: file missing")
        self.info_label.setText(self._facts_html(result))
        self.probabilities_label.setText(self._probabilities_html(result))
        if result.decision:
            when = f" at {_html(local_time(result.decided_at))}" if result.decided_at else ""
            said = ("confirmed the model's class" if result.decision == result.label
                    else f"said <b>{_html(result.decision)}</b>")
            self.decision_label.setText(
                f"Operator <b>{_html(result.operator or 'unknown')}</b> {said}{when}")
        else:
            self.decision_label.setText("No operator decision yet.")

    @staticmethod
    def _facts_html(result: InspectionResult) -> str:
        rows = [("Source", result.source), ("Model", result.model_version)]
        if result.ood_score is not None:
            rows.append(("OOD score", f"{result.ood_score:.2f}"))
        if result.truth is not None:
            rows.append(("Known truth", result.truth))
        return "<table cellspacing='0' cellpadding='1'>" + "".join(
            f"<tr><td>{_html(k)}:&nbsp;</td><td>{_html(v)}</td></tr>" for k, v in rows
        ) + "</table>"

    @staticmethod
    def _probabilities_html(result: InspectionResult) -> str:
        ordered = sorted(result.probabilities.items(), key=lambda kv: -kv[1])
        cells = []
        for name, p in ordered:
            threshold = result.thresholds.get(name)
            shown = f"{_html(name)}"
            if name == result.label:
                shown = f"<b>{shown}</b>"
            limit = f"&nbsp;(≥ {100 * threshold:.0f} %)" if threshold is not None else ""
            cells.append(f"<tr><td>{shown}&nbsp;</td><td align='right'>{100 * p:.1f} %</td>"
                         f"<td>{limit}</td></tr>")
        return ("<table cellspacing='0' cellpadding='1'><tr><td colspan='3'><i>Probabilities "
                "(threshold)</i></td></tr>" + "".join(cells) + "</table>")

    def _clear_detail(self, text: str = "Select a result to see its saved images.") -> None:
        self.detail_title.setText(_html(text))
        self.overlay_view.clear()
        self.frame_view.clear()
        self.no_snapshot_label.setText("")
        self.snapshot_stack.setCurrentWidget(self.no_snapshot_label)
        self.info_label.clear()
        self.probabilities_label.clear()
        self.decision_label.clear()

    # ------------------------------------------------------------------ export
    def export_csv(self, path: Path | None = None) -> Worker | None:
        """Export the filtered rows (oldest first) to `path`, asked for when None."""
        if self.store is None or self._export_job is not None:
            return None
        if path is None:
            default = Path.home() / f"results-{datetime.now():%Y%m%d-%H%M}.csv"
            if self.workspace is not None:
                default = self.workspace.root / default.name
            chosen, _ = QFileDialog.getSaveFileName(self, "Export results as CSV", str(default),
                                                    "CSV files (*.csv);;All files (*)")
            if not chosen:
                return None
            path = Path(chosen)
            if not path.suffix:
                path = path.with_suffix(".csv")
        store, filters, total = self.store, self.model.filters, self.model.total

        def task(progress: Any, stop: Any) -> int | None:
            with SideReader(store, progress=progress, stop_event=stop, total=total) as reader:
                try:
                    return export_csv(reader, path, **filters.kwargs())  # type: ignore[arg-type]
                except StoppedError:
                    return None

        worker = Worker(task, "exporting results to CSV")
        self._export_job = worker
        self.export_button.setEnabled(False)
        self.export_label.setText(f"Exporting {total:,} results…")
        self.export_bar.setRange(0, 0)  # busy until the first rows are written
        self.export_row.show()

        def progress(done: int, of: int) -> None:
            if of > 0:
                self.export_bar.setRange(0, of)
                self.export_bar.setValue(done)

        def finished(rows: int) -> None:
            self.message_bar.show_info(f"Exported {rows:,} results to {path}.")
            self.export_finished.emit((path, rows))

        def ended() -> None:
            self._export_job = None
            self.export_row.hide()
            self.export_button.setEnabled(self.store is not None)

        worker.progress.connect(while_alive(self, progress))
        worker.finished.connect(while_alive(self, finished))
        worker.cancelled.connect(while_alive(self, lambda _r: self.message_bar.show_info(
            "Export cancelled; no file was written.")))
        worker.failed.connect(while_alive(self, self.show_error))
        worker.done.connect(while_alive(self, ended))
        worker.start()
        return worker

    def cancel_export(self) -> None:
        if self._export_job is not None:
            self._export_job.cancel()

    # ------------------------------------------------------------------ messages
    def show_error(self, message: str) -> None:
        self.message_bar.show_error(message)
        self.error_shown.emit(message)


def _period_stats(reader: SideReader, filters: Filters, shifts: dict[str, str],
                  now: float) -> dict[str, Any]:
    """What the page shows besides the table, for `filters`' period (runs in a worker)."""
    start, end = filters.start, filters.end if filters.end is not None else now
    if start is None:
        span = reader.time_span(None, filters.end)
        start = span[0] if span else end
    end = max(end, start)
    # the lists: no time bound where the period has none (an index scan, not a row lookup each)
    period = {"start": filters.start, "end": filters.end}
    unverdicted = filters.replace(verdicts=None).kwargs()
    result: dict[str, Any] = {
        "labels": reader.group_counts("label", **period),
        "operators": reader.group_counts("operator", **period),
        "models": reader.group_counts("model_version", **period),
        "verdicts": {str(k): n for k, n in reader.group_counts("verdict", **unverdicted).items()},
    }
    hour_start = max(start, end - MAX_HOURS * 3600.0)
    result["hours_cut"] = hour_start > start + 3600.0  # not for "Last 7 days" a second on
    result["hour_range"] = (hour_start, end)
    result["hours"] = (stats.yield_by_hour(reader, hour_start, end)  # type: ignore[arg-type]
                       if end > hour_start else [])
    shift_start = max(start, end - MAX_SHIFT_DAYS * 86_400.0)
    result["shifts_cut"] = shift_start > start + 3600.0
    try:
        # whole shifts: from the start of the one going on at the period's start
        earlier = stats.shift_ranges(shift_start - 2 * 86_400.0, shift_start + 1.0, shifts)
        first = max((lo for *_rest, lo, _hi in earlier if lo <= shift_start),
                    default=shift_start)
        result["shift_range"] = (first, end)
        result["shifts"] = stats.yield_by_shift(reader, first, end, shifts)  # type: ignore
    except ValueError:
        result["shift_range"] = None
        result["shifts"] = []
    return result

