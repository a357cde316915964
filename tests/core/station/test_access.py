"""The engineer PIN: stored only as a salted scrypt hash, checked, paused after wrong guesses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.core.station.access import (
    ACCESS_FILE,
    AccessControl,
    PinError,
    Role,
    hash_pin,
    verify_pin,
)

PIN = "48151623"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_pin_is_stored_only_as_a_salted_scrypt_hash(tmp_path: Path):
    access = AccessControl(tmp_path)
    assert not access.has_pin
    access.set_pin(PIN)
    assert access.has_pin
    raw = (tmp_path / ACCESS_FILE).read_bytes()
    assert PIN.encode() not in raw
    stored = json.loads(raw)["pin_hash"]
    scheme, n, r, p, salt, key = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
    assert len(salt) >= 20 and len(key) >= 40
    assert PIN not in stored


def test_the_right_pin_is_accepted_and_a_wrong_one_refused(tmp_path: Path):
    access = AccessControl(tmp_path)
    access.set_pin(PIN)
    assert access.verify(PIN)
    assert not access.verify("48151624")
    assert not access.verify("")
    assert not access.verify(PIN + "0")
    assert AccessControl(tmp_path).verify(PIN)  # read back from the file by a new instance


def test_no_pin_set_unlocks_nothing(tmp_path: Path):
    access = AccessControl(tmp_path)
    assert not access.verify("0000")
    assert not access.verify("")


def test_the_same_pin_hashes_differently_every_time(tmp_path: Path):
    first, second = hash_pin(PIN), hash_pin(PIN)
    assert first != second  # a fresh salt each time
    assert verify_pin(PIN, first) and verify_pin(PIN, second)
    access = AccessControl(tmp_path)
    access.set_pin(PIN)
    before = json.loads((tmp_path / ACCESS_FILE).read_text())["pin_hash"]
    access.set_pin(PIN, current_pin=PIN)
    after = json.loads((tmp_path / ACCESS_FILE).read_text())["pin_hash"]
    assert before != after and access.verify(PIN)


@pytest.mark.parametrize("pin", ["123", "1234567890123", "12a4", "１２３４", " 1234", ""])
def test_malformed_pins_are_refused_with_the_rule(tmp_path: Path, pin: str):
    with pytest.raises(PinError, match="4 to 12 digits"):
        AccessControl(tmp_path).set_pin(pin)
    assert not (tmp_path / ACCESS_FILE).exists()


@pytest.mark.parametrize("stored", ["", "scrypt$x$8$1$AA==$AA==", "bcrypt$1$2$3$4$5",
                                    "scrypt$16384$8$1$not base64!$AA==",
                                    "scrypt$1099511627776$8$1$AAAA$AAAA"])
def test_a_malformed_hash_never_matches(stored: str):
    assert not verify_pin(PIN, stored)


def test_changing_the_pin_needs_the_current_one(tmp_path: Path):
    access = AccessControl(tmp_path)
    access.set_pin(PIN)
    with pytest.raises(PinError, match="current PIN is wrong"):
        access.set_pin("2222", current_pin="1111")
    with pytest.raises(PinError, match="current PIN is wrong"):
        access.set_pin("2222")
    assert access.verify(PIN)
    access.set_pin("2222", current_pin=PIN)
    assert access.verify("2222") and not access.verify(PIN)


def test_attempts_pause_after_max_wrong_pins_and_resume_after_the_lockout(tmp_path: Path):
    clock = Clock()
    access = AccessControl(tmp_path, max_attempts=3, lockout_seconds=30, clock=clock)
    access.set_pin(PIN)
    assert not access.verify("0000")
    assert not access.verify("0001")
    assert access.seconds_paused() == 0
    assert not access.verify("0002")  # the third wrong one starts the pause
    assert access.seconds_paused() == 30
    with pytest.raises(PinError, match=r"try again in 30 s"):
        access.verify(PIN)  # even the right PIN is not checked while paused
    clock.now += 29
    with pytest.raises(PinError, match=r"try again in 1 s"):
        access.verify(PIN)
    clock.now += 1
    assert access.verify(PIN)


def test_a_right_pin_resets_the_count_of_wrong_ones(tmp_path: Path):
    clock = Clock()
    access = AccessControl(tmp_path, max_attempts=2, lockout_seconds=30, clock=clock)
    access.set_pin(PIN)
    assert not access.verify("0000")
    assert access.verify(PIN)
    assert not access.verify("0000")
    assert access.seconds_paused() == 0


def test_the_pause_also_guards_changing_the_pin(tmp_path: Path):
    access = AccessControl(tmp_path, max_attempts=2, lockout_seconds=60, clock=Clock())
    access.set_pin(PIN)
    for guess in ("1111", "2222"):
        with pytest.raises(PinError, match="current PIN is wrong"):
            access.set_pin("3333", current_pin=guess)
    with pytest.raises(PinError, match="Too many wrong PINs"):
        access.set_pin("3333", current_pin=PIN)
    assert verify_pin(PIN, json.loads((tmp_path / ACCESS_FILE).read_text())["pin_hash"])


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"pin_hash": 5}'])
def test_a_damaged_access_file_keeps_engineer_mode_locked(tmp_path: Path, content: str):
    (tmp_path / ACCESS_FILE).write_text(content)
    access = AccessControl(tmp_path)
    assert access.has_pin  # a station stays a station
    assert not access.verify("0000")
    assert access.start_role("auto") is Role.OPERATOR


def test_start_role(tmp_path: Path):
    access = AccessControl(tmp_path)
    assert access.start_role("auto") is Role.ENGINEER  # no PIN: a workstation, not a station
    assert access.start_role("operator") is Role.OPERATOR
    assert access.start_role("engineer") is Role.ENGINEER
    access.set_pin(PIN)
    assert access.start_role("auto") is Role.OPERATOR
    assert access.start_role("engineer") is Role.ENGINEER
