"""Speed of the Results page's table at a million rows, with references measured in the same run.

    .venv/bin/python bench/bench_results_table.py [--rows 1000000] [--analyze] [--dir PATH]

Builds a results.sqlite of `--rows` rows (executemany in one transaction, through the store's
schema; about 30 days of a busy line at one item every 2.5 s) in a temporary folder, then
measures, each the median of a few runs on a cold pager (fresh page cache and anchors):
- the model reset (COUNT + the view's reset, a QTableView attached), and for reference a bare
  `SELECT COUNT(*) FROM results`;
- the first page (data() of row 0), row 999,000 (data() near the end), a jump to the middle
  and the page after it, against `store.query(limit=256, offset=N)` (plain OFFSET);
- filtered resets (counts) and jumps: two verdicts, one class, an operator, the worst case
  (two filters that each match most rows);
- refresh() with nothing written and with 100 new rows, row_of(id) deep down and mid-table;
- the page's statistics task (charts, lists, yield) for a day, a week and the whole table.
`--analyze` runs ANALYZE first (the store itself never does; PRAGMA optimize at close may).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PySide6.QtWidgets import QApplication, QTableView

from inspector.core.results import InspectionResult, ResultsStore
from inspector.core.results.paging import Filters, Pager, SideReader
from inspector.core.results.rows import to_row
from inspector.core.results.schema import connect, prepare_database
from inspector.gui.pages.results import _period_stats
from inspector.gui.widgets.results_model import ID, ResultsTableModel

CLASSES = ("ok", "short", "open", "mouse_bite", "spur", "spurious_copper", "pin_hole")
INSERT = ("INSERT INTO results (time, source, model_version, verdict, label, confidence, "
          "probabilities, thresholds, ood_score, truth, operator, decision, decided_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
STEP = 2.5  # seconds between items
SHIFTS = {"early": "06:00", "late": "14:00", "night": "22:00"}


def variant(i: int, rng: np.random.Generator) -> tuple[Any, ...]:
    """One row's values (time 0): 90 % PASS, 7 % FAIL, 3 % REVIEW; 1 % decided."""
    roll = rng.random()
    verdict = "PASS" if roll < 0.9 else "FAIL" if roll < 0.97 else "REVIEW"
    label = "ok" if verdict == "PASS" else CLASSES[1 + i % (len(CLASSES) - 1)]
    p = rng.dirichlet(np.ones(len(CLASSES)))
    decided = i % 100 == 0
    return to_row(InspectionResult(
        time=0.0, source="camera:0", model_version="v1", verdict=verdict, label=label,
        confidence=float(p.max()),
        probabilities={c: round(float(v), 6) for c, v in zip(CLASSES, p, strict=True)},
        thresholds=dict.fromkeys(CLASSES, 0.6), ood_score=float(rng.normal(-8, 1)),
        operator=("anna", "ben", "chen")[i % 3] if decided else None,
        decision=("confirm", "override")[i % 2] if decided else None,
        decided_at=1.0 if decided else None))


def rows(n: int, t0: float) -> Iterator[tuple[Any, ...]]:
    rng = np.random.default_rng(0)
    variants = [variant(i, rng) for i in range(1000)]
    for i in range(n):
        v = variants[i % 1000]
        t = t0 + i * STEP
        yield (t, v[1], f"v{1 + i * 3 // n}", *v[3:12], None if v[12] is None else t + 30)


def build(path: Path, n: int, t0: float, analyze: bool) -> float:
    prepare_database(path)
    conn = connect(path)
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(INSERT, rows(n, t0))
    conn.execute("COMMIT")
    if analyze:
        conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - start


def timed(fn: Callable[[], object], prepare: Callable[[], object] | None = None,
          repeat: int = 5) -> float:
    """Median milliseconds of fn() over `repeat` runs, `prepare()` (not timed) before each."""
    times = []
    for _ in range(repeat + 1):
        if prepare is not None:
            prepare()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:]) * 1e3


def line(name: str, ms: float, reference: str = "") -> None:
    print(f"  {name:46s} {ms:9.2f} ms   {reference}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--analyze", action="store_true", help="ANALYZE after the build")
    parser.add_argument("--dir", type=Path, default=None, help="where (default: a temp folder)")
    args = parser.parse_args()
    n = args.rows
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "results.sqlite"
        t0 = time.time() - n * STEP
        built = build(path, n, t0, args.analyze)
        print(f"{n:,} rows built in {built:.1f} s ({n / built:,.0f} rows/s), "
              f"{path.stat().st_size / 1e6:.0f} MB, ANALYZE {'run' if args.analyze else 'not run'}")
        with ResultsStore(path) as store:
            bench_table(app, store, n)
            bench_live(store, n)
            bench_stats(store)


def bench_table(app: QApplication, store: ResultsStore, n: int) -> None:
    conn = store._reader
    bare = timed(lambda: conn.execute("SELECT COUNT(*) FROM results").fetchone())
    model = ResultsTableModel()
    view = QTableView()
    view.setModel(model)
    view.resize(1000, 700)
    view.verticalHeader().setDefaultSectionSize(22)
    view.show()
    app.processEvents()

    def reset(filters: Filters = Filters()) -> None:  # noqa: B008
        model.set_store(store, filters)  # the view handles modelReset synchronously

    print("\nthe table (model + QTableView):")
    pager_ms = timed(lambda: Pager(store))
    line("model reset (the view's included)", timed(reset),
         f"reference: bare SELECT COUNT(*) {bare:.2f} ms; Pager() alone {pager_ms:.2f} ms")
    line("first page: data(row 0)", timed(lambda: model.data(model.index(0, ID)), reset))
    line("first screen painted (viewport grab)", timed(lambda: view.viewport().grab(), reset),
         "reference: the same grab, rows cached: "
         f"{timed(lambda: view.viewport().grab()):.2f} ms")
    far = min(999_000, n - 1)
    plain_far = timed(lambda: store.query(limit=256, offset=far))
    line(f"data(row {far:,}), cold", timed(lambda: model.data(model.index(far, ID)), reset),
         f"reference: query(limit=256, offset={far:,}) {plain_far:.2f} ms")
    middle = n // 2
    plain_middle = timed(lambda: store.query(limit=256, offset=middle))
    line(f"data(row {middle:,}), cold (the worst jump)",
         timed(lambda: model.data(model.index(middle, ID)), reset),
         f"reference: query(limit=256, offset={middle:,}) {plain_middle:.2f} ms")

    def after_middle() -> None:
        reset()
        model.data(model.index(middle, ID))

    line("the next page after it (keyset)",
         timed(lambda: model.data(model.index(middle + 256, ID)), after_middle))
    view.scrollToBottom()
    line("scrollToBottom + paint, cold",
         timed(lambda: (view.scrollToBottom(), view.viewport().grab()),
               lambda: (reset(), view.scrollToTop())))

    print("\nfiltered (reset: the COUNT, which the page runs in a worker, and the model reset;\n"
          "then a cold jump to the middle of the filtered rows, on the GUI thread):")
    end = store.time_span()[1] + 1  # type: ignore[index]
    cases = [
        ("FAIL + REVIEW", Filters(verdicts=("FAIL", "REVIEW"))),
        ("FAIL only", Filters(verdicts=("FAIL",))),
        ("class short", Filters(labels=("short",))),
        ("operator anna", Filters(operators=("anna",))),
        ("no operator yet", Filters(operators=(None,))),
        ("model v2", Filters(model_versions=("v2",))),
        ("last 7 days, FAIL", Filters(start=end - 7 * 86_400, verdicts=("FAIL",))),
        ("PASS + class ok (worst)", Filters(verdicts=("PASS",), labels=("ok",))),
        ("PASS + REVIEW, model v3", Filters(verdicts=("PASS", "REVIEW"),
                                            model_versions=("v3",))),
    ]
    for name, filters in cases:
        count_ms = timed(lambda f=filters: reset(f), repeat=3)
        rows = model.rowCount()
        bare_count = timed(lambda f=filters: store.count(**f.kwargs()), repeat=3)
        jump_ms = timed(lambda r=rows: model.data(model.index(r // 2, ID)),
                        lambda f=filters: reset(f), repeat=3)
        print(f"  {name:26s} {rows:9,} rows: reset {count_ms:8.2f} ms (store.count "
              f"{bare_count:7.2f} ms), middle row cold {jump_ms:7.2f} ms")
    view.close()


def bench_live(store: ResultsStore, n: int) -> None:
    print("\nfollowing the live loop:")
    pager = Pager(store)
    line("refresh(), nothing written", timed(pager.refresh, repeat=20))
    last = store.time_span()[1]  # type: ignore[index]
    batch = [to_row(InspectionResult(
        time=last + 1 + i, source="camera:0", model_version="v3", verdict="PASS", label="ok",
        confidence=0.9, probabilities={"ok": 0.9}, thresholds={"ok": 0.6})) for i in range(100)]

    def write_batch() -> None:
        with store._reading("write") as conn:
            conn.execute("BEGIN")
            conn.executemany(INSERT, batch)
            conn.execute("COMMIT")
        batch[:] = [(t + 100, *rest) for t, *rest in batch]

    line("refresh() after 100 new rows (inserted at top)", timed(pager.refresh, write_batch))
    for row in (min(900_000, n - 1), n // 2):
        target = store.query(limit=1, offset=row)[0].id
        line(f"row_of(id) of row {row:,} (rank count)", timed(lambda t=target: pager.row_of(t)),
             "select_result() and a reset with a selection cost this once")


def bench_stats(store: ResultsStore) -> None:
    print("\nthe page's statistics task (a worker; own connection):")
    end = store.time_span()[1] + 1  # type: ignore[index]
    with SideReader(store) as reader:
        for name, start in (("a day", end - 86_400), ("7 days", end - 7 * 86_400),
                            ("all (hour chart: last 7 days)", None)):
            filters = Filters(start=start)
            ms = timed(lambda f=filters: _period_stats(reader, f, SHIFTS, end), repeat=2)
            line(f"charts + lists + yield, {name}", ms)


if __name__ == "__main__":
    main()
