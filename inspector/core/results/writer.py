"""The writer thread of the results store: a queue that never blocks the live loop, and
batched transactions on a connection of its own. See `inspector.core.results.store` for the
durability and failure semantics."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inspector.config import ResultsConfig
from inspector.core.results import snapshots
from inspector.core.results.record import (
    VERDICTS,
    InspectionResult,
    ResultsError,
    Ticket,
    WriterStats,
)
from inspector.core.results.rows import to_row
from inspector.core.results.schema import connect, database_error

log = logging.getLogger(__name__)

_INSERT = (
    "INSERT INTO results (time, source, model_version, verdict, label, confidence, "
    "probabilities, thresholds, ood_score, truth, operator, decision, decided_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SET_SNAPSHOTS = ("UPDATE results SET frame_path = ?, overlay_path = ?, snapshot_bytes = ? "
                  "WHERE id = ?")


@dataclass(eq=False, slots=True)
class _Job:
    result: InspectionResult
    ticket: Ticket
    seq: int
    frame: np.ndarray | None = None
    overlay: np.ndarray | None = None
    image_bytes: int = 0
    row: tuple[Any, ...] | None = None
    jpegs: dict[str, bytes] = field(default_factory=dict)
    id: int | None = None
    paths: dict[str, str] = field(default_factory=dict)
    snapshot_bytes: int = 0
    error: ResultsError | None = None


class Writer:
    """Owns the queue, the writer thread and its connection. Raises ResultsError if the
    connection cannot be opened."""

    def __init__(self, path: Path, config: ResultsConfig, snapshots_dir: Path, *,
                 durable: bool, batch_size: int, batch_seconds: float, max_queued_images: int,
                 max_queued_image_bytes: int, max_queued_rows: int,
                 busy_timeout: float) -> None:
        self.path = path
        self.config = config
        self.snapshots_dir = snapshots_dir
        self.durable = durable
        self.batch_size = max(1, batch_size)
        self.batch_seconds = batch_seconds
        self.max_queued_images = max_queued_images
        self.max_queued_image_bytes = max_queued_image_bytes
        self.max_queued_rows = max_queued_rows
        self.busy_timeout = busy_timeout

        self._cond = threading.Condition()
        self._queue: deque[_Job] = deque()
        self._image_jobs: deque[_Job] = deque()  # the queued jobs that hold images, in order
        self._image_bytes = 0
        self._added = 0  # sequence number of the last job queued
        self._finished = 0  # ... and of the last job the writer has finished
        self._counts = dict.fromkeys(
            ("written", "failed", "images_dropped", "snapshots_written", "snapshot_errors",
             "batches"), 0)
        self._last_error: str | None = None
        self._last_error_time: float | None = None
        self._closed = False
        self._broken: ResultsError | None = None

        self._ready = threading.Event()
        self._start_error: ResultsError | None = None
        self._thread = threading.Thread(target=self._run, name="results-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:
            self._thread.join()
            raise self._start_error

    def close(self, timeout: float) -> None:
        """Write everything queued, then stop (idempotent)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("the results writer did not finish within %.0f s; %d rows still queued",
                      timeout, len(self._queue))

    def add(self, result: InspectionResult) -> Ticket:
        """Queue `result` for writing and return at once. Its snapshots are saved per
        `config.save_frames`. Once written, `result.id` (and the snapshot paths) are set."""
        if result.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {result.verdict!r}")
        ticket = Ticket()
        save = self.config.save_frames
        keep = save == "all" or (save == "fail_review" and result.verdict != "PASS")
        frame = result.frame if keep else None
        overlay = result.overlay if keep else None
        image_bytes = int(getattr(frame, "nbytes", 0)) + int(getattr(overlay, "nbytes", 0))
        with self._cond:
            if self._closed:
                raise ResultsError(f"The results store {self.path} is closed.")
            if self._broken is not None:
                ticket._fail(self._broken)
                self._counts["failed"] += 1
                return ticket
            if len(self._queue) >= self.max_queued_rows:
                error = ResultsError(
                    f"Result not saved: the writer of {self.path} is {len(self._queue)} rows "
                    f"behind ({self._last_error or 'no error reported yet'}).")
                self._counts["failed"] += 1
                self._note_error_locked(str(error))
                ticket._fail(error)
                return ticket
            self._added += 1
            job = _Job(result, ticket, self._added, frame, overlay, image_bytes)
            self._queue.append(job)
            if image_bytes:
                self._image_jobs.append(job)
                self._image_bytes += image_bytes
                while self._image_jobs and (
                        len(self._image_jobs) > self.max_queued_images
                        or self._image_bytes > self.max_queued_image_bytes):
                    oldest = self._image_jobs.popleft()
                    self._image_bytes -= oldest.image_bytes
                    oldest.frame = oldest.overlay = None
                    oldest.image_bytes = 0
                    self._counts["images_dropped"] += 1
            self._cond.notify()
        return ticket

    def flush(self, timeout: float = 10.0) -> None:
        """Return once everything added before this call is committed (or has failed: see the
        tickets and `stats`). Raises ResultsError if that takes longer than `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._added
            while self._finished < target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    raise ResultsError(
                        f"The results writer has not caught up within {timeout:g} s "
                        f"({target - self._finished} rows still queued for {self.path}).")
                self._cond.wait(left)

    @property
    def stats(self) -> WriterStats:
        with self._cond:
            return WriterStats(queued=len(self._queue), last_error=self._last_error,
                               last_error_time=self._last_error_time, **self._counts)

    def _note_error_locked(self, message: str) -> None:
        if message != self._last_error:
            log.warning("%s", message)
        self._last_error = message
        self._last_error_time = time.time()

    def _note_error(self, message: str) -> None:
        with self._cond:
            self._note_error_locked(message)

    # -- the writer thread
    def _run(self) -> None:
        try:
            conn = connect(self.path, durable=self.durable, busy_timeout=self.busy_timeout)
        except sqlite3.Error as exc:
            self._start_error = database_error(self.path, "open", exc)
            self._ready.set()
            return
        self._ready.set()
        batch: list[_Job] = []
        try:
            while True:
                batch = self._next_batch()
                if not batch:
                    break
                self._write_batch(conn, batch)
                batch = []
        except BaseException as exc:  # a bug: fail what is left rather than hang its tickets
            log.exception("the results writer stopped")
            broken = ResultsError(f"The results writer stopped: {exc!r}")
            with self._cond:
                self._broken = broken
                left = batch + list(self._queue)
                self._queue.clear()
                self._image_jobs.clear()
                self._image_bytes = 0
                for job in left:
                    if not job.ticket.done:
                        job.ticket._fail(broken)
                        self._counts["failed"] += 1
                self._finished = self._added
                self._note_error_locked(str(broken))
                self._cond.notify_all()
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _take_locked(self) -> _Job:
        job = self._queue.popleft()
        if job.image_bytes:
            oldest = self._image_jobs.popleft()
            assert oldest is job
            self._image_bytes -= job.image_bytes
        return job

    def _next_batch(self) -> list[_Job]:
        with self._cond:
            while not self._queue:
                if self._closed:
                    return []
                self._cond.wait()
            job = self._take_locked()
        deadline = time.monotonic() + self.batch_seconds
        batch = [self._prepare(job)]
        while len(batch) < self.batch_size and time.monotonic() < deadline:
            with self._cond:
                # Commits are cheap without fsync: write what there is at once. With `durable`
                # each commit costs an fsync, so wait for more rows until the deadline.
                while self.durable and not self._queue and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if not self._queue:
                    break
                job = self._take_locked()
            batch.append(self._prepare(job))
        return batch

    def _prepare(self, job: _Job) -> _Job:
        """Outside any lock and transaction: the row's values and the JPEG bytes."""
        try:
            job.row = to_row(job.result)
        except (TypeError, ValueError, AttributeError) as exc:
            job.error = ResultsError(f"Result not saved: it has an invalid value ({exc}).")
            return job
        quality = self.config.jpeg_quality
        for kind, image in (("frame", job.frame), ("overlay", job.overlay)):
            if image is None:
                continue
            try:
                job.jpegs[kind] = snapshots.encode_jpeg(image, quality)
            except Exception as exc:
                self._snapshot_failed(f"Snapshot ({kind}) not saved: cannot encode it ({exc})")
        job.frame = job.overlay = None
        return job

    def _snapshot_failed(self, message: str) -> None:
        with self._cond:
            self._counts["snapshot_errors"] += 1
            self._note_error_locked(message)

    def _save_snapshots(self, job: _Job, written: list[str]) -> None:
        assert job.id is not None
        for kind, data in job.jpegs.items():
            relative = snapshots.relative_path(job.result.time, job.id, kind)
            target = self.snapshots_dir / relative
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                snapshots.write_file(target, data, durable=self.durable)
            except OSError as exc:
                self._snapshot_failed(snapshots.describe_os_error(target.parent, exc))
                continue
            written.append(relative)
            job.paths[kind] = relative
            job.snapshot_bytes += len(data)

    def _write_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        todo = [job for job in batch if job.error is None]
        written: list[str] = []
        try:
            if todo:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for job in todo:
                        try:
                            job.id = conn.execute(_INSERT, job.row).lastrowid
                        except (sqlite3.IntegrityError, sqlite3.InterfaceError,
                                OverflowError) as exc:
                            job.error = ResultsError(f"Result not saved: {exc}.")
                    updates = []
                    for job in todo:
                        if job.id is not None and job.jpegs:
                            self._save_snapshots(job, written)
                            if job.paths:
                                updates.append((job.paths.get("frame"), job.paths.get("overlay"),
                                                job.snapshot_bytes, job.id))
                    if updates:
                        conn.executemany(_SET_SNAPSHOTS, updates)
                    conn.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    snapshots.remove_files(self.snapshots_dir, written)
                    raise
        except sqlite3.Error as exc:
            error = database_error(self.path, "write to", exc)
            for job in todo:
                job.id = None
                job.paths.clear()
                job.error = job.error or ResultsError(str(error))  # one instance per ticket
            self._note_error(str(error))
            written = []
        ok = failed = 0
        for job in batch:
            job.jpegs.clear()
            if job.error is not None or job.id is None:
                job.ticket._fail(job.error or ResultsError("Result not saved."))
                failed += 1
                continue
            job.result.id = job.id
            job.result.frame_path = job.paths.get("frame")
            job.result.overlay_path = job.paths.get("overlay")
            job.ticket._succeed(job.id)
            ok += 1
        with self._cond:
            self._counts["written"] += ok
            self._counts["failed"] += failed
            self._counts["snapshots_written"] += len(written)
            self._counts["batches"] += 1 if ok else 0
            self._finished = batch[-1].seq
            self._cond.notify_all()
