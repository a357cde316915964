"""The results store: one SQLite row per live-inspected item, JPEG snapshots beside it.

Writing happens off the live loop. `add()` puts the item on an in-memory queue and returns a
`Ticket` at once; a writer thread, with its own connection, encodes the snapshots and inserts
the rows in batches: a transaction closes at `batch_size` rows, `batch_seconds` after its first
row, or (unless `durable`, where each commit costs an fsync) when the queue is empty, whichever
comes first. Readers (`get`, `query`, `count`, the
statistics, `set_decision`, `apply_retention`) share a second connection behind a lock; an
export streams through a connection of its own.

Durability. The database is in WAL mode. `add()` returning means queued, in memory only: a
kill loses what is still queued. A ticket is done (acknowledged) only after its transaction's
COMMIT has returned, i.e. after the transaction has been appended to the `-wal` file with
write(2), and then:
- `durable=False` (the default, `PRAGMA synchronous=NORMAL`): the WAL is not fsynced at each
  commit. An acknowledged row survives the process being killed at any point (`kill -9`, a
  crash, the GUI ended from the task manager): its bytes are in the operating system's page
  cache, which outlives the process, and the next open replays the WAL (tested:
  tests/core/results/test_durability.py). What an OS crash or a power loss can take is the
  transactions committed since the WAL was last fsynced, which SQLite does at each checkpoint
  (about every 1000 WAL pages, a few MB of changes; the kernel usually writes dirty pages back
  within ~30 s as well). The database itself stays consistent: such transactions roll back
  whole, nothing is corrupted.
- `durable=True` (`PRAGMA synchronous=FULL`): the WAL is fsynced at every commit, and every
  snapshot file and its folder before it; an acknowledged row then also survives an OS crash or
  a power loss (as far as the disk honours flushes). It costs a few fsyncs per batch.
WAL needs a local disk: do not put a workspace's results.sqlite on a network share.
Snapshots are written to a temporary file and renamed into place before the row's
transaction commits, so a committed path always names a whole file. A kill between the file
and the commit can leave an orphan JPEG; a rolled-back batch removes its files.

Never blocking the live loop. `add()` takes a lock for a few microseconds and never waits for
the writer. Queued frames and overlays are bounded (`max_queued_images` items,
`max_queued_image_bytes` bytes): past that, the OLDEST queued images are dropped and counted in
`stats.images_dropped`; their rows are still written, without snapshots. Rows are only refused
(their ticket fails at once) past `max_queued_rows`, i.e. when the writer has been unable to
write for a long time.

Failures. A snapshot that cannot be written (disk full, a folder that is not writable) leaves
the row written without it, and `stats.last_error` says why and where. A row that cannot be
written fails its ticket with a `ResultsError`; so does a whole batch when the database cannot
be written (disk full, read-only, locked by another program for longer than `busy_timeout`).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Self

import numpy as np

from inspector.config import ResultsConfig
from inspector.core.results import snapshots
from inspector.core.results.record import (
    VERDICTS,
    InspectionResult,
    ResultsError,
    RetentionReport,
    Ticket,
    WriterStats,
)
from inspector.core.results.retention import apply_retention
from inspector.core.results.rows import SELECT, from_row, where_clause
from inspector.core.results.schema import connect, database_error, prepare_database
from inspector.core.results.writer import Writer

log = logging.getLogger(__name__)

GROUP_COLUMNS: tuple[str, ...] = (
    "verdict", "label", "operator", "model_version", "decision", "source", "truth",
)

_open_stores: weakref.WeakSet[ResultsStore] = weakref.WeakSet()


@atexit.register
def _close_open_stores() -> None:  # the writer is a daemon thread: finish its queue on exit
    for store in list(_open_stores):
        with contextlib.suppress(Exception):
            store.close()


class ResultsStore:
    """The results database at `path` (a context manager; `close()` is idempotent).

    `config` is read live: a change of `save_frames`, `jpeg_quality`, `keep_days` or
    `max_snapshot_gb` applies to the next item or the next retention pass."""

    def __init__(self, path: Path, config: ResultsConfig | None = None,
                 snapshots_dir: Path | None = None, *, durable: bool = False,
                 batch_size: int = 50, batch_seconds: float = 0.1,
                 max_queued_images: int = 10_000, max_queued_image_bytes: int = 1 << 30,
                 max_queued_rows: int = 200_000, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.config = config if config is not None else ResultsConfig()
        self.snapshots_dir = (Path(snapshots_dir) if snapshots_dir is not None
                              else self.path.parent / "snapshots")
        self.durable = durable
        self.busy_timeout = busy_timeout
        self._closed = False
        prepare_database(self.path, busy_timeout=busy_timeout)
        try:
            self._reader = connect(self.path, durable=durable, busy_timeout=busy_timeout,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise database_error(self.path, "open", exc) from None
        self._read_lock = threading.RLock()
        try:
            self._writer = Writer(
                self.path, self.config, self.snapshots_dir, durable=durable,
                batch_size=batch_size, batch_seconds=batch_seconds,
                max_queued_images=max_queued_images,
                max_queued_image_bytes=max_queued_image_bytes, max_queued_rows=max_queued_rows,
                busy_timeout=busy_timeout)
        except BaseException:
            self._reader.close()
            raise
        _open_stores.add(self)
        log.debug("results store open: %s (snapshots in %s)", self.path, self.snapshots_dir)

    # -- life cycle
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, stop the writer and close the connections (idempotent)."""
        if self._closed:
            return
        self._writer.close(timeout)
        with self._read_lock:
            self._closed = True
            with contextlib.suppress(sqlite3.Error):
                self._reader.execute("PRAGMA optimize")
            self._reader.close()
        _open_stores.discard(self)

    # -- writing
    def add(self, result: InspectionResult) -> Ticket:
        """Queue `result` for writing and return at once (never waits for the writer). Its
        snapshots are saved per `config.save_frames`. Once written, `result.id` and the
        snapshot paths are set on it and the ticket is done."""
        return self._writer.add(result)

    def flush(self, timeout: float = 10.0) -> None:
        """Return once everything added before this call is committed (or has failed: see the
        tickets and `stats`). Raises ResultsError if that takes longer than `timeout`."""
        self._writer.flush(timeout)

    @property
    def stats(self) -> WriterStats:
        return self._writer.stats

    # -- reading
    @contextlib.contextmanager
    def _reading(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._read_lock:
            if self._closed:
                raise ResultsError(f"The results store {self.path} is closed.")
            try:
                yield self._reader
            except sqlite3.Error as exc:
                raise database_error(self.path, action, exc) from None
            finally:
                if self._reader.in_transaction:  # a write that failed half-way
                    with contextlib.suppress(sqlite3.Error):
                        self._reader.execute("ROLLBACK")

    def get(self, id: int) -> InspectionResult | None:
        with self._reading("read") as conn:
            row = conn.execute(SELECT + " WHERE id = ?", (int(id),)).fetchone()
        return from_row(row) if row is not None else None

    def query(self, start: float | None = None, end: float | None = None,
              verdicts: Sequence[str] | None = None, labels: Sequence[str] | None = None,
              operators: Sequence[str | None] | None = None,
              model_versions: Sequence[str] | None = None, limit: int = 1000, offset: int = 0,
              newest_first: bool = True) -> list[InspectionResult]:
        """Rows matching the filters (time in [start, end)), without frames (paths only)."""
        where, params = where_clause(start, end, verdicts, labels, operators, model_versions)
        order = "DESC" if newest_first else "ASC"
        sql = f"{SELECT}{where} ORDER BY time {order}, id {order} LIMIT ? OFFSET ?"
        with self._reading("read") as conn:
            rows = conn.execute(sql, [*params, int(limit), int(offset)]).fetchall()
        return [from_row(row) for row in rows]

    def count(self, start: float | None = None, end: float | None = None,
              verdicts: Sequence[str] | None = None, labels: Sequence[str] | None = None,
              operators: Sequence[str | None] | None = None,
              model_versions: Sequence[str] | None = None) -> int:
        where, params = where_clause(start, end, verdicts, labels, operators, model_versions)
        with self._reading("read") as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM results{where}", params).fetchone()[0])

    def group_counts(self, column: str, start: float | None = None, end: float | None = None,
                     verdicts: Sequence[str] | None = None, labels: Sequence[str] | None = None,
                     operators: Sequence[str | None] | None = None,
                     model_versions: Sequence[str] | None = None) -> dict[str | None, int]:
        """Rows per value of `column` (one of GROUP_COLUMNS), most frequent first."""
        if column not in GROUP_COLUMNS:
            raise ValueError(f"column must be one of {GROUP_COLUMNS}, not {column!r}")
        where, params = where_clause(start, end, verdicts, labels, operators, model_versions)
        sql = (f"SELECT {column}, COUNT(*) AS n FROM results{where} GROUP BY {column} "
               f"ORDER BY n DESC, {column}")
        with self._reading("read") as conn:
            return {value: int(n) for value, n in conn.execute(sql, params)}

    def time_span(self, start: float | None = None, end: float | None = None,
                  verdicts: Sequence[str] | None = None, labels: Sequence[str] | None = None,
                  operators: Sequence[str | None] | None = None,
                  model_versions: Sequence[str] | None = None) -> tuple[float, float] | None:
        """(first, last) time of the matching rows, None when there are none."""
        where, params = where_clause(start, end, verdicts, labels, operators, model_versions)
        with self._reading("read") as conn:
            first = conn.execute(f"SELECT time FROM results{where} ORDER BY time LIMIT 1",
                                 params).fetchone()
            last = conn.execute(f"SELECT time FROM results{where} ORDER BY time DESC LIMIT 1",
                                params).fetchone()
        return None if first is None else (float(first[0]), float(last[0]))

    def verdict_counts(self, ranges: Sequence[tuple[float, float]]) -> list[dict[str, int]]:
        """For each [start, end) in `ranges`: rows per verdict (every verdict present)."""
        sql = ("SELECT verdict, COUNT(*) FROM results INDEXED BY results_verdict "
               "WHERE verdict = ? AND time >= ? AND time < ?")
        out = []
        with self._reading("read") as conn:
            for lo, hi in ranges:
                counts = {}
                for verdict in VERDICTS:
                    counts[verdict] = int(conn.execute(sql, (verdict, lo, hi)).fetchone()[1])
                out.append(counts)
        return out

    def iter_results(self, start: float | None = None, end: float | None = None,
                     verdicts: Sequence[str] | None = None, labels: Sequence[str] | None = None,
                     operators: Sequence[str | None] | None = None,
                     model_versions: Sequence[str] | None = None,
                     newest_first: bool = False) -> Iterator[InspectionResult]:
        """Every matching row, streamed through a connection of its own (one consistent
        snapshot; other readers and the writer are not held up)."""
        where, params = where_clause(start, end, verdicts, labels, operators, model_versions)
        order = "DESC" if newest_first else "ASC"
        try:
            conn = connect(self.path, busy_timeout=self.busy_timeout)
        except sqlite3.Error as exc:
            raise database_error(self.path, "read", exc) from None
        try:
            cursor = conn.execute(f"{SELECT}{where} ORDER BY time {order}, id {order}", params)
            while rows := cursor.fetchmany(500):
                for row in rows:
                    yield from_row(row)
        except sqlite3.Error as exc:
            raise database_error(self.path, "read", exc) from None
        finally:
            conn.close()

    def probability_classes(self, start: float | None = None, end: float | None = None,
                            verdicts: Sequence[str] | None = None,
                            labels: Sequence[str] | None = None,
                            operators: Sequence[str | None] | None = None,
                            model_versions: Sequence[str] | None = None) -> list[str]:
        """The classes in the matching rows' probabilities, in the order they first appear."""
        where, params = where_clause(start, end, verdicts, labels, operators, model_versions)
        sql = (f"SELECT j.key FROM (SELECT time, probabilities FROM results{where}) AS r, "
               "json_each(r.probabilities) AS j GROUP BY j.key ORDER BY MIN(r.time), MIN(j.id)")
        with self._reading("read") as conn:
            return [row[0] for row in conn.execute(sql, params)]

    def snapshot_file(self, relative: str | None) -> Path | None:
        """The absolute path of a stored snapshot path (None if unset or outside the folder)."""
        return None if not relative else snapshots.resolve(self.snapshots_dir, relative)

    def read_snapshot(self, relative: str | None) -> np.ndarray | None:
        """A stored snapshot as an RGB uint8 image; None if unset, deleted or unreadable."""
        path = self.snapshot_file(relative)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return snapshots.decode_jpeg(data)

    # -- operator decisions and upkeep
    def set_decision(self, id: int, operator: str, decision: str,
                     at: float | None = None) -> None:
        """Record an operator's confirmation or override; committed when this returns."""
        at = time.time() if at is None else float(at)
        with self._reading("write to") as conn:
            cursor = conn.execute(
                "UPDATE results SET operator = ?, decision = ?, decided_at = ? WHERE id = ?",
                (str(operator), str(decision), at, int(id)))
        if cursor.rowcount == 0:
            raise ResultsError(f"Result {id} is not in {self.path} (removed by retention?).")

    def apply_retention(self, now: float | None = None) -> RetentionReport:
        """Delete rows older than `keep_days` (0: keep all) with their snapshots; then, while the
        snapshots add up to more than `max_snapshot_gb` (decimal GB), delete the oldest snapshot
        files: their rows stay, with the paths set to NULL. Safe while the writer runs."""
        return apply_retention(self._reading, self.snapshots_dir, self.config, now)

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"
