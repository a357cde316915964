"""Retention: rows older than `keep_days` go with their snapshots; then the oldest snapshot
files go (their rows stay) while the snapshots exceed `max_snapshot_gb`.

Work is done in chunks of a few thousand rows, each its own short transaction, so the writer
and the readers are never held up for long. Rows are deleted (committed) before their files:
a kill in between leaves orphan JPEGs, never rows that point at files already gone... except
those of the size limit, whose paths are cleared in the same way before the files go.
The size is the database's account (`snapshot_bytes` of each row), not a walk of the folder.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from inspector.config import ResultsConfig
from inspector.core.results import snapshots
from inspector.core.results.record import RetentionReport

log = logging.getLogger(__name__)

DAY = 86_400.0
GB = 1e9  # max_snapshot_gb is in decimal gigabytes
CHUNK = 2000

Reading = Callable[[str], AbstractContextManager[sqlite3.Connection]]


def _paths(rows: list[tuple], columns: slice) -> list[str]:
    return [path for row in rows for path in row[columns] if path]


def delete_older(reading: Reading, snapshots_dir: Path, cutoff: float) -> tuple[int, int, int]:
    """Delete rows with time < cutoff and their files: (rows, files, bytes)."""
    rows = files = freed = 0
    while True:
        with reading("clean up") as conn:
            chunk = conn.execute(
                "SELECT id, frame_path, overlay_path FROM results WHERE time < ? "
                "ORDER BY time LIMIT ?", (cutoff, CHUNK)).fetchall()
            if not chunk:
                break
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("DELETE FROM results WHERE id = ?", [(r[0],) for r in chunk])
            conn.execute("COMMIT")
        rows += len(chunk)
        n, size = snapshots.remove_files(snapshots_dir, _paths(chunk, slice(1, 3)))
        files += n
        freed += size
    return rows, files, freed


def shrink_snapshots(reading: Reading, snapshots_dir: Path,
                     limit: int) -> tuple[int, int, int, int]:
    """Clear the oldest rows' snapshots until the total is at most `limit` bytes:
    (rows cleared, files, bytes freed, total bytes left)."""
    cleared = files = freed = 0
    with reading("clean up") as conn:
        total = int(conn.execute("SELECT COALESCE(SUM(snapshot_bytes), 0) FROM results "
                                 "WHERE snapshot_bytes > 0").fetchone()[0])
    while total > limit:
        with reading("clean up") as conn:
            chunk = conn.execute(
                "SELECT id, frame_path, overlay_path, snapshot_bytes FROM results "
                "WHERE snapshot_bytes > 0 ORDER BY time, id LIMIT ?", (CHUNK,)).fetchall()
            if not chunk:
                break
            picked = []
            for row in chunk:
                if total <= limit:
                    break
                picked.append(row)
                total -= row[3]
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("UPDATE results SET frame_path = NULL, overlay_path = NULL, "
                             "snapshot_bytes = 0 WHERE id = ?", [(r[0],) for r in picked])
            conn.execute("COMMIT")
        cleared += len(picked)
        n, size = snapshots.remove_files(snapshots_dir, _paths(picked, slice(1, 3)))
        files += n
        freed += size
    return cleared, files, freed, max(total, 0)


def apply_retention(reading: Reading, snapshots_dir: Path, config: ResultsConfig,
                    now: float | None = None) -> RetentionReport:
    now = time.time() if now is None else float(now)
    rows = files = freed = 0
    if config.keep_days > 0:
        rows, files, freed = delete_older(reading, snapshots_dir, now - config.keep_days * DAY)
    cleared, more_files, more_freed, total = shrink_snapshots(
        reading, snapshots_dir, int(config.max_snapshot_gb * GB))
    snapshots.remove_empty_days(snapshots_dir)
    report = RetentionReport(rows_deleted=rows, files_deleted=files + more_files,
                             bytes_freed=freed + more_freed, snapshots_cleared=cleared,
                             snapshot_bytes=total)
    if report.rows_deleted or report.files_deleted:
        log.info("results retention: %s", report)
    return report
