"""The Models page: the trained models with their metrics, the active one, export, delete."""

from __future__ import annotations

import shutil

import pytest
from helpers import tiny_training_config
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from inspector.core.model_catalog import active_model
from inspector.core.training.fit import fit
from inspector.core.workspace import Workspace
from inspector.gui.pages.models import ModelsPage, ModelsTableModel

TIMEOUT = 120_000
COLUMNS = {name: i for i, name in enumerate(ModelsTableModel.HEADERS)}


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    """A workspace with two models: model-1 trained one epoch at 32 px, model-2 a copy."""
    workspace = Workspace.create(tmp_path_factory.mktemp("models") / "ws")
    dataset = workspace.dataset()
    for folder in sorted(tiny_data.iterdir()):
        shutil.copytree(folder, dataset.root / folder.name)
    config = tiny_training_config()
    config.train.epochs = 1
    result = fit(config, dataset, workspace.models_dir / "model-1")
    shutil.copytree(result.out_dir, workspace.models_dir / "model-2")
    return workspace, result


@pytest.fixture
def page(qtbot, trained):
    workspace, _ = trained
    page = ModelsPage()
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        page.set_workspace(workspace, workspace.dataset())
    return page


def _cell(page, row, column):
    return page.model.index(row, COLUMNS[column]).data()


def _row_of(page, name):
    return [m.name for m in page.model.models].index(name)


def test_lists_the_trained_models_with_their_metrics(page, trained):
    _, result = trained
    assert page.model.rowCount() == 2
    row = _row_of(page, "model-1")
    assert _cell(page, row, "Classes") == "missing_hole, ok, short"
    assert _cell(page, row, "Input") == "32 px"
    assert _cell(page, row, "Val macro-F1") == f"{result.best_val_macro_f1:.3f}"
    assert _cell(page, row, "Test accuracy") == f"{result.test['metrics']['accuracy']:.3f}"
    assert _cell(page, row, "Weights") == "random"  # tests never have ImageNet weights
    assert _cell(page, row, "Export") == "–"


def test_set_active_persists_and_is_announced(qtbot, page, trained):
    workspace, _ = trained
    first = page.model.models[0].name  # the newest is active at first
    assert _cell(page, 0, "") == "★"
    other = 1 - _row_of(page, first)
    page.table.setFocus()
    page.select_row(other)
    name = page.model.models[other].name
    with qtbot.waitSignal(page.active_model_changed, timeout=10_000) as changed:
        qtbot.mouseClick(page.active_button, Qt.MouseButton.LeftButton)
    assert changed.args == [workspace.models_dir / name]
    assert _cell(page, _row_of(page, name), "") == "★"
    assert active_model(Workspace.open(workspace.root)).name == name
    assert not page.active_button.isEnabled()  # it is active already


def test_export_writes_onnx_and_the_table_shows_it(qtbot, page, trained):
    workspace, _ = trained
    page.select_row(_row_of(page, "model-1"))
    with (qtbot.waitSignal(page.refreshed, timeout=TIMEOUT),
          qtbot.waitSignal(page.exported, timeout=TIMEOUT)):
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert (workspace.models_dir / "model-1" / "model.onnx").is_file()
    assert _cell(page, _row_of(page, "model-1"), "Export") == "ONNX"
    assert "Exported model-1 to model.onnx" in page.message_bar.text()
    assert page.selected_model().name == "model-1"


def test_delete_asks_first_and_moves_to_the_trash(qtbot, page, trained, dialogs):
    workspace, _ = trained
    page.select_row(_row_of(page, "model-2"))
    page.table.setFocus()
    dialogs.answer = QMessageBox.StandardButton.No
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert dialogs.messages("question") and (workspace.models_dir / "model-2").is_dir()
    dialogs.answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert not (workspace.models_dir / "model-2").exists()
    assert any((workspace.models_dir / ".trash").glob("model-2-*/best.safetensors"))
    assert [m.name for m in page.model.models] == ["model-1"]
