"""A grid of image thumbnails that stays smooth at 50,000 images.

One QListView over a list model (never a widget per image), uniform item sizes, a delegate that
paints each visible cell. Thumbnails come from a *provider* (the page passes a ThumbnailLoader
from the workers; this module never imports workers): `thumbnail(path)` returns a cached QImage
or None and queues the decode, so only painted (visible) rows are ever asked for, and a
placeholder shows until `ready` says the image has arrived.

The model filters by class, split, problem or an explicit set of paths with its own list (a
proxy model would call Python once per row on each change), and drags the selected paths as
MIME_TYPE so that a class table can take them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QUrl,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import QColor, QFont, QImage, QKeyEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from inspector.gui.widgets.split_bar import color_of

MIME_TYPE = "application/x-inspector-image-paths"
THUMB_SIZE = 96

# Problem keys, as the validation report's kinds are grouped for filtering.
UNREADABLE = "unreadable"
DUPLICATE = "duplicate"
LABEL_CONFLICT = "label_conflict"
PROBLEM_NAMES: dict[str, str] = {
    UNREADABLE: "Unreadable",
    DUPLICATE: "Duplicates",
    LABEL_CONFLICT: "Label conflicts",
}
ANY_PROBLEM = "any"

PATH_ROLE = Qt.ItemDataRole.UserRole + 10
LABEL_ROLE = Qt.ItemDataRole.UserRole + 11
SPLIT_ROLE = Qt.ItemDataRole.UserRole + 12
PROBLEMS_ROLE = Qt.ItemDataRole.UserRole + 13

Index = QModelIndex | QPersistentModelIndex


class GridImage(Protocol):
    """What the model needs of an image: any object with these attributes (no copies made)."""

    @property
    def path(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def split(self) -> str: ...


class ThumbnailProvider(Protocol):
    ready: SignalInstance  # emits a list of paths now cached

    def thumbnail(self, path: str) -> QImage | None: ...
    def has_failed(self, path: str) -> bool: ...


def encode_paths(paths: Iterable[str]) -> QMimeData:
    """Mime data carrying image paths (also as file URLs, for drops outside Inspector)."""
    paths = list(paths)
    mime = QMimeData()
    mime.setData(MIME_TYPE, QByteArray("\n".join(paths).encode("utf-8")))
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    return mime


def decode_paths(mime: QMimeData) -> list[str]:
    if not mime.hasFormat(MIME_TYPE):
        return []
    text = bytes(mime.data(MIME_TYPE).data()).decode("utf-8")
    return [line for line in text.split("\n") if line]


class ThumbnailModel(QAbstractListModel):
    """The images, filtered; row r is `image_at(r)`."""

    filter_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._all: Sequence[GridImage] = ()
        self._rows: list[GridImage] = []
        self._problems: dict[str, frozenset[str]] = {}
        self.label: str | None = None
        self.split: str | None = None
        self.problem: str | None = None  # a problem key, ANY_PROBLEM or None
        self.paths: frozenset[str] | None = None

    # ------------------------------------------------------------------ content
    def set_images(self, images: Sequence[GridImage]) -> None:
        self._all = images
        self._apply()

    def set_problems(self, problems: Mapping[str, Collection[str]]) -> None:
        """Problems per path (keys of PROBLEM_NAMES); replaces the earlier ones."""
        self._problems = {path: frozenset(kinds) for path, kinds in problems.items() if kinds}
        if self.problem is not None:
            self._apply()
        elif self._rows:
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1),
                                  [PROBLEMS_ROLE])

    def problems_of(self, path: str) -> frozenset[str]:
        return self._problems.get(path, frozenset())

    def set_filter(self, *, label: str | None = None, split: str | None = None,
                   problem: str | None = None, paths: Collection[str] | None = None) -> None:
        """Show the images matching every given criterion (None: any)."""
        self.label, self.split, self.problem = label, split, problem
        self.paths = frozenset(paths) if paths is not None else None
        self._apply()

    def _apply(self) -> None:
        label, split, problem, paths = self.label, self.split, self.problem, self.paths
        problems = self._problems
        rows: Iterable[GridImage] = self._all
        if paths is not None:
            rows = (i for i in rows if i.path in paths)
        if label is not None:
            rows = (i for i in rows if i.label == label)
        if split is not None:
            rows = (i for i in rows if i.split == split)
        if problem == ANY_PROBLEM:
            rows = (i for i in rows if i.path in problems)
        elif problem is not None:
            rows = (i for i in rows if problem in problems.get(i.path, ()))
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()
        self.filter_changed.emit()

    @property
    def total(self) -> int:
        return len(self._all)

    def image_at(self, row: int) -> GridImage:
        return self._rows[row]

    def row_of(self, path: str) -> int:
        for row, image in enumerate(self._rows):
            if image.path == path:
                return row
        return -1

    # ------------------------------------------------------------------ Qt model
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        image = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return Path(image.path).name
        if role == PATH_ROLE:
            return image.path
        if role == LABEL_ROLE:
            return image.label
        if role == SPLIT_ROLE:
            return image.split
        if role == PROBLEMS_ROLE:
            return self._problems.get(image.path, frozenset())
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [image.path, f"class {image.label} · {image.split}"]
            lines += [PROBLEM_NAMES.get(p, p) for p in sorted(self.problems_of(image.path))]
            return "\n".join(lines)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME_TYPE, "text/uri-list"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:  # noqa: N802
        rows = sorted({i.row() for i in indexes if i.isValid()})
        return encode_paths(self._rows[r].path for r in rows)

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints a thumbnail (or its placeholder), the file name, a split stripe and problems."""

    PAD = 6
    TEXT_HEIGHT = 18

    def __init__(self, view: ThumbnailGrid) -> None:
        super().__init__(view)
        self.view = view
        self.show_labels = True
        self._small = QFont(view.font())
        self._small.setPointSizeF(max(7.0, view.font().pointSizeF() * 0.85))

    def cell_size(self) -> QSize:
        side = self.view.thumb_size + 2 * self.PAD
        return QSize(side, side + self.TEXT_HEIGHT * (2 if self.show_labels else 1))

    def sizeHint(self, _option: QStyleOptionViewItem, _index: Index) -> QSize:  # noqa: N802
        return self.cell_size()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        view = self.view
        model = index.model()
        rect: QRect = option.rect
        path = model.data(index, PATH_ROLE)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        painter.save()
        if selected:
            painter.fillRect(rect.adjusted(1, 1, -1, -1),
                             palette.color(QPalette.ColorRole.Highlight))
        side = view.thumb_size
        box = QRect(rect.x() + (rect.width() - side) // 2, rect.y() + self.PAD, side, side)
        provider = view.provider
        image = provider.thumbnail(path) if provider is not None else None
        view.thumbnail_requests += 1
        if image is not None and not image.isNull():
            w, h = image.width(), image.height()
            scale = min(side / max(w, 1), side / max(h, 1))
            tw, th = max(1, round(w * scale)), max(1, round(h * scale))
            target = QRect(box.x() + (side - tw) // 2, box.y() + (side - th) // 2, tw, th)
            painter.drawImage(target, image)
        else:
            failed = provider is not None and provider.has_failed(path)
            painter.fillRect(box, QColor("#FDECEA") if failed else QColor("#E0E0E0"))
            painter.setPen(QColor("#B71C1C") if failed else QColor("#9E9E9E"))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "cannot\nread" if failed else "…")
        # split stripe under the thumbnail
        split = model.data(index, SPLIT_ROLE)
        painter.fillRect(QRect(box.x(), box.bottom() + 1, side, 3), color_of(split))
        problems = model.data(index, PROBLEMS_ROLE)
        if problems:
            painter.setPen(QPen(QColor("#D32F2F"), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(box.adjusted(1, 1, -1, -1))
            badge = QRect(box.right() - 17, box.y() + 2, 16, 16)
            painter.setBrush(QColor("#D32F2F"))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(badge)
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "!")
        text_color = palette.color(QPalette.ColorRole.HighlightedText if selected
                                   else QPalette.ColorRole.Text)
        painter.setPen(text_color)
        painter.setFont(self._small)
        metrics = painter.fontMetrics()
        text_rect = QRect(rect.x() + 2, box.bottom() + 5, rect.width() - 4, self.TEXT_HEIGHT)
        name = metrics.elidedText(model.data(index), Qt.TextElideMode.ElideMiddle,
                                  text_rect.width())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                         name)
        if self.show_labels:
            label_rect = text_rect.translated(0, self.TEXT_HEIGHT - 3)
            if not selected:
                painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            label = metrics.elidedText(model.data(index, LABEL_ROLE),
                                       Qt.TextElideMode.ElideRight, label_rect.width())
            painter.drawText(label_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                             label)
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 1,
                                Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect.adjusted(1, 1, -2, -2))
        painter.restore()


class ThumbnailGrid(QListView):
    """The grid view. Keys: 1..9 emit `number_pressed`, Delete emits `delete_requested`,
    Enter or a double-click emits `open_requested(path)`."""

    number_pressed = Signal(int)
    delete_requested = Signal()
    open_requested = Signal(str)

    def __init__(self, provider: ThumbnailProvider | None = None,
                 parent: QWidget | None = None, thumb_size: int = THUMB_SIZE) -> None:
        super().__init__(parent)
        self.thumb_size = thumb_size
        self.provider: ThumbnailProvider | None = None
        self.thumbnail_requests = 0  # cells painted: each asks the provider once
        self.grid_model = ThumbnailModel(self)
        self.setModel(self.grid_model)
        self.delegate = ThumbnailDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)  # a grid, not a desktop of icons
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.setSpacing(0)
        self.setGridSize(self.delegate.cell_size())
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # after setMovement, which turns dragging off for a static view
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setToolTip("")
        self.doubleClicked.connect(self._open_index)
        self.set_provider(provider)

    def set_provider(self, provider: ThumbnailProvider | None) -> None:
        if self.provider is not None:
            self.provider.ready.disconnect(self._on_ready)
        self.provider = provider
        if provider is not None:
            provider.ready.connect(self._on_ready)

    def set_show_labels(self, show: bool) -> None:
        """The class under each name: useful when several classes are shown."""
        if show != self.delegate.show_labels:
            self.delegate.show_labels = show
            self.setGridSize(self.delegate.cell_size())

    def _on_ready(self, _paths: list[str]) -> None:
        self.viewport().update()  # repaints coalesce; cells read the cache

    def selected_paths(self) -> list[str]:
        rows = sorted(index.row() for index in self.selectionModel().selectedIndexes())
        return [self.grid_model.image_at(r).path for r in rows]

    def select_path(self, path: str) -> bool:
        row = self.grid_model.row_of(path)
        if row < 0:
            return False
        index = self.grid_model.index(row)
        self.setCurrentIndex(index)
        self.scrollTo(index)
        return True

    def visible_rows(self) -> range:
        """The rows whose cells are (at least partly) on screen."""
        count = self.grid_model.rowCount()
        grid = self.gridSize()
        if count == 0 or grid.width() <= 0 or grid.height() <= 0:
            return range(0)
        viewport = self.viewport()
        columns = max(1, viewport.width() // grid.width())
        top = self.verticalScrollBar().value()
        first_line = top // grid.height()
        last_line = (top + viewport.height() - 1) // grid.height()
        return range(min(count, first_line * columns), min(count, (last_line + 1) * columns))

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_requested.emit(index.data(PATH_ROLE))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_9 and mods == Qt.KeyboardModifier.NoModifier:
            self.number_pressed.emit(key - Qt.Key.Key_0)
            event.accept()
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not mods:
            self.delete_requested.emit()
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._open_index(self.currentIndex())
            event.accept()
            return
        super().keyPressEvent(event)

