"""Show a numpy image (HxWx3 or HxW uint8) scaled to fit, keeping its aspect ratio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QDialog, QLabel, QSizePolicy, QVBoxLayout, QWidget


def array_to_qimage(array: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels of an HxWx3 RGB or HxW grey uint8 array."""
    if array.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {array.dtype}")
    if array.ndim == 2:
        fmt = QImage.Format.Format_Grayscale8
        height, width = array.shape
        channels = 1
    elif array.ndim == 3 and array.shape[2] == 3:
        fmt = QImage.Format.Format_RGB888
        height, width = array.shape[:2]
        channels = 3
    else:
        raise ValueError(f"expected HxW or HxWx3, got shape {array.shape}")
    data = np.ascontiguousarray(array)
    image = QImage(data.data, width, height, width * channels, fmt)
    return image.copy()  # detach from the numpy buffer


class ImageView(QWidget):
    """Paints an image scaled to fit the widget, centred; small images are enlarged crisply."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(64, 64)

    def set_array(self, array: np.ndarray | None) -> None:
        self._pixmap = None if array is None else QPixmap.fromImage(array_to_qimage(array))
        self.update()

    def clear(self) -> None:
        self.set_array(None)

    @property
    def image_size(self) -> QSize | None:
        return None if self._pixmap is None else self._pixmap.size()

    def target_rect(self) -> QRect:
        """Where the image is drawn: the largest centred rectangle with its aspect ratio."""
        if self._pixmap is None or self._pixmap.isNull():
            return QRect()
        size = self._pixmap.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        x = (self.width() - size.width()) // 2
        y = (self.height() - size.height()) // 2
        return QRect(x, y, size.width(), size.height())

    def sizeHint(self) -> QSize:  # noqa: N802
        if self._pixmap is None:
            return QSize(320, 240)
        return self._pixmap.size().boundedTo(QSize(800, 600)).expandedTo(QSize(256, 256))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().dark())
        if self._pixmap is not None and not self._pixmap.isNull():
            target = self.target_rect()
            smooth = target.width() < self._pixmap.width()  # shrink smoothly, enlarge as pixels
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
            painter.drawPixmap(target, self._pixmap)
        painter.end()


class ImageDialog(QDialog):
    """A non-modal window showing one image with its path and size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Image")
        self.view = ImageView()
        self.caption = QLabel()
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        self.resize(520, 520)

    def show_image(self, path: Path, array: np.ndarray) -> None:
        self.view.set_array(array)
        height, width = array.shape[:2]
        self.setWindowTitle(Path(path).name)
        self.caption.setText(f"{path}\n{width} × {height} pixels")
        self.show()
        self.raise_()
