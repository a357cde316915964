"""The capture dialog on the virtual camera: live preview, Space saves frames into a class."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from inspector.core.data.dataset import Dataset
from inspector.gui.pages.capture_dialog import CaptureDialog
from inspector.gui.pages.datasets import DatasetsPage

TIMEOUT = 10_000
# a new patch every frame, so that successive captures are different images
FAST = {"mode": "patch", "size": 64, "hold": 1, "fps": 30.0}


@pytest.fixture
def dialog(qtbot, dataset: Dataset) -> CaptureDialog:
    dialog = CaptureDialog(dataset, "short", "virtual:3", source_options=FAST)
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    dialog.stop_feed()


def start_live(qtbot, dialog: CaptureDialog) -> None:
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.frame is not None, timeout=TIMEOUT)
    assert dialog.start_button.text() == "Stop"
    assert dialog.preview.image_size is not None


def capture_frames(qtbot, dialog: CaptureDialog, n: int) -> list[str]:
    saved = []
    for _ in range(n):
        shown = dialog.frame.index
        qtbot.waitUntil(lambda shown=shown: dialog.frame.index > shown, timeout=TIMEOUT)
        with qtbot.waitSignal(dialog.captured, timeout=TIMEOUT) as blocker:
            qtbot.keyClick(dialog, Qt.Key.Key_Space)
        saved.append(blocker.args[0])
        qtbot.waitUntil(dialog.capture_button.isEnabled, timeout=TIMEOUT)
    return saved


def test_space_saves_frames_of_the_virtual_camera_into_the_class(qtbot, dialog, dataset):
    assert dialog.spec() == "virtual:3"
    assert dialog.label == "short"
    before = len(dataset.image_files("short"))
    start_live(qtbot, dialog)
    saved = capture_frames(qtbot, dialog, 3)
    files = dataset.image_files("short")
    assert len(files) == before + 3
    assert {p.name for p in files} >= {s.rsplit("/", 1)[-1] for s in saved}
    assert dialog.count == 3
    assert "Captured <b>3</b> images into <b>short</b>" in dialog.count_label.text()
    assert f"now has {before + 3} images" in dialog.count_label.text()
    # the dataset's own bookkeeping: the new images have a split (the dataset was split)
    manifest = dataset.manifest()
    records, _ = dataset.records(label="short")
    assert all(manifest.split_of(r.hash) for r in records)


def test_preview_follows_the_frames(qtbot, dialog):
    start_live(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.feed is not None and dialog.feed.frames_shown >= 5,
                    timeout=TIMEOUT)
    with qtbot.waitSignal(dialog.feed.ended, timeout=TIMEOUT):
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.start_button.text() == "Start"
    assert not dialog.capture_button.isEnabled()


def test_capture_into_a_new_class(qtbot, dialog, dataset, dialogs):
    dialogs.texts.append(("scratch", True))
    qtbot.mouseClick(dialog.new_class_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.label == "scratch", timeout=TIMEOUT)
    start_live(qtbot, dialog)
    capture_frames(qtbot, dialog, 2)
    assert len(dataset.image_files("scratch")) == 2


def test_a_bad_source_is_reported_in_the_dialog(qtbot, dialog):
    dialog.set_source("rtsp://")
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "not a frame source" in dialog.message_bar.text(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: dialog.feed is None, timeout=TIMEOUT)
    assert dialog.start_button.text() == "Start"


def test_the_page_counts_change_after_capturing(qtbot, dataset):
    page = DatasetsPage()
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        page.set_dataset(dataset)
    page.select_class("ok")
    dialog = page.open_capture_dialog()
    dialog.source_options = FAST
    assert dialog.label == "ok"
    start_live(qtbot, dialog)
    capture_frames(qtbot, dialog, 2)
    with qtbot.waitSignals([page.dataset_changed, page.refreshed], timeout=TIMEOUT):
        dialog.close()
    total = page.model.index(page.model.row_of("ok"), page.model.TOTAL_COLUMN).data()
    assert total == "12"
    assert "Captured 2 images into 'ok'" in page.message_bar.text()
