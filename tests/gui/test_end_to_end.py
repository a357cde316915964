"""The engineer's whole path in the window, as a user drives it: import a synthesised dataset,
train one short epoch, evaluate, open a confusion cell, relabel an image, see the counts move."""

from __future__ import annotations

import pytest
from helpers import tiny_training_config
from PySide6.QtCore import QSettings, Qt

from inspector.core.data.synthetic import generate_patch_dataset
from inspector.core.workspace import RecentWorkspaces, Workspace
from inspector.gui.app import build_main_window

TIMEOUT = 20_000
TRAIN_TIMEOUT = 300_000
CLASSES = ("ok", "short", "spur")


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    window = build_main_window(settings, RecentWorkspaces(tmp_path / "recent.json"))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


def totals(page) -> dict[str, int]:
    return dict(page.stats.class_totals)


def test_import_train_evaluate_relabel(qtbot, window, tmp_path):
    incoming = tmp_path / "incoming"
    generate_patch_dataset(incoming, per_class=10, seed=21, size=48, classes=CLASSES)
    workspace = Workspace.create(tmp_path / "ws")
    datasets = window.page("Datasets")
    with qtbot.waitSignal(datasets.refreshed, timeout=TIMEOUT):
        window.open_workspace(workspace.root)

    # import: the dialog from the page, with progress and a summary
    dialog = datasets.open_import_dialog()
    dialog.set_source(incoming)
    with qtbot.waitSignals([dialog.imported, datasets.refreshed], timeout=TIMEOUT):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert totals(datasets) == dict.fromkeys(CLASSES, 10)
    dialog.close()

    # train: one short epoch at 32 px, started from the Training page's button
    tiny = tiny_training_config()
    tiny.train.epochs = 1
    window.workspace.config.model = tiny.model
    window.workspace.config.train = tiny.train
    window.show_page("Training")
    train = window.page("Training")
    with qtbot.waitSignal(train.model_trained, timeout=TRAIN_TIMEOUT) as trained:
        qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    assert (trained.args[0] / "best.safetensors").is_file()

    # evaluate the new model (the page was told about it) and open the fullest cell
    window.show_page("Evaluation")
    evaluate = window.page("Evaluation")
    qtbot.waitUntil(lambda: evaluate.model_combo.count() == 1, timeout=TIMEOUT)
    with qtbot.waitSignal(evaluate.evaluation_finished, timeout=TRAIN_TIMEOUT):
        qtbot.mouseClick(evaluate.evaluate_button, Qt.MouseButton.LeftButton)
    confusion = evaluate.metrics.confusion
    true, predicted = max(((t, p) for t in range(3) for p in range(3)),
                          key=lambda cell: confusion[cell])
    view = evaluate.matrix.view
    rect = view.visualRect(view.model().index(true, predicted))
    with qtbot.waitSignal(evaluate.cell_loaded, timeout=TRAIN_TIMEOUT) as loaded:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert loaded.args[0] == confusion[true, predicted] > 0

    # relabel the first image of the cell with a number key; the Datasets page follows
    classes = evaluate.metrics.classes
    source_class = classes[true]
    target = next(c for c in classes if c != source_class)
    gallery = evaluate.gallery
    gallery.setFocus()
    with qtbot.waitSignals([evaluate.dataset_changed, datasets.refreshed], timeout=TIMEOUT):
        qtbot.keyClick(gallery, getattr(Qt.Key, f"Key_{classes.index(target) + 1}"))
    counts = totals(datasets)
    assert counts[source_class] == 9 and counts[target] == 11
    assert len(window.opened.dataset.image_files(target)) == 11
