"""The Results page over a workspace's results store: table, filters, detail, charts, export."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import QFileDialog

from inspector.core.results import InspectionResult, ResultsStore, stats
from inspector.core.workspace import Workspace
from inspector.gui.pages import results as results_page
from inspector.gui.pages.results import NO_OPERATOR, ResultsPage
from inspector.gui.widgets.results_model import ID, ID_ROLE, VERDICT

N = 300
CLASSES = ("ok", "short", "open", "spur")


def minute(t: float) -> float:
    """`t` rounded down to the minute (the date fields' precision)."""
    return float(int(t) // 60 * 60)


def make(i: int, t: float, with_images: bool = True) -> InspectionResult:
    verdict = ("PASS", "PASS", "FAIL", "PASS", "REVIEW", "PASS", "PASS")[i % 7]
    label = "ok" if verdict == "PASS" else CLASSES[1 + i % 3]
    others = [c for c in CLASSES if c != label]
    probabilities = {label: 0.7, others[0]: 0.2, others[1]: 0.06, others[2]: 0.04}
    decided = i % 4 == 0
    frame = overlay = None
    if with_images:  # the store keeps them for FAIL and REVIEW only (save_frames=fail_review)
        frame = np.full((48, 64, 3), (30, 120, 60), np.uint8)
        overlay = np.full((48, 64, 3), (200, 40, 40), np.uint8)
    return InspectionResult(
        time=t, source="camera:0", model_version=("v1", "v2")[i % 2], verdict=verdict,
        label=label, confidence=0.7, probabilities=probabilities,
        thresholds=dict.fromkeys(CLASSES, 0.6), ood_score=-8.0,
        operator=("anna", "ben", "chen")[i % 3] if decided else None,
        decision=("confirm", "override")[i % 2] if decided else None,
        decided_at=t + 30 if decided else None, frame=frame, overlay=overlay)


@pytest.fixture
def filled(tmp_path: Path) -> Workspace:
    """A workspace with N results over the last day (the newest a minute ago)."""
    workspace = Workspace.create(tmp_path / "line")
    now = time.time()
    with ResultsStore(workspace.results_path, workspace.config.live.results) as store:
        for i in range(N):
            store.add(make(i, now - 60 - (N - 1 - i) * 280.0))
        store.flush()
    return workspace


@pytest.fixture
def page(qtbot, filled: Workspace) -> Iterator[ResultsPage]:
    widget = ResultsPage()
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.set_workspace(filled, None)
    widget.set_period("all")
    wait_stats(qtbot, widget)
    yield widget
    widget.shutdown()


def settle(qtbot, page: ResultsPage) -> None:
    """Wait for the rows of the latest filters (counted in a worker)."""
    qtbot.waitUntil(lambda: not page.counting, timeout=10_000)


def wait_stats(qtbot, page: ResultsPage) -> None:
    settle(qtbot, page)
    qtbot.waitUntil(lambda: not page.stats_busy and not page._stats_dirty, timeout=10_000)


def shown_ids(page: ResultsPage) -> list[int]:
    model = page.model
    return [model.data(model.index(row, 0), ID_ROLE) for row in range(model.rowCount())]


def choose(qtbot, page: ResultsPage, combo, data) -> None:
    index = combo.findData(data)
    assert index > 0, [combo.itemText(i) for i in range(combo.count())]
    combo.setCurrentIndex(index)
    settle(qtbot, page)


def test_the_table_shows_every_result_newest_first(page):
    store = page.store
    assert store is not None
    model = page.model
    assert model.rowCount() == N == store.count()
    assert model.data(model.index(0, ID), ID_ROLE) == store.query(limit=1)[0].id
    last = model.index(N - 1, ID)
    assert model.data(last, ID_ROLE) == store.query(limit=1, newest_first=False)[0].id
    assert shown_ids(page) == [r.id for r in store.query(limit=N)]
    yield_pct = 100 * store.count(verdicts=["PASS"]) / N
    assert page.count_label.text() == f"<b>{N:,}</b> results · yield <b>{yield_pct:.1f} %</b>"
    assert "line" in page.title.text()


def test_filters_change_the_rows(qtbot, page):
    store = page.store
    page.verdict_boxes["PASS"].setChecked(False)
    # counted in a worker: the table keeps the rows it had until the count is in
    assert page.counting and page.model.rowCount() == N
    with qtbot.waitSignal(page.rows_shown, timeout=10_000):
        pass
    assert not page.counting
    assert page.model.rowCount() == store.count(verdicts=["FAIL", "REVIEW"])
    page.verdict_boxes["REVIEW"].setChecked(False)
    settle(qtbot, page)
    fails = [r.id for r in store.query(verdicts=["FAIL"], limit=N)]
    assert shown_ids(page) == fails and len(fails) > 10
    assert {page.model.data(page.model.index(r, VERDICT)) for r in range(len(fails))} == {
        "FAIL"}
    assert "(all verdicts)" in page.count_label.text()
    page.verdict_boxes["PASS"].setChecked(True)
    page.verdict_boxes["REVIEW"].setChecked(True)
    wait_stats(qtbot, page)
    assert page.model.rowCount() == N

    # the lists come from the period, with their counts
    assert page.operator_combo.itemText(page.operator_combo.findData("anna")) == (
        f"anna · {store.count(operators=['anna'])}")
    choose(qtbot, page, page.operator_combo, "anna")
    assert shown_ids(page) == [r.id for r in store.query(operators=["anna"], limit=N)]
    choose(qtbot, page, page.operator_combo, NO_OPERATOR)
    assert shown_ids(page) == [r.id for r in store.query(operators=[None], limit=N)]
    page.operator_combo.setCurrentIndex(0)
    settle(qtbot, page)
    choose(qtbot, page, page.class_combo, "short")
    assert shown_ids(page) == [r.id for r in store.query(labels=["short"], limit=N)]
    choose(qtbot, page, page.model_combo, "v2")
    want = store.query(labels=["short"], model_versions=["v2"], limit=N)
    assert shown_ids(page) == [r.id for r in want] and want
    page.class_combo.setCurrentIndex(0)
    page.model_combo.setCurrentIndex(0)
    settle(qtbot, page)
    assert page.model.rowCount() == N

    # a time range, to the minute
    newest = store.query(limit=1)[0].time
    start, end = minute(newest - 6 * 3600), minute(newest - 2 * 3600)
    page.set_custom_period(start, end)
    settle(qtbot, page)
    assert page.period_combo.currentData() == "custom"
    want = [r.id for r in store.query(start, end, limit=N)]
    assert shown_ids(page) == want and 40 < len(want) < 60
    # typing in a date field makes the period custom and applies it (debounced)
    page.set_period("all")
    settle(qtbot, page)
    assert page.model.rowCount() == N
    page.from_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(start)))
    qtbot.waitUntil(lambda: page.model.filters.start == start, timeout=5000)
    assert page.period_combo.currentData() == "custom"


def test_the_detail_shows_the_saved_images_or_says_why_not(qtbot, page):
    store = page.store
    failing = store.query(verdicts=["FAIL"], limit=1)[0]
    assert failing.frame_path and failing.overlay_path
    assert page.select_result(failing.id)
    assert page.snapshot_stack.currentIndex() == 0
    assert page.overlay_view.image_size is not None
    assert (page.overlay_view.image_size.width(), page.overlay_view.image_size.height()) == (
        64, 48)
    assert page.frame_view.image_size is not None
    assert f"#{failing.id}" in page.detail_title.text() and "FAIL" in page.detail_title.text()
    assert failing.label in page.probabilities_label.text()
    assert "70.0 %" in page.probabilities_label.text()

    passing = store.query(verdicts=["PASS"], limit=1)[0]
    assert passing.frame_path is None
    page.select_result(passing.id)
    assert page.snapshot_stack.currentWidget() is page.no_snapshot_label
    assert page.no_snapshot_label.text() == "No snapshot saved (save_frames = fail_review)"

    decided = store.query(operators=["ben"], limit=1)[0]
    page.select_result(decided.id)
    assert f"<b>ben</b> said <b>{decided.decision}</b>" in page.decision_label.text()
    undecided = store.query(operators=[None], limit=1)[0]
    page.select_result(undecided.id)
    assert page.decision_label.text() == "No operator decision yet."

    # a snapshot file deleted by hand
    path = store.snapshot_file(failing.frame_path)
    path.unlink()
    store.snapshot_file(failing.overlay_path).unlink()
    page.select_result(failing.id)
    assert page.snapshot_stack.currentWidget() is page.no_snapshot_label
    assert "gone" in page.no_snapshot_label.text()


def test_select_result_selects_scrolls_and_clears_hiding_filters(qtbot, page):
    store = page.store
    ids = [r.id for r in store.query(limit=N)]
    target = ids[200]
    with qtbot.waitSignal(page.result_selected, timeout=2000) as selected:
        assert page.select_result(target)
    assert selected.args == [target]
    current = page.table.currentIndex()
    assert current.row() == 200 and page.model.data(current, ID_ROLE) == target
    assert page.selected_id() == target
    assert page.table.rowAt(page.table.viewport().height() // 2) in range(190, 211)
    # hidden by a filter: the filters are cleared, with a word
    hidden = store.query(verdicts=["PASS"], limit=1)[0].id
    page.verdict_boxes["PASS"].setChecked(False)
    settle(qtbot, page)
    assert page.select_result(hidden)
    assert page.verdict_boxes["PASS"].isChecked() and page.model.rowCount() == N
    assert page.model.data(page.table.currentIndex(), ID_ROLE) == hidden
    assert "cleared" in page.message_bar.text()
    # a filter change keeps the selection when the row is still shown
    page.verdict_boxes["FAIL"].setChecked(False)
    qtbot.waitUntil(lambda: page.model.data(page.table.currentIndex(), ID_ROLE) == hidden,
                    timeout=2000)
    assert not page.select_result(10**9)
    assert "not in the results database" in page.message_bar.text()


def test_csv_export_writes_the_filtered_rows(qtbot, page, tmp_path, monkeypatch):
    store = page.store
    page.verdict_boxes["PASS"].setChecked(False)
    settle(qtbot, page)
    choose_path = tmp_path / "out" / "fails"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *_a, **_k: (str(choose_path), "CSV files (*.csv)")))
    with qtbot.waitSignal(page.export_finished, timeout=10_000) as finished:
        page.export_button.click()
    path, rows = finished.args[0]
    assert path == choose_path.with_suffix(".csv") and path.exists()
    with path.open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    want = store.query(verdicts=["FAIL", "REVIEW"], limit=N, newest_first=False)
    assert rows == len(records) == len(want)
    assert [int(r["id"]) for r in records] == [r.id for r in want]
    assert {r["verdict"] for r in records} == {"FAIL", "REVIEW"}
    assert "Exported" in page.message_bar.text()
    qtbot.waitUntil(page.export_button.isEnabled, timeout=2000)
    assert page.export_row.isHidden()
    # a cancelled dialog does nothing
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: ("", "")))
    assert page.export_csv() is None


def test_an_export_into_a_folder_that_cannot_be_written_says_so(qtbot, page, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with qtbot.waitSignal(page.error_shown, timeout=10_000) as failed:
        page.export_csv(blocker / "inside.csv")
    assert "inside.csv" in failed.args[0] or str(blocker) in failed.args[0]
    qtbot.waitUntil(page.export_button.isEnabled, timeout=2000)


def test_the_yield_charts_count_what_the_core_statistics_count(qtbot, page):
    store = page.store
    assert page.hour_range is not None and page.shift_range is not None
    buckets = stats.yield_by_hour(store, *page.hour_range)
    chart = page.hour_chart
    assert len(buckets) >= 24
    assert chart.passed == [b.passed for b in buckets]
    assert chart.failed == [b.failed for b in buckets]
    assert chart.review == [b.review for b in buckets]
    assert sum(chart.totals) == N  # the whole day is within the chart's week
    shifts = stats.yield_by_shift(store, *page.shift_range, store.config.shifts)
    assert page.shift_chart.passed == [b.passed for b in shifts]
    assert page.shift_chart.labels[-1].endswith(shifts[-1].name)
    assert sum(page.shift_chart.totals) == N
    # the last hour only
    page.set_period("hour")
    wait_stats(qtbot, page)
    start, end = page.hour_range
    assert end - start == pytest.approx(3600, abs=5)
    assert sum(page.hour_chart.totals) == store.count(start, end) == page.model.rowCount()


def test_rows_written_while_shown_appear_at_the_top(qtbot, filled, monkeypatch):
    monkeypatch.setattr(results_page, "REFRESH_MS", 50)
    page = ResultsPage(filled)
    qtbot.addWidget(page)
    page.set_period("all")
    settle(qtbot, page)
    page.show()
    store = page.store
    ids = shown_ids(page)
    page.select_result(ids[5])
    now = time.time()
    for i in range(3):
        store.add(make(i + 1, now + i, with_images=False))
    store.flush()
    qtbot.waitUntil(lambda: page.model.rowCount() == N + 3, timeout=5000)
    assert shown_ids(page)[3:] == ids
    assert page.model.data(page.table.currentIndex(), ID_ROLE) == ids[5]  # still selected
    assert f"{N + 3:,}" in page.count_label.text()
    # an operator decides on the selected result (the Live page shares the store)
    store.set_decision(ids[5], "dora", "override")
    qtbot.waitUntil(lambda: "dora" in page.decision_label.text(), timeout=5000)
    page.hide()
    assert not page._refresh_timer.isActive()
    page.shutdown()


def test_workspaces_stores_and_errors(qtbot, filled, tmp_path):
    page = ResultsPage()
    qtbot.addWidget(page)
    assert page.store is None and page.model.rowCount() == 0
    assert "No results database" in page.title.text()
    assert not page.export_button.isEnabled()
    page.set_workspace(filled)
    owned = page.store
    assert owned is not None and page.model.rowCount() > 0
    # a store owned by someone else is shown, and the page's own one is closed
    with ResultsStore(filled.results_path) as shared:
        page.set_store(shared)
        assert owned.closed and page.store is shared
        page.set_period("all")
        settle(qtbot, page)
        assert page.model.rowCount() == N
        page.set_workspace(None)
        assert not shared.closed and page.store is None
    # a results.sqlite that is not a database
    broken = Workspace.create(tmp_path / "broken")
    broken.results_path.write_bytes(b"this is not an sqlite file at all" * 100)
    page.set_workspace(broken)
    assert page.store is None and page.model.rowCount() == 0
    assert "results.sqlite" in page.message_bar.text()
    page.shutdown()
