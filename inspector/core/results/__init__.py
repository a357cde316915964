"""Live inspection results: the SQLite store, yield statistics and CSV export.

Importing this package loads numpy only; OpenCV is imported by the writer when it first
encodes a snapshot.
"""

from inspector.core.results.export import export_csv
from inspector.core.results.record import (
    VERDICTS,
    InspectionResult,
    ResultsError,
    RetentionReport,
    Ticket,
    WriterStats,
)
from inspector.core.results.stats import (
    ShiftBucket,
    YieldBucket,
    summary,
    yield_by_hour,
    yield_by_shift,
)
from inspector.core.results.store import ResultsStore

__all__ = [
    "VERDICTS",
    "InspectionResult",
    "ResultsError",
    "ResultsStore",
    "RetentionReport",
    "ShiftBucket",
    "Ticket",
    "WriterStats",
    "YieldBucket",
    "export_csv",
    "summary",
    "yield_by_hour",
    "yield_by_shift",
]
