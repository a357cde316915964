"""Roles and the engineer PIN.

The PIN is stored only as a salted scrypt hash (`scrypt$n$r$p$salt$hash`, base64) in the
workspace's `access.json`; it is never written, logged or kept in clear. Verification takes
constant time in the PIN's value (hmac.compare_digest), and after `max_attempts` wrong PINs in
a row further attempts are refused for `lockout_seconds`, so a PIN cannot be guessed by trying
all of them at the keyboard (10,000 four-digit PINs would take hours).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from enum import StrEnum
from pathlib import Path

from inspector.core.atomic import atomic_write_json
from inspector.core.errors import InspectorError

log = logging.getLogger(__name__)

ACCESS_FILE = "access.json"
MIN_PIN, MAX_PIN = 4, 12
# scrypt cost: 16 MiB and ~50 ms per check on a workstation; slows offline guessing of the file
SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES = 2**14, 8, 1, 32


class Role(StrEnum):
    OPERATOR = "operator"
    ENGINEER = "engineer"


class PinError(InspectorError):
    """A PIN is malformed, wrong, or attempts are paused; the message says which."""


def check_pin_format(pin: str) -> str:
    if not (pin.isascii() and pin.isdigit() and MIN_PIN <= len(pin) <= MAX_PIN):
        raise PinError(f"A PIN is {MIN_PIN} to {MAX_PIN} digits.")
    return pin


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_pin(pin: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """A new salted scrypt hash of `pin` (a fresh random salt every time)."""
    check_pin_format(pin)
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES,
                         maxmem=256 * 1024 * 1024)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"


def verify_pin(pin: str, stored: str) -> bool:
    """Whether `pin` matches the hash `stored`; False for a malformed hash or PIN."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key, validate=True)
        actual = hashlib.scrypt(pin.encode(), salt=base64.b64decode(salt, validate=True),
                                n=int(n), r=int(r), p=int(p), dklen=len(expected),
                                maxmem=256 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


class AccessControl:
    """The engineer PIN of one workspace (`root/access.json`) and the wrong-attempt pause."""

    def __init__(self, root: Path, max_attempts: int = 5, lockout_seconds: float = 30.0,
                 clock=time.monotonic) -> None:
        self.path = Path(root) / ACCESS_FILE
        self.max_attempts = max_attempts
        self.lockout_seconds = lockout_seconds
        self._clock = clock
        self._failures = 0
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _stored(self) -> str | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            # a damaged file must not open engineer mode: treat it as a PIN nobody knows
            log.error("cannot read %s (%s): engineer mode stays locked", self.path, exc)
            return "unreadable"
        value = data.get("pin_hash") if isinstance(data, dict) else None
        return value if isinstance(value, str) else "unreadable"

    @property
    def has_pin(self) -> bool:
        return self._stored() is not None

    def seconds_paused(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    def verify(self, pin: str) -> bool:
        """Check a PIN. Raises PinError while attempts are paused; counts wrong PINs."""
        with self._lock:
            wait = self.seconds_paused()
            if wait > 0:
                raise PinError(f"Too many wrong PINs: try again in {wait:.0f} s.")
            stored = self._stored()
            ok = stored is not None and verify_pin(pin, stored)
            if ok:
                self._failures = 0
                return True
            self._failures += 1
            if self._failures >= self.max_attempts:
                self._failures = 0
                self._paused_until = self._clock() + self.lockout_seconds
            return False

    def set_pin(self, new_pin: str, current_pin: str | None = None) -> None:
        """Set or change the PIN; changing it needs the current one."""
        check_pin_format(new_pin)
        if self.has_pin and not self.verify(current_pin or ""):
            raise PinError("The current PIN is wrong; the PIN was not changed.")
        atomic_write_json(self.path, {"pin_hash": hash_pin(new_pin), "set_at": time.time()})
        log.info("engineer PIN set in %s", self.path)

    def start_role(self, setting: str) -> Role:
        """The role at start-up: `setting` is StationConfig.start_role."""
        if setting == "operator" or (setting == "auto" and self.has_pin):
            return Role.OPERATOR
        return Role.ENGINEER
