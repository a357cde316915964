"""A form over a pydantic settings object: one editor per field, editing that same object.

DESIGN rule 8: the GUI and the CLI edit the same typed settings. The form is built from the
model's fields (type, bounds, description) and writes each edit back into the object it was
given, after pydantic has validated it on a copy: an invalid value shows its error next to the
field and leaves the object as it was.

    form = ConfigForm(workspace.config.augment)
    form.edited.connect(schedule_preview)          # the object has changed
    ...
    form.is_modified                               # differs from the last mark_saved()
    form.revert()                                  # back to the last mark_saved() values

Editors by type: int and float give spin boxes with the field's bounds (``T | None`` adds a
special "auto" value at the bottom of the range), bool a check box, Literal and Enum a combo box,
a list of Literal values a row of check boxes, ``Literal | list[float]`` a combo box with a
"values…" entry that opens a comma-separated text field, str and Path a text field. Nested
models and unsupported types are left out: give them a form of their own.
"""

from __future__ import annotations

import enum
import logging
import math
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

INT_MIN, INT_MAX = -(2**31) + 1, 2**31 - 1  # QSpinBox holds a C int; the bottom is kept for None
FLOAT_LIMIT = 1e9
ERROR_COLOUR = "#C62828"
LIST_VALUES = "values…"  # the combo entry that means "a list of numbers"


# ---------------------------------------------------------------------------- field analysis
def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without None, whether None is allowed)."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(args) < len(get_args(annotation))
        if len(args) == 1:
            return args[0], optional
        return Union[tuple(args)], optional  # noqa: UP007 (built at run time)
    return annotation, False


def _literal_values(annotation: Any) -> tuple[Any, ...] | None:
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    return None


def _bounds(field: Any) -> dict[str, float]:
    """ge/gt/le/lt of a pydantic FieldInfo (annotated_types metadata)."""
    found: dict[str, float] = {}
    for item in field.metadata:
        for key in ("ge", "gt", "le", "lt"):
            value = getattr(item, key, None)
            if isinstance(value, int | float) and not isinstance(value, bool):
                found[key] = value
    return found


def humanise(name: str) -> str:
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _error_text(error: ValidationError) -> str:
    messages = []
    for item in error.errors():
        message = str(item["msg"])
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        messages.append(message)
    return "; ".join(dict.fromkeys(messages))  # once each, in order


def _nice_step(span: float) -> float:
    """About a twentieth of the range, rounded to 1, 2 or 5 times a power of ten."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    raw = span / 20
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power * 1.5:
            return factor * power
    return 10 * power


# ---------------------------------------------------------------------------- editors
class _InvalidTextError(ValueError):
    """The editor's text cannot be read as a value of the field's type."""


class IntEditor(QSpinBox):
    edited = Signal()

    def __init__(self, low: int, high: int, optional: bool, none_text: str) -> None:
        super().__init__()
        self._optional = optional
        self.setRange(low - 1 if optional else low, high)
        if optional:
            self.setSpecialValueText(none_text)
        self.setKeyboardTracking(False)  # apply on Enter, arrows or leaving the field
        self.setAccelerated(True)
        self.valueChanged.connect(lambda _v: self.edited.emit())

    def value_for_model(self) -> int | None:
        value = self.value()
        return None if self._optional and value == self.minimum() else value

    def show_value(self, value: Any) -> None:
        self.setValue(self.minimum() if value is None else int(value))


class FloatEditor(QDoubleSpinBox):
    """Shows values as %g (1e-05, 0.25), steps by a twentieth of the range, or through
    1-2-5 decades for small rates such as learning rates."""

    edited = Signal()

    def __init__(self, low: float, high: float, optional: bool, none_text: str,
                 logarithmic: bool) -> None:
        super().__init__()
        self._optional = optional
        self._log = logarithmic
        self.setDecimals(12)
        step = _nice_step(high - low)
        self.setSingleStep(step)
        self.setRange(low - step if optional else low, high)
        if optional:
            self.setSpecialValueText(none_text)
        self.setKeyboardTracking(False)
        self.valueChanged.connect(lambda _v: self.edited.emit())

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text.strip().replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        state = QValidator.State
        stripped = text.strip()
        if self.specialValueText() and stripped == self.specialValueText():
            return (state.Acceptable, text, pos)
        try:
            value = float(stripped.replace(",", "."))
        except ValueError:
            partial = stripped in ("", "-", "+", ".", "-.", "+.") or stripped.lower().endswith(
                ("e", "e-", "e+"))
            return (state.Intermediate if partial else state.Invalid, text, pos)
        if self.minimum() <= value <= self.maximum():
            return (state.Acceptable, text, pos)
        return (state.Intermediate, text, pos)

    def stepBy(self, steps: int) -> None:  # noqa: N802
        value = self.value()
        if not self._log or value <= 0 or (self._optional and value == self.minimum()):
            super().stepBy(steps)
            return
        for _ in range(abs(steps)):
            value = _decade_step(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))

    def value_for_model(self) -> float | None:
        value = self.value()
        return None if self._optional and value == self.minimum() else value

    def show_value(self, value: Any) -> None:
        self.setValue(self.minimum() if value is None else float(value))


def _decade_step(value: float, up: bool) -> float:
    """The next value of the 1-2-5 sequence above or below `value`."""
    power = 10 ** math.floor(math.log10(value) + 1e-9)
    ladder = [f * power for f in (0.5, 1, 2, 5, 10, 20)]
    if up:
        return next(v for v in ladder if v > value * (1 + 1e-9))
    return next(v for v in reversed(ladder) if v < value * (1 - 1e-9))


class BoolEditor(QCheckBox):
    edited = Signal()

    def __init__(self) -> None:
        super().__init__()
        # only the box itself takes clicks, not the empty width of the form's column
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.toggled.connect(lambda _v: self.edited.emit())

    def value_for_model(self) -> bool:
        return self.isChecked()

    def show_value(self, value: Any) -> None:
        self.setChecked(bool(value))


class ChoiceEditor(QComboBox):
    """Literal or Enum values; `editable` lets the user type another (a pattern-checked str)."""

    edited = Signal()

    def __init__(self, values: Sequence[Any], editable: bool = False) -> None:
        super().__init__()
        self._values = list(values)
        self.setEditable(editable)
        for value in self._values:
            self.addItem(str(value.value if isinstance(value, enum.Enum) else value), value)
        if editable:
            self.lineEdit().editingFinished.connect(self.edited)
            self.activated.connect(lambda _i: self.edited.emit())
        else:
            self.currentIndexChanged.connect(lambda _i: self.edited.emit())

    def value_for_model(self) -> Any:
        if self.isEditable():
            text = self.currentText().strip()
            for value in self._values:
                if str(value) == text:
                    return value
            return text
        return self.currentData()

    def show_value(self, value: Any) -> None:
        index = self.findData(value)
        if index < 0 and self.isEditable():
            self.setEditText(str(value))
            return
        self.setCurrentIndex(max(index, 0))


class CheckListEditor(QWidget):
    """A row of check boxes, one per allowed value: the field is the list of checked ones."""

    edited = Signal()

    COLUMNS = 3  # five stage names in one row do not fit a settings column

    def __init__(self, values: Sequence[Any]) -> None:
        super().__init__()
        self._values = list(values)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(10)
        layout.setVerticalSpacing(2)
        self.boxes: dict[Any, QCheckBox] = {}
        for i, value in enumerate(self._values):
            box = QCheckBox(str(value))
            box.toggled.connect(lambda _v: self.edited.emit())
            layout.addWidget(box, i // self.COLUMNS, i % self.COLUMNS)
            self.boxes[value] = box
        layout.setColumnStretch(self.COLUMNS, 1)

    def value_for_model(self) -> list[Any]:
        return [v for v in self._values if self.boxes[v].isChecked()]

    def show_value(self, value: Any) -> None:
        chosen = set(value or [])
        for v, box in self.boxes.items():
            box.setChecked(v in chosen)


class ChoiceOrListEditor(QWidget):
    """`Literal[...] | list[float]`: a combo of the names plus "values…" for a list of numbers."""

    edited = Signal()

    def __init__(self, values: Sequence[Any]) -> None:
        super().__init__()
        self.combo = QComboBox()
        for value in values:
            self.combo.addItem(str(value), value)
        self.combo.addItem(LIST_VALUES, None)
        self.text = QLineEdit()
        self.text.setPlaceholderText("e.g. 1.0, 2.5, 1.0 (one per class)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.text, 1)
        self.text.hide()
        self.combo.currentIndexChanged.connect(self._on_choice)
        self.text.editingFinished.connect(self.edited)
        self.setFocusProxy(self.combo)

    def _on_choice(self, _index: int) -> None:
        is_list = self.combo.currentData() is None
        self.text.setVisible(is_list)
        if is_list and not self.text.text().strip():
            self.text.setFocus()  # nothing to apply until numbers are typed
            return
        self.edited.emit()

    def value_for_model(self) -> Any:
        choice = self.combo.currentData()
        if choice is not None:
            return choice
        try:
            return [float(part) for part in self.text.text().replace(";", ",").split(",")
                    if part.strip()]
        except ValueError:
            raise _InvalidTextError("Type numbers separated by commas.") from None

    def show_value(self, value: Any) -> None:
        if isinstance(value, list):
            self.combo.setCurrentIndex(self.combo.count() - 1)
            self.text.setText(", ".join(f"{v:g}" for v in value))
        else:
            self.combo.setCurrentIndex(max(self.combo.findData(value), 0))


class TextEditor(QLineEdit):
    """A str, or a Path; an optional field maps the empty text to None."""

    edited = Signal()

    def __init__(self, kind: type, optional: bool, placeholder: str) -> None:
        super().__init__()
        self._kind = kind
        self._optional = optional
        if placeholder:
            self.setPlaceholderText(placeholder)
        self.editingFinished.connect(self.edited)

    def value_for_model(self) -> Any:
        text = self.text().strip()
        if self._optional and not text:
            return None
        return Path(text).expanduser() if self._kind is Path else text

    def show_value(self, value: Any) -> None:
        self.setText("" if value is None else str(value))


# ---------------------------------------------------------------------------- the form
class ConfigForm(QWidget):
    """Edits `model` (a pydantic object with validate_assignment) in place, field by field."""

    edited = Signal(str)  # a field of the object has changed (its name)
    error_changed = Signal(str, str)  # field, message ("" once it is valid again)
    modified_changed = Signal(bool)  # the object differs (or no longer) from the saved values

    def __init__(self, model: BaseModel, fields: Sequence[str] | None = None, *,
                 labels: Mapping[str, str] | None = None,
                 choices: Mapping[str, Sequence[str]] | None = None,
                 none_texts: Mapping[str, str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._labels = dict(labels or {})
        self._choices = dict(choices or {})
        self._none_texts = dict(none_texts or {})
        self.editors: dict[str, QWidget] = {}
        self.error_labels: dict[str, QLabel] = {}
        self.row_labels: dict[str, QLabel] = {}
        self._errors: dict[str, str] = {}
        self._loading = False
        self._saved: dict[str, Any] = {}
        self._was_modified = False
        self.layout_ = QFormLayout(self)
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.layout_.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        names = list(fields) if fields is not None else list(type(model).model_fields)
        for name in names:
            self._add_row(name)
        self.refresh()
        self.mark_saved()

    # -- building
    def _add_row(self, name: str) -> None:
        info = type(self._model).model_fields.get(name)
        if info is None:
            raise KeyError(f"{type(self._model).__name__} has no field {name!r}")
        editor = self._make_editor(name, info)
        if editor is None:
            log.debug("no editor for %s.%s (%s); left out", type(self._model).__name__, name,
                      info.annotation)
            return
        tip = info.description or ""
        label = QLabel(self._labels.get(name, humanise(name)))
        label.setBuddy(editor)
        if tip:
            label.setToolTip(tip)
            editor.setToolTip(tip)
        error = QLabel()
        error.setWordWrap(True)
        error.setStyleSheet(f"color: {ERROR_COLOUR};")
        error.setTextFormat(Qt.TextFormat.PlainText)
        error.hide()
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(editor)
        column.addWidget(error)
        self.layout_.addRow(label, box)
        editor.edited.connect(lambda name=name: self._on_edited(name))  # type: ignore[attr-defined]
        self.editors[name] = editor
        self.error_labels[name] = error
        self.row_labels[name] = label

    def _make_editor(self, name: str, info: Any) -> QWidget | None:
        annotation, optional = _unwrap_optional(info.annotation)
        none_text = self._none_texts.get(name, "auto")
        if name in self._choices:
            return ChoiceEditor(self._choices[name], editable=True)
        if annotation is bool:
            return BoolEditor()
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            return ChoiceEditor(list(annotation))
        literal = _literal_values(annotation)
        if literal is not None:
            return ChoiceEditor(literal)
        bounds = _bounds(info)
        if annotation is int:
            low = int(bounds.get("ge", bounds.get("gt", INT_MIN - 1) + 1))
            high = int(bounds.get("le", bounds.get("lt", INT_MAX + 1) - 1))
            return IntEditor(low, high, optional, none_text)
        if annotation is float:
            low = float(bounds.get("ge", bounds.get("gt", -FLOAT_LIMIT)))
            high = float(bounds.get("le", bounds.get("lt", FLOAT_LIMIT)))
            default = info.default if isinstance(info.default, int | float) else 0.0
            logarithmic = 0 < default < 0.01
            return FloatEditor(low, high, optional, none_text, logarithmic)
        origin = get_origin(annotation)
        if origin in (list, tuple, set):
            args = get_args(annotation)
            inner = _literal_values(args[0]) if args else None
            if inner is not None:
                return CheckListEditor(inner)
            return None
        if origin in (Union, types.UnionType):
            parts = get_args(annotation)
            names = [v for part in parts for v in (_literal_values(part) or ())]
            lists = [p for p in parts if get_origin(p) is list]
            if names and lists:
                return ChoiceOrListEditor(names)
            return None
        if annotation in (str, Path):
            placeholder = "not set" if optional else ""
            return TextEditor(annotation, optional, placeholder)
        return None

    # -- the object
    @property
    def model(self) -> BaseModel:
        return self._model

    def set_model(self, model: BaseModel) -> None:
        """Edit another object of the same type (another workspace's settings)."""
        if type(model) is not type(self._model):
            raise TypeError(f"expected {type(self._model).__name__}, got {type(model).__name__}")
        self._model = model
        self.refresh()
        self.mark_saved()

    def refresh(self) -> None:
        """Show the object's current values (after it was changed elsewhere); clears errors."""
        self._loading = True
        try:
            for name, editor in self.editors.items():
                editor.show_value(getattr(self._model, name))  # type: ignore[attr-defined]
        finally:
            self._loading = False
        for name in list(self._errors):
            self._set_error(name, "")
        self._check_modified()

    def _on_edited(self, name: str) -> None:
        if self._loading:
            return
        editor = self.editors[name]
        try:
            value = editor.value_for_model()  # type: ignore[attr-defined]
        except _InvalidTextError as exc:
            self._set_error(name, str(exc))
            return
        if value == getattr(self._model, name) and name not in self._errors:
            return
        message = self.apply(name, value)
        self._set_error(name, message or "")
        if message is None:
            self.edited.emit(name)
            self._check_modified()

    def apply(self, name: str, value: Any) -> str | None:
        """Set one field if pydantic accepts it: None, or the error message (object unchanged)."""
        trial = self._model.model_copy()
        try:
            setattr(trial, name, value)
        except ValidationError as exc:
            return _error_text(exc)
        setattr(self._model, name, getattr(trial, name))
        return None

    # -- errors
    def _set_error(self, name: str, message: str) -> None:
        label = self.error_labels[name]
        previous = self._errors.get(name, "")
        if message:
            self._errors[name] = message
            label.setText(message)
            label.show()
        else:
            self._errors.pop(name, None)
            label.clear()
            label.hide()
        if previous != message:
            self.error_changed.emit(name, message)

    def error(self, name: str) -> str:
        return self._errors.get(name, "")

    @property
    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    @property
    def has_errors(self) -> bool:
        return bool(self._errors)

    # -- saved state
    def _values(self) -> dict[str, Any]:
        dumped = self._model.model_dump()
        return {name: dumped[name] for name in self.editors}

    def mark_saved(self) -> None:
        """The current values are the saved ones (after loading or writing config.toml)."""
        self._saved = self._values()
        self._check_modified()

    @property
    def is_modified(self) -> bool:
        return self._values() != self._saved

    def revert(self) -> None:
        """Put the saved values back into the object (in place) and show them."""
        data = {**self._model.model_dump(), **self._saved}
        restored = type(self._model).model_validate(data)
        for name in self.editors:
            # validated as a whole above; one field at a time could trip a cross-field check
            self._model.__dict__[name] = getattr(restored, name)
        self.refresh()
        self.edited.emit("")

    def _check_modified(self) -> None:
        modified = self.is_modified
        if modified != self._was_modified:
            self._was_modified = modified
            self.modified_changed.emit(modified)

    def set_editable(self, editable: bool) -> None:
        for editor in self.editors.values():
            editor.setEnabled(editable)

