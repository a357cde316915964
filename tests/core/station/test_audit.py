"""The audit log: append-only, filtered reads, and a hash chain that finds edits made behind
the application's back."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from inspector.core.station import audit as actions
from inspector.core.station.audit import AUDIT_FILE, AuditError, AuditLog


@pytest.fixture
def log(tmp_path: Path):
    with AuditLog.for_workspace(tmp_path) as opened:
        yield opened


def fill(log: AuditLog) -> None:
    log.append("ana", "operator", actions.OVERRIDE, result=7, model="short", operator_class="ok")
    log.append("engineer", "engineer", actions.ROLE, previous="operator", new="engineer")
    log.append("engineer", "engineer", actions.THRESHOLD, cls="short", old=0.6, new=0.75)
    log.append("ana", "operator", actions.REVIEW_DECIDED, result=9, model="open")
    log.append("bo", "operator", actions.OVERRIDE, result=12, model="ok", operator_class="spur")


def raw(tmp_path: Path) -> sqlite3.Connection:
    """Another SQLite client, as someone editing the file by hand would use."""
    return sqlite3.connect(tmp_path / AUDIT_FILE, isolation_level=None)


def test_entries_come_back_newest_first_with_user_role_time_and_detail(log):
    entry = log.append("ana", "operator", actions.OVERRIDE, result=7, model="short",
                       operator_class="ok", confidence=0.8125)
    assert entry.id == 1 and entry.time > 0 and len(entry.hash) == 64
    fill(log)
    assert log.count() == 6
    newest = log.entries(limit=2)
    assert [e.action for e in newest] == [actions.OVERRIDE, actions.REVIEW_DECIDED]
    assert newest[0].user == "bo" and newest[0].detail["operator_class"] == "spur"
    oldest = log.entries(limit=1, newest_first=False)[0]
    assert oldest == entry
    assert oldest.detail == {"result": 7, "model": "short", "operator_class": "ok",
                             "confidence": 0.8125}
    times = [e.time for e in log.entries(newest_first=False)]
    assert times == sorted(times)


def test_filters_and_paging(log):
    fill(log)
    assert [e.detail["result"] for e in log.entries(action=actions.OVERRIDE)] == [12, 7]
    assert [e.action for e in log.entries(user="ana")] == [actions.REVIEW_DECIDED,
                                                          actions.OVERRIDE]
    assert [e.id for e in log.entries(user="ana", action=actions.OVERRIDE)] == [1]
    assert log.entries(user="nobody") == []
    assert [e.id for e in log.entries(limit=2, offset=2)] == [3, 2]
    assert log.count(action=actions.OVERRIDE) == 2 and log.count(user="ana") == 2
    assert log.actions() == sorted({actions.OVERRIDE, actions.ROLE, actions.THRESHOLD,
                                    actions.REVIEW_DECIDED})
    assert log.users() == ["ana", "bo", "engineer"]


def test_describe_is_one_line_for_people(log):
    entry = log.append("engineer", "engineer", actions.THRESHOLD, cls="short", old=0.6, new=0.75)
    assert entry.describe() == "threshold: cls short, old 0.6, new 0.75"
    assert log.append("x", "engineer", actions.PIN_SET).describe() == "pin_set"


def test_update_and_delete_are_refused_by_the_database(log, tmp_path):
    fill(log)
    conn = raw(tmp_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit SET user = 'nobody' WHERE id = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit WHERE id = 2")
    conn.close()
    assert log.count() == 5 and log.entries(newest_first=False)[0].user == "ana"
    assert log.verify() is None


def test_an_edit_made_after_dropping_the_triggers_is_found(log, tmp_path):
    fill(log)
    assert log.verify() is None
    conn = raw(tmp_path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET detail = '{\"model\": \"ok\"}' WHERE id = 3")
    conn.close()
    assert log.verify() == 3


def test_a_deleted_row_in_the_middle_is_found(log, tmp_path):
    fill(log)
    conn = raw(tmp_path)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE id = 2")
    conn.close()
    assert log.verify() == 3  # entry 3 no longer follows the one before it


def test_a_forged_row_with_a_wrong_type_is_found_not_raised(log, tmp_path):
    fill(log)
    conn = raw(tmp_path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET time = 'yesterday' WHERE id = 4")
    conn.close()
    assert log.verify() == 4


def test_reopening_restores_the_triggers_and_appends_continue_the_chain(tmp_path):
    with AuditLog.for_workspace(tmp_path) as first:
        fill(first)
    conn = raw(tmp_path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.close()
    with AuditLog.for_workspace(tmp_path) as again:
        again.append("cy", "engineer", actions.PIN_SET)
        assert again.count() == 6 and again.verify() is None
    conn = raw(tmp_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit")
    conn.close()


def test_an_entry_is_durable_when_append_returns(log, tmp_path):
    log.append("ana", "operator", actions.OVERRIDE, result=1)
    conn = sqlite3.connect(tmp_path / AUDIT_FILE)  # another reader sees it at once
    assert conn.execute("SELECT user, action FROM audit").fetchall() == [("ana", "override")]
    conn.close()


def test_concurrent_appends_keep_one_unbroken_chain(log):
    def write(name: str) -> None:
        for i in range(25):
            log.append(name, "operator", actions.OVERRIDE, result=i)

    threads = [threading.Thread(target=write, args=(f"user{k}",)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.count() == 100
    assert log.verify() is None


def test_a_closed_or_unwritable_log_raises_audit_error(tmp_path):
    log = AuditLog.for_workspace(tmp_path)
    log.close()
    assert log.closed
    with pytest.raises(AuditError, match="closed"):
        log.append("ana", "operator", actions.ROLE)
    with pytest.raises(AuditError, match="closed"):
        log.entries()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(AuditError, match="Cannot open the audit log"):
        AuditLog(blocker / AUDIT_FILE)


def test_the_action_names_are_all_listed():
    assert len(set(actions.ACTIONS)) == len(actions.ACTIONS)
    for name in ("ROLE", "OVERRIDE", "REVIEW_DECIDED", "THRESHOLD", "ACTIVE_MODEL", "PIN_SET",
                 "UNLOCK_REFUSED", "INBOX_ACCEPT", "INBOX_DISCARD", "USER", "ROI"):
        assert getattr(actions, name) in actions.ACTIONS


def test_verify_stops_when_asked(log, tmp_path):
    for i in range(1100):
        log.append("ana", "operator", actions.OVERRIDE, result=i)
    conn = raw(tmp_path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET user = 'bo' WHERE id = 1050")
    conn.close()
    assert log.verify() == 1050
    stop = threading.Event()
    stop.set()
    assert log.verify(stop) is None  # stopped at entry 1024, before reaching the edit
