"""The promotion gate's comparison: a candidate model next to the active one, on the same images.

- the verdict: "Passes the gate" or "Refused: <reasons>";
- per class: recall and precision of both models and the differences, red when the candidate
  is worse by more than the margin, green when it is better;
- the confusion difference (candidate minus active) as a heat map, coloured by whether a
  change is good (more images on the diagonal, fewer off it) or bad;
- the images that changed verdict, the regressions first, each with the image, the active
  model's Grad-CAM map and the candidate's, computed on demand: the view emits
  `cam_requested(ChangedImage)` and the page answers with `set_cam` (or `set_cam_failed`).

Plain data in (evaluation.compare.GateReport and numpy arrays): no torch here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QImage, QImageReader
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.gui.widgets.image_view import ImageView

if TYPE_CHECKING:
    from inspector.core.evaluation.compare import ChangedImage, ClassComparison, GateReport

Index = QModelIndex | QPersistentModelIndex

RED = QColor("#C62828")
RED_BG = QColor("#FDECEA")
GREEN = QColor("#2E7D32")
GREEN_BG = QColor("#E8F5E9")
AMBER = QColor("#B26A00")
GREY = QColor("#757575")
PREVIEW_SIZE = 512  # longest side an image is decoded at before its maps arrive
EPSILON = 1e-9


def signed(value: float, digits: int = 3) -> str:
    """+0.250, −0.667 (a true minus sign), ±0 for no change."""
    if abs(value) < 10 ** -digits / 2:
        return "±0"
    return f"{'+' if value > 0 else '−'}{abs(value):.{digits}f}"


def delta_colours(delta: float | None, margin: float) -> tuple[QColor, QColor] | None:
    """(text, background) of a change in recall or precision: red beyond the margin, amber
    for a drop within it, green for a gain; None when unchanged or not compared."""
    if delta is None or abs(delta) < EPSILON:
        return None
    if delta < -margin - EPSILON:
        return RED, RED_BG
    if delta < 0:
        return AMBER, QColor("#FFF8E1")
    return GREEN, GREEN_BG


def _mix(colour: QColor, strength: float) -> QColor:
    """`colour` blended over white: 0 white, 1 the colour."""
    s = float(np.clip(strength, 0.0, 1.0))
    return QColor(round(255 + (colour.red() - 255) * s), round(255 + (colour.green() - 255) * s),
                  round(255 + (colour.blue() - 255) * s))


# ---------------------------------------------------------------------- confusion difference
DIFF_GOOD = QColor("#43A047")
DIFF_BAD = QColor("#E53935")
COMPACT_ABOVE = 4  # with more classes, columns are headed by the class's number


class DifferenceModel(QAbstractTableModel):
    """Candidate minus active confusion counts: rows true class, columns predicted class."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.classes: list[str] = []
        self.values = np.zeros((0, 0), np.int64)
        self.scale = 1

    def set_difference(self, values: np.ndarray | None, classes: list[str]) -> None:
        self.beginResetModel()
        self.classes = list(classes)
        n = len(self.classes)
        self.values = (np.zeros((n, n), np.int64) if values is None
                       else np.asarray(values, np.int64).reshape(n, n).copy())
        self.scale = max(1, int(np.abs(self.values).max(initial=0)))
        self.endResetModel()

    @property
    def compact(self) -> bool:
        return len(self.classes) > COMPACT_ABOVE

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.classes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.classes)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not 0 <= section < len(self.classes):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if not self.compact:
                return self.classes[section]
            if orientation == Qt.Orientation.Horizontal:
                return str(section + 1)
            return f"{self.classes[section]}  {section + 1}"
        if role == Qt.ItemDataRole.ToolTipRole:
            kind = "Predicted" if orientation == Qt.Orientation.Horizontal else "True"
            return f"{kind} class: {self.classes[section]}"
        return None

    def good(self, t: int, p: int) -> bool | None:
        """Whether the change of a cell is an improvement (None: no change)."""
        value = int(self.values[t, p])
        if value == 0:
            return None
        return (value > 0) == (t == p)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        t, p = index.row(), index.column()
        value = int(self.values[t, p])
        if role == Qt.ItemDataRole.DisplayRole:
            return "0" if value == 0 else f"{'+' if value > 0 else '−'}{abs(value)}"
        if role == Qt.ItemDataRole.BackgroundRole:
            good = self.good(t, p)
            if good is None:
                return None
            return _mix(DIFF_GOOD if good else DIFF_BAD, 0.25 + 0.6 * abs(value) / self.scale)
        if role == Qt.ItemDataRole.ForegroundRole:
            return GREY if value == 0 else QColor("black")
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.FontRole and t == p:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            truth, said = self.classes[t], self.classes[p]
            what = "correctly classified" if t == p else f"classified as {said}"
            if value == 0:
                return f"As many {truth} images {what} by both models."
            more = "more" if value > 0 else "fewer"
            return (f"{abs(value)} {more} {truth} image{'s' if abs(value) != 1 else ''} {what} "
                    f"by the candidate than by the active model "
                    f"({'better' if self.good(t, p) else 'worse'}).")
        return None


class DifferenceMatrix(QTableView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.difference = DifferenceModel(self)
        self.setModel(self.difference)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCornerButtonEnabled(False)
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(28)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        self.verticalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignRight
                                                  | Qt.AlignmentFlag.AlignVCenter)
        self.setToolTip("Candidate minus active model, per cell of the confusion matrix. Rows: "
                        "true class · columns: predicted class. Green: better (more on the "
                        "diagonal, fewer off it) · red: worse.")

    def set_difference(self, values: np.ndarray | None, classes: list[str]) -> None:
        self.difference.set_difference(values, classes)
        metrics = self.horizontalHeader().fontMetrics()
        longest = max((metrics.horizontalAdvance(c) for c in classes), default=40)
        width = 40 if self.difference.compact else max(48, min(130, longest + 14))
        self.horizontalHeader().setDefaultSectionSize(width)

    def value(self, true_index: int, predicted_index: int) -> int:
        return int(self.difference.values[true_index, predicted_index])


# ---------------------------------------------------------------------- tables
CLASS_COLUMNS = ("Class", "Images", "Recall", "Δ recall", "Precision", "Δ precision", "")
CHANGED_COLUMNS = ("Image", "True class", "Active model", "Candidate", "Change")


def _item(text: str, align_right: bool = False, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tip:
        item.setToolTip(tip)
    return item


def _table(columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setShowGrid(False)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().setDefaultSectionSize(24)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    header.setHighlightSections(False)
    return table


def _answer(label: str, verdict: str, confidence: float) -> str:
    return f"{label} · {verdict} {confidence:.0%}" if verdict else f"{label} {confidence:.0%}"


def change_kind(changed: ChangedImage) -> str:
    if changed.broken:
        return "broken"
    if changed.fixed:
        return "fixed"
    if changed.candidate_label != changed.baseline_label:
        return "still wrong"
    return "verdict"


CHANGE_TIPS = {
    "broken": "The active model was right; the candidate is wrong",
    "fixed": "The active model was wrong; the candidate is right",
    "still wrong": "Both are wrong, with different classes",
    "verdict": "The same class, but a different verdict (confidence or threshold)",
}


# ---------------------------------------------------------------------- the maps
class CamPanel(QWidget):
    """One changed image: the image, the active model's map and the candidate's."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.image_view = ImageView()
        self.baseline_view = ImageView()
        self.candidate_view = ImageView()
        self.image_caption = QLabel("Image")
        self.baseline_caption = QLabel()
        self.candidate_caption = QLabel()
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        tip = "Grad-CAM of the class this model predicted: where it looked"
        self.baseline_view.setToolTip(tip)
        self.candidate_view.setToolTip(tip)
        for column, (view, caption) in enumerate(
                ((self.image_view, self.image_caption),
                 (self.baseline_view, self.baseline_caption),
                 (self.candidate_view, self.candidate_caption))):
            view.setMinimumSize(96, 96)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setWordWrap(True)
            caption.setTextFormat(Qt.TextFormat.RichText)
            grid.addWidget(view, 0, column)
            grid.addWidget(caption, 1, column)
            grid.setColumnStretch(column, 1)
        grid.setRowStretch(0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(grid, 1)
        self.clear()

    def clear(self, text: str = "Select an image to see what each model looked at.") -> None:
        self.title.setText(f"<span style='color:#757575'>{text}</span>")
        for view in (self.image_view, self.baseline_view, self.candidate_view):
            view.clear()
        self.image_caption.setText("")
        self.baseline_caption.setText("")
        self.candidate_caption.setText("")

    @property
    def has_maps(self) -> bool:
        return (self.candidate_view.image_size is not None
                or self.baseline_view.image_size is not None)


def load_preview(path: Path) -> np.ndarray | None:
    """The image as RGB uint8, shrunk to PREVIEW_SIZE while it is decoded (Qt, no cv2)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > PREVIEW_SIZE:
        reader.setScaledSize(size.scaled(QSize(PREVIEW_SIZE, PREVIEW_SIZE),
                                         Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return None
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * height)
    return data.reshape(height, image.bytesPerLine())[:, :width * 3].reshape(
        height, width, 3).copy()


# ---------------------------------------------------------------------- the view
class GateView(QWidget):
    """`set_report(report)`; answers `cam_requested(ChangedImage)` through `set_cam`."""

    cam_requested = Signal(object)  # ChangedImage
    cam_shown = Signal(str)  # the path whose maps are on screen now

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: GateReport | None = None
        self._cams: dict[tuple[str, str | None, str], tuple[Any, ...]] = {}
        self._failed: dict[tuple[str, str | None, str], str] = {}
        self._build()
        self.set_report(None)

    def _build(self) -> None:
        self.placeholder = QLabel()
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: #757575;")

        self.verdict = QLabel()
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #8A5300;")

        self.class_table = _table(CLASS_COLUMNS)
        self.class_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        tips = {2: "Active model → candidate", 3: "Candidate minus active model: red when "
                "worse by more than the margin, green when better",
                4: "Active model → candidate", 5: "Candidate minus active model"}
        for column, tip in tips.items():
            header_item = self.class_table.horizontalHeaderItem(column)
            if header_item is not None:
                header_item.setToolTip(tip)
        self.matrix = DifferenceMatrix()
        self.matrix.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.changed_title = QLabel()
        self.changed_table = _table(CHANGED_COLUMNS)
        self.changed_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Interactive)
        self.changed_table.setColumnWidth(0, 170)
        self.changed_table.currentCellChanged.connect(
            lambda row, _c, _pr, _pc: self._current_changed(row))
        self.cam_panel = CamPanel()

        per_class = QWidget()
        per_class_layout = QVBoxLayout(per_class)
        per_class_layout.setContentsMargins(0, 0, 4, 0)
        per_class_layout.addWidget(_heading("Per class"))
        per_class_layout.addWidget(self.class_table, 1)
        difference = QWidget()
        difference_layout = QVBoxLayout(difference)
        difference_layout.setContentsMargins(4, 0, 0, 0)
        difference_layout.addWidget(_heading("Confusion difference (candidate − active)"))
        difference_layout.addWidget(self.matrix, 1)
        changed = QWidget()
        changed_layout = QVBoxLayout(changed)
        changed_layout.setContentsMargins(0, 0, 4, 0)
        changed_layout.addWidget(self.changed_title)
        changed_layout.addWidget(self.changed_table, 1)
        self.cam_panel.setContentsMargins(4, 0, 0, 0)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(per_class)
        top.addWidget(difference)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(changed)
        bottom.addWidget(self.cam_panel)
        bottom.setStretchFactor(0, 4)
        bottom.setStretchFactor(1, 5)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(bottom)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        for splitter in (top, bottom, self.splitter):
            splitter.setChildrenCollapsible(False)
        # the answers of the changed images need room; three maps share the rest
        top.setSizes([600, 400])
        bottom.setSizes([520, 600])
        self.splitter.setSizes([200, 300])

        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addWidget(self.verdict)
        content_layout.addWidget(self.summary)
        content_layout.addWidget(self.warnings)
        content_layout.addWidget(self.splitter, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    # ------------------------------------------------------------------ report
    def set_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        if self.report is None:
            self.stack.setCurrentIndex(0)

    def set_report(self, report: GateReport | None) -> None:
        same = (report is not None and self.report is not None
                and (report.candidate, report.baseline) == (self.report.candidate,
                                                            self.report.baseline))
        self.report = report
        if not same:
            self._cams.clear()
            self._failed.clear()
        if report is None:
            self.stack.setCurrentIndex(0)
            self.class_table.setRowCount(0)
            self.changed_table.setRowCount(0)
            self.matrix.set_difference(None, [])
            self.cam_panel.clear()
            return
        self.stack.setCurrentIndex(1)
        self._show_verdict(report)
        self._show_classes(report)
        self.matrix.set_difference(report.confusion_difference() if report.baseline else None,
                                   report.classes)
        self._show_changed(report)

    def verdict_text(self) -> str:
        return self.verdict.text()

    @property
    def refused(self) -> bool:
        return self.report is not None and self.report.refused

    def _show_verdict(self, report: GateReport) -> None:
        if report.refused:
            text = "✗  Refused: " + "; ".join(report.reasons)
            colours = ("#FDECEA", "#8E1B10", "#F5A9A1")
        else:
            text = "✓  Passes the gate"
            if report.baseline is None:
                text += " (there is no active version to compare it with)"
            colours = ("#E8F5E9", "#1B5E20", "#A5D6A7")
        background, foreground, border = colours
        self.verdict.setText(text)
        self.verdict.setStyleSheet(
            f"QLabel {{ background: {background}; color: {foreground}; border: 1px solid "
            f"{border}; border-radius: 4px; padding: 6px 10px; font-weight: bold; }}")
        images = f"{report.n_test} test image{'s' if report.n_test != 1 else ''}"
        if report.n_inbox:
            images += (f" + {report.n_inbox} operator correction"
                       f"{'s' if report.n_inbox != 1 else ''}")
        parts = [f"<b>{_html(report.candidate)}</b> compared with "
                 + (f"the active <b>{_html(report.baseline)}</b>" if report.baseline
                    else "no active version") + f" on {images}",
                 f"margin {report.margin:.3f}"]
        if report.baseline_accuracy is not None:
            parts.append(f"accuracy {report.baseline_accuracy:.3f} → "
                         f"<b>{report.candidate_accuracy:.3f}</b>")
        else:
            parts.append(f"accuracy <b>{report.candidate_accuracy:.3f}</b>")
        self.summary.setText(" · ".join(parts))
        self.warnings.setText("\n".join(f"⚠ {w}" for w in report.warnings))
        self.warnings.setVisible(bool(report.warnings))

    def _show_classes(self, report: GateReport) -> None:
        table = self.class_table
        table.setRowCount(len(report.comparisons))
        for row, comparison in enumerate(report.comparisons):
            for column, item in enumerate(self._class_items(comparison, report.margin)):
                table.setItem(row, column, item)

    @staticmethod
    def _class_items(c: ClassComparison, margin: float) -> list[QTableWidgetItem]:
        name = _item(c.name)
        if c.worse:
            name.setForeground(RED)
            font = name.font()
            font.setBold(True)
            name.setFont(font)
        items = [name, _item(str(c.support), True)]
        for before, after, delta, what in (
                (c.baseline_recall, c.candidate_recall, c.delta_recall, "recall"),
                (c.baseline_precision, c.candidate_precision, c.delta_precision, "precision")):
            if before is None:
                items += [_item(f"{after:.3f}", True), _item("", True)]
                continue
            items.append(_item(f"{before:.3f} → {after:.3f}", True,
                               f"{what}: active model {before:.3f}, candidate {after:.3f}"))
            cell = _item(signed(delta or 0.0), True)
            colours = delta_colours(delta, margin)
            if colours is not None:
                cell.setForeground(colours[0])
                cell.setBackground(colours[1])
                font = cell.font()
                font.setBold(colours[0] == RED)
                cell.setFont(font)
            items.append(cell)
        note = "worse: refused" if c.worse else c.note
        note_item = _item(note, tip=note)
        if c.worse:
            note_item.setForeground(RED)
        elif c.note:
            note_item.setForeground(GREY)
        items.append(note_item)
        return items

    def _show_changed(self, report: GateReport) -> None:
        table = self.changed_table
        fixed = sum(c.fixed for c in report.changed)
        broken = sum(c.broken for c in report.changed)
        shown = (f" (the first {len(report.changed)} shown)"
                 if report.n_changed > len(report.changed) else "")
        if report.baseline is None:
            self.changed_title.setText("<b>Images that changed verdict</b>: no active model "
                                       "to compare with.")
        else:
            self.changed_title.setText(
                f"<b>{report.n_changed} image{'s' if report.n_changed != 1 else ''} changed "
                f"verdict</b>{shown}: <span style='color:{RED.name()}'>{broken} broken</span>, "
                f"<span style='color:{GREEN.name()}'>{fixed} fixed</span>")
        table.blockSignals(True)
        try:
            table.setRowCount(len(report.changed))
            for row, changed in enumerate(report.changed):
                path = Path(changed.path)
                where = " (inbox)" if changed.origin == "inbox" else ""
                kind = change_kind(changed)
                items = [
                    _item(path.name + where, tip=str(path)),
                    _item(changed.truth),
                    _item(_answer(changed.baseline_label, changed.baseline_verdict,
                                  changed.baseline_confidence)),
                    _item(_answer(changed.candidate_label, changed.candidate_verdict,
                                  changed.candidate_confidence)),
                    _item(kind, tip=CHANGE_TIPS[kind]),
                ]
                colour = {"broken": RED, "fixed": GREEN}.get(kind)
                if colour is not None:
                    items[4].setForeground(colour)
                    items[3].setForeground(colour)
                for column, item in enumerate(items):
                    table.setItem(row, column, item)
        finally:
            table.blockSignals(False)
        if report.changed:
            table.blockSignals(True)
            table.setCurrentCell(0, 0)
            table.blockSignals(False)
            self._current_changed(0)
        else:
            self.cam_panel.clear("No image changed verdict." if report.baseline
                                 else "Nothing to compare with.")

    # ------------------------------------------------------------------ changed images
    def current_changed(self) -> ChangedImage | None:
        row = self.changed_table.currentRow()
        if self.report is None or not 0 <= row < len(self.report.changed):
            return None
        return self.report.changed[row]

    def select_changed(self, row: int) -> None:
        self.changed_table.setCurrentCell(row, 0)

    def _key(self, path: str) -> tuple[str, str | None, str]:
        assert self.report is not None
        return self.report.candidate, self.report.baseline, str(path)

    def _current_changed(self, row: int) -> None:
        report = self.report
        if report is None or not 0 <= row < len(report.changed):
            return
        changed = report.changed[row]
        panel = self.cam_panel
        panel.title.setText(
            f"<b>{_html(Path(changed.path).name)}</b> · true class <b>{_html(changed.truth)}"
            f"</b> · {_html(CHANGE_TIPS[change_kind(changed)])} · maps: Grad-CAM of each "
            "model's own answer")
        panel.baseline_caption.setText(
            f"Active <b>{_html(report.baseline or '')}</b>: "
            f"{_html(_answer(changed.baseline_label, changed.baseline_verdict, changed.baseline_confidence))}")  # noqa: E501
        panel.candidate_caption.setText(
            f"Candidate <b>{_html(report.candidate)}</b>: "
            f"{_html(_answer(changed.candidate_label, changed.candidate_verdict, changed.candidate_confidence))}")  # noqa: E501
        key = self._key(changed.path)
        if key in self._cams:
            self._show_cam(key)
            return
        panel.baseline_view.clear()
        panel.candidate_view.clear()
        panel.image_view.set_array(load_preview(Path(changed.path)))
        if key in self._failed:
            panel.image_caption.setText(f"<span style='color:{RED.name()}'>"
                                        f"{_html(self._failed[key])}</span>")
            return
        panel.image_caption.setText("Image · <i>Grad-CAM maps: computing…</i>")
        self.cam_requested.emit(changed)

    def set_cam(self, path: str | Path, image: np.ndarray | None,
                baseline_overlay: np.ndarray | None,
                candidate_overlay: np.ndarray | None) -> None:
        """The maps of `path` under the current comparison (kept; shown if it is current)."""
        if self.report is None:
            return
        key = self._key(str(path))
        self._cams[key] = (image, baseline_overlay, candidate_overlay)
        self._failed.pop(key, None)
        current = self.current_changed()
        if current is not None and self._key(current.path) == key:
            self._show_cam(key)

    def set_cam_failed(self, path: str | Path, message: str) -> None:
        if self.report is None:
            return
        key = self._key(str(path))
        self._failed[key] = message
        current = self.current_changed()
        if current is not None and self._key(current.path) == key:
            self.cam_panel.image_caption.setText(
                f"<span style='color:{RED.name()}'>{_html(message)}</span>")

    def has_cam(self, path: str | Path) -> bool:
        return self.report is not None and self._key(str(path)) in self._cams

    def _show_cam(self, key: tuple[str, str | None, str]) -> None:
        image, baseline, candidate = self._cams[key]
        panel = self.cam_panel
        if image is not None:
            panel.image_view.set_array(image)
        panel.baseline_view.set_array(baseline)
        panel.candidate_view.set_array(candidate)
        panel.image_caption.setText("Image")
        self.cam_shown.emit(key[2])


def _heading(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    label.setTextFormat(Qt.TextFormat.RichText)
    return label


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
