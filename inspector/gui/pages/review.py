"""The Review page (engineers): the review inbox of frames the operators corrected.

Each item shows the frame, the model's answer (verdict, class, confidence), the operator's
answer, who and when. An engineer accepts items into a class of the dataset (an existing one,
the operator's answer as a new class, or a new class named here) or discards them, one or
several at a time: Enter accepts, Delete discards. Accepting copies the frame into the class
through the dataset, where it gets its content hash and its place in the stable split like any
imported image; every accept and discard goes to the audit log.

Reading the inbox, decoding thumbnails and changing the dataset run in workers. The page follows
the inbox folder (QFileSystemWatcher), so `count_changed` keeps the window's badge current while
the Live page adds items.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QFileSystemWatcher,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QImage, QKeySequence, QPixmap, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.core.data.dataset import check_class_name
from inspector.core.errors import DatasetError
from inspector.core.station.audit import AuditEntry
from inspector.core.station.inbox import InboxItem, ReviewInbox
from inspector.core.station.review import (
    AcceptReport,
    DiscardReport,
    accept_items,
    discard_items,
)
from inspector.gui.widgets.image_view import ImageView
from inspector.gui.widgets.message_bar import MessageBar
from inspector.gui.workers.base import Progress, Worker, while_alive
from inspector.gui.workers.thumbnails import decode_thumbnail

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.workspace import Workspace
    from inspector.gui.session import Recorder, StationSession

log = logging.getLogger(__name__)

THUMB = 96
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
WATCH_DELAY_MS = 400  # the inbox folder changed: read it once the writes have settled
Index = QModelIndex | QPersistentModelIndex

EACH = "each"  # combo choices: each item into its operator's class,
CLASS = "class"  # into a named class (created first when `create`),
NEW = "new"  # or ask for a new class name
Choice = tuple[str, str, bool]  # (EACH | CLASS | NEW, class, create the class)


# ---------------------------------------------------------------------- work in workers
@dataclass(frozen=True)
class InboxSnapshot:
    items: list[InboxItem]
    thumbnails: dict[str, QImage | None]  # decoded for the items not already shown


def read_inbox_worker(inbox: ReviewInbox, known: set[str]) -> Worker:
    """An InboxSnapshot: the items, and thumbnails of the ones not in `known`."""

    def task(progress: Progress, stop: threading.Event) -> InboxSnapshot:
        items = inbox.items()
        fresh = [item for item in items if item.id not in known]
        thumbnails: dict[str, QImage | None] = {}
        for done, item in enumerate(fresh, 1):
            if stop.is_set():
                break
            try:
                thumbnails[item.id] = decode_thumbnail(inbox.image_path(item), THUMB)
            except (OSError, ValueError) as exc:
                log.warning("cannot show %s: %s", inbox.image_path(item), exc)
                thumbnails[item.id] = None
            progress(done, len(fresh))
        return InboxSnapshot(items, thumbnails)

    return Worker(task, "reading the review inbox")


def accept_worker(inbox: ReviewInbox, dataset: Dataset, plan: list[tuple[InboxItem, str, bool]],
                  record: Recorder | None = None) -> Worker:
    """The core's accept_items in a worker; an AcceptReport."""

    def task(progress: Progress, stop: threading.Event) -> AcceptReport:
        return accept_items(inbox, dataset, plan, record, progress, stop)

    return Worker(task, f"accepting {len(plan)} review items")


def discard_worker(inbox: ReviewInbox, items: list[InboxItem],
                   record: Recorder | None = None) -> Worker:
    """The core's discard_items in a worker; a DiscardReport."""

    def task(_progress: Progress, stop: threading.Event) -> DiscardReport:
        return discard_items(inbox, items, record, stop)

    return Worker(task, f"discarding {len(items)} review items")


# ---------------------------------------------------------------------- the table
def model_answer(item: InboxItem) -> str:
    return f"{item.model_verdict} · {item.model_label} {item.confidence:.0%}"


def when_text(seconds: float, short: bool = False) -> str:
    """Local time; `short`: only the time for today, the date and minutes before."""
    moment = time.localtime(seconds)
    if short:
        today = time.localtime()
        same_day = moment.tm_yday == today.tm_yday and moment.tm_year == today.tm_year
        return time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M", moment)
    return time.strftime("%Y-%m-%d %H:%M:%S", moment)


class InboxTableModel(QAbstractTableModel):
    HEADERS = ("Frame", "Model's answer", "Operator's answer", "Operator", "When", "Source")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.items: list[InboxItem] = []
        self.thumbnails: dict[str, QImage | None] = {}
        self._pixmaps: dict[str, QPixmap] = {}

    def set_items(self, items: list[InboxItem], thumbnails: dict[str, QImage | None]) -> None:
        self.beginResetModel()
        self.items = list(items)
        ids = {item.id for item in items}
        self.thumbnails = {k: v for k, v in (self.thumbnails | thumbnails).items() if k in ids}
        self._pixmaps = {k: v for k, v in self._pixmaps.items() if k in ids}
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self.items[index.row()]
        column = index.column()
        if role == ITEM_ROLE:
            return item
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return self._pixmap(item)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return None if item.id in self.thumbnails else "…"
            return (None, model_answer(item),
                    item.operator_label if item.is_override
                    else f"{item.operator_label} (confirmed)",
                    item.operator, when_text(item.time, short=True), item.source)[column]
        if role == Qt.ItemDataRole.FontRole and column == 2 and item.is_override:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return QColor({"FAIL": "#C62828", "REVIEW": "#B26A00"}.get(item.model_verdict,
                                                                       "#2E7D32"))
        if role == Qt.ItemDataRole.ToolTipRole:
            result = f"result #{item.result_id}" if item.result_id is not None else "no result"
            model = f", model {item.model_version}" if item.model_version else ""
            return (f"{item.id}: {result}{model}. The model said {item.model_label} "
                    f"({item.model_verdict}, {item.confidence:.1%}); {item.operator} said "
                    f"{item.operator_label} on {when_text(item.time)}.")
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 0:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def _pixmap(self, item: InboxItem) -> QPixmap | None:
        pixmap = self._pixmaps.get(item.id)
        if pixmap is None:
            image = self.thumbnails.get(item.id)
            if image is None:
                return None
            pixmap = self._pixmaps[item.id] = QPixmap.fromImage(image)
        return pixmap


class _FrameView(ImageView):
    """The selected item's frame, read with QImage (no numpy needed)."""

    def set_file(self, path: Path | None) -> bool:
        image = QImage(str(path)) if path is not None else QImage()
        self._pixmap = None if image.isNull() else QPixmap.fromImage(image)
        self.update()
        return not image.isNull()


# ---------------------------------------------------------------------- the page
class ReviewPage(QWidget):
    """Build it, then `set_workspace(workspace, dataset)` (and `set_session(session)`)."""

    count_changed = Signal(int)  # items waiting (the window's badge)
    refreshed = Signal()  # the inbox as read is on screen
    accepted = Signal(object)  # AcceptReport
    discarded = Signal(list)  # the InboxItems discarded
    dataset_changed = Signal()  # images (and maybe a class) were added to the dataset
    error_shown = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Workspace | None = None
        self.dataset: Dataset | None = None
        self.inbox: ReviewInbox | None = None
        self.session: StationSession | None = None
        self._job: Worker | None = None
        self._reader: Worker | None = None
        self._refresh_pending = False
        self._count = -1
        self._previous_choice: Choice | None = None
        self._choices: list[Choice] = []
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._folder_changed)
        self._watch_timer = QTimer(self)
        self._watch_timer.setSingleShot(True)
        self._watch_timer.setInterval(WATCH_DELAY_MS)
        self._watch_timer.timeout.connect(self.refresh)
        self._build()
        self.set_workspace(None, None)

    def _build(self) -> None:
        style = self.style()
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.message_bar = MessageBar()
        self.class_combo = QComboBox()
        self.class_combo.setMinimumContentsLength(18)
        self.class_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.class_combo.setToolTip("The class the selected items go to; it starts at the "
                                    "operator's answer")
        self.class_combo.activated.connect(self._combo_activated)
        into = QLabel("Accept &into:")
        into.setBuddy(self.class_combo)
        self.accept_button = QPushButton("Accept")
        self.accept_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton))
        self.accept_button.setToolTip("Add the selected frames to the dataset class (Enter)")
        self.accept_button.clicked.connect(lambda _checked=False: self.accept_selected())
        self.discard_button = QPushButton("Discard…")
        self.discard_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TrashIcon))
        self.discard_button.setToolTip("Delete the selected frames from the inbox (Delete)")
        self.discard_button.clicked.connect(lambda _checked=False: self.discard_selected())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh_button.setToolTip("Read the inbox again (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.count_label = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(into)
        buttons.addWidget(self.class_combo)
        buttons.addWidget(self.accept_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        buttons.addWidget(self.count_label)
        buttons.addWidget(self.refresh_button)

        self.model = InboxTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(THUMB, THUMB))
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(THUMB + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(0, THUMB + 12)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.accept_selected())

        self.preview = _FrameView()
        self.preview.setMinimumSize(200, 160)
        # its size follows the splitter, not the frame's (which would squeeze the table)
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.preview, 1)
        side_layout.addWidget(self.caption)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([600, 400])  # the table's columns first; the frame beside

        self.empty_label = QLabel("The inbox is empty. Frames the operators override, and "
                                  "REVIEW frames they decide, arrive here.")
        self.empty_label.setStyleSheet("color: palette(placeholder-text);")
        self.empty_label.setWordWrap(True)

        for keys, slot in (((Qt.Key.Key_Return,), self.accept_selected),
                           ((Qt.Key.Key_Enter,), self.accept_selected),
                           ((QKeySequence.StandardKey.Delete,), self.discard_selected),
                           ((QKeySequence.StandardKey.Refresh,), self.refresh),
                           ((QKeySequence.StandardKey.SelectAll,), self.table.selectAll)):
            shortcut = QShortcut(QKeySequence(*keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda s=slot: s())

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message_bar)
        layout.addLayout(buttons)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.splitter, 1)

    # ------------------------------------------------------------------ workspace & session
    def set_session(self, session: StationSession) -> None:
        self.session = session
        session.role_changed.connect(while_alive(self, lambda _role: self._update_actions()))
        self._update_actions()

    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None:
        for worker in (self._job, self._reader):
            if worker is not None:
                worker.cancel()  # its result belongs to the previous workspace
        self._job = self._reader = None
        self._refresh_pending = False
        self.workspace, self.dataset = workspace, dataset
        self.inbox = ReviewInbox(workspace.root) if workspace is not None else None
        self.model.set_items([], {})
        self.model.thumbnails.clear()
        self.message_bar.dismiss()
        self._show_current()
        watched = self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        if workspace is None:
            self.title.setText("<b>No workspace open.</b>")
            self._set_count(0)
        else:
            self.title.setText(f"Review inbox of <b>{_html(workspace.name)}</b>: accept each "
                               "frame into a class of the dataset, or discard it")
            self._watch()
            self.refresh()
        self._update_actions()

    def _watch(self) -> None:
        """Follow the inbox folder; until it exists, the workspace folder (for its making)."""
        if self.inbox is None or self.workspace is None:
            return
        folder = self.inbox.folder
        want = str(folder if folder.is_dir() else self.workspace.root)
        watched = self._watcher.directories()
        stale = [path for path in watched if path != want]
        if stale:
            self._watcher.removePaths(stale)
        if want not in watched:
            self._watcher.addPath(want)

    def _folder_changed(self, path: str) -> None:
        if self.inbox is None:
            return
        self._watch()
        if Path(path) == self.inbox.folder or self.inbox.folder.is_dir():
            self._watch_timer.start()

    # ------------------------------------------------------------------ reading
    @property
    def busy(self) -> bool:
        return self._job is not None

    @property
    def items(self) -> list[InboxItem]:
        return list(self.model.items)

    def refresh(self) -> None:
        """Read the inbox again (in a worker)."""
        if self.inbox is None:
            return
        if self._reader is not None or self._job is not None:
            self._refresh_pending = True
            return
        worker = read_inbox_worker(self.inbox, set(self.model.thumbnails))
        self._reader = worker

        def finished(snapshot: InboxSnapshot) -> None:
            if worker is self._reader:
                self._show_snapshot(snapshot)

        def failed(message: str) -> None:
            if worker is self._reader:
                self.show_error(message)

        def done() -> None:
            if worker is self._reader:
                self._reader = None
                self._run_pending()

        worker.finished.connect(while_alive(self, finished))
        worker.failed.connect(while_alive(self, failed))
        worker.done.connect(while_alive(self, done))
        worker.start()

    def _run_pending(self) -> None:
        if self._refresh_pending and self._reader is None and self._job is None:
            self._refresh_pending = False
            self.refresh()

    def _show_snapshot(self, snapshot: InboxSnapshot) -> None:
        selected = {item.id for item in self.selected_items()}
        current = self._current_item()
        self.model.set_items(snapshot.items, snapshot.thumbnails)
        rows = [row for row, item in enumerate(snapshot.items) if item.id in selected]
        if not rows and snapshot.items:
            # after an accept the next item is selected, so Enter can go on down the list
            after = current.time if current is not None else 0.0
            later = [row for row, item in enumerate(snapshot.items) if item.time >= after]
            rows = [later[0] if later else len(snapshot.items) - 1]
        self._select_rows(rows)
        self._set_count(len(snapshot.items))
        self.empty_label.setVisible(not snapshot.items)
        self._show_current()
        self._update_actions()
        self.refreshed.emit()

    def _set_count(self, count: int) -> None:
        self.count_label.setText(f"{count} waiting" if count else "")
        if count != self._count:
            self._count = count
            self.count_changed.emit(count)

    @property
    def count(self) -> int:
        return max(0, self._count)

    # ------------------------------------------------------------------ selection
    def selected_items(self) -> list[InboxItem]:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.model.items[row] for row in rows if row < len(self.model.items)]

    def select_items(self, ids: list[str]) -> None:
        wanted = set(ids)
        self._select_rows([row for row, item in enumerate(self.model.items)
                           if item.id in wanted])

    def _select_rows(self, rows: list[int]) -> None:
        selection = QItemSelection()
        for row in rows:
            selection.select(self.model.index(row, 0),
                             self.model.index(row, self.model.columnCount() - 1))
        model = self.table.selectionModel()
        model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if rows:
            model.setCurrentIndex(self.model.index(rows[0], 0),
                                  QItemSelectionModel.SelectionFlag.NoUpdate)
            self.table.scrollTo(self.model.index(rows[0], 0))
        self._selection_changed()

    def _current_item(self) -> InboxItem | None:
        items = self.selected_items()
        index = self.table.currentIndex()
        if index.isValid() and index.row() < len(self.model.items):
            current = self.model.items[index.row()]
            if current in items:
                return current
        return items[0] if items else None

    def _selection_changed(self, *_args: object) -> None:
        self._fill_classes()
        self._show_current()
        self._update_actions()

    def _show_current(self) -> None:
        item = self._current_item()
        if item is None or self.inbox is None:
            self.preview.set_file(None)
            self.caption.setText("")
            return
        shown = self.preview.set_file(self.inbox.image_path(item))
        result = f"result #{item.result_id}" if item.result_id is not None else "no result row"
        extra = len(self.selected_items()) - 1
        self.caption.setText(
            f"<b>Model:</b> {_html(item.model_verdict)} · {_html(item.model_label)} "
            f"({item.confidence:.1%})<br><b>Operator:</b> {_html(item.operator)} said "
            f"<b>{_html(item.operator_label)}</b> on {when_text(item.time)}<br>"
            f"<span style='color:#757575'>{result}"
            f"{' · ' + _html(item.source) if item.source else ''}"
            f"{' · model ' + _html(item.model_version) if item.model_version else ''}"
            f"{'' if shown else ' · the frame cannot be read'}</span>"
            + (f"<br>and {extra} more selected" if extra > 0 else ""))

    # ------------------------------------------------------------------ the class choice
    def _classes(self) -> list[str]:
        if self.dataset is None:
            return []
        try:
            return self.dataset.classes()
        except OSError as exc:
            log.warning("cannot list the classes of %s: %s", self.dataset.root, exc)
            return []

    def _fill_classes(self, select: Choice | None = None) -> None:
        """Classes of the dataset, the operators' answers that are not classes yet (as new
        classes), "New class…"; and "Each as the operator said" for a mixed selection."""
        items = self.selected_items()
        classes = self._classes()
        answers = list(dict.fromkeys(item.operator_label for item in items))
        extra = [a for a in answers if a not in classes]
        if select is not None and select[0] == CLASS and select[1] not in classes + extra:
            extra.append(select[1])
        choices: list[Choice] = []
        texts: list[str] = []
        if len(answers) > 1:
            choices.append((EACH, "", False))
            texts.append("Each as the operator said")
        for label in classes:
            choices.append((CLASS, label, False))
            texts.append(label)
        for label in extra:
            choices.append((CLASS, label, True))
            texts.append(f"{label} (new class)")
        choices.append((NEW, "", True))
        texts.append("New class…")
        if select is None:
            select = ((EACH, "", False) if len(answers) > 1 else
                      (CLASS, answers[0], answers[0] not in classes) if answers else None)
        index = choices.index(select) if select in choices else (
            0 if classes or extra else -1)
        combo = self.class_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItems(texts)
        self._choices = choices
        combo.setCurrentIndex(index)
        combo.blockSignals(False)
        self._previous_choice = self.choice()

    def _combo_activated(self, _index: int) -> None:
        choice = self.choice()
        if not choice or choice[0] != NEW:
            self._previous_choice = choice
            return
        label = self.ask_new_class()
        if label is None:
            self._fill_classes(self._previous_choice)
        else:
            self._fill_classes((CLASS, label, True))

    def ask_new_class(self) -> str | None:
        """Ask for a new class's name; None when cancelled or refused (the reason is shown)."""
        name, ok = QInputDialog.getText(self, "New class",
                                        "Name of the new class (created when you accept):")
        if not ok or not name.strip():
            return None
        try:
            label = check_class_name(name)
        except DatasetError as exc:
            self.show_error(str(exc))
            return None
        if label.lower() in {c.lower() for c in self._classes()} and label not in self._classes():
            self.show_error(f"A class named like '{label}' already exists (the case differs).")
            return None
        return label

    def choice(self) -> Choice | None:
        """What the combo says: (EACH | CLASS | NEW, class, create the class)."""
        index = self.class_combo.currentIndex()
        return self._choices[index] if 0 <= index < len(self._choices) else None

    def choices(self) -> list[Choice]:
        return list(self._choices)

    # ------------------------------------------------------------------ actions
    def _allowed(self) -> bool:
        if self.session is not None and not self.session.is_engineer:
            self.show_error("Only an engineer can change the dataset: unlock engineer mode "
                            "(Station menu, Ctrl+L).")
            return False
        return True

    def _update_actions(self) -> None:
        engineer = self.session is None or self.session.is_engineer
        idle = self._job is None and self.dataset is not None and engineer
        selected = bool(self.table.selectionModel().selectedRows())
        self.accept_button.setEnabled(idle and selected and self.class_combo.count() > 0)
        self.discard_button.setEnabled(idle and selected)
        self.class_combo.setEnabled(idle and selected)
        self.refresh_button.setEnabled(self.inbox is not None)

    def accept_selected(self, label: str | None = None, create: bool | None = None) -> bool:
        """Accept the selected items into `label` (default: the combo's choice; `create` makes
        a class that does not exist). Returns whether the work started."""
        items = self.selected_items()
        inbox, dataset = self.inbox, self.dataset
        if not items or inbox is None or dataset is None or self._job is not None:
            return False
        if not self._allowed():
            return False
        classes = self._classes()
        if label is not None:
            try:
                label = check_class_name(label)
            except DatasetError as exc:
                self.show_error(str(exc))
                return False
            if label not in classes and not create:
                self.show_error(f"There is no class '{label}' in the dataset; choose "
                                "“New class…” to create it.")
                return False
            plan = [(item, label, label not in classes) for item in items]
        else:
            choice = self.choice()
            if choice is None:
                return False
            if choice[0] == NEW:
                new = self.ask_new_class()
                if new is None:
                    return False
                choice = (CLASS, new, True)
                self._fill_classes(choice)
            kind, chosen, _create = choice
            if kind == EACH:
                plan = [(item, item.operator_label, item.operator_label not in classes)
                        for item in items]
            else:
                plan = [(item, chosen, chosen not in classes) for item in items]
        self.message_bar.dismiss()
        record = self.session.recorder() if self.session is not None else None
        self._run(accept_worker(inbox, dataset, plan, record), self._show_accepted)
        return True

    def _announce(self, entries: list[AuditEntry], audit_error: str | None) -> None:
        if self.session is not None:
            self.session.announce(entries)
            if audit_error is not None:
                self.session.audit_failed.emit(audit_error)

    def _show_accepted(self, report: AcceptReport) -> None:
        self._announce(report.entries, report.audit_error)
        accepted = report.accepted
        added = [o for o in accepted if o.path is not None]
        duplicates = len(accepted) - len(added)
        parts = []
        if added:
            by_class: dict[str, int] = {}
            for outcome in added:
                by_class[outcome.label] = by_class.get(outcome.label, 0) + 1
            parts.append("Added " + ", ".join(f"{n} to {label}" for label, n in by_class.items())
                         + ".")
        if duplicates:
            parts.append(f"{duplicates} already in the class (removed from the inbox).")
        if report.audit_error is not None:
            self.show_error(" ".join(parts) + f" The audit log could not be written, so the "
                            f"rest were left in the inbox: {report.audit_error}")
        elif report.failed:
            first = report.failed[0]
            more = (f" ({len(report.failed) - 1} more not accepted)" if len(report.failed) > 1
                    else "")
            self.show_error(" ".join(parts) + f" Not accepted: {first.error}{more}")
        elif parts:
            self.message_bar.show_info(" ".join(parts))
        if added or any(o.created for o in accepted):
            self.dataset_changed.emit()
        self.accepted.emit(report)

    def discard_selected(self) -> bool:
        items = self.selected_items()
        inbox = self.inbox
        if not items or inbox is None or self._job is not None or not self._allowed():
            return False
        what = "this frame" if len(items) == 1 else f"these {len(items)} frames"
        answer = QMessageBox.question(
            self, "Discard", f"Discard {what} from the review inbox? They are deleted from the "
            "inbox; the results keep their own snapshots.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.message_bar.dismiss()

        def done(report: DiscardReport) -> None:
            self._announce(report.entries, report.audit_error)
            gone = report.items
            text = f"Discarded {len(gone)} {'frame' if len(gone) == 1 else 'frames'}."
            if report.audit_error is not None:
                self.show_error(f"{text} The audit log could not be written, so the rest were "
                                f"kept: {report.audit_error}")
            else:
                self.message_bar.show_info(text)
            self.discarded.emit(gone)

        record = self.session.recorder() if self.session is not None else None
        self._run(discard_worker(inbox, items, record), done)
        return True

    def _run(self, worker: Worker, on_finished: Any) -> None:
        self._job = worker
        self.busy_changed.emit(True)
        self._update_actions()

        def finished(result: Any) -> None:
            if worker is self._job:
                on_finished(result)

        def failed(message: str) -> None:
            if worker is self._job:
                self.show_error(message)

        def done() -> None:
            if worker is self._job:
                self._job = None
                self.busy_changed.emit(False)
                self._update_actions()
                self._refresh_pending = True
                self._run_pending()

        worker.finished.connect(while_alive(self, finished))
        worker.failed.connect(while_alive(self, failed))
        worker.done.connect(while_alive(self, done))
        worker.start()

    def show_error(self, message: str) -> None:
        self.message_bar.show_error(message)
        self.error_shown.emit(message)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self._fill_classes()  # classes may have changed on the Datasets page
        self._update_actions()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
