"""Training curves: loss, accuracy, validation macro-F1 and learning rate, against epochs.

Points are appended as reports arrive and drawn at most a few times a second (one timer), so a
fast GPU run that reports every batch costs the event loop one redraw per interval, not one per
batch. A redraw is spread over the event loop one plot at a time, and the epoch axis is fixed to
the run's length (`set_epochs`), so adding points never rescales all four plots at once: the
longest event-loop pass stays at one plot's paint (a quarter of the four, which took 60-100 ms
on a 2-core machine busy training). Per-batch points (training loss, learning rate) sit at
fractional epochs, e.g. 2.5 for the middle of the third epoch, on the same axis as the per-epoch
points.

pyqtgraph is imported when this module is: import it from a page's build step, not at start-up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

REDRAW_MS = 500
PLOT_GAP_MS = 15  # between the plots of one redraw: each gets its own paint
TRAIN_COLOUR = "#1E88E5"
VAL_COLOUR = "#E53935"
STEP_COLOUR = "#90CAF9"
F1_COLOUR = "#43A047"
LR_COLOUR = "#8E24AA"


class _Series:
    """x and y of one curve, drawn by `flush`."""

    def __init__(self, item: pg.PlotDataItem) -> None:
        self.item = item
        self.x: list[float] = []
        self.y: list[float] = []
        self.dirty = False

    def add(self, x: float, y: float) -> None:
        if y is not None and math.isfinite(y):
            self.x.append(x)
            self.y.append(y)
            self.dirty = True

    def clear(self) -> None:
        self.dirty = self.dirty or bool(self.x)
        self.x.clear()
        self.y.clear()

    def draw(self) -> None:
        """Hand the points to pyqtgraph, only when they changed: each setData repaints its plot."""
        if self.dirty:
            self.item.setData(np.asarray(self.x, dtype=float), np.asarray(self.y, dtype=float))
            self.dirty = False


class TrainingCurves(QWidget):
    """Four plots in a 2 x 2 grid sharing the epoch axis."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        palette = self.palette()
        background = palette.base().color()
        foreground = palette.text().color()
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(background)
        self.view.setMinimumHeight(240)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

        self.loss_plot = self._plot("Loss", 0, 0, foreground)
        self.accuracy_plot = self._plot("Accuracy", 0, 1, foreground)
        self.f1_plot = self._plot("Validation macro-F1", 1, 0, foreground)
        self.lr_plot = self._plot("Learning rate", 1, 1, foreground)
        for plot in (self.accuracy_plot, self.f1_plot):
            plot.setYRange(0.0, 1.0, padding=0.02)
            plot.getViewBox().setLimits(yMin=-0.05, yMax=1.05)
        # linear, not log: pyqtgraph's log axis crowds its labels at this height
        self.lr_plot.getAxis("left").enableAutoSIPrefix(False)
        self._plots = [self.loss_plot, self.accuracy_plot, self.f1_plot, self.lr_plot]
        self._epochs = 0

        def line(plot: pg.PlotItem, colour: str, name: str, width: float = 2,
                 symbol: str | None = "o") -> _Series:
            pen = pg.mkPen(colour, width=width)
            item = plot.plot([], [], pen=pen, name=name, symbol=symbol, symbolSize=6,
                             symbolBrush=colour, symbolPen=colour)
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="mean")
            return _Series(item)

        self.step_loss = line(self.loss_plot, STEP_COLOUR, "train (per batch)", 1, None)
        self.train_loss = line(self.loss_plot, TRAIN_COLOUR, "train")
        self.val_loss = line(self.loss_plot, VAL_COLOUR, "validation")
        self.train_accuracy = line(self.accuracy_plot, TRAIN_COLOUR, "train")
        self.val_accuracy = line(self.accuracy_plot, VAL_COLOUR, "validation")
        self.val_f1 = line(self.f1_plot, F1_COLOUR, "validation")
        self.step_lr = line(self.lr_plot, LR_COLOUR, "per batch", 1.5, None)
        self.epoch_lr = line(self.lr_plot, LR_COLOUR, "end of epoch", 1, "o")
        self._series = [self.step_loss, self.train_loss, self.val_loss, self.train_accuracy,
                        self.val_accuracy, self.val_f1, self.step_lr, self.epoch_lr]
        self._plot_series = [[self.step_loss, self.train_loss, self.val_loss],
                             [self.train_accuracy, self.val_accuracy], [self.val_f1],
                             [self.step_lr, self.epoch_lr]]
        self._pending: list[int] = []  # plots still to draw in this redraw
        self._epochs_seen: set[int] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._draw_next)
        self.redraws = 0  # for tests and diagnostics

    def _plot(self, title: str, row: int, column: int, foreground: QColor) -> pg.PlotItem:
        plot = self.view.addPlot(row=row, col=column)
        plot.setTitle(title, color=foreground, size="10pt")
        # no grid: its translucent lines doubled the cost of a redraw (software rendering)
        plot.setLabel("bottom", "epoch")
        plot.setMenuEnabled(False)
        plot.addLegend(offset=(-8, 8), labelTextColor=foreground, labelTextSize="8pt")
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(foreground)
            axis.setTextPen(foreground)
        return plot

    def set_epochs(self, epochs: int) -> None:
        """Fix the epoch axis of every plot to 0..epochs (a run's length)."""
        epochs = max(1, int(epochs))
        if epochs != self._epochs:
            self._epochs = epochs
            for plot in self._plots:
                plot.setXRange(0, epochs, padding=0.02)
                plot.getViewBox().enableAutoRange(x=False)

    # -- data
    def add_step(self, x: float, loss: float, lr: float | None = None) -> None:
        """One training batch at fractional epoch `x` (0.5: halfway through the first)."""
        self.step_loss.add(x, loss)
        if lr is not None and lr > 0:
            self.step_lr.add(x, lr)
        self._schedule()

    def add_epoch(self, epoch: float, *, loss: float = math.nan, accuracy: float = math.nan,
                  val_loss: float = math.nan, val_accuracy: float = math.nan,
                  val_macro_f1: float = math.nan, lr: float = math.nan) -> None:
        """The summary of a finished epoch (1 for the first); a repeated epoch is ignored."""
        if int(epoch) in self._epochs_seen:
            return
        self._epochs_seen.add(int(epoch))
        self.train_loss.add(epoch, loss)
        self.val_loss.add(epoch, val_loss)
        self.train_accuracy.add(epoch, accuracy)
        self.val_accuracy.add(epoch, val_accuracy)
        self.val_f1.add(epoch, val_macro_f1)
        if lr > 0:
            self.epoch_lr.add(epoch, lr)
        self._schedule()

    def set_history(self, history: Iterable[Mapping[str, float]]) -> None:
        """Replace the per-epoch points with a run's history (TrainResult.history rows)."""
        for series in (self.train_loss, self.val_loss, self.train_accuracy, self.val_accuracy,
                       self.val_f1, self.epoch_lr):
            series.clear()
        self._epochs_seen.clear()
        for row in history:
            self.add_epoch(row["epoch"], loss=row.get("loss", math.nan),
                           accuracy=row.get("accuracy", math.nan),
                           val_loss=row.get("val_loss", math.nan),
                           val_accuracy=row.get("val_accuracy", math.nan),
                           val_macro_f1=row.get("val_macro_f1", math.nan),
                           lr=row.get("lr", math.nan))
        self.draw_soon()

    def clear(self) -> None:
        for series in self._series:
            series.clear()
        self._epochs_seen.clear()
        self._epochs = 0
        for plot in self._plots:
            plot.getViewBox().enableAutoRange(x=True)
        self.flush()

    def epoch_points(self) -> int:
        return len(self.train_loss.x)

    def step_points(self) -> int:
        return len(self.step_loss.x)

    # -- drawing
    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start(REDRAW_MS)

    def flush(self) -> None:
        """Draw everything added, at once (tests, screenshots and the end of a run call it)."""
        self._timer.stop()
        self._pending.clear()
        for series in self._series:
            series.draw()
        self.redraws += 1

    def draw_soon(self) -> None:
        """Draw what has been added now, plot by plot (without waiting for the timer)."""
        self._timer.start(0)

    def _draw_next(self) -> None:
        """The timer's redraw: one plot per event-loop pass, the next one queued after it."""
        if not self._pending:
            self._pending = [i for i, group in enumerate(self._plot_series)
                             if any(series.dirty for series in group)]
            if not self._pending:
                return
        for series in self._plot_series[self._pending.pop(0)]:
            series.draw()
        if self._pending:
            self._timer.start(PLOT_GAP_MS)  # after this plot's paint
        else:
            self._timer.setInterval(REDRAW_MS)
            self.redraws += 1
