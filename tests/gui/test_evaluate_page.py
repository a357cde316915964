"""The Evaluation page driven as an engineer would: evaluate, open a cell, relabel an image."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import tiny_training_config
from PySide6.QtCore import Qt

from inspector.core.training.data import collect_splits
from inspector.core.training.fit import fit
from inspector.core.workspace import Workspace
from inspector.gui.pages.evaluate import EvaluatePage

TIMEOUT = 120_000


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    """A workspace holding tiny_data and a model trained on it for one epoch at 32 px."""
    workspace = Workspace.create(tmp_path_factory.mktemp("evaluate") / "ws")
    dataset = workspace.dataset()
    for folder in sorted(tiny_data.iterdir()):
        shutil.copytree(folder, dataset.root / folder.name)
    config = tiny_training_config()
    config.train.epochs = 1
    result = fit(config, dataset, workspace.models_dir / "model-1")
    yield workspace, result
    shutil.rmtree(workspace.root.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def test_items(trained):
    workspace, _ = trained
    splits = collect_splits(workspace.dataset())
    return [(path, splits.classes[label]) for path, label in splits.items["test"]]


@pytest.fixture
def page(qtbot, trained):
    workspace, _ = trained
    page = EvaluatePage()
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    page.set_workspace(workspace, workspace.dataset())
    qtbot.waitUntil(lambda: page.model_combo.count() == 1, timeout=10_000)
    return page


def _evaluate(qtbot, page):
    with qtbot.waitSignal(page.evaluation_finished, timeout=TIMEOUT):
        qtbot.mouseClick(page.evaluate_button, Qt.MouseButton.LeftButton)


def _expected_cell(page, test_items, t, p):
    """The images of cell (t, p) according to the report: its mistakes, or the row without."""
    classes = page.report.metrics.classes
    mistakes = {(Path(m["path"]), m["true"]): m["predicted"] for m in page.report.mistakes}
    assert len(mistakes) == page.report.metrics.confusion.sum() - np.trace(
        page.report.metrics.confusion)  # nothing was cut from the list
    return {path for path, label in test_items if label == classes[t]
            and mistakes.get((path, label), label) == classes[p]}


def test_evaluating_shows_each_class_and_a_matrix_of_the_split(qtbot, page, test_items):
    assert page.split_combo.currentText() == "test"
    _evaluate(qtbot, page)
    classes = ["missing_hole", "ok", "short"]
    assert page.metrics_table.rowCount() == 3
    assert [page.metrics_table.item(r, 0).text() for r in range(3)] == classes
    supports = [int(page.metrics_table.item(r, 4).text()) for r in range(3)]
    assert supports == [sum(1 for _, label in test_items if label == c) for c in classes]
    assert page.matrix.view.total() == len(test_items) > 0
    assert "accuracy" in page.summary.text() and "ECE" in page.summary.text()


def test_enter_on_a_cell_opens_exactly_its_images_with_heat_maps(qtbot, page, test_items):
    _evaluate(qtbot, page)
    confusion = page.report.metrics.confusion
    t, p = (int(i) for i in np.unravel_index(np.argmax(confusion), confusion.shape))
    view = page.matrix.view
    view.setFocus()
    view.setCurrentIndex(view.matrix.index(0, 0))
    for _ in range(p):
        qtbot.keyClick(view, Qt.Key.Key_Right)
    for _ in range(t):
        qtbot.keyClick(view, Qt.Key.Key_Down)
    with qtbot.waitSignal(page.cell_loaded, timeout=TIMEOUT) as loaded:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert loaded.args == [int(confusion[t, p])]
    items = page.gallery.gallery.items
    assert {item.path for item in items} == _expected_cell(page, test_items, t, p)
    for item in items:
        assert item.overlay is not None and item.overlay.shape == item.image.shape
        assert not np.array_equal(item.overlay, item.image)
    # another layer: the same images, maps computed again
    with qtbot.waitSignal(page.cell_loaded, timeout=TIMEOUT):
        page.layer_combo.setCurrentText("layer2")
    assert {r.path for r in page.cell_results} == {item.path for item in items}
    assert page.cell_results[0].layer_map.shape == (4, 4)  # 32 px / 8


def test_relabelling_from_the_gallery_moves_the_file(qtbot, page, test_items):
    _evaluate(qtbot, page)
    view = page.matrix.view
    confusion = page.report.metrics.confusion.copy()
    t, p = (int(i) for i in np.unravel_index(np.argmax(confusion), confusion.shape))
    with qtbot.waitSignal(page.cell_loaded, timeout=TIMEOUT):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.visual_center(t, p))
    classes = page.report.metrics.classes
    new = (t + 1) % len(classes)
    page.gallery.setFocus()
    moved = page.gallery.current_item().path
    with qtbot.waitSignals([page.dataset_changed, page.relabelled], timeout=TIMEOUT):
        qtbot.keyClick(page.gallery, Qt.Key(Qt.Key.Key_1 + new))
    target = page.dataset.root / classes[new] / moved.name
    assert not moved.exists() and target.is_file()
    assert view.count(t, p) == confusion[t, p] - 1
    assert view.count(new, p) == confusion[new, p] + 1
    assert view.total() == confusion.sum()
    assert moved not in {item.path for item in page.gallery.gallery.items}
    assert f"Moved {moved.name}" in page.message_bar.text()
