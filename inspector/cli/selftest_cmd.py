"""`inspector self-test`: check that this installation works on this machine.

    inspector self-test              packages, device, weights, user folders, a model, the GUI
    inspector self-test --quick      without the ONNX export, the training and the GUI
    inspector self-test --json FILE  the checks as JSON too (for an installer or IT's scripts)

Exit code 0 when every required check passed, 1 otherwise. Missing ImageNet weights are
reported, not failed: training without them works, it only needs more data.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

from inspector import __version__


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "self-test", help="check that this installation works on this machine",
        description="Import every library, find the compute device and the ImageNet weights, "
        "check the user folders, make a random-weight model, load it and classify one "
        "synthetic board patch with PyTorch and ONNX Runtime, train one tiny epoch in a child "
        "process as the desktop application does, and build the main window (offscreen when "
        "there is no display). Touches no workspace.")
    parser.add_argument("--quick", action="store_true",
                        help="skip the ONNX export, the training and the GUI check")
    parser.add_argument("--no-gui", action="store_true", help="skip the GUI check")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE",
                        help="also write the results to FILE as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inspector.core.paths import installation_dir
    from inspector.core.selftest import Check, run_self_test, timed_check

    print(f"Inspector {__version__} self-test ({installation_dir()})", flush=True)
    started = time.perf_counter()
    checks: list[Check] = []
    for check in run_self_test(onnx=not args.quick, train=not args.quick):
        checks.append(check)
        _print(check)
    if not (args.quick or args.no_gui):
        from inspector.gui.selftest import check_gui

        checks.append(timed_check("desktop window", check_gui))
        _print(checks[-1])
    failed = [c for c in checks if c.required and not c.ok]
    total = time.perf_counter() - started
    print(f"\n{len(checks) - len(failed)}/{len(checks)} checks passed in {total:.1f} s"
          + (f"; FAILED: {', '.join(c.name for c in failed)}" if failed else ""))
    if args.json is not None:
        from inspector.core.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(
            {"version": __version__, "passed": not failed, "seconds": total,
             "checks": [asdict(c) for c in checks]}, indent=2))
    return 1 if failed else 0


def _print(check) -> None:
    mark = "ok  " if check.ok else ("FAIL" if check.required else "note")
    print(f"[{mark}] {check.name} ({check.seconds:.1f} s): {check.detail}", flush=True)
