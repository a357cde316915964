"""The engineer PIN dialogs: unlock engineer mode, and set or change the PIN.

Both work on a *session*: any object with `unlock(pin, name) -> bool` (raising PinError while
attempts are paused), `set_pin(new, current)` and `has_pin` (gui/session.py StationSession).
The PIN fields are masked and take digits only; a wrong PIN clears the field and says so, and a
pause after too many wrong PINs counts down with Unlock disabled. The dialogs are window-modal
and non-blocking (`open()`), so a test can type into them like a user.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QPointF, QRectF, QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QIcon,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QRegularExpressionValidator,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from inspector.core.station.access import MAX_PIN, MIN_PIN, PinError

ERROR_STYLE = "color: #C62828; font-weight: bold;"


class PinSession(Protocol):
    @property
    def has_pin(self) -> bool: ...

    def unlock(self, pin: str, name: str = "") -> bool: ...

    def seconds_paused(self) -> float: ...

    def set_pin(self, new_pin: str, current_pin: str | None = None) -> None: ...


def lock_icon(locked: bool, color: str = "#5D4037", size: int = 32) -> QIcon:
    """A padlock, closed or open, drawn (an emoji needs a font that a station may not have)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 32
    pen = QPen(QColor(color), 3.2 * s)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    shackle = QPainterPath()
    left, right, top = 10 * s, 22 * s, 4 * s
    bottom = 15 * s
    shackle.moveTo(QPointF(left, bottom))
    shackle.lineTo(QPointF(left, 10 * s))
    shackle.arcTo(QRectF(left, top, right - left, 12 * s), 180, -180)
    if locked:
        shackle.lineTo(QPointF(right, bottom))
    else:
        shackle.lineTo(QPointF(right, 8 * s))  # swung open
    painter.drawPath(shackle)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    painter.drawRoundedRect(QRectF(6 * s, 14 * s, 20 * s, 15 * s), 3 * s, 3 * s)
    painter.setBrush(QColor("white"))
    painter.drawEllipse(QPointF(16 * s, 20.5 * s), 2.2 * s, 2.2 * s)
    painter.drawRect(QRectF(15.2 * s, 21 * s, 1.6 * s, 4.5 * s))
    painter.end()
    return QIcon(pixmap)


def pin_field(placeholder: str) -> QLineEdit:
    """A masked line edit that takes at most MAX_PIN digits."""
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setMaxLength(MAX_PIN)
    edit.setValidator(QRegularExpressionValidator(QRegularExpression(f"[0-9]{{0,{MAX_PIN}}}"),
                                                  edit))
    edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly
                             | Qt.InputMethodHint.ImhSensitiveData
                             | Qt.InputMethodHint.ImhNoPredictiveText)
    edit.setPlaceholderText(placeholder)
    edit.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)  # no copy, no paste
    return edit


class UnlockDialog(QDialog):
    """Engineer PIN and (optional) name. Accepted once the session is unlocked."""

    unlocked = Signal()
    refused = Signal(str)  # the message shown

    def __init__(self, session: PinSession, name: str = "", workspace: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Unlock engineer mode")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        heading = QLabel("<b>Engineer mode</b>")
        where = f" of <i>{_html(workspace)}</i>" if workspace else ""
        intro = QLabel(f"Enter the engineer PIN{where}. Engineer mode changes data, models and "
                       "thresholds; it locks again after a while without input.")
        intro.setWordWrap(True)
        self.name_edit = QLineEdit(name)
        self.name_edit.setPlaceholderText("for the audit log")
        self.name_edit.setMaxLength(60)
        self.pin_edit = pin_field(f"{MIN_PIN} to {MAX_PIN} digits")
        self.message = QLabel()
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()
        form = QFormLayout()
        form.addRow("Your &name:", self.name_edit)
        form.addRow("&PIN:", self.pin_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.unlock_button = self.buttons.addButton("&Unlock",
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.unlock_button.setIcon(lock_icon(False))
        self.unlock_button.setDefault(True)
        self.buttons.accepted.connect(self.try_unlock)
        self.buttons.rejected.connect(self.reject)
        self.pin_edit.textChanged.connect(lambda _text: self._update_button())
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._pause_timer = QTimer(self)
        self._pause_timer.setInterval(250)
        self._pause_timer.timeout.connect(self._tick)
        self.setMinimumWidth(380)
        (self.pin_edit if name else self.name_edit).setFocus()
        self._update_button()

    def _paused_for(self) -> float:
        return float(self.session.seconds_paused())

    def _update_button(self) -> None:
        self.unlock_button.setEnabled(len(self.pin_edit.text()) >= MIN_PIN
                                      and not self._pause_timer.isActive())

    def _tick(self) -> None:
        left = self._paused_for()
        if left <= 0:
            self._pause_timer.stop()
            self.message.setText("You can try again now.")
            self.pin_edit.setEnabled(True)
            self.pin_edit.setFocus()
            self._update_button()
        else:
            self.message.setText(f"Too many wrong PINs: try again in {left:.0f} s.")

    def try_unlock(self) -> bool:
        pin = self.pin_edit.text()
        if len(pin) < MIN_PIN or self._pause_timer.isActive():
            return False
        try:
            ok = self.session.unlock(pin, self.name_edit.text())
        except PinError as exc:
            self._refuse(str(exc))
            if self._paused_for() > 0:
                self._pause_timer.start()
                self.pin_edit.setEnabled(False)
                self._update_button()
            return False
        if not ok:
            self._refuse("Wrong PIN.")
            if self._paused_for() > 0:  # that was the last attempt before a pause
                self._pause_timer.start()
                self.pin_edit.setEnabled(False)
                self._tick()
                self._update_button()
            return False
        self.unlocked.emit()
        self.accept()
        return True

    def _refuse(self, message: str) -> None:
        self.pin_edit.clear()
        self.message.setText(message)
        self.message.show()
        self.pin_edit.setFocus()
        self.refused.emit(message)


class SetPinDialog(QDialog):
    """Set the engineer PIN, or change it (then the current PIN is asked for too)."""

    pin_set = Signal()
    refused = Signal(str)

    def __init__(self, session: PinSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.changing = bool(session.has_pin)
        self.setWindowTitle("Change the engineer PIN" if self.changing
                            else "Set the engineer PIN")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        intro = QLabel(
            f"The PIN is {MIN_PIN} to {MAX_PIN} digits. It is stored only as a salted scrypt "
            "hash in the workspace's access.json; with a PIN set, the station starts in "
            "operator mode." if not self.changing else
            f"Enter the current PIN, then the new one twice ({MIN_PIN} to {MAX_PIN} digits).")
        intro.setWordWrap(True)
        self.current_edit = pin_field("the PIN in use now")
        self.new_edit = pin_field(f"{MIN_PIN} to {MAX_PIN} digits")
        self.repeat_edit = pin_field("the same again")
        form = QFormLayout()
        if self.changing:
            form.addRow("&Current PIN:", self.current_edit)
        else:
            self.current_edit.hide()
        form.addRow("&New PIN:", self.new_edit)
        form.addRow("&Repeat:", self.repeat_edit)
        self.message = QLabel()
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton("&Save PIN",
                                                  QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.try_save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(380)
        (self.current_edit if self.changing else self.new_edit).setFocus()

    def problem(self) -> str | None:
        """What is wrong with the fields as typed, or None."""
        new, repeat = self.new_edit.text(), self.repeat_edit.text()
        if self.changing and not self.current_edit.text():
            return "Enter the current PIN."
        if not (MIN_PIN <= len(new) <= MAX_PIN and new.isdigit()):
            return f"The new PIN must be {MIN_PIN} to {MAX_PIN} digits."
        if new != repeat:
            return "The two new PINs differ; type them again."
        return None

    def try_save(self) -> bool:
        problem = self.problem()
        if problem is None:
            try:
                self.session.set_pin(self.new_edit.text(),
                                     self.current_edit.text() if self.changing else None)
            except PinError as exc:
                problem = str(exc)
                self.current_edit.clear()
        if problem is not None:
            self.message.setText(problem)
            self.message.show()
            self.new_edit.clear()
            self.repeat_edit.clear()
            (self.current_edit if self.changing and not self.current_edit.text()
             else self.new_edit).setFocus()
            self.refused.emit(problem)
            return False
        self.pin_set.emit()
        self.accept()
        return True


def _html(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
