"""The audit log: who changed what and when, append-only.

One SQLite file per workspace (`audit.sqlite`). Rows can only be added: triggers abort any
UPDATE or DELETE, and each row carries a SHA-256 chained over the previous row's hash and its
own content, so an edit made behind the application's back (another SQLite client dropping the
triggers) is found by `verify()`. Each append commits with `synchronous=FULL` before it returns:
an entry that was shown as written survives a kill or a power cut.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from inspector.core.errors import InspectorError

log = logging.getLogger(__name__)

AUDIT_FILE = "audit.sqlite"
GENESIS = "0" * 64

# actions: the words the log and its viewer use
ROLE = "role"
OVERRIDE = "override"
REVIEW_DECIDED = "review_decided"
THRESHOLD = "threshold"
ACTIVE_MODEL = "active_model"
PIN_SET = "pin_set"
UNLOCK_REFUSED = "unlock_refused"
INBOX_ACCEPT = "inbox_accept"
INBOX_DISCARD = "inbox_discard"
USER = "user"  # the operator's name at the station changed
ROI = "roi"  # the live region of interest changed
ACTIONS = (ROLE, OVERRIDE, REVIEW_DECIDED, THRESHOLD, ACTIVE_MODEL, PIN_SET, UNLOCK_REFUSED,
           INBOX_ACCEPT, INBOX_DISCARD, USER, ROI)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_time ON audit (time);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


class AuditError(InspectorError):
    """The audit log cannot be opened or written; the message says where and why."""


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time: float
    user: str
    role: str
    action: str
    detail: dict[str, Any]
    hash: str

    def describe(self) -> str:
        """One line for people: 'threshold short 0.60 -> 0.75'."""
        parts = [f"{k} {v}" for k, v in self.detail.items() if k not in {"image"}]
        return f"{self.action}: " + ", ".join(parts) if parts else self.action


def _digest(prev: str, when: float, user: str, role: str, action: str, detail: str) -> str:
    payload = json.dumps([prev, repr(float(when)), user, role, action, detail],
                         ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class AuditLog:
    """The append-only audit log at `path` (a context manager)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=5.0,
                                         isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise AuditError(f"Cannot open the audit log {self.path}: {exc}. Check that the "
                             "workspace folder is writable.") from None

    @classmethod
    def for_workspace(cls, root: Path) -> Self:
        return cls(Path(root) / AUDIT_FILE)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._conn.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def append(self, user: str, role: str, action: str, **detail: Any) -> AuditEntry:
        """Write one entry; committed (and synced) when this returns."""
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
        with self._lock:
            if self._closed:
                raise AuditError(f"The audit log {self.path} is closed; nothing was written.")
            when = time.time()  # taken under the lock: ids and times rise together
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                row = self._conn.execute(
                    "SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
                prev = row[0] if row else GENESIS
                digest = _digest(prev, when, user, role, action, text)
                cursor = self._conn.execute(
                    "INSERT INTO audit (time, user, role, action, detail, prev_hash, hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", (when, user, role, action, text, prev, digest))
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise AuditError(f"Cannot write to the audit log {self.path}: {exc}.") from None
        log.info("audit: %s %s by %s (%s) %s", action, text, user, role, digest[:12])
        return AuditEntry(int(cursor.lastrowid or 0), when, user, role, action, detail, digest)

    def _read(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple]:
        with self._lock:
            if self._closed:
                raise AuditError(f"The audit log {self.path} is closed.")
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise AuditError(f"Cannot read the audit log {self.path}: {exc}.") from None

    def entries(self, limit: int = 500, offset: int = 0, action: str | None = None,
                user: str | None = None, newest_first: bool = True) -> list[AuditEntry]:
        clauses, params = [], []
        if action:
            clauses.append("action = ?")
            params.append(action)
        if user:
            clauses.append("user = ?")
            params.append(user)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        order = "DESC" if newest_first else "ASC"
        rows = self._read(f"SELECT id, time, user, role, action, detail, hash FROM audit{where} "
                          f"ORDER BY id {order} LIMIT ? OFFSET ?", [*params, limit, offset])
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], _detail(r[5]), r[6]) for r in rows]

    def count(self, action: str | None = None, user: str | None = None) -> int:
        clauses, params = [], []
        if action:
            clauses.append("action = ?")
            params.append(action)
        if user:
            clauses.append("user = ?")
            params.append(user)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return int(self._read(f"SELECT COUNT(*) FROM audit{where}", params)[0][0])

    def actions(self) -> list[str]:
        """The actions that occur in the log, sorted (for a viewer's filter)."""
        return [r[0] for r in self._read("SELECT DISTINCT action FROM audit ORDER BY action")]

    def users(self) -> list[str]:
        """The users that occur in the log, sorted."""
        return [r[0] for r in self._read("SELECT DISTINCT user FROM audit ORDER BY user")]

    def verify(self, stop_event: threading.Event | None = None) -> int | None:
        """The id of the first entry whose hash chain is broken (edited, removed or inserted
        behind the application's back), or None when the whole log is intact (or when
        `stop_event` was set: the answer then means nothing).

        Reads through a connection of its own, row by row: appends go on meanwhile (WAL), and
        a log of millions of entries is never held in memory. Removing the newest entries
        leaves an intact chain: only what the chain covers can be checked."""
        prev = GENESIS
        try:
            conn = sqlite3.connect(self.path, timeout=5.0)
        except sqlite3.Error as exc:
            raise AuditError(f"Cannot read the audit log {self.path}: {exc}.") from None
        try:
            rows = conn.execute("SELECT id, time, user, role, action, detail, prev_hash, hash "
                                "FROM audit ORDER BY id")
            for id_, when, user, role, action, detail, prev_hash, digest in rows:
                if stop_event is not None and id_ % 1024 == 0 and stop_event.is_set():
                    return None
                try:
                    expected = _digest(prev, when, user, role, action, detail)
                except (TypeError, ValueError):  # a value of the wrong type written by hand
                    return int(id_)
                if prev_hash != prev or expected != digest:
                    return int(id_)
                prev = digest
        except sqlite3.Error as exc:
            raise AuditError(f"Cannot read the audit log {self.path}: {exc}.") from None
        finally:
            conn.close()
        return None


def _detail(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"unreadable": text}
    return value if isinstance(value, dict) else {"value": value}
