"""The Audit log page (engineers): who did what and when at this station, newest first.

A table of entries (time, user, role, action, details), filtered by action and user, read a
page at a time ("Load more"). Above it, the result of checking the log's hash chain: "Log
intact: 1,234 entries", or "Tampered at entry 57" in red (that row is marked too). Reading and
checking run in workers; the page follows the session, so an entry written while it is shown
appears at once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.core.station import audit as actions
from inspector.core.station.audit import AuditEntry, AuditLog
from inspector.gui.widgets.message_bar import MessageBar
from inspector.gui.workers.base import Progress, Worker, while_alive

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.workspace import Workspace
    from inspector.gui.session import StationSession

log = logging.getLogger(__name__)

PAGE_SIZE = 200
Index = QModelIndex | QPersistentModelIndex
TAMPERED_COLOR = "#C62828"
INTACT_COLOR = "#2E7D32"

ACTION_NAMES = {
    actions.ROLE: "Role",
    actions.OVERRIDE: "Override",
    actions.REVIEW_DECIDED: "REVIEW decided",
    actions.THRESHOLD: "Threshold",
    actions.ACTIVE_MODEL: "Active model",
    actions.PIN_SET: "PIN set",
    actions.UNLOCK_REFUSED: "Unlock refused",
    actions.INBOX_ACCEPT: "Inbox: accepted",
    actions.INBOX_DISCARD: "Inbox: discarded",
    actions.USER: "Operator name",
    actions.ROI: "Region of interest",
}


def action_name(action: str) -> str:
    return ACTION_NAMES.get(action, action.replace("_", " ").capitalize())


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "–"
    return str(value)


def describe(entry: AuditEntry) -> str:
    """The details of an entry in words: 'operator → engineer (PIN)'."""
    d = entry.detail
    action = entry.action
    if action == actions.ROLE:
        change = f"{d['previous']} → {d['new']}" if "previous" in d else f"{d.get('new')}"
        return f"{change} ({d['reason']})" if d.get("reason") else change
    if action in (actions.OVERRIDE, actions.REVIEW_DECIDED):
        confidence = d.get("confidence")
        conf = f", {confidence:.0%}" if isinstance(confidence, int | float) else ""
        return (f"result {_value(d.get('result'))}: model {_value(d.get('model'))} "
                f"({_value(d.get('verdict'))}{conf}) → {_value(d.get('operator_class'))}")
    if action == actions.THRESHOLD and "new" in d:
        what = " ".join(_value(d[k]) for k in ("cls", "class", "label", "name") if k in d)
        return f"{what + ' ' if what else ''}{_value(d.get('old'))} → {_value(d['new'])}"
    if action == actions.ACTIVE_MODEL:
        previous = f"{_value(d.get('previous'))} → " if "previous" in d else ""
        return f"{previous}{_value(d.get('model'))}"
    if action == actions.INBOX_ACCEPT:
        text = (f"{_value(d.get('item'))} into {_value(d.get('label'))}"
                f"{' (new class)' if d.get('new_class') else ''}")
        if d.get("duplicate"):
            return text + ": already there"
        return text + (f" as {d['file']}" if d.get("file") else "")
    if action == actions.INBOX_DISCARD:
        return (f"{_value(d.get('item'))} (model {_value(d.get('model'))}, "
                f"operator {_value(d.get('operator_class'))})")
    if action == actions.UNLOCK_REFUSED:
        return _value(d.get("reason", ""))
    if action == actions.PIN_SET:
        return "changed" if d.get("changed") else "set"
    if action == actions.USER:
        return f"{d.get('previous') or '(none)'} → {d.get('new') or '(none)'}"
    return ", ".join(f"{k} {_value(v)}" for k, v in d.items())


@dataclass(frozen=True)
class AuditSnapshot:
    entries: list[AuditEntry]
    matching: int  # entries that pass the filters
    actions: list[str]
    users: list[str]


@dataclass(frozen=True)
class ChainCheck:
    tampered_at: int | None
    count: int


def read_audit_worker(audit: AuditLog, limit: int, offset: int, action: str | None,
                      user: str | None) -> Worker:
    def task(_progress: Progress, _stop: threading.Event) -> AuditSnapshot:
        return AuditSnapshot(audit.entries(limit, offset, action, user),
                             audit.count(action, user), audit.actions(), audit.users())

    return Worker(task, "reading the audit log")


def verify_audit_worker(audit: AuditLog) -> Worker:
    def task(_progress: Progress, stop: threading.Event) -> ChainCheck:
        count = audit.count()
        return ChainCheck(audit.verify(stop), count)

    return Worker(task, "checking the audit log")


class AuditTableModel(QAbstractTableModel):
    HEADERS = ("Time", "User", "Role", "Action", "Details")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[AuditEntry] = []
        self.tampered_at: int | None = None

    def set_entries(self, entries: list[AuditEntry]) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.endResetModel()

    def append_entries(self, entries: list[AuditEntry]) -> None:
        known = {entry.id for entry in self.entries}
        fresh = [entry for entry in entries if entry.id not in known]
        if fresh:
            first = len(self.entries)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self.entries.extend(fresh)
            self.endInsertRows()

    def set_tampered(self, entry_id: int | None) -> None:
        self.tampered_at = entry_id
        if self.entries:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self.entries) - 1, len(self.HEADERS) - 1))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.entries)

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
        entry = self.entries[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.time))
            return (None, entry.user, entry.role, action_name(entry.action),
                    describe(entry))[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"Entry {entry.id} · {entry.action} · hash {entry.hash[:16]}…\n"
                    + "\n".join(f"{k}: {v}" for k, v in entry.detail.items()))
        if role == Qt.ItemDataRole.BackgroundRole and entry.id == self.tampered_at:
            return QColor("#FFCDD2")
        if role == Qt.ItemDataRole.ForegroundRole:
            if entry.id == self.tampered_at:
                return QColor("#8E1B10")
            if column == 3 and entry.action == actions.UNLOCK_REFUSED:
                return QColor(TAMPERED_COLOR)
        if role == Qt.ItemDataRole.FontRole and column == 3 and entry.action in (
                actions.ROLE, actions.OVERRIDE, actions.ACTIVE_MODEL):
            font = QFont()
            font.setBold(True)
            return font
        return None


class AuditPage(QWidget):
    """Build it, then `set_session(session)` and `set_workspace(workspace, dataset)`."""

    refreshed = Signal()  # entries are on screen
    checked = Signal(object)  # ChainCheck
    error_shown = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: StationSession | None = None
        self.workspace: Workspace | None = None
        self.check: ChainCheck | None = None
        self.matching = 0
        self._reader: Worker | None = None
        self._verifier: Worker | None = None
        self._shown_log: AuditLog | None = None
        self._build()
        self._show_empty()

    def _build(self) -> None:
        style = self.style()
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.chain_label = QLabel()
        self.chain_label.setTextFormat(Qt.TextFormat.RichText)
        self.message_bar = MessageBar()
        self.action_combo = QComboBox()
        self.action_combo.setMinimumContentsLength(14)
        self.user_combo = QComboBox()
        self.user_combo.setMinimumContentsLength(12)
        self.action_combo.activated.connect(lambda _index: self.reload())
        self.user_combo.activated.connect(lambda _index: self.reload())
        action_label = QLabel("&Action:")
        action_label.setBuddy(self.action_combo)
        user_label = QLabel("&User:")
        user_label.setBuddy(self.user_combo)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh_button.setToolTip("Read the log again and check its chain (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.refresh)
        self.shown_label = QLabel()
        self.more_button = QPushButton("Load more")
        self.more_button.setToolTip(f"The next {PAGE_SIZE} older entries")
        self.more_button.clicked.connect(self.load_more)
        filters = QHBoxLayout()
        filters.addWidget(action_label)
        filters.addWidget(self.action_combo)
        filters.addSpacing(12)
        filters.addWidget(user_label)
        filters.addWidget(self.user_combo)
        filters.addStretch(1)
        filters.addWidget(self.refresh_button)

        self.model = AuditTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        footer = QHBoxLayout()
        footer.addWidget(self.shown_label)
        footer.addStretch(1)
        footer.addWidget(self.more_button)

        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.chain_label)
        layout = QVBoxLayout(self)
        layout.addLayout(heading)
        layout.addWidget(self.message_bar)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(footer)

    # ------------------------------------------------------------------ session & workspace
    @property
    def audit(self) -> AuditLog | None:
        return self.session.audit if self.session is not None else None

    def set_session(self, session: StationSession) -> None:
        self.session = session
        session.recorded.connect(while_alive(self, self._entry_written))
        session.attached.connect(while_alive(self, self._reset))
        self._reset()

    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None:
        self.workspace = workspace
        if self.audit is not self._shown_log:
            self._reset()
        elif self.audit is not None:
            self._show_title(self.audit)

    def _reset(self) -> None:
        """Another log (or none): forget the filters and what was shown, read it anew."""
        self._shown_log = self.audit
        for worker in (self._reader, self._verifier):
            if worker is not None:
                worker.cancel()
        self._reader = self._verifier = None
        self.model.set_entries([])
        self.model.set_tampered(None)
        self.check = None
        self.message_bar.dismiss()
        self._fill_filters([], [])
        if self.audit is None:
            self._show_empty()
            return
        self._show_title(self.audit)
        self.refresh()

    def _show_title(self, audit: AuditLog) -> None:
        name = self.workspace.name if self.workspace is not None else audit.path.parent.name
        self.title.setText(f"Audit log of <b>{_html(name)}</b>"
                           f"&nbsp;&nbsp;<span style='color:#757575'>"
                           f"{_html(str(audit.path))}</span>")

    def _show_empty(self) -> None:
        self.title.setText("<b>No audit log:</b> open a workspace.")
        self.chain_label.setText("")
        self.shown_label.setText("")
        self.more_button.setEnabled(False)

    def _entry_written(self, _entry: AuditEntry) -> None:
        if self.check is not None and self.check.tampered_at is None:
            # the application chains its own entries correctly: no need to check them all again
            self._show_check(ChainCheck(None, self.check.count + 1))
        if self.isVisible():
            self.reload(keep=True)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        # entries may have been written without passing through the session (by a worker, by
        # `inspector station` or by another station on the same workspace): read and check anew
        self.refresh()

    # ------------------------------------------------------------------ filters
    def _fill_filters(self, found_actions: list[str], users: list[str]) -> None:
        for combo, everything, values, name in (
                (self.action_combo, "All actions",
                 list(dict.fromkeys([*actions.ACTIONS, *found_actions])), action_name),
                (self.user_combo, "All users", users, str)):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everything, None)
            for value in values:
                combo.addItem(name(value), value)
            if current is not None and combo.findData(current) < 0:
                combo.addItem(name(current), current)  # a filter with no entries (yet)
            combo.setCurrentIndex(max(0, combo.findData(current)) if current else 0)
            combo.blockSignals(False)

    def set_filters(self, action: str | None = None, user: str | None = None) -> None:
        """Show only entries of that action and user (None: all)."""
        for combo, value in ((self.action_combo, action), (self.user_combo, user)):
            index = combo.findData(value) if value is not None else 0
            if index < 0:
                combo.addItem(action_name(value) if combo is self.action_combo else value,
                              value)
                index = combo.count() - 1
            combo.setCurrentIndex(index)
        self.reload()

    def filters(self) -> tuple[str | None, str | None]:
        return self.action_combo.currentData(), self.user_combo.currentData()

    # ------------------------------------------------------------------ reading
    def refresh(self) -> None:
        """Read the newest entries again and check the chain."""
        self.reload(keep=True)
        self.verify()

    def reload(self, keep: bool = False) -> None:
        """Read the newest entries with the current filters (as many as shown with `keep`)."""
        audit = self.audit
        if audit is None:
            return
        limit = max(PAGE_SIZE, len(self.model.entries)) if keep else PAGE_SIZE
        self._read(audit, limit, 0, replace=True)

    def load_more(self) -> None:
        audit = self.audit
        if audit is None or self._reader is not None:
            return
        self._read(audit, PAGE_SIZE, len(self.model.entries), replace=False)

    def _read(self, audit: AuditLog, limit: int, offset: int, replace: bool) -> None:
        if self._reader is not None:
            self._reader.cancel()
        action, user = self.filters()
        worker = read_audit_worker(audit, limit, offset, action, user)
        self._reader = worker
        self.more_button.setEnabled(False)

        def finished(snapshot: AuditSnapshot) -> None:
            if worker is not self._reader:
                return
            if replace:
                self.model.set_entries(snapshot.entries)
            else:
                self.model.append_entries(snapshot.entries)
            self.matching = snapshot.matching
            self._fill_filters(snapshot.actions, snapshot.users)
            self._show_counts()
            self.refreshed.emit()

        def failed(message: str) -> None:
            if worker is self._reader:
                self.show_error(message)

        def done() -> None:
            if worker is self._reader:
                self._reader = None
                self.more_button.setEnabled(len(self.model.entries) < self.matching)

        worker.finished.connect(while_alive(self, finished))
        worker.failed.connect(while_alive(self, failed))
        worker.done.connect(while_alive(self, done))
        worker.start()

    def _show_counts(self) -> None:
        shown = len(self.model.entries)
        action, user = self.filters()
        what = "entries" if action is None and user is None else "matching entries"
        self.shown_label.setText(f"Showing {shown:,} of {self.matching:,} {what}, newest first")

    def verify(self) -> None:
        """Check the whole chain (a check already running gives way: its answer may be old)."""
        audit = self.audit
        if audit is None:
            return
        if self._verifier is not None:
            self._verifier.cancel()
        worker = verify_audit_worker(audit)
        self._verifier = worker
        self.chain_label.setText("Checking the log…")

        def finished(check: ChainCheck) -> None:
            if worker is self._verifier:
                self._show_check(check)

        def failed(message: str) -> None:
            if worker is self._verifier:
                self.chain_label.setText("")
                self.show_error(message)

        def done() -> None:
            if worker is self._verifier:
                self._verifier = None

        worker.finished.connect(while_alive(self, finished))
        worker.failed.connect(while_alive(self, failed))
        worker.done.connect(while_alive(self, done))
        worker.start()

    def _show_check(self, check: ChainCheck) -> None:
        self.check = check
        self.model.set_tampered(check.tampered_at)
        if check.tampered_at is None:
            self.chain_label.setText(f"<span style='color:{INTACT_COLOR}'>✔ Log intact: "
                                     f"{check.count:,} entries</span>")
            self.chain_label.setToolTip(
                "Each entry carries a SHA-256 over the one before it and its own content: an "
                "entry edited, removed or inserted outside Inspector breaks the chain.")
        else:
            self.chain_label.setText(
                f"<span style='color:{TAMPERED_COLOR}; font-weight:bold'>✖ Tampered at entry "
                f"{check.tampered_at}</span>")
            self.chain_label.setToolTip(
                f"Entry {check.tampered_at} does not follow from the entries before it: it, or "
                "one before it, was edited, removed or inserted outside Inspector. Entries from "
                "there on cannot be trusted; keep a copy of the file for investigation.")
        self.checked.emit(check)

    @property
    def chain_text(self) -> str:
        """The chain check as plain text ('Log intact: 12 entries')."""
        if self.check is None:
            return ""
        if self.check.tampered_at is None:
            return f"Log intact: {self.check.count:,} entries"
        return f"Tampered at entry {self.check.tampered_at}"

    def show_error(self, message: str) -> None:
        self.message_bar.show_error(message)
        self.error_shown.emit(message)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
