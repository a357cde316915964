"""Rows of the results table: filters as SQL, and InspectionResult to and from a row."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from typing import Any

from inspector.core.results.record import InspectionResult
from inspector.core.results.schema import COLUMNS

SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM results"


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _json_floats(values: dict[str, float]) -> str:
    return json.dumps({str(k): float(v) for k, v in values.items()}, ensure_ascii=False)


def to_row(result: InspectionResult) -> tuple[Any, ...]:
    """The values of the writer's INSERT; numpy scalars become Python ones. Raises TypeError
    or ValueError on a value that cannot be stored."""
    when = float(result.time)
    if not math.isfinite(when):
        raise ValueError(f"time is {when}")
    return (when, str(result.source), str(result.model_version), result.verdict,
            str(result.label), float(result.confidence), _json_floats(result.probabilities),
            _json_floats(result.thresholds), _optional_float(result.ood_score),
            _optional_str(result.truth), _optional_str(result.operator),
            _optional_str(result.decision), _optional_float(result.decided_at))


@functools.lru_cache(maxsize=64)
def _thresholds(text: str) -> dict[str, float]:  # the same few strings in every row
    return json.loads(text)


def from_row(row: Sequence[Any]) -> InspectionResult:
    values = dict(zip(COLUMNS, row, strict=True))
    values.pop("snapshot_bytes")
    values["probabilities"] = json.loads(values["probabilities"])
    values["thresholds"] = dict(_thresholds(values["thresholds"]))
    return InspectionResult(**values)


def where_clause(start: float | None = None, end: float | None = None,
          verdicts: Sequence[str] | None = None, labels: Sequence[str] | None = None,
          operators: Sequence[str | None] | None = None,
          model_versions: Sequence[str] | None = None) -> tuple[str, list[Any]]:
    """The SQL WHERE clause of the filters: time in [start, end); a list matches any of its
    values, an empty list matches nothing, None in a list matches NULL (no operator yet)."""
    clauses: list[str] = []
    params: list[Any] = []
    if start is not None:
        clauses.append("time >= ?")
        params.append(float(start))
    if end is not None:
        clauses.append("time < ?")
        params.append(float(end))
    for column, given in (("verdict", verdicts), ("label", labels), ("operator", operators),
                          ("model_version", model_versions)):
        if given is None:
            continue
        values = [given] if isinstance(given, str) else list(given)
        named = [v for v in values if v is not None]
        parts = []
        if named:
            parts.append(f"{column} IN ({', '.join('?' * len(named))})")
            params.extend(str(v) for v in named)
        if len(named) != len(values):
            parts.append(f"{column} IS NULL")
        clauses.append("(" + " OR ".join(parts) + ")" if parts else "0")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params
