"""CSV export of results: atomic, UTF-8, ISO-8601 local times with their UTC offset, one
`p_<class>` column per class probability, the operator's decision, and no formula injection."""

from __future__ import annotations

import csv
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.core.atomic import atomic_open
from inspector.core.results.record import ResultsError

if TYPE_CHECKING:
    from inspector.core.results.store import ResultsStore

log = logging.getLogger(__name__)

BASE_COLUMNS: tuple[str, ...] = (
    "id", "time", "source", "model_version", "verdict", "label", "confidence", "ood_score",
    "truth", "operator", "decision", "decided_at", "frame_path", "overlay_path",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def iso_time(t: float | None) -> str:
    if t is None:
        return ""
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="milliseconds")


def export_csv(store: ResultsStore, path: Path, **filters: Any) -> int:
    """Write the rows matching `filters` (those of `store.count`, plus `newest_first`, default
    oldest first) to `path`; returns the number of rows. The file appears whole or not at all."""
    path = Path(path)
    newest_first = bool(filters.pop("newest_first", False))
    classes = store.probability_classes(**filters)
    header = [*BASE_COLUMNS, *(f"p_{name}" for name in classes), "thresholds"]
    rows = 0
    try:
        with atomic_open(path, "w") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([guard(name) for name in header])
            for result in store.iter_results(**filters, newest_first=newest_first):
                values = [
                    result.id, iso_time(result.time), result.source, result.model_version,
                    result.verdict, result.label, result.confidence, result.ood_score,
                    result.truth, result.operator, result.decision,
                    iso_time(result.decided_at), result.frame_path, result.overlay_path,
                    *(result.probabilities.get(name) for name in classes),
                    json.dumps(result.thresholds, ensure_ascii=False),
                ]
                writer.writerow(["" if v is None else guard(v) for v in values])
                rows += 1
    except OSError as exc:
        raise ResultsError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    log.info("exported %d results to %s", rows, path)
    return rows
