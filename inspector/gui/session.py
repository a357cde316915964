"""Who is at the station: the role (operator or engineer) and the user's name.

One `StationSession` per window. Pages read `role` and `user` and follow `role_changed`; the
main window unlocks engineer mode with the workspace's PIN and locks it again after
`lock_after_s` without keyboard or mouse input (`touch()` is called on every input event).
Role changes and refused unlocks are written to the workspace's audit log.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, QTimer, Signal

from inspector.core.station import audit as actions
from inspector.core.station.access import AccessControl, PinError, Role
from inspector.core.station.audit import AuditError, AuditLog

log = logging.getLogger(__name__)

ENGINEER_USER = "engineer"


class StationSession(QObject):
    role_changed = Signal(str)  # Role value
    user_changed = Signal(str)
    audit_failed = Signal(str)  # an audit entry could not be written: say so, loudly

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._role = Role.ENGINEER
        self._user = ""
        self.access: AccessControl | None = None
        self.audit: AuditLog | None = None
        self.lock_after_s = 0.0
        self._last_input = time.monotonic()
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(1000)
        self._idle_timer.timeout.connect(self._check_idle)

    # -- state
    @property
    def role(self) -> Role:
        return self._role

    @property
    def is_engineer(self) -> bool:
        return self._role is Role.ENGINEER

    @property
    def user(self) -> str:
        """The operator's name; 'engineer' while engineer mode is unlocked without a name."""
        return self._user or (ENGINEER_USER if self.is_engineer else "")

    def set_user(self, name: str) -> None:
        name = name.strip()
        if name != self._user:
            self._user = name
            self.user_changed.emit(name)

    def attach(self, access: AccessControl | None, audit: AuditLog | None, lock_after_s: float,
               start_role: Role) -> None:
        """A workspace was opened: its PIN, its audit log and the role to start in."""
        self.access, self.audit, self.lock_after_s = access, audit, lock_after_s
        self._set_role(start_role, reason="workspace opened")

    # -- changes
    def unlock(self, pin: str) -> bool:
        """Engineer mode with the PIN. Raises PinError while wrong attempts are paused."""
        if self.access is None:
            return False
        try:
            ok = self.access.verify(pin)
        except PinError:
            self.record(actions.UNLOCK_REFUSED, reason="attempts paused")
            raise
        if not ok:
            self.record(actions.UNLOCK_REFUSED, reason="wrong PIN")
            return False
        self._set_role(Role.ENGINEER, reason="PIN")
        return True

    def lock(self, reason: str = "locked") -> None:
        self._set_role(Role.OPERATOR, reason=reason)

    def touch(self) -> None:
        self._last_input = time.monotonic()

    def _check_idle(self) -> None:
        if (self.is_engineer and self.lock_after_s > 0 and self.access is not None
                and self.access.has_pin
                and time.monotonic() - self._last_input >= self.lock_after_s):
            self.lock(reason=f"no input for {self.lock_after_s / 60:g} min")

    def _set_role(self, role: Role, reason: str) -> None:
        self._last_input = time.monotonic()
        if role is Role.ENGINEER and self.lock_after_s > 0:
            self._idle_timer.start()
        else:
            self._idle_timer.stop()
        if role is self._role:
            return
        previous, self._role = self._role, role
        self.record(actions.ROLE, previous=previous.value, new=role.value, reason=reason)
        self.role_changed.emit(role.value)

    def record(self, action: str, **detail: object) -> None:
        """An audit entry by the current user; a failure is reported, never raised."""
        if self.audit is None:
            return
        try:
            self.audit.append(self.user or "unknown", self._role.value, action, **detail)
        except AuditError as exc:
            log.error("%s", exc)
            self.audit_failed.emit(str(exc))
