"""A horizontal stacked bar chart of image counts per class (pyqtgraph)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QWidget

from inspector.gui.widgets.split_bar import color_of

TEXT_COLOR = "#424242"


class CountChart(pg.PlotWidget):
    """One bar per class (top to bottom), divided into segments, one per series (split)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setMinimumSize(160, 140)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.invertY(True)
        item.showGrid(x=True, y=False, alpha=0.25)
        item.setLabel("bottom", "images")
        font = QFont(self.font())
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(TEXT_COLOR))
            axis.setTextPen(pg.mkPen(TEXT_COLOR))
            axis.setStyle(tickFont=font)
        item.getAxis("bottom").label.setDefaultTextColor(QColor(TEXT_COLOR))
        self._bars: list[pg.BarGraphItem] = []
        self.labels: list[str] = []
        self.totals: list[int] = []
        self._empty = pg.TextItem("no images yet", color=TEXT_COLOR, anchor=(0.5, 0.5))
        self.addItem(self._empty)
        self.set_counts([], {})

    def set_counts(self, labels: Sequence[str], series: Mapping[str, Sequence[int]]) -> None:
        """`series` maps a segment name (its colour comes from split_bar) to counts per label."""
        item = self.getPlotItem()
        for bar in self._bars:
            item.removeItem(bar)
        self._bars = []
        self.labels = list(labels)
        n = len(self.labels)
        self.totals = [sum(int(values[i]) for values in series.values()) for i in range(n)]
        left = [0.0] * n
        for name, values in series.items():
            widths = [float(v) for v in values]
            if not any(widths):
                continue
            bar = pg.BarGraphItem(x0=list(left), y=list(range(n)), width=widths, height=0.65,
                                  brush=color_of(name), pen=pg.mkPen(None))
            item.addItem(bar)
            self._bars.append(bar)
            left = [a + b for a, b in zip(left, widths, strict=True)]
        ticks = [(i, self._short(label)) for i, label in enumerate(self.labels)]
        left_axis = item.getAxis("left")
        left_axis.setTicks([ticks, []])
        # Size the axis for its labels now: it would otherwise widen only after a repaint.
        metrics = QFontMetrics(self.font())
        widest = max((metrics.horizontalAdvance(text) for _, text in ticks), default=0)
        left_axis.setWidth(max(30, widest + 16))
        top = max(self.totals, default=0)
        item.setYRange(-0.6, max(n, 1) - 0.4, padding=0)
        item.setXRange(0, max(top, 1) * 1.05, padding=0)
        step = nice_step(top / 5)
        item.getAxis("bottom").setTickSpacing(step, step / 2 if step >= 2 else step)
        item.showAxis("bottom", top > 0)
        item.showAxis("left", n > 0)
        item.showGrid(x=top > 0, y=False, alpha=0.25)
        self._empty.setVisible(top == 0)
        self._empty.setPos(max(top, 1) * 0.525, (max(n, 1) - 1) / 2)

    @staticmethod
    def _short(label: str, limit: int = 18) -> str:
        return label if len(label) <= limit else label[: limit - 1] + "…"

    def tooltip_for(self, row: int) -> str:
        return f"{self.labels[row]}: {self.totals[row]} images"


def nice_step(rough: float) -> int:
    """The whole number among 1, 2, 5, 10, 20, 50, ... nearest above `rough` (axis ticks)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= rough:
                return step * factor
        step *= 10
