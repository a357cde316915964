"""The Datasets page, built alone on a dataset in tmp_path, driven as a user would."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QTreeWidgetItem

from inspector.core.data import validation
from inspector.core.data.dataset import Dataset
from inspector.core.data.validation import ValidationReport
from inspector.gui.pages.datasets import PATH_ROLE, ClassCountsModel, DatasetsPage
from inspector.gui.workers import dataset as dataset_workers

TIMEOUT = 5000
COLUMNS = ClassCountsModel.HEADERS


def rows(page: DatasetsPage) -> dict[str, dict[str, str]]:
    """What the table shows: class -> column header -> cell text."""
    model = page.table.model()
    table = {}
    for r in range(model.rowCount()):
        cells = [model.index(r, c).data() for c in range(model.columnCount())]
        table[cells[0]] = dict(zip(COLUMNS[1:], cells[1:], strict=True))
    return table


def split_counts(row: dict[str, str]) -> tuple[int, ...]:
    return tuple(int(row[c]) for c in ("Train", "Val", "Test", "Unassigned"))


@pytest.fixture
def page(qtbot, dataset: Dataset) -> DatasetsPage:
    """The page on the ok: 10 / short: 4 dataset, shown, with its first refresh done."""
    page = DatasetsPage()
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        page.set_dataset(dataset)
    return page


def click_and_wait(qtbot, button, signal, timeout: int = TIMEOUT):
    with qtbot.waitSignal(signal, timeout=timeout) as blocker:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return blocker


def select(page: DatasetsPage, label: str) -> None:
    page.select_class(label)
    assert page.selected_class() == label


# ---------------------------------------------------------------------- the table
def test_table_shows_counts_per_split_and_totals(qtbot, page, dataset, make_image):
    table = rows(page)
    assert list(table) == ["ok", "short"]
    assert table["ok"]["Total"] == "10"
    assert table["short"]["Total"] == "4"
    ok_splits = split_counts(table["ok"])
    assert sum(ok_splits[:3]) == 10 and ok_splits[3] == 0
    assert ok_splits[0] == 7  # 70 % train
    # images added behind the page's back show as unassigned after a refresh
    make_image(dataset.root / "short" / "new_1.png", seed=901)
    make_image(dataset.root / "short" / "new_2.png", seed=902)
    click_and_wait(qtbot, page.refresh_button, page.refreshed)
    short = rows(page)["short"]
    assert short["Unassigned"] == "2"
    assert short["Total"] == "6"
    totals = page.totals_label.text()
    assert "<b>16</b> images in <b>2</b> classes" in totals
    assert "unassigned 2" in totals
    assert "1.67 : 1" in totals  # imbalance: 10 / 6
    bar = page.model.index(1, ClassCountsModel.BAR_COLUMN)
    assert "unassigned 2" in bar.data(Qt.ItemDataRole.ToolTipRole)
    assert page.chart.labels == ["ok", "short"]
    assert page.chart.totals == [10, 6]


def test_a_page_without_a_dataset_offers_nothing(qtbot):
    page = DatasetsPage()
    qtbot.addWidget(page)
    assert "No dataset open" in page.title.text()
    assert page.table.model().rowCount() == 0
    for button in (page.add_button, page.rename_button, page.delete_button, page.split_button,
                   page.validate_button, page.undo_button):
        assert not button.isEnabled()


def test_statistics_are_computed_off_the_gui_thread(qtbot, dataset, monkeypatch):
    threads = []
    original = dataset_workers.compute_stats

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(dataset_workers, "compute_stats", spy)
    page = DatasetsPage()
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        page.set_dataset(dataset)
    assert threads and threads[0] is not threading.main_thread()


# ---------------------------------------------------------------------- class operations
def test_add_class_updates_the_table_and_the_disk(qtbot, page, dataset, dialogs):
    dialogs.texts.append(("scratch", True))
    click_and_wait(qtbot, page.add_button, page.refreshed)
    assert rows(page)["scratch"]["Total"] == "0"
    assert (dataset.root / "scratch").is_dir()
    assert page.selected_class() == "scratch"
    assert "Created class 'scratch'" in page.message_bar.text()
    assert "n/a (a class is empty)" in page.totals_label.text()


def test_add_class_cancelled_does_nothing(qtbot, page, dataset, dialogs):
    dialogs.texts.append(("ignored", False))
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    assert not page.busy
    assert dataset.classes() == ["ok", "short"]


def test_a_bad_class_name_shows_the_reason(qtbot, page, dataset, dialogs):
    dialogs.texts.append(("a/b", True))
    blocker = click_and_wait(qtbot, page.add_button, page.error_shown)
    assert "cannot be a class name" in blocker.args[0]
    assert "cannot be a class name" in page.message_bar.text()
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT)
    assert dataset.classes() == ["ok", "short"]


def test_rename_class_keeps_its_images_and_split(qtbot, page, dataset, dialogs):
    before = split_counts(rows(page)["short"])
    select(page, "short")
    dialogs.texts.append(("bridge", True))
    click_and_wait(qtbot, page.rename_button, page.refreshed)
    table = rows(page)
    assert "short" not in table
    assert split_counts(table["bridge"]) == before
    assert not (dataset.root / "short").exists()
    assert len(list((dataset.root / "bridge").glob("*.png"))) == 4
    assert page.selected_class() == "bridge"


def test_renaming_onto_an_existing_class_is_refused(qtbot, page, dataset, dialogs):
    select(page, "short")
    dialogs.texts.append(("OK", True))
    blocker = click_and_wait(qtbot, page.rename_button, page.error_shown)
    assert "already exists" in blocker.args[0]
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT)
    assert list(rows(page)) == ["ok", "short"]


def test_delete_asks_first_and_undo_restores_the_class(qtbot, page, dataset, dialogs):
    select(page, "short")
    dialogs.answer = QMessageBox.StandardButton.No
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert not page.busy
    assert (dataset.root / "short").is_dir()
    question = dialogs.messages("question")[-1]
    assert "'short'" in question and "4 images" in question and "Undo" in question

    dialogs.answer = QMessageBox.StandardButton.Yes
    click_and_wait(qtbot, page.delete_button, page.refreshed)
    assert list(rows(page)) == ["ok"]
    assert not (dataset.root / "short").exists()

    click_and_wait(qtbot, page.undo_button, page.refreshed)
    assert rows(page)["short"]["Total"] == "4"
    assert len(list((dataset.root / "short").glob("*.png"))) == 4
    assert "Undone: delete class short" in page.message_bar.text()


def test_undo_with_nothing_to_undo_says_so(qtbot, page):
    click_and_wait(qtbot, page.undo_button, page.refreshed)
    assert "nothing to undo" in page.message_bar.text()


def test_split_assigns_new_images(qtbot, page, dataset, make_image):
    for i in range(3):
        make_image(dataset.root / "ok" / f"late_{i}.png", seed=700 + i)
    click_and_wait(qtbot, page.refresh_button, page.refreshed)
    assert rows(page)["ok"]["Unassigned"] == "3"
    click_and_wait(qtbot, page.split_button, page.refreshed)
    assert rows(page)["ok"]["Unassigned"] == "0"
    assert sum(split_counts(rows(page)["ok"])) == 13
    assert "Assigned 3 new images" in page.message_bar.text()


# ---------------------------------------------------------------------- validation
def _kinds(page: DatasetsPage) -> dict[str, QTreeWidgetItem]:
    tree = page.issue_tree
    return {tree.topLevelItem(i).text(0): tree.topLevelItem(i)
            for i in range(tree.topLevelItemCount())}


def _path_items(kind_item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    return [kind_item.child(i).child(j) for i in range(kind_item.childCount())
            for j in range(kind_item.child(i).childCount())]


def _double_click(qtbot, page: DatasetsPage, item: QTreeWidgetItem) -> None:
    tree = page.issue_tree
    tree.scrollToItem(item)
    center = tree.visualItemRect(item).center()
    # A real double-click starts with a press and release (the view remembers what was pressed)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=center)


def test_validate_shows_planted_bad_files_and_opens_good_ones(qtbot, page, dataset):
    ok_files = dataset.image_files("ok")
    (dataset.root / "short" / "empty.png").write_bytes(b"")
    data = ok_files[0].read_bytes()
    (dataset.root / "short" / "cut.png").write_bytes(data[: len(data) // 2])
    shutil.copy(ok_files[1], dataset.root / "ok" / "copy.png")
    click_and_wait(qtbot, page.validate_button, page.validation_finished)

    kinds = _kinds(page)
    assert {"zero-byte file (1)", "truncated image (1)", "duplicate (1)"} <= set(kinds)
    empty_item = _path_items(kinds["zero-byte file (1)"])[0]
    assert empty_item.text(0) == "short/empty.png"
    assert empty_item.data(0, PATH_ROLE) == str(dataset.root / "short" / "empty.png")
    assert _path_items(kinds["truncated image (1)"])[0].text(0) == "short/cut.png"
    assert "2 errors" in page.report_label.text()

    # a file that cannot be decoded says why; a duplicate (a good image) is shown
    with qtbot.waitSignal(page.error_shown, timeout=TIMEOUT) as blocker:
        _double_click(qtbot, page, empty_item)
    assert "zero-byte file" in blocker.args[0]
    duplicate = _path_items(kinds["duplicate (1)"])[0]
    _double_click(qtbot, page, duplicate)
    qtbot.waitUntil(lambda: page.image_dialog is not None and page.image_dialog.isVisible(),
                    timeout=TIMEOUT)
    size = page.image_dialog.view.image_size
    assert (size.width(), size.height()) == (24, 24)
    page.image_dialog.close()


def test_a_clean_dataset_validates_without_problems(qtbot, page, dataset, class_tree):
    class_tree({"ok": 10, "short": 16}, root=dataset.root)  # 20 and more per class
    click_and_wait(qtbot, page.validate_button, page.validation_finished)
    assert page.report_label.text().startswith("No problems found in")
    assert page.issue_tree.topLevelItemCount() == 0


def test_validation_can_be_cancelled(qtbot, page, dataset, monkeypatch):
    """A validation that would run for long stops when Cancel is pressed."""

    def slow_validate(ds, on_progress=None, stop_event=None, **_kwargs):
        on_progress(1, 1000)
        stopped = stop_event.wait(10)
        return ValidationReport(root=ds.root, images_checked=1, stopped=stopped)

    monkeypatch.setattr(validation, "validate", slow_validate)
    qtbot.mouseClick(page.validate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.progress_bar.maximum() == 1000, timeout=TIMEOUT)
    assert page.progress_row.isVisible()
    assert page.cancel_button.isVisible() and page.cancel_button.isEnabled()
    assert not page.add_button.isEnabled()  # one job at a time
    with qtbot.waitSignal(page.validation_finished, timeout=TIMEOUT):
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert "Cancelled after 1 images" in page.report_label.text()
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT)
    assert not page.progress_row.isVisible()
    assert page.add_button.isEnabled()


def test_a_failed_refresh_is_shown_not_raised(qtbot, dataset, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(dataset_workers, "compute_stats", broken)
    page = DatasetsPage()
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.error_shown, timeout=TIMEOUT) as blocker:
        page.set_dataset(dataset)
    assert "unexpected error" in blocker.args[0]
    assert "disk on fire" not in blocker.args[0]


def test_another_dataset_replaces_the_shown_one(qtbot, page, tmp_path: Path,
                                                class_tree: Callable[..., Path]):
    other = Dataset.create(class_tree({"scratch": 2}, root=tmp_path / "other"))
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        page.set_dataset(other)
    assert list(rows(page)) == ["scratch"]
    assert "other" in page.title.text()


def test_a_page_deleted_while_its_job_runs_ignores_the_result(qtbot, dataset, monkeypatch):
    def slow_validate(ds, on_progress=None, stop_event=None, **_kwargs):
        on_progress(1, 10)
        stopped = stop_event.wait(10)
        return ValidationReport(root=ds.root, images_checked=1, stopped=stopped)

    monkeypatch.setattr(validation, "validate", slow_validate)
    page = DatasetsPage(dataset)
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT)
    page.validate()
    worker = page._job
    assert worker is not None
    qtbot.waitUntil(lambda: page.progress_bar.maximum() == 10, timeout=TIMEOUT)
    page.deleteLater()
    qtbot.wait(10)  # let the deferred delete happen (an event loop turn, not a sleep)
    with qtbot.waitSignal(worker.done, timeout=TIMEOUT):
        worker.cancel()
