"""The Augmentation page: the workspace's AugmentConfig as a form, and a preview of one image
augmented n times with those settings.

The form edits `workspace.config.augment` in place (DESIGN rule 8), so a training started from
the Training page uses what is on screen, saved or not; Save writes config.toml. The preview is
computed by the core's `preview()` in a worker, 200 ms after the last change: at most one preview
runs at a time, and a change made meanwhile starts one more when it ends (the newest settings
win; a result for older settings is not shown).
"""

from __future__ import annotations

import contextlib
import logging
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from inspector.config import AugmentConfig
from inspector.gui.widgets.config_form import ConfigForm
from inspector.gui.widgets.image_grid import ImageGrid
from inspector.gui.widgets.image_view import ImageView
from inspector.gui.widgets.message_bar import MessageBar
from inspector.gui.widgets.settings_panel import SettingsPanel
from inspector.gui.workers.base import Worker, while_alive
from inspector.gui.workers.training import (
    PickedImage,
    PreviewResult,
    file_image_worker,
    pick_image_worker,
    preview_worker,
)

if TYPE_CHECKING:
    import numpy as np

    from inspector.core.data.dataset import Dataset
    from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

DEBOUNCE_MS = 200
DEFAULT_SAMPLES = 12
MAX_SAMPLES = 64
PREVIEW_MAX_INPUT = 512  # previews of large inputs would only be slow

LABELS = {
    "enabled": "Augment while training",
    "flips": "Flips",
    "rotate90": "90° turns",
    "affine_p": "Shift/scale/rotate, probability",
    "shift": "Largest shift",
    "scale": "Largest zoom",
    "rotate": "Largest rotation (°)",
    "brightness_contrast_p": "Brightness/contrast, probability",
    "brightness": "Brightness range",
    "contrast": "Contrast range",
    "hue_saturation_p": "Hue/saturation, probability",
    "blur_p": "Blur, probability",
    "blur_max": "Largest blur kernel",
    "noise_p": "Noise, probability",
    "noise_std": "Largest noise std",
    "jpeg_p": "JPEG artefacts, probability",
    "jpeg_quality_min": "Lowest JPEG quality",
}
TIPS = {
    "enabled": "Off: training sees every image as it is (resized only)",
    "flips": "Horizontal and vertical flips, each with probability 0.5",
    "rotate90": "A random multiple of 90°: defects have no orientation",
    "brightness_contrast_p": "Probability of a brightness and contrast change",
    "brightness": "Largest brightness change (fraction)",
    "contrast": "Largest contrast change (fraction)",
    "hue_saturation_p": "Probability of a small hue, saturation and value shift",
    "blur_p": "Probability of a Gaussian or motion blur",
    "noise_p": "Probability of Gaussian noise",
    "jpeg_p": "Probability of JPEG compression artefacts",
    "jpeg_quality_min": "JPEG quality is drawn between this and 100",
}


class AugmentPage(QWidget):
    preview_updated = Signal()  # a preview for the current settings is on screen
    saved = Signal()  # config.toml was written
    error_shown = Signal(str)

    def __init__(self, workspace: Workspace | None = None, dataset: Dataset | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Workspace | None = None
        self.dataset: Dataset | None = None
        self.image: np.ndarray | None = None
        self.image_path: Path | None = None
        self._picker: Worker | None = None
        self._preview: Worker | None = None
        self._preview_pending = False
        self.last_preview: PreviewResult | None = None  # the one on screen
        self._request = 0  # bumped by every change; a result for an older one is not shown
        self._build()
        self.set_workspace(workspace, dataset)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.message_bar = MessageBar()

        # settings: the form over a placeholder config until a workspace is open
        self.form = ConfigForm(AugmentConfig(), labels=LABELS)
        for name, tip in TIPS.items():
            if name in self.form.editors and not self.form.editors[name].toolTip():
                self.form.editors[name].setToolTip(tip)
                self.form.row_labels[name].setToolTip(tip)
        self.form.edited.connect(self._on_setting_edited)
        self.form.modified_changed.connect(self._show_modified)
        self.settings_panel = SettingsPanel(self.form, [self.form])
        self.save_button = self.settings_panel.save_button
        self.revert_button = self.settings_panel.revert_button
        self.modified_label = self.settings_panel.modified_label
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        settings = QGroupBox("Augmentation settings")
        settings_layout = QVBoxLayout(settings)
        settings_layout.addWidget(self.settings_panel)
        settings.setMinimumWidth(320)

        # the image and the preview
        self.class_combo = QComboBox()
        self.class_combo.setMinimumWidth(140)
        self.class_combo.setToolTip("The class to take the preview image from")
        self.class_combo.activated.connect(lambda _i: self.pick_image())
        self.another_button = QPushButton("&Another image")
        self.another_button.setToolTip("Preview another image of the class")
        self.another_button.clicked.connect(lambda _c=False: self.pick_image())
        self.file_button = QPushButton("Open &file…")
        self.file_button.setToolTip("Preview an image file from anywhere")
        self.file_button.clicked.connect(self._ask_file)
        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(1, MAX_SAMPLES)
        self.samples_spin.setValue(DEFAULT_SAMPLES)
        self.samples_spin.setToolTip("How many augmented versions to show")
        self.samples_spin.valueChanged.connect(lambda _v: self.schedule_preview())
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("The same seed gives the same augmentations")
        self.seed_spin.valueChanged.connect(lambda _v: self.schedule_preview())
        self.reseed_button = QPushButton("New s&eed")
        self.reseed_button.setToolTip("Draw other augmentations of the same image")
        self.reseed_button.clicked.connect(self.new_seed)
        samples_label = QLabel("&Samples")
        samples_label.setBuddy(self.samples_spin)
        seed_label = QLabel("See&d")
        seed_label.setBuddy(self.seed_spin)
        image_label = QLabel("&Class")
        image_label.setBuddy(self.class_combo)
        # two rows, so the page still fits a narrow window beside the settings
        controls = QVBoxLayout()
        image_row = QHBoxLayout()
        for widget in (image_label, self.class_combo, self.another_button, self.file_button):
            image_row.addWidget(widget)
        image_row.addStretch(1)
        sample_row = QHBoxLayout()
        for widget in (samples_label, self.samples_spin, seed_label, self.seed_spin,
                       self.reseed_button):
            sample_row.addWidget(widget)
        sample_row.addStretch(1)
        controls.addLayout(image_row)
        controls.addLayout(sample_row)

        self.original = ImageView()
        self.original.setFixedSize(120, 120)
        self.original.setToolTip("The image as it is on disk")
        self.image_label = QLabel()
        self.image_label.setWordWrap(True)
        self.image_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QLabel()
        self.status_label.setStyleSheet("color: palette(placeholder-text);")
        about = QVBoxLayout()
        about.addWidget(QLabel("<b>Original</b>"))
        about.addWidget(self.image_label)
        about.addWidget(self.status_label)
        about.addStretch(1)
        original_row = QHBoxLayout()
        original_row.addWidget(self.original)
        original_row.addLayout(about, 1)

        self.grid = ImageGrid()
        self.grid.setToolTip("The image as training sees it, augmented with these settings")
        preview_box = QGroupBox("Preview: what training sees")
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addLayout(controls)
        preview_layout.addLayout(original_row)
        preview_layout.addWidget(self.grid, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(settings)
        splitter.addWidget(preview_box)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([400, 800])

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message_bar)
        layout.addWidget(splitter, 1)

        save_shortcut = QShortcut(QKeySequence.StandardKey.Save, self)
        save_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save_shortcut.activated.connect(self.save)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._start_preview)

    # ------------------------------------------------------------------ workspace
    def set_workspace(self, workspace: Workspace | None, dataset: Dataset | None) -> None:
        self.workspace = workspace
        self.dataset = dataset
        self.image = None
        self.image_path = None
        self._debounce.stop()
        self._preview_pending = False
        self._request += 1
        self.last_preview = None
        self.grid.clear()
        self.original.clear()
        self.image_label.clear()
        self.status_label.clear()
        self.message_bar.dismiss()
        self.class_combo.clear()
        if workspace is None:
            self.title.setText("<b>No workspace open.</b> Open or create one from the File menu.")
            self.form.set_model(AugmentConfig())
            self.grid.set_placeholder("Open a workspace to preview its augmentation.")
        else:
            self.title.setText(f"Augmentation of workspace <b>{_html(workspace.name)}</b>"
                               "&nbsp;&nbsp;<span style='color:#757575'>settings used by "
                               "every training</span>")
            self.form.set_model(workspace.config.augment)
            classes = dataset.classes() if dataset is not None else []
            self.class_combo.addItems(classes)
            self.grid.set_placeholder("The dataset has no classes yet: open an image file to "
                                      "preview." if not classes else "Loading an image…")
        self._update_actions()
        if self.class_combo.count():
            self.pick_image()

    def _update_actions(self) -> None:
        has_workspace = self.workspace is not None
        self.form.set_editable(has_workspace)
        self.save_button.setEnabled(has_workspace and self.form.is_modified)
        self.revert_button.setEnabled(has_workspace and self.form.is_modified)
        has_classes = self.class_combo.count() > 0
        self.class_combo.setEnabled(has_classes)
        self.another_button.setEnabled(has_classes)
        self.file_button.setEnabled(has_workspace)

    def _show_modified(self, modified: bool) -> None:
        self.modified_label.setVisible(modified)
        self._update_actions()

    # ------------------------------------------------------------------ save / revert
    def save(self) -> None:
        if self.workspace is None:
            return
        if (problem := self.settings_panel.write(self.workspace)) is not None:
            self.show_error(problem)
            return
        self.message_bar.show_info(f"Saved to {self.workspace.config_path}.")
        self.saved.emit()

    def revert(self) -> None:
        """Discard the unsaved changes (after asking)."""
        if self.workspace is None or not self.form.is_modified:
            return
        answer = QMessageBox.question(
            self, "Revert", "Discard the unsaved augmentation settings and go back to the "
            "saved ones?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self.form.revert()

    # ------------------------------------------------------------------ the image
    def pick_image(self, seed: int | None = None) -> None:
        """Another image of the chosen class, decoded in a worker, then previewed."""
        if self.dataset is None or not self.class_combo.count():
            return
        seed = seed if seed is not None else random.randrange(2**31)
        self._load(pick_image_worker(self.dataset, self.class_combo.currentText(), seed))

    def open_file(self, path: Path) -> None:
        limit = self.dataset.config.max_image_pixels if self.dataset else None
        self._load(file_image_worker(path, limit))

    def _ask_file(self) -> None:
        start = str(self.dataset.root) if self.dataset else ""
        name, _ = QFileDialog.getOpenFileName(
            self, "Preview an image", start,
            "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)")
        if name:
            self.open_file(Path(name))

    def _load(self, worker: Worker) -> None:
        if self._picker is not None:
            self._picker.cancel()  # its result is ignored below
        self._picker = worker
        self.status_label.setText("Loading the image…")

        def loaded(picked: PickedImage) -> None:
            if worker is self._picker:
                self._show_image(picked)

        def failed(message: str) -> None:
            if worker is self._picker:
                self.status_label.clear()
                self.show_error(message)

        worker.finished.connect(while_alive(self, loaded))
        worker.failed.connect(while_alive(self, failed))
        worker.start()

    def _show_image(self, picked: PickedImage) -> None:
        self.image = picked.image
        self.image_path = picked.path
        self.original.set_array(picked.image)
        height, width = picked.image.shape[:2]
        shown = picked.path
        if self.dataset is not None:
            with contextlib.suppress(ValueError):
                shown = picked.path.relative_to(self.dataset.root)
        self.image_label.setText(f"{shown}\n{width} × {height} px")
        self.image_label.setToolTip(str(picked.path))
        self.schedule_preview(now=True)

    def new_seed(self) -> None:
        self.seed_spin.setValue(random.randrange(self.seed_spin.maximum()))

    # ------------------------------------------------------------------ preview
    def _on_setting_edited(self, _name: str) -> None:
        if self.form.has_errors:
            return  # the object is unchanged: nothing new to preview
        self.schedule_preview()

    def schedule_preview(self, now: bool = False) -> None:
        """Preview again after DEBOUNCE_MS without further changes (at once with `now`)."""
        if self.image is None:
            return
        self._request += 1
        self.status_label.setText("Updating the preview…")
        if now:
            self._debounce.stop()
            self._start_preview()
        else:
            self._debounce.start()

    def _input_size(self) -> int:
        if self.workspace is None:
            return PREVIEW_MAX_INPUT
        return min(self.workspace.config.model.input_size, PREVIEW_MAX_INPUT)

    def _start_preview(self) -> None:
        if self.image is None:
            return
        if self._preview is not None:  # one at a time; the newest settings go next
            self._preview_pending = True
            return
        self._preview_pending = False
        worker = preview_worker(self.form.model, self.image, self.samples_spin.value(),
                                self.seed_spin.value(), self._input_size())
        self._preview = worker
        request = self._request
        worker.finished.connect(while_alive(self, lambda r: self._show_preview(r, request)))
        worker.failed.connect(while_alive(self, self._preview_failed))
        worker.done.connect(while_alive(self, self._preview_done))
        worker.start()

    def _show_preview(self, result: PreviewResult, request: int) -> None:
        if request != self._request:
            return  # something changed meanwhile: the next preview replaces it
        self.last_preview = result
        self.grid.set_images(result.images, [f"#{i + 1}" for i in range(len(result.images))])
        self.status_label.setText(f"{len(result.images)} samples at {result.input_size} px, "
                                  f"seed {result.seed}")
        self.preview_updated.emit()

    def _preview_failed(self, message: str) -> None:
        self.status_label.clear()
        self.show_error(f"The preview failed: {message}")

    def _preview_done(self) -> None:
        self._preview = None
        if self._preview_pending:
            self._start_preview()

    def preview_count(self) -> int:
        return self.grid.count()

    # ------------------------------------------------------------------ messages
    def show_error(self, message: str) -> None:
        self.message_bar.show_error(message)
        self.error_shown.emit(message)


def _html(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
