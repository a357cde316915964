"""A confusion matrix as a heat map: counts in the cells, colour by the fraction of the row.

Rows are true classes and columns predicted classes (as in the evaluation report's PNG, with
the same colour scale). It is a QTableView, so arrow keys move between cells; a click, Enter
or Return on a cell emits `cell_activated(true_index, predicted_index)`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

Index = QModelIndex | QPersistentModelIndex
FRACTION_ROLE = Qt.ItemDataRole.UserRole + 1

# matplotlib's "Blues" at 0, 0.25, 0.5, 0.75 and 1: the report's PNG uses the same scale.
_BLUES = np.array([(247, 251, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181),
                   (8, 48, 107)], dtype=np.float64)


def blues(fraction: float) -> QColor:
    """The colour of a fraction in [0, 1] on the Blues scale."""
    position = float(np.clip(fraction, 0.0, 1.0)) * (len(_BLUES) - 1)
    low = int(np.floor(position))
    high = min(low + 1, len(_BLUES) - 1)
    r, g, b = _BLUES[low] + (_BLUES[high] - _BLUES[low]) * (position - low)
    return QColor(round(r), round(g), round(b))


COMPACT_ABOVE = 4  # with more classes, columns are headed by the class's number


class ConfusionModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.classes: list[str] = []
        self.counts = np.zeros((0, 0), np.int64)
        self.fractions = np.zeros((0, 0))

    def set_matrix(self, counts: np.ndarray | None, classes: list[str]) -> None:
        self.beginResetModel()
        self.classes = list(classes)
        n = len(self.classes)
        self.counts = (np.zeros((n, n), np.int64) if counts is None
                       else np.asarray(counts, np.int64).reshape(n, n).copy())
        rows = self.counts.sum(axis=1, keepdims=True)
        self.fractions = np.divide(self.counts, rows, out=np.zeros(self.counts.shape),
                                   where=rows > 0)
        self.endResetModel()

    @property
    def compact(self) -> bool:
        return len(self.classes) > COMPACT_ABOVE

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.classes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.classes)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.classes):
            if not self.compact:
                return self.classes[section]
            # Numbered (the same numbers as the relabel keys), so eight or more classes fit
            # side by side; the full name is in the row header and the tooltip.
            if orientation == Qt.Orientation.Horizontal:
                return str(section + 1)
            return f"{self.classes[section]}  {section + 1}"
        if role == Qt.ItemDataRole.ToolTipRole and 0 <= section < len(self.classes):
            kind = "Predicted" if orientation == Qt.Orientation.Horizontal else "True"
            return f"{kind} class: {self.classes[section]}"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        t, p = index.row(), index.column()
        count = int(self.counts[t, p])
        fraction = float(self.fractions[t, p])
        if role == Qt.ItemDataRole.DisplayRole:
            return str(count)
        if role == FRACTION_ROLE:
            return fraction
        if role == Qt.ItemDataRole.BackgroundRole:
            return blues(fraction)
        if role == Qt.ItemDataRole.ForegroundRole:
            if count == 0:
                return QColor("#9E9E9E")
            return QColor("white") if fraction > 0.55 else QColor("black")
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.FontRole and t == p:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            verb = "correctly predicted" if t == p else f"predicted as {self.classes[p]}"
            return (f"{count} {self.classes[t]} image{'s' if count != 1 else ''} {verb} "
                    f"({fraction:.0%} of {self.classes[t]}).\nClick or press Enter to see them.")
        return None


class ConfusionMatrixView(QTableView):
    """The heat map. `cell_activated(true, predicted)` on click, Enter or Return."""

    cell_activated = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix = ConfusionModel(self)
        self.setModel(self.matrix)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)
        self.setCornerButtonEnabled(False)
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            header.setHighlightSections(True)
        self.verticalHeader().setDefaultSectionSize(36)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        self.verticalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignRight
                                                  | Qt.AlignmentFlag.AlignVCenter)
        self.clicked.connect(self._emit)
        self.setToolTip("Rows: true class · columns: predicted class. Arrow keys move, Enter "
                        "opens the images of a cell.")

    def set_matrix(self, counts: np.ndarray | None, classes: list[str]) -> None:
        current = self.currentIndex()
        self.matrix.set_matrix(counts, classes)
        # Columns as wide as the longest class name (within reason), so every name is readable.
        metrics = self.horizontalHeader().fontMetrics()
        longest = max((metrics.horizontalAdvance(c) for c in classes), default=40)
        width = 42 if self.matrix.compact else max(52, min(150, longest + 16))
        self.horizontalHeader().setDefaultSectionSize(width)
        if current.isValid() and current.row() < len(classes):
            self.setCurrentIndex(self.matrix.index(current.row(), current.column()))

    def count(self, true_index: int, predicted_index: int) -> int:
        return int(self.matrix.counts[true_index, predicted_index])

    def total(self) -> int:
        return int(self.matrix.counts.sum())

    def visual_center(self, true_index: int, predicted_index: int) -> Any:
        """Where a cell is drawn, in viewport coordinates (for tests and tooltips)."""
        return self.visualRect(self.matrix.index(true_index, predicted_index)).center()

    def _emit(self, index: QModelIndex) -> None:
        if index.isValid():
            self.cell_activated.emit(index.row(), index.column())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._emit(self.currentIndex())
            event.accept()
            return
        super().keyPressEvent(event)


class ConfusionMatrixWidget(QWidget):
    """The view with its axis titles."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ConfusionMatrixView()
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        predicted = QLabel("Predicted class →")
        predicted.setAlignment(Qt.AlignmentFlag.AlignCenter)
        true = QLabel("Rows: true class ↓")
        for label in (predicted, true):
            font = label.font()
            font.setItalic(True)
            label.setFont(font)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(predicted)
        layout.addWidget(self.view, 1)
        layout.addWidget(true)
        self.setFocusProxy(self.view)
