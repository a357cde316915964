"""Who is at the station: the role (operator or engineer) and the user's name.

One `StationSession` per window. Pages read `role`, `is_engineer` and `user` and follow
`role_changed`; the main window attaches the open workspace's PIN (AccessControl) and audit log,
unlocks engineer mode with the PIN and locks it again after `lock_after_s` without keyboard or
mouse input (`touch()` is called on every input event). Role changes, refused unlocks, PIN
changes and the operator's name are written to the workspace's audit log; pages write theirs
with `record(action, **detail)`.

The session owns the attached audit log: attaching another workspace, `detach()` and `close()`
close it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from inspector.core.station import audit as actions
from inspector.core.station.access import AccessControl, PinError, Role
from inspector.core.station.audit import AuditEntry, AuditError, AuditLog

log = logging.getLogger(__name__)

Recorder = Callable[..., AuditEntry | None]
ENGINEER_USER = "engineer"  # an engineer who gave no name
OPERATOR_USER = "operator"  # an operator who gave no name, in the audit log


class StationSession(QObject):
    role_changed = Signal(str)  # Role value
    user_changed = Signal(str)  # `user`, after a name or role change
    attached = Signal()  # another workspace's PIN and audit log (or none) are in use
    recorded = Signal(object)  # an AuditEntry was written
    audit_failed = Signal(str)  # an audit entry could not be written: say so, loudly

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._role = Role.ENGINEER  # no workspace open: nothing to protect
        self._operator = ""
        self._engineer = ""
        self.access: AccessControl | None = None
        self.audit: AuditLog | None = None
        self.workspace_root: Path | None = None
        self.lock_after_s = 0.0
        self._last_input = time.monotonic()
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(1000)
        self._idle_timer.timeout.connect(self._check_idle)

    # ------------------------------------------------------------------ state
    @property
    def role(self) -> Role:
        return self._role

    @property
    def is_engineer(self) -> bool:
        return self._role is Role.ENGINEER

    @property
    def operator_name(self) -> str:
        return self._operator

    @property
    def engineer_name(self) -> str:
        return self._engineer

    @property
    def user(self) -> str:
        """Who acts now: the engineer's name (or 'engineer') in engineer mode, else the
        operator's name ('' until the operator gives it)."""
        if self.is_engineer:
            return self._engineer or ENGINEER_USER
        return self._operator

    @property
    def has_pin(self) -> bool:
        return self.access is not None and self.access.has_pin

    def seconds_paused(self) -> float:
        """How long unlocking stays refused after too many wrong PINs (0: not paused)."""
        return self.access.seconds_paused() if self.access is not None else 0.0

    @property
    def seconds_idle(self) -> float:
        return time.monotonic() - self._last_input

    def set_user(self, name: str) -> None:
        """The operator's name (audited: who was at the station, from when)."""
        name = " ".join(name.split())
        if name == self._operator:
            return
        previous, self._operator = self._operator, name
        self._record_as(self.user or OPERATOR_USER, self._role.value, actions.USER,
                        previous=previous, new=name)
        self.user_changed.emit(self.user)

    set_operator_name = set_user

    # ------------------------------------------------------------------ workspaces
    def attach(self, access: AccessControl | None, audit: AuditLog | None, lock_after_s: float,
               start_role: Role, workspace_root: Path | None = None) -> None:
        """A workspace was opened: its PIN, its audit log and the role to start in."""
        if self.audit is not None and self.audit is not audit:
            self.audit.close()
        self.access, self.audit, self.lock_after_s = access, audit, float(lock_after_s)
        self.workspace_root = workspace_root
        self._engineer = "" if start_role is Role.OPERATOR else self._engineer
        changed = start_role is not self._role
        self._role = start_role
        self._after_role_change()
        self._record_as(self.user or OPERATOR_USER, start_role.value, actions.ROLE,
                        new=start_role.value, reason="workspace opened")
        self.attached.emit()
        if changed:
            self.role_changed.emit(start_role.value)
            self.user_changed.emit(self.user)

    def detach(self) -> None:
        """No workspace is open: no PIN, no audit log, engineer mode (nothing to protect)."""
        if self.audit is not None:
            self.audit.close()
        self.access, self.audit, self.workspace_root = None, None, None
        self.attached.emit()
        if not self.is_engineer:
            self._role = Role.ENGINEER
            self._after_role_change()
            self.role_changed.emit(self._role.value)
            self.user_changed.emit(self.user)

    def close(self) -> None:
        self._idle_timer.stop()
        if self.audit is not None:
            self.audit.close()
            self.audit = None

    # ------------------------------------------------------------------ changes
    def unlock(self, pin: str, name: str = "") -> bool:
        """Engineer mode with the PIN; `name` is the engineer's, for the audit log. False for
        a wrong PIN; raises PinError while wrong attempts are paused or when no PIN is set."""
        name = " ".join(name.split())
        who = name or self._operator or OPERATOR_USER
        if self.access is None:
            raise PinError("Open a workspace first: the engineer PIN belongs to a workspace.")
        if not self.access.has_pin:
            where = f" --workspace {self.workspace_root}" if self.workspace_root else ""
            raise PinError("No engineer PIN is set for this workspace. An engineer sets one "
                           f"with: inspector station set-pin{where}")
        try:
            ok = self.access.verify(pin)
        except PinError:
            self._record_as(who, self._role.value, actions.UNLOCK_REFUSED,
                            reason="attempts paused")
            raise
        if not ok:
            self._record_as(who, self._role.value, actions.UNLOCK_REFUSED, reason="wrong PIN")
            return False
        self._engineer = name
        self._set_role(Role.ENGINEER, reason="PIN")
        return True

    def lock(self, reason: str = "locked") -> bool:
        """Back to operator mode. Refused (False) when no PIN is set: nobody could unlock."""
        if not self.has_pin:
            return False
        self._set_role(Role.OPERATOR, reason=reason)
        return True

    def set_pin(self, new_pin: str, current_pin: str | None = None) -> None:
        """Set or change the workspace's engineer PIN (engineer mode only). Raises PinError.
        The audit log records that it was set, never the PIN."""
        if self.access is None:
            raise PinError("Open a workspace first: the engineer PIN belongs to a workspace.")
        if not self.is_engineer:
            raise PinError("Only an engineer can set the PIN: unlock engineer mode first.")
        changed = self.access.has_pin
        self.access.set_pin(new_pin, current_pin)
        self.record(actions.PIN_SET, changed=changed)
        self.touch()
        self._after_role_change()  # the idle lock applies from now on

    def touch(self) -> None:
        self._last_input = time.monotonic()

    def _check_idle(self) -> None:
        if (self.is_engineer and self.lock_after_s > 0 and self.has_pin
                and self.seconds_idle >= self.lock_after_s):
            minutes = self.lock_after_s / 60
            self.lock(reason=f"no input for {minutes:g} min" if minutes >= 1
                      else f"no input for {self.lock_after_s:g} s")

    def _after_role_change(self) -> None:
        self._last_input = time.monotonic()
        if self.is_engineer and self.lock_after_s > 0:
            # check often enough that the lock comes within a quarter of the idle time
            self._idle_timer.setInterval(int(min(1000.0, max(20.0, self.lock_after_s * 250))))
            self._idle_timer.start()
        else:
            self._idle_timer.stop()

    def _set_role(self, role: Role, reason: str) -> None:
        if role is self._role:
            self._after_role_change()
            return
        previous, self._role = self._role, role
        engineer = self._engineer or ENGINEER_USER
        if role is Role.OPERATOR:
            self._engineer = ""
        self._after_role_change()
        # the engineer who unlocked, or who locked (or walked away): the one accountable
        self._record_as(engineer, Role.ENGINEER.value, actions.ROLE, previous=previous.value,
                        new=role.value, reason=reason)
        log.info("station: %s mode (%s)", role.value, reason)
        self.role_changed.emit(role.value)
        self.user_changed.emit(self.user)

    # ------------------------------------------------------------------ audit
    def recorder(self) -> Recorder:
        """A function that writes audit entries as the current user and role, to the audit log
        of the workspace open now, from any thread: a worker writes each entry as soon as its
        change is made, and a workspace opened meanwhile does not get them. It raises
        AuditError; pass the entries to `announce` on the GUI thread."""
        audit, user, role = self.audit, self.user or OPERATOR_USER, self._role.value

        def record(action: str, **detail: Any) -> AuditEntry | None:
            return audit.append(user, role, action, **detail) if audit is not None else None

        return record

    def announce(self, entries: list[AuditEntry]) -> None:
        """Entries a worker wrote through `recorder()`: tell the viewers."""
        for entry in entries:
            self.recorded.emit(entry)

    def record(self, action: str, **detail: Any) -> AuditEntry | None:
        """An audit entry by the current user; a failure is reported, never raised."""
        return self._record_as(self.user or OPERATOR_USER, self._role.value, action, **detail)

    def _record_as(self, user: str, role: str, action: str, **detail: Any) -> AuditEntry | None:
        if self.audit is None:
            return None
        try:
            entry = self.audit.append(user, role, action, **detail)
        except AuditError as exc:
            log.error("%s", exc)
            self.audit_failed.emit(str(exc))
            return None
        self.recorded.emit(entry)
        return entry
