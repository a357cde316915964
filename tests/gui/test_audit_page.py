"""The Audit log page: entries newest first in words, filters, paging, the chain check."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from inspector.core.station import audit as actions
from inspector.core.station.access import AccessControl, Role
from inspector.core.station.audit import AUDIT_FILE, AuditLog
from inspector.gui.pages.audit import PAGE_SIZE, AuditPage
from inspector.gui.session import StationSession

TIMEOUT = 5000


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def session(root: Path) -> Iterator[StationSession]:
    session = StationSession()
    session.attach(AccessControl(root), AuditLog.for_workspace(root), 0, Role.ENGINEER, root)
    yield session
    session.close()


def fill(audit: AuditLog) -> None:
    audit.append("ana", "operator", actions.OVERRIDE, result=7, verdict="FAIL", model="short",
                 operator_class="ok", confidence=0.71)
    audit.append("Maria", "engineer", actions.ROLE, previous="operator", new="engineer",
                 reason="PIN")
    audit.append("Maria", "engineer", actions.THRESHOLD, cls="short", old=0.6, new=0.75)
    audit.append("Maria", "engineer", actions.ACTIVE_MODEL, model="run-2", previous="run-1")
    audit.append("bo", "operator", actions.UNLOCK_REFUSED, reason="wrong PIN")


@pytest.fixture
def page(qtbot, session) -> AuditPage:
    page = AuditPage()
    qtbot.addWidget(page)
    page.resize(1000, 500)
    page.show()
    return page


def start(qtbot, page: AuditPage, session: StationSession) -> None:
    with qtbot.waitSignals([page.refreshed, page.checked], timeout=TIMEOUT):
        page.set_session(session)


def texts(page: AuditPage, column: int) -> list[str]:
    return [page.model.index(row, column).data() for row in range(page.model.rowCount())]


def test_entries_are_listed_newest_first_in_words(qtbot, page, session):
    fill(session.audit)  # after the "workspace opened" entry of attach
    start(qtbot, page, session)
    assert texts(page, 1) == ["bo", "Maria", "Maria", "Maria", "ana", "engineer"]
    assert texts(page, 3)[:4] == ["Unlock refused", "Active model", "Threshold", "Role"]
    assert texts(page, 4)[:5] == ["wrong PIN", "run-1 → run-2", "short 0.6 → 0.75",
                                  "operator → engineer (PIN)",
                                  "result 7: model short (FAIL, 71%) → ok"]
    assert texts(page, 2)[0] == "operator"
    assert texts(page, 0)[0][:2] == "20"  # a local date and time
    assert page.chain_text == "Log intact: 6 entries"
    assert "Log intact" in page.chain_label.text()
    assert page.shown_label.text() == "Showing 6 of 6 entries, newest first"
    assert not page.more_button.isEnabled()


def test_filters_by_action_and_user(qtbot, page, session):
    fill(session.audit)
    start(qtbot, page, session)
    assert page.user_combo.findData("Maria") > 0
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        page.set_filters(user="Maria")
    assert texts(page, 3) == ["Active model", "Threshold", "Role"]
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        page.set_filters(action=actions.ROLE, user="Maria")
    assert texts(page, 3) == ["Role"]
    assert page.shown_label.text() == "Showing 1 of 1 matching entries, newest first"
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        page.set_filters(action=actions.INBOX_DISCARD)  # a known action with no entry yet
    assert page.model.rowCount() == 0
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        page.set_filters()
    assert page.model.rowCount() == 6


def test_load_more_pages_through_a_long_log(qtbot, page, session):
    for i in range(PAGE_SIZE + 49):
        session.audit.append("ana", "operator", actions.OVERRIDE, result=i)
    start(qtbot, page, session)
    assert page.model.rowCount() == PAGE_SIZE
    assert page.model.entries[0].detail["result"] == PAGE_SIZE + 48
    assert page.more_button.isEnabled()
    page.hide()
    session.record(actions.PIN_SET, changed=False)  # written meanwhile: pages shift by one
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        page.load_more()
    ids = [entry.id for entry in page.model.entries]
    assert ids == list(range(PAGE_SIZE + 50, 0, -1))  # every older entry once, none twice
    qtbot.waitUntil(page.more_button.isEnabled, timeout=TIMEOUT)  # the new one
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        page.show()  # shown again: the entry written while hidden is read
    assert page.model.entries[0].action == actions.PIN_SET
    assert page.model.rowCount() == PAGE_SIZE + 50


def test_an_entry_written_while_shown_appears_at_once(qtbot, page, session):
    start(qtbot, page, session)
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        session.record(actions.THRESHOLD, cls="open", old=0.5, new=0.4)
    assert texts(page, 4)[0] == "open 0.5 → 0.4"
    assert page.chain_text == "Log intact: 2 entries"


def test_tampering_is_flagged_in_red_at_the_entry(qtbot, page, session, root):
    fill(session.audit)
    start(qtbot, page, session)
    conn = sqlite3.connect(root / AUDIT_FILE, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET user = 'nobody' WHERE id = 3")
    conn.close()
    with qtbot.waitSignals([page.refreshed, page.checked], timeout=TIMEOUT):
        page.refresh()
    assert page.chain_text == "Tampered at entry 3"
    assert "Tampered at entry 3" in page.chain_label.text() and "C62828" in (
        page.chain_label.text())
    row = [entry.id for entry in page.model.entries].index(3)
    background = page.model.index(row, 1).data(Qt.ItemDataRole.BackgroundRole)
    assert isinstance(background, QColor) and background.red() > background.green()
    assert page.model.index(0, 1).data(Qt.ItemDataRole.BackgroundRole) is None


def test_without_a_workspace_there_is_no_log(qtbot):
    page = AuditPage()
    qtbot.addWidget(page)
    page.set_session(StationSession())
    assert "No audit log" in page.title.text()
    page.refresh()  # nothing to read: no worker, no error
    assert page.model.rowCount() == 0 and page.message_bar.text() == ""
