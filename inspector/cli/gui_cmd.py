"""`inspector gui [WORKSPACE]`: the desktop application (the default command)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HEADLESS_HINT = """\
No display was found, so the desktop application cannot open here.
To see Inspector work without a display, run the headless demo:

    {exe} demo

It generates the demo workspace's synthetic PCB dataset, validates and splits it, and prints
what it found. To start the window on this machine anyway, give it a display (for example
`xvfb-run {exe}`) or set QT_QPA_PLATFORM=offscreen for automated use.
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("gui", help="open the desktop application (default)")
    parser.add_argument("workspace", nargs="?", type=Path,
                        help="workspace folder (default: the last one, or the demo workspace)")
    parser.set_defaults(func=run)


def has_display() -> bool:
    if sys.platform in {"win32", "darwin"}:
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in {"offscreen", "minimal", "vnc"}:
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(args: argparse.Namespace) -> int:
    if not has_display():
        exe = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "inspector"
        print(HEADLESS_HINT.format(exe=exe if exe.startswith("inspector") else "inspector"))
        return 0
    from inspector.gui.app import run_app

    return run_app(args.workspace)
