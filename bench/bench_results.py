"""Speed of the results store, with a bare sqlite3 reference measured in the same run.

    .venv/bin/python bench/bench_results.py [--rows 1000000] [--adds 20000] [--frames 300]
        [--dir /path/on/the/disk/to/measure]

Prints:
- add() calls/s seen by the caller, and rows/s committed by the writer thread (add of the first
  row to flush() returning), without snapshots and with 640x480 frame + overlay JPEGs
  (save_frames="all"); the reference is a bare `executemany` of the same rows into a table of
  the same schema in one transaction, and `cv2.imencode` of the same frame alone;
- at `--rows` rows (built with executemany, about 30 days of a busy line): the time of the
  queries and counts a results page makes, of the yield statistics, and the query plans.
Takes about a minute at a million rows.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspector.config import ResultsConfig
from inspector.core.results import (
    InspectionResult,
    ResultsStore,
    summary,
    yield_by_hour,
    yield_by_shift,
)
from inspector.core.results.schema import connect
from inspector.core.results.snapshots import write_file

CLASSES = ("ok", "short", "open", "mouse_bite", "spur", "spurious_copper", "pin_hole")
INSERT = ("INSERT INTO results (time, source, model_version, verdict, label, confidence, "
          "probabilities, thresholds, ood_score, truth, operator, decision, decided_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def make_result(i: int, t0: float, rng: np.random.Generator, frame: np.ndarray | None = None,
                step: float = 2.5) -> InspectionResult:
    roll = rng.random()
    verdict = "PASS" if roll < 0.9 else "FAIL" if roll < 0.97 else "REVIEW"
    label = "ok" if verdict == "PASS" else CLASSES[1 + i % (len(CLASSES) - 1)]
    p = rng.dirichlet(np.ones(len(CLASSES)))
    probabilities = {c: round(float(v), 6) for c, v in zip(CLASSES, p, strict=True)}
    decided = i % 100 == 0
    return InspectionResult(
        time=t0 + i * step, source="camera:0", model_version=f"v{1 + i * 3 // 1_000_000}",
        verdict=verdict, label=label, confidence=float(p.max()), probabilities=probabilities,
        thresholds=dict.fromkeys(CLASSES, 0.6), ood_score=float(rng.normal(-8, 1)),
        operator=("anna", "ben", "chen")[i % 3] if decided else None,
        decision=("confirm", "override")[i % 2] if decided else None,
        decided_at=t0 + i * step + 30 if decided else None, frame=frame,
        overlay=frame)


def row_of(r: InspectionResult) -> tuple[Any, ...]:
    return (r.time, r.source, r.model_version, r.verdict, r.label, r.confidence,
            json.dumps(r.probabilities), json.dumps(r.thresholds), r.ood_score, r.truth,
            r.operator, r.decision, r.decided_at)


def rows(n: int, t0: float, seed: int = 0, step: float = 1.0) -> Iterator[tuple[Any, ...]]:
    """The rows of make_result(i) for i < n, fast: 1000 variants are made, then cycled."""
    rng = np.random.default_rng(seed)
    variants = [row_of(make_result(i, 0.0, rng, step=step)) for i in range(1000)]
    for i in range(n):
        v = variants[i % 1000]
        decided = v[12] is not None
        yield (t0 + i * step, v[1], f"v{1 + i * 3 // 1_000_000}", *v[3:12],
               t0 + i * step + 30 if decided else None)


def timed(fn: Callable[[], object], repeat: int = 5) -> tuple[float, object]:
    """Median seconds of fn() over `repeat` calls (after one warm-up), and its last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_writes(folder: Path, n: int, frame: np.ndarray | None, label: str,
                 durable: bool = False, pace: float = 0.0) -> float:
    """add() calls/s and committed rows/s (returned); with `pace`, one add() every `pace`
    seconds, as a live loop would (then calls/s is that rate)."""
    rng = np.random.default_rng(1)
    t0 = time.time() - n
    results = [make_result(i, t0, rng, frame, step=1.0) for i in range(n)]
    config = ResultsConfig(save_frames="all" if frame is not None else "none")
    with ResultsStore(folder / f"{label}.sqlite", config, folder / f"{label}-snapshots",
                      max_queued_images=n + 1, max_queued_image_bytes=1 << 40,
                      durable=durable) as store:
        latencies = np.empty(n)
        start = time.perf_counter()
        for i, result in enumerate(results):
            a = time.perf_counter()
            store.add(result)
            latencies[i] = time.perf_counter() - a
            if pace:
                time.sleep(max(0.0, start + (i + 1) * pace - time.perf_counter()))
        added = time.perf_counter() - start
        store.flush(timeout=600)
        committed = time.perf_counter() - start
        stats = store.stats
    print(f"  {label:28s} add(): {n / added:9.0f} calls/s (median {np.median(latencies) * 1e6:.1f}"
          f" us, p99 {np.percentile(latencies, 99) * 1e6:.0f} us, max {latencies.max() * 1e3:.1f}"
          f" ms, {(latencies > 0.005).sum()} over 5 ms)")
    print(f"  {'':28s} committed: {n / committed:9.0f} rows/s in {stats.batches} transactions, "
          f"{stats.snapshots_written} JPEGs, {stats.failed} failed")
    return n / committed


def bench_snapshots(folder: Path, n: int, frame: np.ndarray) -> None:
    with_frames = bench_writes(folder, n, frame, "rows + 2 JPEGs 640x480")
    q = ResultsConfig().jpeg_quality
    encode = 1 / timed(lambda: cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, q]),
                       repeat=20)[0]
    size = len(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, q])[1])
    data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, q])[1].tobytes()
    write = 1 / timed(lambda: write_file(folder / "ref.jpg", data), repeat=50)[0]
    both = 1 / (1 / encode + 1 / write)
    print(f"  {'reference: cv2.imencode':28s} {encode:9.0f} JPEGs/s (640x480, quality {q}, "
          f"{size / 1e3:.0f} kB); + atomic write: {both:.0f} JPEGs/s, a ceiling of "
          f"{both / 2:.0f} rows/s with 2 JPEGs a row; the writer reaches "
          f"{with_frames / (both / 2):.0%} of it")


def bench_reference(folder: Path, n: int) -> float:
    """Bare executemany of the same rows into a table of the same schema, one transaction."""
    t0 = time.time() - n
    data = list(rows(n, t0, seed=1))
    path = folder / "reference.sqlite"
    with ResultsStore(path):  # the same schema
        pass
    conn = connect(path)
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(INSERT, data)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    print(f"  {'reference: bare executemany':28s} {n / elapsed:9.0f} rows/s (same schema and "
          "indexes, WAL, synchronous=NORMAL, one transaction)")
    return n / elapsed


def build(path: Path, n: int, t0: float) -> float:
    with ResultsStore(path):
        pass
    conn = connect(path)
    start = time.perf_counter()
    conn.execute("BEGIN")
    it = rows(n, t0, seed=2, step=2.5)
    while chunk := [row for _, row in zip(range(50_000), it, strict=False)]:
        conn.executemany(INSERT, chunk)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - start


def bench_queries(folder: Path, n: int) -> None:
    step = 2.5
    t0 = time.time() - n * step
    path = folder / "million.sqlite"
    built = build(path, n, t0)
    size = path.stat().st_size / 1e6
    print(f"\n{n} rows built with executemany in {built:.1f} s ({n / built:.0f} rows/s, "
          f"with generation), {size:.0f} MB")
    end = t0 + n * step
    day = 86_400.0
    with ResultsStore(path) as store:
        cases: list[tuple[str, Callable[[], object]]] = [
            ("query() newest 1000", store.query),
            ("query(verdicts=FAIL,REVIEW)", lambda: store.query(verdicts=["FAIL", "REVIEW"])),
            ("query(labels=short)", lambda: store.query(labels=["short"])),
            ("query(operators=anna)", lambda: store.query(operators=["anna"])),
            ("query(model_versions=v2)", lambda: store.query(model_versions=["v2"])),
            ("query(last day, FAIL)", lambda: store.query(end - day, end, ["FAIL"])),
            ("query(offset=100000, limit=100)", lambda: store.query(limit=100, offset=100_000)),
            ("count()", store.count),
            ("count(last day)", lambda: store.count(end - day, end)),
            ("count(verdicts=FAIL)", lambda: store.count(verdicts=["FAIL"])),
            ("count(labels=short)", lambda: store.count(labels=["short"])),
            ("count(FAIL, last 7 days)", lambda: store.count(end - 7 * day, end, ["FAIL"])),
            ("count(operators=[None])", lambda: store.count(operators=[None])),
            ("get(id)", lambda: store.get(n // 2)),
            ("yield_by_hour(last day)", lambda: yield_by_hour(store, end - day, end)),
            ("yield_by_hour(all 30 days)", lambda: yield_by_hour(store, t0, end)),
            ("yield_by_shift(last 7 days)",
             lambda: yield_by_shift(store, end - 7 * day, end, store.config.shifts)),
            ("summary(last day)", lambda: summary(store, end - day, end)),
            ("summary(all)", lambda: summary(store)),
        ]
        for name, fn in cases:
            seconds, result = timed(fn, repeat=3)
            shown = (f"{len(result)} rows" if isinstance(result, list)
                     else f"{result}" if isinstance(result, int) else "")
            print(f"  {name:34s} {seconds * 1e3:8.2f} ms   {shown}")
        retention = timed(store.apply_retention, repeat=1)[0]
        print(f"  {'apply_retention() (nothing due)':34s} {retention * 1e3:8.2f} ms")
        plans = [
            ("query() newest", "SELECT id FROM results ORDER BY time DESC, id DESC LIMIT 1000"),
            ("query(verdicts)", "SELECT id FROM results WHERE verdict IN ('FAIL', 'REVIEW') "
             "ORDER BY time DESC, id DESC LIMIT 1000"),
            ("count(labels)", "SELECT COUNT(*) FROM results WHERE label IN ('short')"),
            ("count(time)", "SELECT COUNT(*) FROM results WHERE time >= 0 AND time < 1"),
            ("labels(time)", "SELECT label, COUNT(*) FROM results WHERE time >= 0 AND time < 1 "
             "GROUP BY label"),
            ("decisions(time)", "SELECT decision, COUNT(*) FROM results WHERE time >= 0 "
             "AND time < 1 GROUP BY decision"),
            ("verdict bucket", "SELECT COUNT(*) FROM results INDEXED BY results_verdict "
             "WHERE verdict = 'PASS' AND time >= 0 AND time < 1"),
        ]
        conn = sqlite3.connect(path)
        print("  plans:")
        for name, sql in plans:
            plan = "; ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql))
            print(f"    {name:18s} {plan}")
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for the query bench")
    parser.add_argument("--adds", type=int, default=20_000, help="rows added without frames")
    parser.add_argument("--frames", type=int, default=300, help="rows added with 640x480 JPEGs")
    parser.add_argument("--dir", type=Path, default=None, help="where (default: a temp folder)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    from inspector.core.data.synthetic import SyntheticPCB

    frame = SyntheticPCB(seed=1).board(640, 480, 3).image
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        print(f"writes ({folder}, SQLite {sqlite3.sqlite_version}):")
        rows_only = bench_writes(folder, args.adds, None, "rows only")
        reference = bench_reference(folder, args.adds)
        print(f"  {'':28s} the writer commits at {rows_only / reference:.0%} of the reference")
        bench_writes(folder, args.adds // 4, None, "rows only, durable=True", durable=True)
        bench_writes(folder, 3000, None, "rows only, 1000 add()/s", pace=0.001)
        if args.frames:
            bench_snapshots(folder, args.frames, frame)
        if args.rows:
            bench_queries(folder, args.rows)


if __name__ == "__main__":
    main()
