"""The import dialog: a folder and a zip made by the synthetic generator, and a corrupt zip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from inspector.core.data.dataset import Dataset
from inspector.core.data.synthetic import generate_patch_dataset
from inspector.gui.pages.import_dialog import ImportDialog

TIMEOUT = 10_000


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "incoming"
    generate_patch_dataset(root, per_class=4, seed=5, size=48, classes=("ok", "short", "spur"))
    return root


@pytest.fixture
def target(tmp_path: Path) -> Dataset:
    return Dataset.create(tmp_path / "target")


@pytest.fixture
def dialog(qtbot, target: Dataset) -> ImportDialog:
    dialog = ImportDialog(target)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def run_import(qtbot, dialog: ImportDialog):
    progress: list[tuple[int, int]] = []
    with qtbot.waitSignal(dialog.imported, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
        assert dialog.busy and not dialog.import_button.isEnabled()
        assert dialog.cancel_button.isEnabled()
        dialog._worker.progress.connect(lambda d, t: progress.append((d, t)))
    qtbot.waitUntil(lambda: not dialog.busy, timeout=TIMEOUT)
    return blocker.args[0], progress


def test_import_a_folder_shows_progress_and_a_summary(qtbot, dialog, source, target):
    dialog.set_source(source)
    assert dialog.format == "folder"
    assert not dialog.box_group.isVisibleTo(dialog)
    report, progress = run_import(qtbot, dialog)
    assert report.added == 12
    assert sorted(target.classes()) == ["ok", "short", "spur"]
    assert len(target.image_files("short")) == 4
    assert progress and progress[-1] == (12, 12)
    assert dialog.progress_bar.value() == 12 and dialog.progress_bar.maximum() == 12
    summary = dialog.summary.toPlainText()
    assert "Added: 12 images" in summary
    assert "short: 4" in summary
    assert "Duplicates skipped (already in the class): 0" in summary
    assert "Failed: 0" in summary
    assert dialog.changed
    assert dialog.close_button.isEnabled()

    # again: everything is a duplicate now, and a bad file is listed with its reason
    (source / "ok" / "broken.png").write_bytes(b"not an image at all")
    report, _ = run_import(qtbot, dialog)
    assert report.added == 0
    summary = dialog.summary.toPlainText()
    assert "Duplicates skipped (already in the class): 12" in summary
    assert "Failed: 1" in summary
    assert "broken.png" in summary
    assert "No images were imported" in dialog.message_bar.text()


def test_import_a_zip(qtbot, dialog, source, target, tmp_path):
    archive = tmp_path / "incoming.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(source.rglob("*.png")):
            zf.write(path, Path("incoming") / path.relative_to(source))
    dialog.set_source(archive)
    assert dialog.format == "zip"  # picked from the file name
    report, progress = run_import(qtbot, dialog)
    assert report.added == 12
    assert progress
    assert sorted(target.classes()) == ["ok", "short", "spur"]
    assert "Added: 12 images" in dialog.summary.toPlainText()
    assert "Imported 12 images" in dialog.message_bar.text()


def test_a_corrupt_zip_gives_a_clear_message(qtbot, dialog, target, tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50)
    dialog.set_source(archive)
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    message = blocker.args[0]
    print(f"\ncorrupt zip: {message}")
    assert "broken.zip" in message
    assert "unexpected error" not in message
    assert dialog.message_bar.text() == message
    qtbot.waitUntil(lambda: not dialog.busy, timeout=TIMEOUT)
    assert dialog.import_button.isEnabled()
    assert not dialog.changed
    assert target.classes() == []


def test_box_formats_show_their_patch_settings(qtbot, dialog):
    dialog.set_format("deeppcb")
    assert dialog.box_group.isVisibleTo(dialog)
    dialog.ok_label_edit.setText("good")
    dialog.ok_per_image_spin.setValue(5)
    config = dialog.import_config()
    assert (config.ok_label, config.ok_per_image) == ("good", 5)
    dialog.set_format("voc")
    assert "Annotations" in dialog.format_help.text()


def test_a_missing_source_is_explained(qtbot, dialog, tmp_path):
    dialog.set_source(tmp_path / "nowhere", "folder")
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT) as blocker:
        qtbot.keyClick(dialog.source_edit, Qt.Key.Key_Return)
    assert "does not exist" in blocker.args[0]
    qtbot.waitUntil(lambda: not dialog.busy, timeout=TIMEOUT)
