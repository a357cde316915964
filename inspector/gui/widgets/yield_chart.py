"""Yield charts: one stacked bar per bucket (an hour, a shift) of PASS / FAIL / REVIEW counts,
with the yield (PASS share, %) drawn over them as a line on its own axis at the right.

Painted with QPainter, like CountChart and for the same reason: pyqtgraph costs ~0.75 s to
import and these bars need none of it. Colours are the Okabe-Ito ones (told apart with the
common colour-vision deficiencies); axes and text follow the palette (light and dark themes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetrics,
    QHelpEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QToolTip, QWidget

from inspector.gui.widgets.count_chart import nice_step

VERDICT_COLORS: dict[str, str] = {"PASS": "#009E73", "FAIL": "#D55E00", "REVIEW": "#E69F00"}
YIELD_COLOR_LIGHT = "#0072B2"
YIELD_COLOR_DARK = "#56B4E9"
MARGIN = 6
BAR_FILL = 0.75  # the share of a bucket's width its bar takes


def verdict_color(verdict: str) -> QColor:
    return QColor(VERDICT_COLORS.get(verdict, "#9E9E9E"))


def yield_of(passed: int, total: int) -> float | None:
    return None if total <= 0 else 100.0 * passed / total


class YieldChart(QWidget):
    """Give it the buckets with `set_buckets`; hover a bar for its figures."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(220, 150)
        self.setMouseTracking(True)
        self.labels: list[str] = []
        self.passed: list[int] = []
        self.failed: list[int] = []
        self.review: list[int] = []
        self.details: list[str] = []
        self.empty_text = "No results in this period"

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(480, 200)

    def set_buckets(self, labels: Sequence[str], passed: Sequence[int], failed: Sequence[int],
                    review: Sequence[int], details: Sequence[str] | None = None) -> None:
        """One bucket per label; `details` are the tooltips' headings (default: the labels)."""
        n = len(labels)
        if not len(passed) == len(failed) == len(review) == n:
            raise ValueError("labels and counts must have the same length")
        self.labels = [str(label) for label in labels]
        self.passed = [int(v) for v in passed]
        self.failed = [int(v) for v in failed]
        self.review = [int(v) for v in review]
        self.details = list(details) if details is not None else list(self.labels)
        self.update()

    def clear(self, text: str | None = None) -> None:
        if text is not None:
            self.empty_text = text
        self.set_buckets([], [], [], [])

    @property
    def totals(self) -> list[int]:
        return [p + f + r for p, f, r in zip(self.passed, self.failed, self.review, strict=True)]

    @property
    def yields(self) -> list[float | None]:
        return [yield_of(p, t) for p, t in zip(self.passed, self.totals, strict=True)]

    def tooltip_for(self, index: int) -> str:
        total = self.totals[index]
        if not total:
            return f"{self.details[index]}: no results"
        pct = self.yields[index]
        return (f"{self.details[index]}: {total:,} inspected · {self.passed[index]:,} pass · "
                f"{self.failed[index]:,} fail · {self.review[index]:,} review · "
                f"yield {pct:.1f} %")

    # ------------------------------------------------------------------ geometry
    def _yield_range(self) -> tuple[float, float, float]:
        """(low, high, step) of the yield axis: 100 % at the top, low just under the lowest."""
        values = [v for v in self.yields if v is not None]
        lowest = min(values, default=100.0)
        for step in (1.0, 2.0, 5.0, 10.0, 20.0):
            low = max(0.0, step * math.floor((lowest - step / 2) / step))
            if (100.0 - low) / step <= 5:
                return low, 100.0, step
        return 0.0, 100.0, 25.0

    def _plot_rect(self) -> QRectF:
        metrics = QFontMetrics(self.font())
        left = metrics.horizontalAdvance(f"{max(self.totals, default=0):,}") + 10
        right = metrics.horizontalAdvance("100 %") + 10
        top = metrics.height() + 8  # the legend
        bottom = metrics.height() + 6  # the bucket labels
        return QRectF(self.rect()).adjusted(MARGIN + left, MARGIN + top, -MARGIN - right,
                                            -MARGIN - bottom)

    def bar_at(self, x: float) -> int | None:
        if not self.labels:
            return None
        plot = self._plot_rect()
        if not plot.left() <= x < plot.right():
            return None
        return min(int((x - plot.left()) / (plot.width() / len(self.labels))),
                   len(self.labels) - 1)

    def event(self, event) -> bool:  # type: ignore[override]
        if isinstance(event, QHelpEvent):
            index = self.bar_at(event.pos().x())
            if index is not None:
                QToolTip.showText(event.globalPos(), self.tooltip_for(index), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        grid = palette.color(QPalette.ColorRole.Mid)
        dark = base.lightness() < 128
        line_color = QColor(YIELD_COLOR_DARK if dark else YIELD_COLOR_LIGHT)
        painter.fillRect(self.rect(), base)
        totals = self.totals
        if not any(totals):
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            painter.end()
            return
        metrics = QFontMetrics(self.font())
        plot = self._plot_rect()
        n = len(self.labels)
        slot = plot.width() / n
        step = nice_step(max(totals) / 4)
        top_count = max(step * math.ceil(max(totals) / step), 1)
        low, high, yield_step = self._yield_range()

        def y_count(value: float) -> float:
            return plot.bottom() - plot.height() * value / top_count

        def y_yield(value: float) -> float:
            return plot.bottom() - plot.height() * (value - low) / (high - low)

        # grid and the left axis (items)
        value = 0
        while value <= top_count:
            y = y_count(value)
            painter.setPen(QPen(grid, 1, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text)
            painter.drawText(QRectF(MARGIN, y - metrics.height() / 2, plot.left() - MARGIN - 4,
                                    metrics.height()),
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                             f"{value:,}")
            value += step
        # the right axis (yield %)
        painter.setPen(line_color)
        value_f = low
        while value_f <= high + 1e-9:
            y = y_yield(value_f)
            painter.drawText(QRectF(plot.right() + 4, y - metrics.height() / 2, 200,
                                    metrics.height()),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             f"{value_f:.0f} %")
            value_f += yield_step

        # the bars
        width = max(1.0, slot * BAR_FILL)
        for i in range(n):
            x = plot.left() + slot * i + (slot - width) / 2
            bottom = 0
            for count, verdict in ((self.passed[i], "PASS"), (self.review[i], "REVIEW"),
                                   (self.failed[i], "FAIL")):
                if count:
                    rect = QRectF(x, y_count(bottom + count), width,
                                  y_count(bottom) - y_count(bottom + count))
                    painter.fillRect(rect, verdict_color(verdict))
                    bottom += count

        # the yield line, broken where a bucket is empty
        path = QPainterPath()
        drawing = False
        points = []
        for i, pct in enumerate(self.yields):
            if pct is None:
                drawing = False
                continue
            point = QPointF(plot.left() + slot * (i + 0.5), y_yield(pct))
            points.append(point)
            if drawing:
                path.lineTo(point)
            else:
                path.moveTo(point)
                drawing = True
        painter.setPen(QPen(line_color, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        if slot >= 6:
            painter.setBrush(QBrush(line_color))
            radius = min(3.0, slot / 4)
            for point in points:
                painter.drawEllipse(point, radius, radius)
        # yield figures above the points when there is room for them
        label_width = metrics.horizontalAdvance("100.0 %") + 4
        if slot >= label_width:
            halo = QColor(base)
            halo.setAlpha(200)
            for i, pct in enumerate(self.yields):
                if pct is None:
                    continue
                text_pct = f"{pct:.1f} %"
                y = max(plot.top() + metrics.height(), y_yield(pct) - 6)
                box = QRectF(0, 0, metrics.horizontalAdvance(text_pct) + 6, metrics.height())
                box.moveCenter(QPointF(plot.left() + slot * (i + 0.5), y - metrics.height() / 2))
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(halo)
                painter.drawRoundedRect(box, 3, 3)
                painter.setPen(line_color)
                painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text_pct)

        # axis line and the bucket labels, as many as fit
        painter.setPen(QPen(text, 1))
        painter.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(),
                                                                      plot.bottom()))
        widest = max(metrics.horizontalAdvance(label) for label in self.labels) + 10
        every = max(1, math.ceil(widest / slot))
        for i in range(0, n, every):
            rect = QRectF(plot.left() + slot * (i + 0.5) - widest / 2, plot.bottom() + 3, widest,
                          metrics.height())
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
                             self.labels[i])
        self._paint_legend(painter, metrics, text, line_color)
        painter.end()

    def _paint_legend(self, painter: QPainter, metrics: QFontMetrics, text: QColor,
                      line_color: QColor) -> None:
        x = float(MARGIN)
        y = float(MARGIN)
        box = metrics.ascent() - 2
        for verdict in ("PASS", "REVIEW", "FAIL"):
            painter.fillRect(QRectF(x, y + 2, box, box), verdict_color(verdict))
            x += box + 4
            painter.setPen(text)
            painter.drawText(QPointF(x, y + metrics.ascent()), verdict.lower())
            x += metrics.horizontalAdvance(verdict.lower()) + 12
        painter.setPen(QPen(line_color, 2))
        middle = y + 2 + box / 2
        painter.drawLine(QPointF(x, middle), QPointF(x + 16, middle))
        x += 20
        painter.setPen(line_color)
        painter.drawText(QPointF(x, y + metrics.ascent()), "yield %")
