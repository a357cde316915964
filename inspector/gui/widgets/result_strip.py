"""The last results, newest first: small pictures framed in their verdict's colour.

Each entry has a key (the caller's number for the result), a thumbnail, its verdict and a short
caption. A click selects an entry (`clicked(key)`), a double click asks to open it
(`activated(key)`). While the pointer is over the strip new entries wait, so the entry under the
pointer does not move away before the click; they appear as soon as it leaves, or once it has
rested for FREEZE_S seconds (a pointer left on the strip does not stop it for good). A decided
entry shows a tick and what was decided.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QEnterEvent,
    QFontMetrics,
    QHelpEvent,
    QHideEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from inspector.gui.widgets.verdict_banner import COLOURS, IDLE_COLOUR

CAPACITY = 20
THUMB_HEIGHT = 96  # pixels kept per thumbnail (drawn smaller when the strip is narrow)
GAP = 4
FREEZE_S = 4.0


@dataclass
class StripEntry:
    key: int
    image: QImage
    verdict: str
    caption: str
    tooltip: str = ""
    decided: str = ""  # what the operator decided, "" while undecided
    drawn: QImage | None = None  # the thumbnail scaled to its slot, made once per slot size

    def thumbnail(self, size: QSize) -> QImage:
        """The image scaled to fit `size` (cached: a repaint does not scale 20 images)."""
        fitted = self.image.size().scaled(size, Qt.AspectRatioMode.KeepAspectRatio)
        if self.drawn is None or self.drawn.size() != fitted:
            self.drawn = self.image.scaled(fitted, Qt.AspectRatioMode.IgnoreAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation)
        return self.drawn


class ResultStrip(QWidget):
    clicked = Signal(int)  # key of the entry clicked (selected)
    activated = Signal(int)  # key of the entry double-clicked

    def __init__(self, capacity: int = CAPACITY, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self.entries: deque[StripEntry] = deque(maxlen=capacity)  # newest first
        self._waiting: list[StripEntry] = []
        self._hovered = False
        self._last_move = 0.0
        self.selected: int | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.sizeHint().height())
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    # ------------------------------------------------------------------ content
    def add(self, key: int, image: QImage, verdict: str, caption: str,
            tooltip: str = "") -> None:
        """A new newest entry; `image` is scaled down to a thumbnail here (a copy is kept)."""
        if image.height() > THUMB_HEIGHT:
            image = image.scaledToHeight(THUMB_HEIGHT, Qt.TransformationMode.SmoothTransformation)
        else:
            image = image.copy()
        entry = StripEntry(key, image, verdict, caption, tooltip)
        if self._hovered and time.monotonic() - self._last_move < FREEZE_S:
            self._waiting.append(entry)
            del self._waiting[:-self.capacity]
            return
        if self._waiting:
            self.flush_waiting()
        self.entries.appendleft(entry)
        self.update()

    def clear(self) -> None:
        self.entries.clear()
        self._waiting.clear()
        self.selected = None
        self.update()

    def keys(self) -> list[int]:
        """The keys shown, newest first."""
        return [entry.key for entry in self.entries]

    def entry(self, key: int) -> StripEntry | None:
        return next((e for e in (*self.entries, *self._waiting) if e.key == key), None)

    def set_decided(self, key: int, text: str) -> None:
        entry = self.entry(key)
        if entry is not None:
            entry.decided = text
            self.update()

    def select(self, key: int | None) -> None:
        self.selected = key
        self.update()

    def flush_waiting(self) -> None:
        for entry in self._waiting:
            self.entries.appendleft(entry)
        self._waiting.clear()
        self.update()

    # ------------------------------------------------------------------ geometry
    def slot_width(self) -> int:
        return max(40, (self.width() - GAP * (self.capacity - 1)) // self.capacity)

    def slot_rect(self, index: int) -> QRect:
        width = self.slot_width()
        return QRect(index * (width + GAP), 0, width, self.height())

    def key_at(self, point: QPoint) -> int | None:
        width = self.slot_width()
        index = point.x() // (width + GAP)
        if 0 <= index < len(self.entries) and point.x() % (width + GAP) < width:
            return self.entries[index].key
        return None

    def sizeHint(self) -> QSize:  # noqa: N802
        caption = QFontMetrics(self.font()).height()
        return QSize(self.capacity * 64, 64 * 3 // 4 + caption + 14)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        metrics = QFontMetrics(self.font())
        caption_h = metrics.height() + 2
        for index, entry in enumerate(self.entries):
            slot = self.slot_rect(index)
            colour = COLOURS.get(entry.verdict, IDLE_COLOUR)
            painter.fillRect(slot, colour)
            inner = slot.adjusted(3, 3, -3, -caption_h - 1)
            if not entry.image.isNull() and not inner.isEmpty():
                thumb = entry.thumbnail(inner.size())
                x = inner.x() + (inner.width() - thumb.width()) // 2
                y = inner.y() + (inner.height() - thumb.height()) // 2
                painter.drawImage(QPoint(x, y), thumb)
            text_colour = QColor(20, 20, 20) if entry.verdict == "REVIEW" else QColor("white")
            painter.setPen(text_colour)
            caption = ("✓ " if entry.decided else "") + entry.caption
            text_rect = QRect(slot.x() + 2, slot.bottom() - caption_h, slot.width() - 4,
                              caption_h)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter,
                             metrics.elidedText(caption, Qt.TextElideMode.ElideRight,
                                                text_rect.width()))
            if entry.key == self.selected:
                painter.setPen(QPen(self.palette().highlight().color(), 4))
                painter.drawRect(slot.adjusted(2, 2, -2, -2))
        if not self.entries:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "The last 20 results will appear here")
        painter.end()

    # ------------------------------------------------------------------ mouse
    def enterEvent(self, event: QEnterEvent) -> None:  # noqa: N802
        self._hovered = True
        self._last_move = time.monotonic()
        super().enterEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._last_move = time.monotonic()
        super().mouseMoveEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        self._hovered = False
        self.flush_waiting()
        super().hideEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        self._hovered = False
        self.flush_waiting()
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        key = self.key_at(event.position().toPoint())
        if key is not None and event.button() == Qt.MouseButton.LeftButton:
            self.select(key)
            self.clicked.emit(key)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        key = self.key_at(event.position().toPoint())
        if key is not None and event.button() == Qt.MouseButton.LeftButton:
            self.activated.emit(key)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            key = self.key_at(event.pos())
            entry = self.entry(key) if key is not None else None
            if entry is not None:
                text = entry.tooltip or entry.caption
                if entry.decided:
                    text += f"\nDecided: {entry.decided}"
                QToolTip.showText(event.globalPos(), text + "\nDouble-click: open in Results",
                                  self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)
