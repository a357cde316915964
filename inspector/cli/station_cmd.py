"""`inspector station set-pin | audit`: the engineer PIN and the audit log of a workspace.

    inspector station set-pin --workspace W            asks for the PIN twice (hidden)
    printf '1234\\n5678\\n' | inspector station set-pin --workspace W --pin-stdin
                                                       (a PIN already set: current, then new)
    inspector station audit --workspace W --limit 50 --verify
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from pathlib import Path

from inspector.core.errors import InspectorError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "station", help="the inspection station: engineer PIN and audit log",
        description="A workspace with an engineer PIN is a station: the desktop application "
        "starts it in operator mode (Live and Results only), and engineer mode needs the PIN.")
    sub = parser.add_subparsers(dest="station_command", metavar="ACTION", required=True)

    set_pin = sub.add_parser(
        "set-pin", help="set or change the engineer PIN of a workspace",
        description="The PIN is 4 to 12 digits, stored only as a salted scrypt hash in the "
        "workspace's access.json. Changing it needs the current PIN.")
    set_pin.add_argument("--workspace", type=Path, required=True)
    set_pin.add_argument("--pin-stdin", action="store_true",
                         help="read the PIN from standard input (one line; when a PIN is "
                         "already set, the current PIN on the first line and the new one on "
                         "the second) instead of asking twice")
    set_pin.add_argument("--user", default=None,
                         help="name for the audit log (default: the login name)")
    set_pin.set_defaults(func=cmd_set_pin)

    audit = sub.add_parser("audit", help="print the audit log, newest first",
                           description="Who changed what and when: role changes, overrides, "
                           "threshold and active-model changes, PIN changes, review inbox.")
    audit.add_argument("--workspace", type=Path, required=True)
    audit.add_argument("--limit", type=int, default=50, help="entries to print (default 50)")
    audit.add_argument("--action", default=None, help="only this action (e.g. override)")
    audit.add_argument("--user", default=None, help="only this user")
    audit.add_argument("--verify", action="store_true",
                       help="check the hash chain of the whole log; exit code 1 if tampered")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.set_defaults(func=cmd_audit)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a container or service
        return "cli"


def _read_pins(has_pin: bool, from_stdin: bool) -> tuple[str | None, str]:
    """(current PIN or None, new PIN)."""
    if from_stdin:
        lines = sys.stdin.read().splitlines()
        needed = 2 if has_pin else 1
        if len(lines) < needed:
            what = "the current PIN and the new one, one a line" if has_pin else "the new PIN"
            raise InspectorError(f"Give {what} on standard input.")
        return (lines[0].strip() if has_pin else None), lines[needed - 1].strip()
    current = getpass.getpass("Current engineer PIN: ") if has_pin else None
    new = getpass.getpass("New engineer PIN (4 to 12 digits): ")
    if getpass.getpass("The new PIN again: ") != new:
        raise InspectorError("The two PINs differ; the PIN was not changed.")
    return current, new


def cmd_set_pin(args: argparse.Namespace) -> int:
    from inspector.core.station import audit as actions
    from inspector.core.station.access import AccessControl, PinError, check_pin_format
    from inspector.core.station.audit import AuditLog
    from inspector.core.workspace import Workspace

    workspace = Workspace.open(args.workspace)
    station = workspace.config.station
    access = AccessControl(workspace.root, station.max_pin_attempts, station.lockout_seconds)
    changed = access.has_pin
    current, new = _read_pins(changed, args.pin_stdin)
    check_pin_format(new)  # before the current PIN is checked, so a typo costs no attempt
    user = args.user or _login_name()
    with AuditLog.for_workspace(workspace.root) as audit:
        try:
            access.set_pin(new, current)
        except PinError as exc:
            if changed:  # a wrong current PIN is a refused unlock, like one at the station
                audit.append(user, "operator", actions.UNLOCK_REFUSED, reason=str(exc),
                             via="cli")
            raise
        audit.append(user, "engineer", actions.PIN_SET, changed=changed, via="cli")
    print(f"Engineer PIN {'changed' if changed else 'set'} for {workspace.root}. "
          "The application starts this workspace in operator mode.")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from inspector.core.station.audit import AuditLog
    from inspector.core.workspace import Workspace

    workspace = Workspace.open(args.workspace)
    with AuditLog.for_workspace(workspace.root) as audit:
        entries = audit.entries(limit=max(0, args.limit), action=args.action, user=args.user)
        for entry in entries:
            if args.json:
                print(json.dumps({"id": entry.id, "time": entry.time, "user": entry.user,
                                  "role": entry.role, "action": entry.action,
                                  "detail": entry.detail}, ensure_ascii=False))
            else:
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.time))
                details = ", ".join(f"{k} {v}" for k, v in entry.detail.items())
                print(f"{entry.id:>6}  {when}  {entry.user:<14} {entry.role:<9} "
                      f"{entry.action:<15} {details}")
        total = audit.count(args.action, args.user)
        if not args.json:
            print(f"{len(entries)} of {total} entries shown, newest first.")
        if args.verify:
            broken = audit.verify()
            if broken is None:
                print(f"Log intact: {audit.count():,} entries.")
                return 0
            print(f"Tampered at entry {broken}: it, or one before it, was edited, removed or "
                  "inserted outside Inspector.", file=sys.stderr)
            return 1
    return 0
