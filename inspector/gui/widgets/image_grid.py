"""A grid of numpy images, laid out to make the tiles as large as the widget allows.

It paints pixmaps itself (no widget per image), so a grid of a few dozen previews redraws at once
when the window is resized. Small images are enlarged as crisp pixels, which shows noise, blur
and JPEG artefacts as they are; large ones are shrunk smoothly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from inspector.gui.widgets.image_view import array_to_qimage

CAPTION_HEIGHT = 16


def grid_shape(count: int, width: int, height: int, spacing: int,
               caption: int = 0) -> tuple[int, int, int]:
    """(columns, rows, tile side) that give `count` square tiles the largest side."""
    if count <= 0:
        return 0, 0, 0
    best = (1, count, 0)
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        side_w = (width - (columns - 1) * spacing) / columns
        side_h = (height - (rows - 1) * spacing) / rows - caption
        side = int(min(side_w, side_h))
        if side > best[2]:
            best = (columns, rows, side)
    return best


class ImageGrid(QWidget):
    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._pixmaps: list[QPixmap] = []
        self._captions: list[str] = []
        self._placeholder = ""
        self.spacing = spacing
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)

    def set_images(self, images: Sequence[np.ndarray],
                   captions: Sequence[str] | None = None) -> None:
        """Show these HxWx3 (or HxW) uint8 images; captions, when given, go under each tile."""
        if captions is not None and len(captions) != len(images):
            raise ValueError(f"{len(images)} images but {len(captions)} captions")
        self._pixmaps = [QPixmap.fromImage(array_to_qimage(np.asarray(a))) for a in images]
        self._captions = list(captions) if captions is not None else []
        self.update()

    def clear(self) -> None:
        self._pixmaps = []
        self._captions = []
        self.update()

    def count(self) -> int:
        return len(self._pixmaps)

    def set_placeholder(self, text: str) -> None:
        """What the empty grid says (why there is nothing to show)."""
        self._placeholder = text
        self.update()

    def tile_rects(self) -> list[QRect]:
        """Where each tile is drawn (the square cell, before keeping the image's aspect)."""
        caption = CAPTION_HEIGHT if self._captions else 0
        columns, rows, side = grid_shape(self.count(), self.width(), self.height(),
                                         self.spacing, caption)
        if side <= 0:
            return []
        used_w = columns * side + (columns - 1) * self.spacing
        used_h = rows * (side + caption) + (rows - 1) * self.spacing
        x0 = (self.width() - used_w) // 2
        y0 = max(0, (self.height() - used_h) // 2)
        rects = []
        for i in range(self.count()):
            row, column = divmod(i, columns)
            rects.append(QRect(x0 + column * (side + self.spacing),
                               y0 + row * (side + caption + self.spacing), side, side))
        return rects

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(480, 360)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        palette = self.palette()
        if not self._pixmaps:
            if self._placeholder:
                painter.setPen(palette.placeholderText().color())
                painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                                 Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                                 self._placeholder)
            painter.end()
            return
        for i, (rect, pixmap) in enumerate(zip(self.tile_rects(), self._pixmaps, strict=False)):
            painter.fillRect(rect, palette.dark())
            size = pixmap.size().scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(rect.x() + (rect.width() - size.width()) // 2,
                           rect.y() + (rect.height() - size.height()) // 2,
                           size.width(), size.height())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                                  target.width() < pixmap.width())
            painter.drawPixmap(target, pixmap)
            if i < len(self._captions):
                painter.setPen(palette.windowText().color())
                painter.drawText(QRect(rect.x(), rect.bottom() + 1, rect.width(), CAPTION_HEIGHT),
                                 Qt.AlignmentFlag.AlignCenter, self._captions[i])
        painter.end()
