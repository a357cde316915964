"""The Augmentation page on a workspace in tmp_path, driven as a user would."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from inspector.config import load_config
from inspector.core.data.augment import preview
from inspector.core.workspace import Workspace
from inspector.gui.pages.augment import DEFAULT_SAMPLES, AugmentPage

TIMEOUT = 20_000  # the first preview imports albumentations and cv2 in the worker


def type_into(qtbot, spin, text: str) -> None:
    line = spin.lineEdit()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


@pytest.fixture
def page(qtbot, workspace: Workspace) -> AugmentPage:
    """The page on the ok/short workspace, its first preview on screen."""
    page = AugmentPage()
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    with qtbot.waitSignal(page.preview_updated, timeout=TIMEOUT):
        page.set_workspace(workspace, workspace.dataset())
    return page


def shown_images(page: AugmentPage) -> list[np.ndarray]:
    assert page.last_preview is not None
    return page.last_preview.images


def test_the_preview_shows_n_augmented_versions_of_one_image(qtbot, page, workspace):
    assert page.image is not None and page.image_path is not None
    assert page.image_path.parent.name == page.class_combo.currentText()
    assert page.preview_count() == DEFAULT_SAMPLES
    images = shown_images(page)
    size = workspace.config.model.input_size
    assert all(image.shape == (size, size, 3) for image in images)
    # what is shown is the core's preview of that image with the workspace's settings
    expected = preview(workspace.config.augment, page.image, DEFAULT_SAMPLES,
                       page.seed_spin.value(), size)
    assert all(np.array_equal(a, b) for a, b in zip(images, expected, strict=True))
    assert len({image.tobytes() for image in images}) > 1  # they are augmented differently
    # n control
    with qtbot.waitSignal(page.preview_updated, timeout=TIMEOUT):
        type_into(qtbot, page.samples_spin, "5")
    assert page.preview_count() == 5


def test_changing_a_setting_redraws_the_preview(qtbot, page, workspace):
    before = shown_images(page)
    enabled = page.form.editors["enabled"]
    with qtbot.waitSignal(page.preview_updated, timeout=TIMEOUT):
        qtbot.mouseClick(enabled, Qt.MouseButton.LeftButton)  # augmentation off
    assert workspace.config.augment.enabled is False  # the workspace's own object
    after = shown_images(page)
    assert after is not before
    # without augmentation every sample is the same resized image
    assert len({image.tobytes() for image in after}) == 1
    assert page.modified_label.isVisible()


def test_a_newer_change_supersedes_an_older_one(qtbot, page):
    calls = []
    page.preview_updated.connect(lambda: calls.append(page.seed_spin.value()))
    for seed in ("3", "4", "5"):  # quicker than the debounce: one preview, for the last
        type_into(qtbot, page.seed_spin, seed)
    qtbot.waitUntil(lambda: bool(calls), timeout=TIMEOUT)
    qtbot.wait(400)  # nothing else comes
    assert calls == [5]
    assert page.last_preview is not None and page.last_preview.seed == 5
    # a change while a preview runs: only the newest settings end up on screen
    page.schedule_preview(now=True)
    rotate = page.form.editors["rotate"]
    type_into(qtbot, rotate, "90")
    qtbot.waitUntil(lambda: page._preview is None and not page._debounce.isActive()
                    and page.last_preview is not None, timeout=TIMEOUT)
    expected = preview(page.form.model, page.image, page.samples_spin.value(), 5,
                       page.last_preview.input_size)
    assert all(np.array_equal(a, b) for a, b in
               zip(shown_images(page), expected, strict=True))


def test_another_image_and_an_error_for_an_empty_class(qtbot, page, workspace):
    page.class_combo.setCurrentIndex(page.class_combo.findText("short"))
    with qtbot.waitSignal(page.preview_updated, timeout=TIMEOUT):
        qtbot.mouseClick(page.another_button, Qt.MouseButton.LeftButton)
    assert page.image_path is not None and page.image_path.parent.name == "short"
    workspace.dataset().create_class("empty")
    page.class_combo.addItem("empty")
    page.class_combo.setCurrentIndex(page.class_combo.findText("empty"))
    with qtbot.waitSignal(page.error_shown, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(page.another_button, Qt.MouseButton.LeftButton)
    assert "no images" in blocker.args[0]
    assert page.message_bar.isVisible()


def test_save_writes_config_toml_and_revert_goes_back(qtbot, page, workspace, dialogs):
    assert not page.save_button.isEnabled()
    type_into(qtbot, page.form.editors["rotate"], "33")
    assert workspace.config.augment.rotate == 33.0
    assert page.modified_label.isVisible() and page.save_button.isEnabled()
    with qtbot.waitSignal(page.saved, timeout=1000):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert load_config(workspace.config_path).augment.rotate == 33.0
    assert not page.modified_label.isVisible()
    # revert asks first; No keeps the change
    type_into(qtbot, page.form.editors["rotate"], "50")
    dialogs.answer = QMessageBox.StandardButton.No
    qtbot.mouseClick(page.revert_button, Qt.MouseButton.LeftButton)
    assert workspace.config.augment.rotate == 50.0
    dialogs.answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(page.preview_updated, timeout=TIMEOUT):
        qtbot.mouseClick(page.revert_button, Qt.MouseButton.LeftButton)
    assert workspace.config.augment.rotate == 33.0
    assert page.form.editors["rotate"].value() == 33.0
    assert not page.modified_label.isVisible()
    assert load_config(workspace.config_path).augment.rotate == 33.0
    # Ctrl+S saves too
    type_into(qtbot, page.form.editors["blur_max"], "7")
    with qtbot.waitSignal(page.saved, timeout=1000):
        qtbot.keyClick(page.form.editors["blur_max"], Qt.Key.Key_S,
                       Qt.KeyboardModifier.ControlModifier)
    assert load_config(workspace.config_path).augment.blur_max == 7


def test_without_a_workspace_the_page_says_so(qtbot):
    page = AugmentPage()
    qtbot.addWidget(page)
    assert "No workspace" in page.title.text()
    assert not page.another_button.isEnabled()
    assert not page.save_button.isEnabled()
    assert page.preview_count() == 0
