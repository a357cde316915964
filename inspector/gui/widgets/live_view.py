"""The live picture: the newest frame (with its heat map) scaled to fit, and the region of interest.

`set_frame(array)` wraps the array in a QImage without copying (the array is kept with it and
never written to again: the engine makes a new one per frame) and schedules one repaint; the
paint draws whichever image is current then, whole. Frames that arrive faster than the screen
repaints replace each other before they are drawn, so a slow paint never queues frames and a
frame is never drawn half old, half new.

With `set_roi_editable(True)` a drag of the left mouse button draws a new region of interest
in frame coordinates and `roi_drawn(x, y, w, h)` reports it; the current one is drawn dashed.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

MIN_ROI = 8  # pixels of the frame: a smaller drag is a click, not a region


def wrap_array(array: np.ndarray) -> QImage:
    """A QImage over an HxWx3 RGB (or HxW grey) uint8 array's pixels, without a copy: keep the
    array alive, unchanged, as long as the image is used."""
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (
            array.ndim == 3 and array.shape[2] != 3):
        raise ValueError(f"expected an HxW or HxWx3 uint8 image, got {array.dtype} "
                         f"{array.shape}")
    height, width = array.shape[:2]
    if array.ndim == 2:
        return QImage(array.data, width, height, array.strides[0],
                      QImage.Format.Format_Grayscale8)
    return QImage(array.data, width, height, array.strides[0], QImage.Format.Format_RGB888)


class LiveView(QWidget):
    roi_drawn = Signal(int, int, int, int)  # x, y, width, height in frame pixels

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._array: np.ndarray | None = None
        self._image: QImage | None = None
        self._roi: tuple[int, int, int, int] | None = None
        self._roi_editable = False
        self._drag: tuple[QPoint, QPoint] | None = None
        self.placeholder = "No picture"
        self.frames_set = 0
        self.frames_painted = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # clicks bring the page's keys here
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMouseTracking(False)

    # ------------------------------------------------------------------ content
    def set_frame(self, array: np.ndarray | None) -> None:
        if array is None:
            self._array = self._image = None
        else:
            array = np.ascontiguousarray(array)
            self._image = wrap_array(array)
            self._array = array  # keeps the pixels of the QImage alive
            self.frames_set += 1
        self.update()

    def clear(self) -> None:
        self.set_frame(None)

    @property
    def frame_size(self) -> QSize | None:
        return None if self._image is None else self._image.size()

    def set_placeholder(self, text: str) -> None:
        self.placeholder = text
        if self._image is None:
            self.update()

    def set_roi(self, roi: tuple[int, int, int, int] | None) -> None:
        self._roi = tuple(roi) if roi is not None else None  # type: ignore[assignment]
        self.update()

    @property
    def roi(self) -> tuple[int, int, int, int] | None:
        return self._roi

    def set_roi_editable(self, editable: bool) -> None:
        self._roi_editable = editable
        self._drag = None
        self.setCursor(Qt.CursorShape.CrossCursor if editable else Qt.CursorShape.ArrowCursor)
        self.update()

    @property
    def roi_editable(self) -> bool:
        return self._roi_editable

    # ------------------------------------------------------------------ geometry
    def target_rect(self) -> QRect:
        """Where the frame is drawn: the largest centred rectangle with its aspect ratio."""
        if self._image is None:
            return QRect()
        size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2,
                     size.width(), size.height())

    def to_frame(self, point: QPoint | QPointF) -> tuple[int, int] | None:
        """Frame pixel under a widget point (clamped to the frame); None without a frame."""
        target = self.target_rect()
        if self._image is None or target.isEmpty():
            return None
        scale = self._image.width() / target.width()
        x = (point.x() - target.x()) * scale
        y = (point.y() - target.y()) * scale
        return (int(min(max(x, 0), self._image.width())),
                int(min(max(y, 0), self._image.height())))

    def to_widget(self, roi: tuple[int, int, int, int]) -> QRectF:
        target = self.target_rect()
        if self._image is None or target.isEmpty():
            return QRectF()
        scale = target.width() / self._image.width()
        x, y, w, h = roi
        return QRectF(target.x() + x * scale, target.y() + y * scale, w * scale, h * scale)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(640, 480)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 24, 26))
        image = self._image
        if image is None:
            painter.setPen(QColor(200, 200, 200))
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.4)
            painter.setFont(font)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.placeholder)
            painter.end()
            return
        target = self.target_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                              target.width() < image.width())
        painter.drawImage(target, image)
        self.frames_painted += 1
        if self._roi is not None and self._drag is None:
            pen = QPen(QColor(0, 220, 255), 2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRect(self.to_widget(self._roi))
        if self._drag is not None:
            painter.setPen(QPen(QColor(255, 255, 0), 2))
            painter.fillRect(QRect(*self._drag).normalized(), QColor(255, 255, 0, 40))
            painter.drawRect(QRect(*self._drag).normalized())
        painter.end()

    # ------------------------------------------------------------------ drawing the ROI
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if (self._roi_editable and event.button() == Qt.MouseButton.LeftButton
                and self._image is not None):
            point = event.position().toPoint()
            self._drag = (point, point)
            self.update()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is not None:
            self._drag = (self._drag[0], event.position().toPoint())
            self.update()
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is None or event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        start, _ = self._drag
        self._drag = None
        self.update()
        event.accept()
        if not self._roi_editable:
            return
        a = self.to_frame(start)
        b = self.to_frame(event.position().toPoint())
        if a is None or b is None:
            return
        x0, x1 = sorted((a[0], b[0]))
        y0, y1 = sorted((a[1], b[1]))
        if x1 - x0 >= MIN_ROI and y1 - y0 >= MIN_ROI:
            self.roi_drawn.emit(x0, y0, x1 - x0, y1 - y0)
