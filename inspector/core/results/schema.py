"""The results database: schema, identity check, migrations and connection settings.

A results database is an SQLite file whose `PRAGMA application_id` is `APPLICATION_ID` and whose
`PRAGMA user_version` is the schema version; `schema_version` records when each version was
applied. An empty or missing file becomes a new database. Anything else (another program's
SQLite file, a damaged file, a file written by a newer Inspector) is refused with a
`ResultsError` that names the file and says what to do: it is never written to.

Migrations: `MIGRATIONS[n]` upgrades a database from version n to n + 1. Bump `SCHEMA_VERSION`
and add the step; `prepare_database` runs the missing steps in one transaction on open.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from inspector.core.results.record import ResultsError

log = logging.getLogger(__name__)

APPLICATION_ID = 0x494E5350  # "INSP"
SCHEMA_VERSION = 1

COLUMNS: tuple[str, ...] = (
    "id", "time", "source", "model_version", "verdict", "label", "confidence", "probabilities",
    "thresholds", "ood_score", "truth", "frame_path", "overlay_path", "operator", "decision",
    "decided_at", "snapshot_bytes",
)

_SCHEMA_V1 = """
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,
    applied_at REAL NOT NULL,
    note TEXT NOT NULL
);
CREATE TABLE results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,      -- never reused: snapshot files are named by it
    time REAL NOT NULL,                        -- UTC epoch seconds
    source TEXT NOT NULL,
    model_version TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('PASS', 'FAIL', 'REVIEW')),
    label TEXT NOT NULL,
    confidence REAL NOT NULL,
    probabilities TEXT NOT NULL,               -- JSON object: class -> probability
    thresholds TEXT NOT NULL,                  -- JSON object: class -> threshold
    ood_score REAL,
    truth TEXT,
    frame_path TEXT,                           -- relative to the snapshots folder
    overlay_path TEXT,
    operator TEXT,                             -- operator confirmation / override
    decision TEXT,
    decided_at REAL,
    snapshot_bytes INTEGER NOT NULL DEFAULT 0  -- bytes of this row's snapshot files
);
CREATE INDEX results_time ON results (time);
CREATE INDEX results_verdict ON results (verdict, time);
CREATE INDEX results_label ON results (label, time);
CREATE INDEX results_operator ON results (operator, time);
CREATE INDEX results_model ON results (model_version, time);
CREATE INDEX results_snapshots ON results (time, snapshot_bytes) WHERE snapshot_bytes > 0;
"""

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: dict[int, Migration] = {}  # version n -> the step to n + 1


def sqlite_reason(exc: BaseException) -> str:
    """A user's words for an sqlite3 error."""
    text = str(exc)
    lowered = text.lower()
    if "disk is full" in lowered:
        return "disk full"
    if "readonly" in lowered or "read-only" in lowered:
        return "the file or its folder is read-only"
    if "locked" in lowered or "busy" in lowered:
        return "the database is locked by another program"
    if "disk i/o error" in lowered:
        return "disk I/O error"
    if "unable to open" in lowered:
        return "the file cannot be opened (missing folder or no permission?)"
    return text


def is_damage(exc: BaseException) -> bool:
    lowered = str(exc).lower()
    return "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered


def damaged_error(path: Path, exc: BaseException) -> ResultsError:
    return ResultsError(
        f"{path} is damaged or is not an SQLite database ({exc}). Inspector will not overwrite "
        "it: move it away (rename or delete it) and a new results database will be started there."
    )


def database_error(path: Path, action: str, exc: BaseException) -> ResultsError:
    """A ResultsError for an sqlite3 error met while doing `action` ("open", "read", ...)."""
    if is_damage(exc):
        return damaged_error(path, exc)
    return ResultsError(f"Cannot {action} the results database {path}: {sqlite_reason(exc)}.")


def connect(path: Path, *, durable: bool = False, busy_timeout: float = 5.0,
            check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (explicit BEGIN/COMMIT), WAL, synchronous NORMAL/FULL.
    Call only on a database that `prepare_database` has accepted."""
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None,
                           check_same_thread=check_same_thread)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        conn.execute("PRAGMA temp_store = MEMORY")
    except BaseException:
        conn.close()
        raise
    return conn


def _state(conn: sqlite3.Connection) -> tuple[int, int, list[str]]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    return app_id, version, tables


def _create(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V1.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1, ?, 'created')", (time.time(),))
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")


def _migrate(conn: sqlite3.Connection, path: Path, version: int) -> None:
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ResultsError(f"{path} has results schema {version}, and this version of "
                               f"Inspector cannot upgrade it to {SCHEMA_VERSION}.")
        step(conn)
        version += 1
        conn.execute("INSERT INTO schema_version VALUES (?, ?, 'migrated')",
                     (version, time.time()))
        conn.execute(f"PRAGMA user_version = {version}")
        log.info("results database %s migrated to schema %d", path, version)


def prepare_database(path: Path, *, busy_timeout: float = 5.0) -> None:
    """Create the database at `path`, upgrade it, or refuse it with a ResultsError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"Cannot create the folder {path.parent}: {exc.strerror}.") from None
    if path.exists() and not path.is_file():
        raise ResultsError(f"{path} is not a file; move it away or choose another workspace.")
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise ResultsError(f"Cannot open the results database {path}: "
                           f"{sqlite_reason(exc)}.") from None
    try:
        # Read-only checks first: a foreign file must not even be switched to WAL.
        app_id, version, tables = _state(conn)
        if app_id != APPLICATION_ID and (tables or version or app_id):
            shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
            raise ResultsError(
                f"{path} is an SQLite database, but not an Inspector results database "
                f"(tables: {shown or 'none'}). Inspector will not write into it: move it away "
                "(rename it) and a new results database will be started there."
            )
        if version > SCHEMA_VERSION:
            raise ResultsError(
                f"{path} was written by a newer version of Inspector (results schema {version}; "
                f"this one reads up to {SCHEMA_VERSION}). Update Inspector, or move the file "
                "away to start a new results database."
            )
        if app_id == APPLICATION_ID and version == SCHEMA_VERSION:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            app_id, version, tables = _state(conn)  # again, under the write lock
            if app_id != APPLICATION_ID:
                _create(conn)
                log.info("created results database %s", path)
            else:
                _migrate(conn, path, version)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.DatabaseError as exc:
        if is_damage(exc):
            raise damaged_error(path, exc) from None
        raise ResultsError(f"Cannot open the results database {path}: "
                           f"{sqlite_reason(exc)}.") from None
    finally:
        conn.close()
