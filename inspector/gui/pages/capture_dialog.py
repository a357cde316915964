"""Capture from a camera into a class: pick the source, watch the live preview, press Space.

Frames arrive from a LiveFeed worker; the preview paints only the newest one. Each capture is
encoded and added through `Dataset.add_encoded` in a worker, so hashing, duplicate detection
and the split are the dataset's own.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.gui.widgets.image_view import ImageView
from inspector.gui.widgets.message_bar import MessageBar
from inspector.gui.workers.base import Worker, while_alive
from inspector.gui.workers.capture import CaptureResult, LiveFeed, capture_worker
from inspector.gui.workers.dataset import operation_worker

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset

log = logging.getLogger(__name__)

CAMERA, URL, VIRTUAL = "camera", "url", "virtual"
# The virtual camera shows one defect patch at a time, held for a second, like a camera aimed
# at a part; a real camera's options are ignored by open_source for other kinds.
VIRTUAL_OPTIONS: dict[str, Any] = {"mode": "patch", "size": 128, "hold": 15}


class CaptureDialog(QDialog):
    """Build it with the dataset (and the class to start with); `captured(path)` per image."""

    captured = Signal(str)  # the saved file
    capture_failed = Signal(str)

    def __init__(self, dataset: Dataset, label: str | None = None,
                 source: str = "virtual:0", source_options: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset = dataset
        self.source_options = source_options
        self.feed: LiveFeed | None = None
        self.frame: Any = None  # the frame on screen
        self.count = 0  # images captured in this dialog
        self.changed = False
        self._saving: Worker | None = None
        self.setWindowTitle(f"Capture into {dataset.root.name}")
        self.resize(820, 620)
        self._build()
        self._load_classes(label)
        self.set_source(source)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.message_bar = MessageBar()
        self.kind_combo = QComboBox()
        self.kind_combo.addItem("Camera", CAMERA)
        self.kind_combo.addItem("Network stream (URL)", URL)
        self.kind_combo.addItem("Virtual camera (no hardware)", VIRTUAL)
        self.camera_spin = QSpinBox()
        self.camera_spin.setRange(0, 63)
        self.camera_spin.setPrefix("index ")
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("rtsp://… or http(s)://…")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 1_000_000)
        self.seed_spin.setPrefix("seed ")
        self.target_stack = QStackedWidget()
        for widget in (self.camera_spin, self.url_edit, self.seed_spin):
            self.target_stack.addWidget(widget)
        self.kind_combo.currentIndexChanged.connect(self.target_stack.setCurrentIndex)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Open the source and show its live picture")
        self.start_button.clicked.connect(self.toggle_feed)
        source_row = QHBoxLayout()
        source_row.addWidget(self.kind_combo)
        source_row.addWidget(self.target_stack, 1)
        source_row.addWidget(self.start_button)

        self.class_combo = QComboBox()
        self.class_combo.setToolTip("The class the captured images go to")
        self.class_combo.currentTextChanged.connect(lambda _text: self._update_count())
        self.new_class_button = QPushButton("New class…")
        self.new_class_button.setToolTip("Create a new defect class and capture into it")
        self.new_class_button.clicked.connect(self.add_class)
        class_row = QHBoxLayout()
        class_row.addWidget(self.class_combo, 1)
        class_row.addWidget(self.new_class_button)

        form = QFormLayout()
        form.addRow("Source:", source_row)
        form.addRow("Into class:", class_row)

        self.preview = ImageView()
        self.preview.setMinimumSize(320, 240)
        self.state_label = QLabel("Not started.")
        self.count_label = QLabel()
        self.count_label.setTextFormat(Qt.TextFormat.RichText)
        self.capture_button = QPushButton("Capture (Space)")
        self.capture_button.setToolTip("Save the frame on screen into the class (Space)")
        self.capture_button.clicked.connect(self.capture)
        self.capture_button.setMinimumHeight(36)
        font = self.capture_button.font()
        font.setBold(True)
        self.capture_button.setFont(font)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.capture_button)
        bottom.addWidget(self.close_button)
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.capture)

        layout = QVBoxLayout(self)
        layout.addWidget(self.message_bar)
        layout.addLayout(form)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.state_label)
        layout.addLayout(bottom)
        self._update_count()
        self._update_actions()

    def _load_classes(self, select: str | None) -> None:
        current = select or self.class_combo.currentText()
        self.class_combo.clear()
        classes = self.dataset.classes()
        self.class_combo.addItems(classes)
        if current in classes:
            self.class_combo.setCurrentText(current)
        self._update_actions()

    # ------------------------------------------------------------------ source
    def spec(self) -> str:
        kind = self.kind_combo.currentData()
        if kind == CAMERA:
            return str(self.camera_spin.value())
        if kind == URL:
            return self.url_edit.text().strip()
        return f"virtual:{self.seed_spin.value()}"

    def set_source(self, spec: str) -> None:
        """Show a spec in the picker: "0", "camera:1", a URL or "virtual:7"."""
        text = spec.strip()
        lower = text.lower()
        if lower.startswith("virtual"):
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(VIRTUAL))
            seed = lower.partition(":")[2]
            self.seed_spin.setValue(int(seed) if seed.isdigit() else 0)
        elif "://" in text:
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(URL))
            self.url_edit.setText(text)
        else:
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(CAMERA))
            index = lower.removeprefix("camera:")
            self.camera_spin.setValue(int(index) if index.isdigit() else 0)

    def toggle_feed(self) -> None:
        if self.feed is not None:
            self.stop_feed()
        else:
            self.start_feed()

    def start_feed(self) -> None:
        if self.feed is not None:
            return
        spec = self.spec()
        if not spec:
            self.message_bar.show_error("Give the stream's URL first.")
            return
        self.message_bar.dismiss()
        options = self.source_options
        if options is None:
            options = VIRTUAL_OPTIONS if spec.startswith("virtual") else {}
        feed = LiveFeed(spec, options, self)
        self.feed = feed
        feed.frame_ready.connect(self._show_latest)
        feed.state_changed.connect(self._on_state)
        feed.ended.connect(lambda: self._on_feed_ended(feed))
        self.state_label.setText(f"Opening {spec}…")
        feed.start()
        self._update_actions()

    def stop_feed(self) -> None:
        feed = self.feed
        if feed is not None:
            feed.stop()
            self.state_label.setText("Stopped.")

    def _on_feed_ended(self, feed: LiveFeed) -> None:
        if feed is self.feed:
            self.feed = None
            self._update_actions()

    def _show_latest(self) -> None:
        if self.feed is None:
            return
        frame = self.feed.latest()
        if frame is None:
            return
        self.frame = frame
        self.preview.set_array(frame.image)
        self.feed.frames_shown += 1

    def _on_state(self, state: str, error: str) -> None:
        text = {"connecting": "Connecting…", "connected": "Live.",
                "reconnecting": "Connection lost; reconnecting…", "failed": "The source failed.",
                "ended": "The source has ended.", "stopped": "Stopped."}.get(state, state)
        self.state_label.setText(f"{text} {error}".strip())
        if state == "failed" and error:
            self.message_bar.show_error(error)

    # ------------------------------------------------------------------ classes and capture
    @property
    def label(self) -> str:
        return self.class_combo.currentText()

    def add_class(self) -> None:
        name, ok = QInputDialog.getText(self, "New class", "Name of the new defect class:")
        if not ok or not name.strip():
            return
        dataset = self.dataset
        worker = operation_worker(lambda: dataset.create_class(name), f"creating class {name}")

        def created(folder: Any) -> None:
            self.changed = True
            self._load_classes(str(folder).replace("\\", "/").rsplit("/", 1)[-1])
            self._update_count()

        worker.finished.connect(while_alive(self, created))
        worker.failed.connect(while_alive(self, self.message_bar.show_error))
        worker.start()

    def capture(self) -> None:
        """Save the frame on screen into the class (ignored while a save is running)."""
        if self._saving is not None:
            return
        if self.frame is None:
            self.message_bar.show_error("There is no picture to capture yet: press Start.")
            return
        if not self.label:
            self.message_bar.show_error("Choose or create a class to capture into.")
            return
        worker = capture_worker(self.dataset, self.label, self.frame.image)
        self._saving = worker
        worker.finished.connect(while_alive(self, self._on_captured))
        worker.failed.connect(while_alive(self, self._on_capture_failed))
        worker.done.connect(while_alive(self, self._on_saved))
        self._update_actions()
        worker.start()

    def _on_captured(self, result: CaptureResult) -> None:
        report = result.report
        if report.added:
            self.count += 1
            self.changed = True
            self.message_bar.dismiss()
            self._update_count(result.class_total)
            self.captured.emit(str(report.added[0]))
        elif report.duplicates:
            self.message_bar.show_info(f"This picture is already in '{result.label}' "
                                       f"({report.duplicates[0].name}); not saved again.")
            self.capture_failed.emit("duplicate")
        else:
            reason = report.failed[0][1] if report.failed else "unknown reason"
            self._on_capture_failed(f"The picture was not saved: {reason}")

    def _on_capture_failed(self, message: str) -> None:
        self.message_bar.show_error(message)
        self.capture_failed.emit(message)

    def _on_saved(self) -> None:
        self._saving = None
        self._update_actions()

    def _update_count(self, class_total: int | None = None) -> None:
        where = f"into <b>{self.label}</b>" if self.label else ""
        total = f" · the class now has {class_total} images" if class_total is not None else ""
        self.count_label.setText(f"Captured <b>{self.count}</b> image"
                                 f"{'s' if self.count != 1 else ''} {where}{total}")

    def _update_actions(self) -> None:
        running = self.feed is not None
        self.start_button.setText("Stop" if running else "Start")
        for widget in (self.kind_combo, self.target_stack):
            widget.setEnabled(not running)
        has_class = bool(self.class_combo.count())
        self.capture_button.setEnabled(running and has_class and self._saving is None)

    # ------------------------------------------------------------------ closing
    def done(self, result: int) -> None:
        self.stop_feed()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.stop_feed()
        super().closeEvent(event)
