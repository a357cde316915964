"""`inspector station set-pin` and `inspector station audit`."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.core.station import audit as actions
from inspector.core.station.access import ACCESS_FILE, AccessControl
from inspector.core.station.audit import AUDIT_FILE, AuditLog
from inspector.core.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path / "ws")


def set_pin(monkeypatch, workspace: Workspace, stdin: str, *extra: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["station", "set-pin", "--workspace", str(workspace.root), "--pin-stdin",
                 *extra])


def test_set_pin_from_stdin_stores_a_hash_and_audits_it(monkeypatch, workspace, capsys):
    assert set_pin(monkeypatch, workspace, "864209\n", "--user", "maria") == 0
    assert "Engineer PIN set" in capsys.readouterr().out
    assert AccessControl(workspace.root).verify("864209")
    assert b"864209" not in (workspace.root / ACCESS_FILE).read_bytes()
    with AuditLog.for_workspace(workspace.root) as audit:
        [entry] = audit.entries()
    assert (entry.user, entry.role, entry.action) == ("maria", "engineer", actions.PIN_SET)
    assert entry.detail == {"changed": False, "via": "cli"}
    assert b"864209" not in (workspace.root / AUDIT_FILE).read_bytes()


def test_changing_the_pin_needs_the_current_one(monkeypatch, workspace, capsys):
    assert set_pin(monkeypatch, workspace, "1111\n") == 0
    assert set_pin(monkeypatch, workspace, "9999\n2222\n") == 2  # wrong current PIN
    assert "current PIN is wrong" in capsys.readouterr().err
    assert AccessControl(workspace.root).verify("1111")
    assert set_pin(monkeypatch, workspace, "1111\n") == 2  # the new one is missing
    assert "current PIN and the new one" in capsys.readouterr().err
    assert set_pin(monkeypatch, workspace, "1111\n2222\n") == 0
    assert "Engineer PIN changed" in capsys.readouterr().out
    assert AccessControl(workspace.root).verify("2222")
    with AuditLog.for_workspace(workspace.root) as audit:
        assert [e.action for e in audit.entries(newest_first=False)] == [
            actions.PIN_SET, actions.UNLOCK_REFUSED, actions.PIN_SET]


def test_a_malformed_pin_is_refused_before_anything_changes(monkeypatch, workspace, capsys):
    assert set_pin(monkeypatch, workspace, "12ab\n") == 2
    assert "4 to 12 digits" in capsys.readouterr().err
    assert not (workspace.root / ACCESS_FILE).exists()


def test_set_pin_asks_twice_without_echo(monkeypatch, workspace, capsys):
    answers = iter(["5555", "5556"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["station", "set-pin", "--workspace", str(workspace.root)]) == 2
    assert "differ" in capsys.readouterr().err and not AccessControl(workspace.root).has_pin
    answers = iter(["5555", "5555"])
    assert main(["station", "set-pin", "--workspace", str(workspace.root)]) == 0
    assert AccessControl(workspace.root).verify("5555")


def test_audit_prints_entries_newest_first_and_checks_the_chain(workspace, capsys):
    with AuditLog.for_workspace(workspace.root) as audit:
        audit.append("ana", "operator", actions.OVERRIDE, result=7, model="short",
                     operator_class="ok")
        audit.append("maria", "engineer", actions.THRESHOLD, cls="short", old=0.6, new=0.75)
    assert main(["station", "audit", "--workspace", str(workspace.root), "--verify"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "threshold" in lines[0] and "maria" in lines[0] and "new 0.75" in lines[0]
    assert "override" in lines[1] and "operator_class ok" in lines[1]
    assert lines[-2] == "2 of 2 entries shown, newest first."
    assert lines[-1] == "Log intact: 2 entries."
    assert main(["station", "audit", "--workspace", str(workspace.root), "--json",
                 "--user", "ana"]) == 0
    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["action"] == "override" and record["detail"]["result"] == 7


def test_audit_verify_fails_on_a_tampered_log(workspace, capsys):
    with AuditLog.for_workspace(workspace.root) as audit:
        for i in range(3):
            audit.append("ana", "operator", actions.OVERRIDE, result=i)
    conn = sqlite3.connect(workspace.root / AUDIT_FILE, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET user = 'bo' WHERE id = 2")
    conn.close()
    assert main(["station", "audit", "--workspace", str(workspace.root), "--limit", "1",
                 "--verify"]) == 1
    captured = capsys.readouterr()
    assert "1 of 3 entries shown" in captured.out
    assert "Tampered at entry 2" in captured.err


def test_station_needs_a_workspace(tmp_path, capsys):
    assert main(["station", "audit", "--workspace", str(tmp_path)]) == 2
    assert "not an Inspector workspace" in capsys.readouterr().err
