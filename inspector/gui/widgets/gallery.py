"""A gallery of images with their heat-map overlays: a list model in a QListView, never a
widget per image.

Each item shows the image and its overlay side by side (or either alone) above a caption.
Pixmaps are made on first paint and cached per item and mode. Arrow keys move, Home/End jump;
digit keys 1-9 emit `digit_pressed(n)` for the page to act on (relabel, say).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from inspector.gui.widgets.image_view import array_to_qimage

Index = QModelIndex | QPersistentModelIndex
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
GAP = 4  # pixels between the image and its overlay


class GalleryMode(Enum):
    SIDE_BY_SIDE = "Image and heat map"
    OVERLAY = "Heat map only"
    IMAGE = "Image only"


@dataclass
class GalleryItem:
    path: Path
    caption: str
    image: np.ndarray  # HxWx3 uint8 RGB
    overlay: np.ndarray | None = None  # the same size
    tooltip: str = ""


class GalleryModel(QAbstractListModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.items: list[GalleryItem] = []
        self.mode = GalleryMode.SIDE_BY_SIDE
        self.tile = 160  # longest side of one picture in the item
        self._cache: dict[tuple[int, GalleryMode], QPixmap] = {}

    def set_items(self, items: list[GalleryItem]) -> None:
        self.beginResetModel()
        self.items = list(items)
        self._cache.clear()
        self.endResetModel()

    def set_mode(self, mode: GalleryMode) -> None:
        self.beginResetModel()
        self.mode = mode
        self.endResetModel()

    def remove(self, row: int) -> GalleryItem:
        self.beginRemoveRows(QModelIndex(), row, row)
        item = self.items.pop(row)
        self._cache = {(id_, m): p for (id_, m), p in self._cache.items() if id_ != id(item)}
        self.endRemoveRows()
        return item

    def item_size(self) -> QSize:
        wide = self.mode is GalleryMode.SIDE_BY_SIDE
        return QSize(self.tile * (2 if wide else 1) + (GAP if wide else 0) + 12, self.tile + 44)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.items):
            return None
        item = self.items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.caption
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(item)
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.tooltip or str(item.path)
        if role == PATH_ROLE:
            return str(item.path)
        return None

    def _pixmap(self, item: GalleryItem) -> QPixmap:
        key = (id(item), self.mode)
        if key not in self._cache:
            if self.mode is GalleryMode.IMAGE or item.overlay is None:
                array = item.image
            elif self.mode is GalleryMode.OVERLAY:
                array = item.overlay
            else:
                gap = np.full((item.image.shape[0], GAP, 3), 255, np.uint8)
                array = np.hstack([item.image, gap, item.overlay])
            pixmap = QPixmap.fromImage(array_to_qimage(np.ascontiguousarray(array)))
            wide = self.mode is GalleryMode.SIDE_BY_SIDE and item.overlay is not None
            bound = QSize(self.tile * (2 if wide else 1) + (GAP if wide else 0), self.tile)
            # Small patches are enlarged as pixels; large images shrunk smoothly.
            smooth = (pixmap.width() > bound.width() or pixmap.height() > bound.height())
            self._cache[key] = pixmap.scaled(
                bound, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation if smooth
                else Qt.TransformationMode.FastTransformation)
        return self._cache[key]


class GalleryView(QListView):
    """The grid. `current_item_changed(row)`; `digit_pressed(n)` for keys 1-9 (row -1: none)."""

    current_item_changed = Signal(int)
    digit_pressed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery = GalleryModel(self)
        self.setModel(self.gallery)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setSpacing(6)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self._apply_sizes()
        self.selectionModel().currentChanged.connect(
            lambda current, _previous: self.current_item_changed.emit(
                current.row() if current.isValid() else -1))

    def resizeEvent(self, event) -> None:  # noqa: N802
        self._fit_tile()
        super().resizeEvent(event)

    def _fit_tile(self) -> None:
        """Pictures as large as lets two items sit side by side (between 96 and 200 px)."""
        wide = self.gallery.mode is GalleryMode.SIDE_BY_SIDE
        per_item = (self.viewport().width() - 4 * self.spacing()) // 2 - 12
        tile = (per_item - GAP) // 2 if wide else per_item
        tile = max(96, min(200, tile))
        if tile != self.gallery.tile:
            self.gallery.tile = tile
            self._apply_sizes()

    def _apply_sizes(self) -> None:
        self.setIconSize(self.gallery.item_size() - QSize(12, 44))
        self.setGridSize(self.gallery.item_size())

    def set_items(self, items: list[GalleryItem]) -> None:
        self.gallery.set_items(items)
        if items:
            self.setCurrentIndex(self.gallery.index(0))
        else:
            self.current_item_changed.emit(-1)

    def set_mode(self, mode: GalleryMode) -> None:
        row = self.current_row()
        self.gallery.set_mode(mode)
        self._fit_tile()
        self._apply_sizes()
        if row >= 0:
            self.setCurrentIndex(self.gallery.index(row))

    def set_tile(self, pixels: int) -> None:
        self.gallery.tile = pixels
        self.set_mode(self.gallery.mode)

    def current_row(self) -> int:
        index = self.currentIndex()
        return index.row() if index.isValid() else -1

    def current_item(self) -> GalleryItem | None:
        row = self.current_row()
        return self.gallery.items[row] if row >= 0 else None

    def remove_row(self, row: int) -> GalleryItem:
        item = self.gallery.remove(row)
        count = len(self.gallery.items)
        if count:
            self.setCurrentIndex(self.gallery.index(min(row, count - 1)))
        else:
            self.current_item_changed.emit(-1)
        return item

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_9 and not event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            self.digit_pressed.emit(int(key) - int(Qt.Key.Key_0))
            event.accept()
            return
        super().keyPressEvent(event)
