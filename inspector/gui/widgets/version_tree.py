"""The model versions of a workspace as a tree: each warm-started version under its parent.

Each row shows when the version was trained, how many classes it knows (and which ones it
added to its parent's), its metrics on its own test split, whether it started from ImageNet
weights, what was exported, and the result of its latest promotion gate when that still
counts. The active version (the one live inspection loads) is bold and marked "● active".

Plain data in (registry.ModelVersion), no torch: the page reads the registry in a worker.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from inspector.core.registry import ModelVersion

ACTIVE_MARK = "● active"
NAME_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Version", "Trained", "Classes", "Input", "Val macro-F1", "Test accuracy",
           "Test macro-F1", "ECE", "Weights", "Export", "Gate", "Size")
COLUMN = {name: i for i, name in enumerate(COLUMNS)}
NUMERIC = frozenset(COLUMN[c] for c in ("Input", "Val macro-F1", "Test accuracy",
                                        "Test macro-F1", "ECE", "Size"))
HEADER_TIPS = {
    "Version": "Each version sits under the version it was warm-started from; "
               "● marks the active one (live inspection loads it)",
    "Classes": "How many classes the version knows; (+ …) the classes it added to its parent's",
    "Test accuracy": "On the version's own test split when it was trained; compare two versions "
                     "on the same images with Compare with active",
    "ECE": "Expected calibration error on the test split, after temperature scaling "
           "(lower is better)",
    "Weights": "ImageNet: fine-tuned from pretrained weights · random: trained from scratch "
               "(needs more data)",
    "Gate": "The latest promotion gate against the version active now: passed or refused",
}
RED = QColor("#B71C1C")
AMBER = QColor("#B26A00")
GREEN = QColor("#2E7D32")


def _metric(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.3f}"


def _size(size_bytes: int) -> str:
    return (f"{size_bytes / 1e6:.0f} MB" if size_bytes >= 1e6
            else f"{size_bytes / 1e3:.0f} kB")


def row_texts(version: ModelVersion, active: bool, exports: Sequence[str] = (),
              gate: bool | None = None) -> list[str]:
    """The row's texts, column by column (`gate`: True refused, False passed, None none)."""
    info = version.info
    created = info.created_at()
    trained = created.astimezone().strftime("%Y-%m-%d %H:%M") if created else info.created
    name = f"{version.name}  {ACTIVE_MARK}" if active else version.name
    texts = {"Version": name, "Trained": trained, "Size": _size(info.size_bytes)}
    if not info.usable:
        texts["Classes"] = "unreadable"
    else:
        added = f" (+ {', '.join(version.new_classes)})" if version.new_classes else ""
        texts.update({
            "Classes": f"{len(info.classes)}{added}",
            "Input": f"{info.input_size} px",
            "Val macro-F1": _metric(info.val_macro_f1),
            "Test accuracy": _metric(info.test_accuracy),
            "Test macro-F1": _metric(info.test_macro_f1),
            "ECE": _metric(info.test_ece),
            "Weights": "ImageNet" if info.imagenet else "random",
            "Export": " + ".join(exports) or "–",
            "Gate": "–" if gate is None else ("refused" if gate else "passed"),
        })
    return [texts.get(column, "") for column in COLUMNS]


class VersionTree(QTreeWidget):
    """`set_versions(tree, active, exports, gates)`; `version_selected(name or None)`."""

    version_selected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        header_item = self.headerItem()
        for column, name in enumerate(COLUMNS):
            if name in HEADER_TIPS:
                header_item.setToolTip(column, HEADER_TIPS[name])
            if column in NUMERIC:
                header_item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight
                                             | Qt.AlignmentFlag.AlignVCenter)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setRootIsDecorated(True)
        self.setItemsExpandable(True)
        self.setExpandsOnDoubleClick(False)
        header = self.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.versions: dict[str, ModelVersion] = {}
        self.active: str | None = None
        self._items: dict[str, QTreeWidgetItem] = {}
        self._exports: dict[str, tuple[str, ...]] = {}
        self._gates: dict[str, tuple[bool, list[str]]] = {}
        self.itemSelectionChanged.connect(
            lambda: self.version_selected.emit(self.selected_name()))

    # ------------------------------------------------------------------ content
    def set_versions(self, tree: Sequence[tuple[int, ModelVersion]], active: str | None,
                     exports: Mapping[str, Sequence[str]] | None = None,
                     gates: Mapping[str, tuple[bool, list[str]]] | None = None) -> None:
        """`tree`: (depth, version) in tree order (Registry.walk); `gates`: name -> (refused,
        reasons) of the gate reports that still count. Keeps the selection by name."""
        selected = self.selected_name()
        self.blockSignals(True)
        try:
            self.clear()
            self.versions = {v.name: v for _, v in tree}
            self.active = active
            self._exports = {k: tuple(v) for k, v in (exports or {}).items()}
            self._gates = dict(gates or {})
            self._items = {}
            parents: list[QTreeWidgetItem] = []
            for depth, version in tree:
                del parents[depth:]
                item = (QTreeWidgetItem(parents[-1]) if parents and depth > 0
                        else QTreeWidgetItem(self))
                item.setData(0, NAME_ROLE, version.name)
                self._items[version.name] = item
                self._fill(item, version)
                parents.append(item)
            self.expandAll()
        finally:
            self.blockSignals(False)
        if selected is None or not self.select(selected):
            self.version_selected.emit(self.selected_name())

    def set_gate(self, name: str, refused: bool, reasons: list[str]) -> None:
        self._gates[name] = (refused, list(reasons))
        self._refill(name)

    def set_exports(self, name: str, exports: Sequence[str]) -> None:
        self._exports[name] = tuple(exports)
        self._refill(name)

    def _refill(self, name: str) -> None:
        item, version = self._items.get(name), self.versions.get(name)
        if item is not None and version is not None:
            self._fill(item, version)

    def _fill(self, item: QTreeWidgetItem, version: ModelVersion) -> None:
        info = version.info
        active = version.name == self.active
        gate = self._gates.get(version.name)
        texts = row_texts(version, active, self._exports.get(version.name, ()),
                          None if gate is None else gate[0])
        font = QFont(self.font())
        font.setBold(active)
        for column, text in enumerate(texts):
            item.setText(column, text)
            item.setFont(column, font)
            item.setToolTip(column, str(info.folder))
            if column in NUMERIC:
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            item.setForeground(column, QBrush())
        if not info.usable:
            for column in range(len(COLUMNS)):
                item.setForeground(column, RED)
                item.setToolTip(column, info.problem or "")
            return
        item.setToolTip(COLUMN["Classes"], "Classes: " + ", ".join(info.classes) + (
            f"\nAdded to {version.parent}'s: {', '.join(version.new_classes)}"
            if version.new_classes else ""))
        weights = COLUMN["Weights"]
        item.setToolTip(weights, info.pretrained or "Random initial weights (no ImageNet "
                                                    "weights found)")
        if not info.imagenet:
            item.setForeground(weights, AMBER)
        if version.parent:
            item.setToolTip(0, f"{info.folder}\nwarm-started from {version.parent}")
        if gate is not None:
            refused, reasons = gate
            column = COLUMN["Gate"]
            item.setForeground(column, RED if refused else GREEN)
            item.setToolTip(column, ("Refused by the gate against the active version:\n"
                                     + "\n".join(reasons)) if refused
                            else "Passed the gate against the active version")

    # ------------------------------------------------------------------ access
    def item(self, name: str) -> QTreeWidgetItem | None:
        return self._items.get(name)

    def text(self, name: str, column: str) -> str:
        item = self._items.get(name)
        return item.text(COLUMN[column]) if item is not None else ""

    def names(self) -> list[str]:
        """The versions in tree order."""
        return list(self._items)

    def selected_name(self) -> str | None:
        items = self.selectedItems()
        return items[0].data(0, NAME_ROLE) if items else None

    def selected_version(self) -> ModelVersion | None:
        name = self.selected_name()
        return self.versions.get(name) if name is not None else None

    def select(self, name: str) -> bool:
        item = self._items.get(name)
        if item is None:
            return False
        self.setCurrentItem(item)
        item.setSelected(True)
        self.scrollToItem(item)
        return True
