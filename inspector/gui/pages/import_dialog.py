"""The import dialog: bring a folder, a zip, DeepPCB or Pascal VOC data into the dataset.

The core's `import_dataset` does the work in a worker; the dialog picks the format and source,
edits the patch settings of the box formats (and which class defect-free patches go to), shows
progress with Cancel, and ends with a summary: images added per class, duplicates skipped, and
every failure or skipped item with its reason.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from inspector.config import ImportConfig
from inspector.gui.widgets.message_bar import MessageBar
from inspector.gui.workers.base import Worker, while_alive
from inspector.gui.workers.dataset import import_worker

if TYPE_CHECKING:
    from inspector.core.data.dataset import Dataset
    from inspector.core.data.importers import ImportReport

log = logging.getLogger(__name__)

# (format key of import_dataset, what the user sees, the layout it expects)
FORMATS: tuple[tuple[str, str, str], ...] = (
    ("folder", "Folder of class folders",
     "SOURCE/<class>/<images>: one folder per class; sub-folders belong to their class. "
     "Classes are created as needed (matched case-insensitively to existing ones)."),
    ("zip", "Zip archive",
     "A .zip of class folders (<class>/<images>, optionally inside one wrapping folder). "
     "Nothing is extracted to disk; unsafe entries are skipped."),
    ("deeppcb", "DeepPCB boards",
     "The DeepPCB layout (PCBData with trainval.txt / test.txt): one patch is cut around each "
     "annotated defect, plus defect-free patches."),
    ("voc", "Pascal VOC (PKU-Market-PCB)",
     "Annotations/*.xml with the board images anywhere under the source: one patch per "
     "object, plus defect-free patches."),
)
BOX_FORMATS = ("deeppcb", "voc")
SHOWN_PER_LIST = 50  # failures and skips listed in the summary; the rest are counted


class ImportDialog(QDialog):
    """Build it with the dataset to import into; `imported(report)` when an import ended."""

    imported = Signal(object)  # ImportReport (finished, or cancelled part-way)
    failed = Signal(str)

    def __init__(self, dataset: Dataset, config: ImportConfig | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dataset = dataset
        self.config = config or ImportConfig()
        self.report: ImportReport | None = None
        self.changed = False  # images were added: the page refreshes
        self._worker: Worker | None = None
        self.setWindowTitle(f"Import into {dataset.root.name}")
        self.resize(720, 560)
        self._build()
        self._on_format_changed()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.message_bar = MessageBar()
        self.format_combo = QComboBox()
        for key, text, _ in FORMATS:
            self.format_combo.addItem(text, key)
        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        self.format_help = QLabel()
        self.format_help.setWordWrap(True)
        self.format_help.setStyleSheet("color: palette(placeholder-text);")
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText("Folder or .zip file to import from")
        self.source_edit.textChanged.connect(self._update_actions)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self.browse)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source_edit, 1)
        source_row.addWidget(self.browse_button)

        form = QFormLayout()
        form.addRow("&Format:", self.format_combo)
        form.addRow("&Source:", source_row)
        form.itemAt(form.rowCount() - 1, QFormLayout.ItemRole.LabelRole).widget().setBuddy(
            self.source_edit)

        # box formats: how boards become patches, and the class of defect-free patches
        self.ok_label_edit = QLineEdit(self.config.ok_label)
        self.ok_label_edit.setToolTip("Defect-free patches go to this class (created if needed)")
        self.ok_per_image_spin = QSpinBox()
        self.ok_per_image_spin.setRange(0, 100)
        self.ok_per_image_spin.setValue(self.config.ok_per_image)
        self.ok_per_image_spin.setToolTip("Defect-free patches cut from each board (0: none)")
        self.context_spin = QDoubleSpinBox()
        self.context_spin.setRange(0.0, 4.0)
        self.context_spin.setSingleStep(0.1)
        self.context_spin.setValue(self.config.context)
        self.context_spin.setToolTip("Margin around a defect's box, times the box size")
        self.min_patch_spin = QSpinBox()
        self.min_patch_spin.setRange(8, 4096)
        self.min_patch_spin.setValue(self.config.min_patch)
        self.min_patch_spin.setSuffix(" px")
        self.box_group = QGroupBox("Patches from annotated boards")
        box_form = QFormLayout(self.box_group)
        box_form.addRow("Defect-free class:", self.ok_label_edit)
        box_form.addRow("Defect-free patches per board:", self.ok_per_image_spin)
        box_form.addRow("Context around a defect:", self.context_spin)
        box_form.addRow("Smallest patch:", self.min_patch_spin)
        defect_names = QLabel("Defect classes come from the annotations (DeepPCB: open, short, "
                              "mousebite, spur, spurious_copper, pin_hole).")
        defect_names.setWordWrap(True)
        box_form.addRow(defect_names)

        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_row = QWidget()
        progress_layout = QHBoxLayout(self.progress_row)
        progress_layout.setContentsMargins(0, 0, 0, 0)
        progress_layout.addWidget(self.progress_label)
        progress_layout.addWidget(self.progress_bar, 1)
        self.progress_row.hide()

        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setPlaceholderText("The result of the import appears here: images added "
                                        "per class, duplicates skipped and every file that "
                                        "could not be imported, with the reason.")

        self.import_button = QPushButton("Import")
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(self.start_import)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the import; what was added so far is kept")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self._escape)

        layout = QVBoxLayout(self)
        layout.addWidget(self.message_bar)
        layout.addLayout(form)
        layout.addWidget(self.format_help)
        layout.addWidget(self.box_group)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.summary, 1)
        layout.addLayout(buttons)

    # ------------------------------------------------------------------ choices
    @property
    def format(self) -> str:
        return str(self.format_combo.currentData())

    def set_format(self, fmt: str) -> None:
        index = self.format_combo.findData(fmt)
        if index >= 0:
            self.format_combo.setCurrentIndex(index)

    def set_source(self, path: Path | str, fmt: str | None = None) -> None:
        """Fill in the source; a .zip picks the zip format unless `fmt` says otherwise."""
        path = Path(path)
        if fmt is None and path.suffix.lower() == ".zip":
            fmt = "zip"
        if fmt is not None:
            self.set_format(fmt)
        self.source_edit.setText(str(path))

    def browse(self) -> None:
        if self.format == "zip":
            name, _ = QFileDialog.getOpenFileName(self, "Zip archive to import", "",
                                                  "Zip archives (*.zip);;All files (*)")
        else:
            name = QFileDialog.getExistingDirectory(self, "Folder to import")
        if name:
            self.set_source(name, None if self.format != "zip" else "zip")

    def _on_format_changed(self) -> None:
        fmt = self.format
        help_text = next(text for key, _, text in FORMATS if key == fmt)
        self.format_help.setText(help_text)
        self.box_group.setVisible(fmt in BOX_FORMATS)
        self._update_actions()

    def _update_actions(self) -> None:
        busy = self.busy
        self.import_button.setEnabled(not busy and bool(self.source_edit.text().strip()))
        self.cancel_button.setEnabled(busy)
        self.close_button.setEnabled(not busy)
        for widget in (self.format_combo, self.source_edit, self.browse_button, self.box_group):
            widget.setEnabled(not busy)

    def import_config(self) -> ImportConfig:
        return self.config.model_copy(update={
            "ok_label": self.ok_label_edit.text().strip() or self.config.ok_label,
            "ok_per_image": self.ok_per_image_spin.value(),
            "context": self.context_spin.value(),
            "min_patch": self.min_patch_spin.value(),
        })

    # ------------------------------------------------------------------ running
    @property
    def busy(self) -> bool:
        return self._worker is not None

    def start_import(self) -> None:
        text = self.source_edit.text().strip()
        if self.busy or not text:
            return
        self.message_bar.dismiss()
        self.summary.clear()
        worker = import_worker(self.format, Path(text).expanduser(), self.dataset,
                               self.import_config())
        self._worker = worker
        worker.progress.connect(while_alive(self, self._on_progress))
        worker.finished.connect(while_alive(self, self._on_finished))
        worker.cancelled.connect(while_alive(self, self._on_finished))
        worker.failed.connect(while_alive(self, self._on_failed))
        worker.done.connect(while_alive(self, self._on_done))
        self.progress_label.setText("Importing…")
        self.progress_bar.setRange(0, 0)
        self.progress_row.show()
        self._update_actions()
        worker.start()

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.progress_label.setText("Stopping…")
            self.cancel_button.setEnabled(False)

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)
            self.progress_bar.setFormat(f"%v of %m ({100 * done // total}%)")

    def _on_finished(self, report: ImportReport) -> None:
        self.report = report
        self.changed = self.changed or report.added > 0
        self.summary.setPlainText(summary_text(report))
        if report.add.stopped:
            self.message_bar.show_info(f"Stopped: {report.added} images were added before "
                                       "the import stopped, and are kept.")
        elif report.added:
            self.message_bar.show_info(f"Imported {report.added} images.")
        else:
            self.message_bar.show_info("No images were imported; see the details below.")
        self.imported.emit(report)

    def _on_failed(self, message: str) -> None:
        self.message_bar.show_error(message)
        self.summary.setPlainText(f"The import did not run:\n{message}")
        self.failed.emit(message)

    def _on_done(self) -> None:
        self._worker = None
        self.progress_row.setVisible(self.report is not None and self.progress_bar.maximum() > 0)
        self.progress_label.setText("Done." if self.report else "")
        self._update_actions()

    def _escape(self) -> None:
        if self.busy:
            self.cancel()
        else:
            self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.busy:  # an import runs to a consistent stop first
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)

    def reject(self) -> None:
        if self.busy:
            self.cancel()
            return
        super().reject()


def summary_text(report: Any) -> str:
    """The summary as the dialog shows it: every number, and the reasons for what failed."""
    lines = []
    classes = {label: n for label, n in sorted(report.counts.items()) if n}
    lines.append(f"Added: {report.added} image{'s' if report.added != 1 else ''}")
    for label, n in classes.items():
        lines.append(f"    {label}: {n}")
    lines.append(f"Duplicates skipped (already in the class): {len(report.add.duplicates)}")
    lines.append(f"Failed: {len(report.add.failed) + len(report.skipped)}")
    # a refusal's message usually starts with the file already
    failures = [f"    {reason}" if reason.startswith(source) else f"    {source}: {reason}"
                for source, reason in report.add.failed]
    failures += [f"    {item}: {reason}" for item, reason in report.skipped]
    lines += failures[:SHOWN_PER_LIST]
    if len(failures) > SHOWN_PER_LIST:
        lines.append(f"    … and {len(failures) - SHOWN_PER_LIST} more (see the log)")
    if report.notes:
        lines.append(f"Notes: {len(report.notes)}")
        lines += [f"    {item}: {remark}" for item, remark in report.notes[:SHOWN_PER_LIST]]
    if report.add.stopped:
        lines.append("The import was stopped before the end; what was added is kept.")
    return "\n".join(lines)
