"""A table model over the results store that stays fast at a million rows.

Rows come from a `Pager` (inspector.core.results.paging): pages of 256 rows read on demand into
an LRU cache of 64 pages (16,384 rows at most held), each page read from the nearest known key
(keyset pagination) or from either end of the table; the table is never read whole.

rowCount is the COUNT(*) of the filtered rows, taken when the filters are set, rather than
canFetchMore/fetchMore. With fetchMore the view knows only the rows fetched so far: its scroll
bar misstates the size and changes under the user's hand, and reaching the oldest of a million
rows means fetching, and keeping, every row above it. The count is cheap enough (measured at
1,000,000 rows, bench/bench_results_table.py: 12-22 ms unfiltered, 1-17 ms with one narrow
filter, 0.3-0.5 s at worst for two filters that each match most rows; the Results page runs it
in a worker and hands the model the result as a `Snapshot`), and with it the scroll bar is
true and a jump to any row costs one page read (row 999,000: 3-8 ms, read from the end; the
middle: 11-30 ms).

The row set is frozen at each reset, so rows the live loop writes meanwhile do not shift the
rows on screen; `refresh()` (cheap when nothing was written: two pragmas) then inserts them at
the top, where they belong newest first, with beginInsertRows: the view keeps its selection.

No cv2 or torch here: rows are plain data, snapshots are not read by the model.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont

from inspector.core.results import InspectionResult, ResultsError, ResultsStore
from inspector.core.results.paging import Change, Filters, Pager, Snapshot
from inspector.gui.widgets.yield_chart import VERDICT_COLORS

log = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex

COLUMNS: tuple[str, ...] = ("Time", "Verdict", "Class", "Confidence", "Operator", "Decision",
                            "Model version", "Source", "ID")
(TIME, VERDICT, CLASS, CONFIDENCE, OPERATOR, DECISION, MODEL, SOURCE, ID) = range(len(COLUMNS))
RESULT_ROLE = Qt.ItemDataRole.UserRole + 1  # the InspectionResult of the row
ID_ROLE = Qt.ItemDataRole.UserRole + 2  # its id
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
VERDICT_TINT_ALPHA = 80  # the verdict cell's background: the verdict colour, see-through

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def local_time(t: float | None) -> str:
    """A UTC epoch time as local "YYYY-MM-DD HH:MM:SS" ("" for None)."""
    return "" if t is None else datetime.fromtimestamp(t).strftime(TIME_FORMAT)


def display_text(result: InspectionResult, column: int) -> str:
    if column == TIME:
        return local_time(result.time)
    if column == VERDICT:
        return result.verdict
    if column == CLASS:
        return result.label
    if column == CONFIDENCE:
        return f"{100.0 * result.confidence:.1f} %"
    if column == OPERATOR:
        return result.operator or ""
    if column == DECISION:  # the class the operator gave: the model's (confirmed) or another
        if not result.decision:
            return ""
        return "confirmed" if result.decision == result.label else f"→ {result.decision}"
    if column == MODEL:
        return result.model_version
    if column == SOURCE:
        return result.source
    if column == ID:
        return str(result.id)
    return ""


class ResultsTableModel(QAbstractTableModel):
    """The results matching `filters`, newest first. Set a store with `set_store`.

    A read that fails (the database locked or damaged, the store closed) shows empty cells and
    emits `error` once with a message for the user, until the next reset."""

    error = Signal(str)
    refreshed = Signal(object)  # the Change of a refresh() that found something

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._store: ResultsStore | None = None
        self._filters = Filters()
        self._pager: Pager | None = None
        self._rows = 0
        self._failed = False
        self._reload_queued = False
        self._bold = QFont()
        self._bold.setBold(True)
        self._tints = {verdict: QColor(color) for verdict, color in VERDICT_COLORS.items()}
        for tint in self._tints.values():
            tint.setAlpha(VERDICT_TINT_ALPHA)

    # ------------------------------------------------------------------ what is shown
    @property
    def store(self) -> ResultsStore | None:
        return self._store

    @property
    def filters(self) -> Filters:
        return self._filters

    @property
    def pager(self) -> Pager | None:
        return self._pager

    @property
    def total(self) -> int:
        return self._rows

    def set_store(self, store: ResultsStore | None, filters: Filters | None = None,
                  snapshot: Snapshot | None = None) -> None:
        """Show `store`'s rows matching `filters` (default: the current ones), counted here or
        given as `snapshot` (counted for them in a worker: `Pager(SideReader, filters)`)."""
        self._store = store
        if filters is not None:
            self._filters = filters
        self.reload(snapshot)

    def set_filters(self, filters: Filters, snapshot: Snapshot | None = None) -> None:
        self._filters = filters
        self.reload(snapshot)

    def reload(self, snapshot: Snapshot | None = None) -> None:
        """Count the matching rows again (or take `snapshot`) and forget every page read."""
        self.beginResetModel()
        self._failed = False
        pager = self._pager
        try:
            if self._store is None:
                self._pager = None
            elif pager is not None and pager.source is self._store:
                pager.set_filters(self._filters, snapshot)
            else:
                self._pager = Pager(self._store, self._filters, snapshot=snapshot)
        except ResultsError as exc:
            self._pager = None
            self._report(str(exc))
        self._rows = self._pager.total if self._pager is not None else 0
        self.endResetModel()

    def refresh(self) -> Change:
        """Take in what the live loop wrote since the last look (cheap when nothing was)."""
        pager = self._pager
        if pager is None:
            return Change("none")
        try:
            change = pager.refresh()
        except ResultsError as exc:
            self._report(str(exc))
            return Change("none")
        if change.kind == "inserted":
            self.beginInsertRows(QModelIndex(), change.at, change.at + change.count - 1)
            self._rows = pager.total
            self.endInsertRows()
            self._changed_all()
        elif change.kind == "reloaded":
            self.beginResetModel()
            self._rows = pager.total
            self.endResetModel()
        elif change.kind == "updated":
            self._changed_all()
        if change.kind != "none":
            self.refreshed.emit(change)
        return change

    def result_at(self, row: int) -> InspectionResult | None:
        if self._pager is None or not 0 <= row < self._rows:
            return None
        try:
            result = self._pager.row(row)
        except ResultsError as exc:
            self._report(str(exc))
            return None
        if self._pager.stale and not self._reload_queued:
            self._reload_queued = True  # rows went since the count: recount, after this paint
            QTimer.singleShot(0, self._queued_reload)
        return result

    def row_of_id(self, id: int) -> int | None:
        """The row of result `id` among those shown, None when it is not one of them."""
        if self._pager is None:
            return None
        try:
            return self._pager.row_of(id)
        except ResultsError as exc:
            self._report(str(exc))
            return None

    # ------------------------------------------------------------------ Qt model
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(_RIGHT if section in (CONFIDENCE, ID) else _LEFT)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(_RIGHT if index.column() in (CONFIDENCE, ID) else _LEFT)
        if role not in _ROLES:
            return None
        result = self.result_at(index.row())
        if result is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return display_text(result, column)
        if role == RESULT_ROLE:
            return result
        if role == ID_ROLE:
            return result.id
        if column == VERDICT:
            if role == Qt.ItemDataRole.BackgroundRole:
                return self._tints.get(result.verdict)
            if role == Qt.ItemDataRole.FontRole:
                return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(result, column)
        return None

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _tooltip(result: InspectionResult, column: int) -> str | None:
        if column == TIME:
            return datetime.fromtimestamp(result.time).astimezone().isoformat(
                timespec="milliseconds")
        if column in (OPERATOR, DECISION) and result.decided_at is not None:
            return f"{result.decision} by {result.operator} at {local_time(result.decided_at)}"
        return None

    def _changed_all(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(self._rows - 1, len(COLUMNS) - 1))

    def _queued_reload(self) -> None:
        self._reload_queued = False
        self.reload()

    def _report(self, message: str) -> None:
        if not self._failed:
            self._failed = True
            log.warning("results table: %s", message)
            self.error.emit(message)


_ROLES = frozenset({Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.BackgroundRole,
                    Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ToolTipRole, RESULT_ROLE,
                    ID_ROLE})
