"""The plain data of the results store: one inspected item, tickets, writer counters."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from inspector.core.errors import InspectorError

VERDICTS: tuple[str, ...] = ("PASS", "FAIL", "REVIEW")


class ResultsError(InspectorError):
    """The results database cannot be opened, read or written; the message says what to do."""


@dataclass
class InspectionResult:
    """One live-inspected item. `frame` and `overlay` are RGB uint8 arrays that are kept by
    reference until the writer has encoded them: do not modify them after `add()`."""

    time: float  # time.time(): UTC epoch seconds
    source: str
    model_version: str
    verdict: str  # "PASS" | "FAIL" | "REVIEW"
    label: str  # predicted class
    confidence: float
    probabilities: dict[str, float]
    thresholds: dict[str, float]
    ood_score: float | None = None
    truth: str | None = None  # known truth (virtual camera), else None
    frame: np.ndarray | None = field(default=None, repr=False, compare=False)
    overlay: np.ndarray | None = field(default=None, repr=False, compare=False)
    id: int | None = None  # set once stored
    frame_path: str | None = None  # relative to the snapshots folder, set once stored
    overlay_path: str | None = None
    operator: str | None = None  # operator confirmation / override
    decision: str | None = None
    decided_at: float | None = None


class Ticket:
    """The receipt of `ResultsStore.add()`: done once the row is committed, or has failed."""

    __slots__ = ("_error", "_event", "_id")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._id: int | None = None
        self._error: ResultsError | None = None

    @property
    def done(self) -> bool:
        return self._event.is_set()

    @property
    def failed(self) -> bool:
        return self._event.is_set() and self._error is not None

    def wait(self, timeout: float | None = None) -> int:
        """The row id once committed. Raises ResultsError if the row could not be written,
        TimeoutError if it is still queued after `timeout` seconds."""
        if not self._event.wait(timeout):
            raise TimeoutError(f"the result was not written within {timeout} s")
        if self._error is not None:
            raise self._error
        assert self._id is not None
        return self._id

    def _succeed(self, row_id: int) -> None:
        self._id = row_id
        self._event.set()

    def _fail(self, error: ResultsError) -> None:
        self._error = error
        self._event.set()


@dataclass(frozen=True)
class WriterStats:
    """A snapshot of the writer's counters (`ResultsStore.stats`)."""

    queued: int = 0  # rows waiting for the writer now
    written: int = 0  # rows committed since the store was opened
    failed: int = 0  # rows whose ticket failed
    images_dropped: int = 0  # frame/overlay pairs dropped from a full queue (rows kept)
    snapshots_written: int = 0  # JPEG files written
    snapshot_errors: int = 0  # JPEG files that could not be encoded or written
    batches: int = 0  # transactions committed
    last_error: str | None = None
    last_error_time: float | None = None


@dataclass(frozen=True)
class RetentionReport:
    rows_deleted: int = 0  # rows older than keep_days
    files_deleted: int = 0  # snapshot files removed (with those rows, or to fit the size limit)
    bytes_freed: int = 0
    snapshots_cleared: int = 0  # rows that stay but lost their snapshots to the size limit
    snapshot_bytes: int = 0  # snapshot bytes the database accounts for afterwards
