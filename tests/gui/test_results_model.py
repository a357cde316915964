"""The results table model: pages over a large store, its cells, following new rows, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTableView

from inspector.core.results import InspectionResult, ResultsStore
from inspector.core.results.paging import MAX_CACHED_PAGES, Filters
from inspector.core.results.rows import to_row
from inspector.core.results.schema import connect, prepare_database
from inspector.gui.widgets.results_model import (
    COLUMNS,
    ID,
    ID_ROLE,
    RESULT_ROLE,
    TIME,
    VERDICT,
    ResultsTableModel,
    local_time,
)

T0 = 1_700_000_000.0
INSERT = ("INSERT INTO results (time, source, model_version, verdict, label, confidence, "
          "probabilities, thresholds, ood_score, truth, operator, decision, decided_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def result(i: int, t: float) -> InspectionResult:
    verdict = ("PASS", "PASS", "PASS", "FAIL", "PASS", "REVIEW")[i % 6]
    label = "ok" if verdict == "PASS" else ("short", "open")[i % 2]
    return InspectionResult(
        time=t, source="camera:0", model_version=f"v{1 + i % 3}", verdict=verdict, label=label,
        confidence=0.5 + (i % 50) / 100, probabilities={label: 0.9, "spur": 0.1},
        thresholds={"ok": 0.6, "short": 0.5}, operator=("anna", None)[i % 2],
        decision=("confirm", None)[i % 2], decided_at=t + 5 if i % 2 == 0 else None)


def bulk_insert(path: Path, n: int, t0: float = T0, step: float = 1.0) -> None:
    """n rows in one transaction, straight into the store's schema (no writer, no snapshots)."""
    prepare_database(path)
    variants = [to_row(result(i, 0.0)) for i in range(60)]
    conn = connect(path)
    try:
        conn.execute("BEGIN")
        conn.executemany(INSERT, ((t0 + i * step, *variants[i % 60][1:12],
                                   None if variants[i % 60][12] is None else t0 + i * step + 5)
                                  for i in range(n)))
        conn.execute("COMMIT")
    finally:
        conn.close()


@pytest.fixture
def big_store(tmp_path: Path) -> Iterator[ResultsStore]:
    path = tmp_path / "results.sqlite"
    bulk_insert(path, 100_000)
    with ResultsStore(path) as store:
        yield store


@pytest.fixture
def small_store(tmp_path: Path) -> Iterator[ResultsStore]:
    with ResultsStore(tmp_path / "results.sqlite") as store:
        for i in range(50):
            store.add(result(i, T0 + 60.0 * i))
        store.flush()
        yield store


def test_scrolling_to_the_end_of_100k_rows_reads_only_a_few_pages(qtbot, big_store):
    model = ResultsTableModel()
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 600)
    view.show()
    model.set_store(big_store)
    assert model.rowCount() == 100_000 == big_store.count()
    first = big_store.query(limit=1)[0]
    assert model.data(model.index(0, ID)) == str(first.id)
    started = time.perf_counter()
    view.scrollToBottom()
    qtbot.wait(20)  # paint the last rows
    last = model.index(model.rowCount() - 1, ID)
    oldest = big_store.query(newest_first=False, limit=1)[0]
    assert model.data(last, RESULT_ROLE) == oldest
    assert model.data(last) == str(oldest.id)
    assert model.data(model.index(model.rowCount() - 1, TIME)) == local_time(oldest.time)
    assert time.perf_counter() - started < 2.0  # generous: about 10 ms here
    pager = model.pager
    assert pager is not None and pager.last_skip == 0  # read from the end, nothing skipped
    assert pager.pages_fetched <= 6
    # a jump to the middle and back: the cache stays small
    for row in range(0, 100_000, 997):
        assert model.data(model.index(row, ID), ID_ROLE) is not None
    assert len(pager.cached_pages()) <= MAX_CACHED_PAGES
    row = 54_321
    assert model.data(model.index(row, ID), ID_ROLE) == big_store.query(limit=1,
                                                                        offset=row)[0].id


def test_cells_roles_and_headers(qtbot, small_store):
    model = ResultsTableModel()
    model.set_store(small_store, Filters(verdicts=("FAIL", "REVIEW")))
    rows = small_store.query(verdicts=["FAIL", "REVIEW"])
    assert model.rowCount() == len(rows) and model.columnCount() == len(COLUMNS) == 9
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(9)] == [
        "Time", "Verdict", "Class", "Confidence", "Operator", "Decision", "Model version",
        "Source", "ID"]
    top = rows[0]
    texts = [model.data(model.index(0, c)) for c in range(9)]
    assert texts == [local_time(top.time), top.verdict, top.label,
                     f"{100 * top.confidence:.1f} %", top.operator or "", top.decision or "",
                     top.model_version, "camera:0", str(top.id)]
    tint = model.data(model.index(0, VERDICT), Qt.ItemDataRole.BackgroundRole)
    assert isinstance(tint, QColor) and tint.alpha() < 255
    assert model.data(model.index(0, TIME), Qt.ItemDataRole.BackgroundRole) is None
    assert model.data(model.index(0, ID), ID_ROLE) == top.id
    assert model.data(model.index(len(rows), 0)) is None  # past the end
    assert model.data(QModelIndex()) is None


def test_new_rows_are_inserted_at_the_top_and_the_selection_follows(qtbot, small_store):
    model = ResultsTableModel()
    model.set_store(small_store)
    assert model.refresh().kind == "none"
    kept = QPersistentModelIndex(model.index(10, 0))
    kept_id = model.data(model.index(10, 0), ID_ROLE)
    for i in range(50, 53):
        small_store.add(result(i, T0 + 60.0 * i))
    small_store.flush()
    with qtbot.waitSignal(model.rowsInserted, timeout=2000) as inserted:
        change = model.refresh()
    assert (change.kind, change.count) == ("inserted", 3)
    assert inserted.args[1:] == [0, 2]
    assert model.rowCount() == 53
    assert kept.row() == 13 and model.data(model.index(13, 0), ID_ROLE) == kept_id
    assert model.data(model.index(0, 0), ID_ROLE) == small_store.query(limit=1)[0].id


def test_a_decision_taken_elsewhere_shows_after_refresh(qtbot, small_store):
    model = ResultsTableModel()
    model.set_store(small_store)
    id_ = model.data(model.index(1, 0), ID_ROLE)
    label = model.data(model.index(1, 2))
    other = "spur" if label != "spur" else "ok"
    small_store.set_decision(id_, "chen", other)  # the operator's class overrides the model's
    with qtbot.waitSignal(model.dataChanged, timeout=2000):
        assert model.refresh().kind == "updated"
    assert model.data(model.index(1, 5)) == f"→ {other}"
    small_store.set_decision(id_, "chen", label)
    model.refresh()
    qtbot.waitUntil(lambda: model.data(model.index(1, 5)) == "confirmed", timeout=2000)


def test_a_closed_store_shows_empty_cells_and_one_error(qtbot, small_store):
    model = ResultsTableModel()
    model.set_store(small_store)
    errors: list[str] = []
    model.error.connect(errors.append)
    small_store.close()
    assert model.data(model.index(0, 0)) is None
    assert model.data(model.index(40, 0)) is None
    assert len(errors) == 1 and "closed" in errors[0]
    model.set_store(None)
    assert model.rowCount() == 0
