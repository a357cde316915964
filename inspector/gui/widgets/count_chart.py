"""A horizontal stacked bar chart of image counts per class, painted with QPainter.

Painted rather than built on pyqtgraph: importing pyqtgraph costs about 0.75 s (it pulls in
cuda.bindings for its GPU image path), which the window would pay at start-up for a chart this
simple. Colours come from the palette, so the chart follows the light and dark themes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from inspector.gui.widgets.split_bar import color_of

BAR_FILL = 0.65  # the share of a row's height a bar takes
MARGIN = 8


class CountChart(QWidget):
    """One bar per class (top to bottom), divided into segments, one per series (split)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(160, 140)
        self.setMouseTracking(True)
        self.labels: list[str] = []
        self.totals: list[int] = []
        self._series: dict[str, list[int]] = {}

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(320, 220)

    def set_counts(self, labels: Sequence[str], series: Mapping[str, Sequence[int]]) -> None:
        """`series` maps a segment name (its colour comes from split_bar) to counts per label."""
        self.labels = list(labels)
        n = len(self.labels)
        self._series = {name: [int(v) for v in values] for name, values in series.items()}
        self.totals = [sum(values[i] for values in self._series.values()) for i in range(n)]
        self.update()

    @staticmethod
    def _short(label: str, limit: int = 18) -> str:
        return label if len(label) <= limit else label[: limit - 1] + "…"

    def tooltip_for(self, row: int) -> str:
        parts = [f"{name} {values[row]}" for name, values in self._series.items() if values[row]]
        detail = f" ({', '.join(parts)})" if parts else ""
        return f"{self.labels[row]}: {self.totals[row]} images{detail}"

    # ------------------------------------------------------------------ geometry
    def _layout(self) -> tuple[QRectF, float, int]:
        """The plot area, the height of one row, and the axis step."""
        metrics = QFontMetrics(self.font())
        label_width = max((metrics.horizontalAdvance(self._short(t)) for t in self.labels),
                          default=0)
        plot = QRectF(self.rect()).adjusted(MARGIN + label_width + 6, MARGIN, -MARGIN - 4,
                                            -MARGIN - metrics.height() * 2 - 4)
        row = plot.height() / max(len(self.labels), 1)
        return plot, row, nice_step(max(self.totals, default=0) / 5)

    def row_at(self, y: float) -> int | None:
        plot, row, _ = self._layout()
        if not self.labels or not plot.top() <= y < plot.bottom():
            return None
        return min(int((y - plot.top()) / row), len(self.labels) - 1)

    def event(self, event) -> bool:  # type: ignore[override]
        if isinstance(event, QHelpEvent):
            row = self.row_at(event.pos().y())
            if row is not None:
                QToolTip.showText(event.globalPos(), self.tooltip_for(row), self)
            else:
                QToolTip.showText(event.globalPos(), self.toolTip(), self)
            return True
        return super().event(event)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        grid = palette.color(QPalette.ColorRole.Mid)
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        top = max(self.totals, default=0)
        if top == 0:
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no images yet")
            return
        plot, row, step = self._layout()
        scale_max = max(top, 1) * 1.05
        metrics = QFontMetrics(self.font())

        def x_of(value: float) -> float:
            return plot.left() + plot.width() * value / scale_max

        # vertical grid and the axis numbers
        painter.setPen(QPen(grid, 1, Qt.PenStyle.DotLine))
        value = 0
        while value <= scale_max:
            x = x_of(value)
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            painter.setPen(text)
            label = str(value)
            painter.drawText(QPointF(x - metrics.horizontalAdvance(label) / 2,
                                     plot.bottom() + metrics.ascent() + 3), label)
            painter.setPen(QPen(grid, 1, Qt.PenStyle.DotLine))
            value += step
        painter.setPen(text)
        caption = "images"
        painter.drawText(QPointF(plot.center().x() - metrics.horizontalAdvance(caption) / 2,
                                 plot.bottom() + metrics.height() + metrics.ascent() + 3),
                         caption)

        # the bars, and the class names to their left
        height = row * BAR_FILL
        for i, label in enumerate(self.labels):
            y = plot.top() + row * i + (row - height) / 2
            left = 0.0
            for name, values in self._series.items():
                if not values[i]:
                    continue
                rect = QRectF(x_of(left), y, x_of(left + values[i]) - x_of(left), height)
                painter.fillRect(rect, color_of(name))
                left += values[i]
            short = self._short(label)
            painter.setPen(text)
            painter.drawText(QRectF(MARGIN, plot.top() + row * i, plot.left() - MARGIN - 6, row),
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                             short)
        painter.setPen(QPen(text, 1))
        painter.drawLine(QPointF(plot.left(), plot.top()), QPointF(plot.left(), plot.bottom()))


def nice_step(rough: float) -> int:
    """The whole number among 1, 2, 5, 10, 20, 50, ... nearest above `rough` (axis ticks)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= rough:
                return step * factor
        step *= 10
