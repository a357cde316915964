"""The Datasets page, built alone on a dataset in tmp_path, driven as a user would."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QTreeWidgetItem

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


# ---------------------------------------------------------------------- the image grid
def grid_paths(page: DatasetsPage) -> list[str]:
    model = page.grid.grid_model
    return [model.image_at(r).path for r in range(model.rowCount())]


def click_thumbnail(qtbot, page: DatasetsPage, row: int,
                    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    rect = page.grid.visualRect(page.grid.grid_model.index(row))
    qtbot.mouseClick(page.grid.viewport(), Qt.MouseButton.LeftButton, modifier,
                     pos=rect.center())


def test_the_grid_shows_the_selected_class_and_filters_by_split(qtbot, page, dataset):
    assert len(grid_paths(page)) == 14  # all classes at first
    select(page, "short")
    assert page.class_filter.currentData() == "short"
    assert sorted(Path(p).name for p in grid_paths(page)) == \
        sorted(p.name for p in dataset.image_files("short"))
    page.split_filter.setCurrentIndex(page.split_filter.findData("train"))
    train = int(rows(page)["short"]["Train"])
    assert len(grid_paths(page)) == train
    assert "of 14 images" in page.grid_status.text()
    qtbot.mouseClick(page.show_all_button, Qt.MouseButton.LeftButton)
    assert len(grid_paths(page)) == 14
    # thumbnails arrive (decoded off the GUI thread)
    qtbot.waitUntil(lambda: all(page.loader.is_cached(p) for p in grid_paths(page)),
                    timeout=TIMEOUT)


def test_the_class_table_numbers_its_rows_for_the_keys(page):
    header = page.table.model()
    assert header.headerData(0, Qt.Orientation.Vertical) == "1"
    assert header.headerData(1, Qt.Orientation.Vertical) == "2"
    assert not page.table.verticalHeader().isHidden()


def test_relabel_with_a_number_key_moves_the_file_and_undo_moves_it_back(qtbot, page,
                                                                          dataset):
    changed = []
    page.dataset_changed.connect(lambda: changed.append(True))
    select(page, "ok")
    click_thumbnail(qtbot, page, 0)
    click_thumbnail(qtbot, page, 1, Qt.KeyboardModifier.ShiftModifier)
    moved = [Path(p) for p in page.grid.selected_paths()]
    assert len(moved) == 2
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        qtbot.keyClick(page.grid, Qt.Key.Key_2)  # row 2 of the table: short
    assert not any(p.exists() for p in moved)
    assert all((dataset.root / "short" / p.name).exists() for p in moved)
    assert rows(page)["ok"]["Total"] == "8"
    assert rows(page)["short"]["Total"] == "6"
    assert "Moved 2 images to 'short'" in page.message_bar.text()
    assert changed
    click_and_wait(qtbot, page.undo_button, page.refreshed)
    assert all(p.exists() for p in moved)
    assert rows(page)["ok"]["Total"] == "10"
    assert rows(page)["short"]["Total"] == "4"


def test_a_number_without_a_class_says_so(qtbot, page):
    click_thumbnail(qtbot, page, 0)
    qtbot.keyClick(page.grid, Qt.Key.Key_7)
    assert "no class 7" in page.message_bar.text()
    assert not page.busy


def drop_on_class(page: DatasetsPage, mime: QMimeData, label: str) -> None:
    """What a drag from the grid does at its end: enter, move over the class's row, drop."""
    viewport = page.table.viewport()
    pos = page.table.visualRect(page.model.index(page.model.row_of(label), 0)).center()
    args = (Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    for event in (QDragEnterEvent(pos, *args), QDragMoveEvent(pos, *args)):
        QApplication.sendEvent(viewport, event)
        assert event.isAccepted(), "the class table refused the drag"
    QApplication.sendEvent(viewport, QDropEvent(QPointF(pos), *args))


def test_relabel_by_dropping_thumbnails_on_a_class(qtbot, page, dataset):
    select(page, "short")
    click_thumbnail(qtbot, page, 0)
    source = Path(page.grid.selected_paths()[0])
    mime = page.grid.grid_model.mimeData(page.grid.selectionModel().selectedIndexes())
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        drop_on_class(page, mime, "ok")
    assert not source.exists()
    assert (dataset.root / "ok" / source.name).exists()
    assert rows(page)["ok"]["Total"] == "11"
    assert rows(page)["short"]["Total"] == "3"
    click_and_wait(qtbot, page.undo_button, page.refreshed)
    assert source.exists()
    assert rows(page)["short"]["Total"] == "4"


def test_delete_selected_images_and_undo(qtbot, page, dataset):
    select(page, "short")
    click_thumbnail(qtbot, page, 0)
    victim = Path(page.grid.selected_paths()[0])
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        qtbot.keyClick(page.grid, Qt.Key.Key_Delete)
    assert not victim.exists()
    assert rows(page)["short"]["Total"] == "3"
    assert "Undo" in page.message_bar.text()
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        qtbot.mouseClick(page.undo_button, Qt.MouseButton.LeftButton)  # Ctrl+Z: the window's
    assert victim.exists()
    assert rows(page)["short"]["Total"] == "4"


def test_picking_a_problem_in_the_report_shows_its_images(qtbot, page, dataset):
    ok_files = dataset.image_files("ok")
    copy = dataset.root / "ok" / "copy.png"
    shutil.copy(ok_files[1], copy)
    conflict = dataset.root / "short" / "conflict.png"
    shutil.copy(ok_files[2], conflict)
    (dataset.root / "short" / "empty.png").write_bytes(b"")
    click_and_wait(qtbot, page.refresh_button, page.refreshed)
    click_and_wait(qtbot, page.validate_button, page.validation_finished)
    assert page.side_tabs.currentWidget() is page.report_tab
    kinds = _kinds(page)
    page.issue_tree.setCurrentItem(kinds["duplicate (1)"])
    assert sorted(grid_paths(page)) == sorted([str(ok_files[1]), str(copy)])
    assert page.problem_filter.currentText() == "Duplicates"
    conflict_issue = kinds["label conflict (1)"].child(0)
    page.issue_tree.setCurrentItem(conflict_issue)
    assert sorted(grid_paths(page)) == sorted([str(ok_files[2]), str(conflict)])
    assert "from the validation report" in page.grid_status.text()
    page.issue_tree.setCurrentItem(kinds["zero-byte file (1)"])
    assert grid_paths(page) == [str(dataset.root / "short" / "empty.png")]


def test_import_and_capture_buttons_open_their_dialogs(qtbot, page):
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    assert page.import_dialog is not None and page.import_dialog.isVisible()
    page.import_dialog.close()
    qtbot.mouseClick(page.capture_button, Qt.MouseButton.LeftButton)
    assert page.capture_dialog is not None and page.capture_dialog.isVisible()
    page.capture_dialog.close()


def test_an_import_refreshes_the_page(qtbot, page, class_tree, tmp_path):
    source = class_tree({"scratch": 3, "ok": 2}, root=tmp_path / "incoming")
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    dialog = page.import_dialog
    dialog.set_source(source, "folder")
    with qtbot.waitSignals([page.dataset_changed, page.refreshed], timeout=TIMEOUT):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert rows(page)["scratch"]["Total"] == "3"
    assert rows(page)["ok"]["Total"] == "12"
    dialog.close()
