"""A stacked bar of split counts, drawn in a table cell, and the legend that explains it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
SPLIT_COLORS: dict[str, str] = {
    "train": "#0072B2",
    "val": "#E69F00",
    "test": "#009E73",
    "unassigned": "#9E9E9E",
}

# The model returns, for this role, a sequence of (name, count) pairs in drawing order.
SPLIT_COUNTS_ROLE = Qt.ItemDataRole.UserRole + 1

Index = QModelIndex | QPersistentModelIndex


def color_of(name: str) -> QColor:
    return QColor(SPLIT_COLORS.get(name, "#607D8B"))


def describe_counts(parts: Sequence[tuple[str, int]]) -> str:
    total = sum(count for _, count in parts)
    if not total:
        return "no images"
    return " · ".join(f"{name} {count} ({100 * count / total:.0f}%)" for name, count in parts
                      if count)


class SplitBarDelegate(QStyledItemDelegate):
    """Paints the cell's SPLIT_COUNTS_ROLE data as one bar divided in proportion to the counts."""

    MARGIN = 4

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        parts = index.data(SPLIT_COUNTS_ROLE)
        if not parts:
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget else None
        if style is not None:  # selection background, focus and so on
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter,
                                option.widget)
        rect: QRect = option.rect.adjusted(self.MARGIN, self.MARGIN + 2, -self.MARGIN,
                                           -self.MARGIN - 2)
        total = sum(count for _, count in parts)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if total == 0:
            painter.setPen(QPen(QColor("#BDBDBD"), 1, Qt.PenStyle.DashLine))
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
        else:
            x = rect.left()
            remaining = rect.width()
            shown = [(name, count) for name, count in parts if count > 0]
            for i, (name, count) in enumerate(shown):
                width = remaining if i == len(shown) - 1 else round(rect.width() * count / total)
                width = min(width, remaining)
                painter.fillRect(QRect(x, rect.top(), width, rect.height()), color_of(name))
                x += width
                remaining -= width
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        return QSize(140, max(22, option.fontMetrics.height() + 8))


class SplitLegend(QWidget):
    """A row of colour swatches with names: which colour is which split."""

    def __init__(self, names: Sequence[str] = tuple(SPLIT_COLORS),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        for name in names:
            swatch = QLabel()
            swatch.setFixedSize(12, 12)
            swatch.setStyleSheet(f"background: {SPLIT_COLORS.get(name, '#607D8B')};"
                                 "border-radius: 2px;")
            text = QLabel(name)
            pair = QHBoxLayout()
            pair.setSpacing(4)
            pair.addWidget(swatch)
            pair.addWidget(text)
            layout.addLayout(pair)
        layout.addStretch(1)


def split_parts(counts: Mapping[str, int], order: Sequence[str]) -> list[tuple[str, int]]:
    return [(name, int(counts.get(name, 0))) for name in order]
