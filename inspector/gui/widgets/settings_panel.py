"""Settings forms in a scroll area with Save / Revert and an "unsaved changes" mark.

Shared by the pages that edit the workspace's config (Augmentation, Training): the page puts
its forms in `content`, connects the buttons to its own save and revert, and calls `write`
to save, so the checks and messages are the same on every page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from inspector.core.errors import InspectorError
from inspector.gui.widgets.config_form import ConfigForm

if TYPE_CHECKING:
    from inspector.core.workspace import Workspace


class SettingsPanel(QWidget):
    def __init__(self, content: QWidget, forms: Sequence[ConfigForm], save_text: str = "&Save",
                 revert_text: str = "&Revert", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.forms = list(forms)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.save_button = QPushButton(save_text)
        self.save_button.setToolTip("Write these settings to the workspace's config.toml "
                                    "(Ctrl+S)")
        self.revert_button = QPushButton(revert_text)
        self.revert_button.setToolTip("Go back to the settings last saved")
        self.modified_label = QLabel("● Unsaved changes")
        self.modified_label.setStyleSheet("color: #E65100; font-weight: bold;")
        self.modified_label.hide()
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addWidget(self.revert_button)
        row.addWidget(self.modified_label)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll, 1)
        layout.addLayout(row)
        self.setMinimumWidth(320)

    @property
    def is_modified(self) -> bool:
        return any(form.is_modified for form in self.forms)

    def write(self, workspace: Workspace) -> str | None:
        """Save the workspace's config; None when saved, else the message for the user."""
        if any(form.has_errors for form in self.forms):
            return "Fix the settings marked in red first; they are not applied."
        try:
            workspace.save_config()
        except InspectorError as exc:
            return str(exc)
        except OSError as exc:
            return f"Cannot write {workspace.config_path}: {exc.strerror}."
        for form in self.forms:
            form.mark_saved()
        return None

    def revert(self) -> None:
        for form in self.forms:
            form.revert()
