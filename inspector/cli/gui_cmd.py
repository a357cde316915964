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


def _command_name() -> str:
    """How the user can type this command again: `inspector`, or its path if not on PATH."""
    import shutil

    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("inspector")
    if not argv0.name.startswith("inspector") or argv0.name.endswith(".py"):
        return "inspector"
    on_path = shutil.which("inspector")
    if on_path and Path(on_path).resolve() == argv0.resolve():
        return "inspector"
    return str(argv0)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("gui", help="open the desktop application (default)")
    parser.add_argument("workspace", nargs="?", type=Path,
                        help="workspace folder (default: the last one, or the demo workspace)")
    # For installers and start-up timing: open the window (no workspace unless one is given),
    # let it paint once, and exit 0. Not for people, so not in --help.
    parser.add_argument("--exit-after-start", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def has_display() -> bool:
    if sys.platform in {"win32", "darwin"}:
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in {"offscreen", "minimal", "vnc"}:
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


X11_PACKAGES = ("libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 "
                "libxcb-randr0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 "
                "libegl1 libfontconfig1")


def missing_x11_libraries(plugin: Path | None = None) -> list[str]:
    """System libraries that Qt's X11 plugin needs and cannot find (Linux only).

    Qt aborts the process when its platform plugin fails to load, so this is checked first,
    to say what to install instead of dying with a core dump.
    """
    import ctypes
    import ctypes.util
    import importlib.util
    import re

    if plugin is None:
        spec = importlib.util.find_spec("PySide6")
        if spec is None or not spec.submodule_search_locations:
            return []
        plugin = Path(spec.submodule_search_locations[0]) / "Qt/plugins/platforms/libqxcb.so"
        if not plugin.exists():
            return []
    missing = []
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        found = re.findall(r"([\w.+-]+\.so[\w.]*): cannot open shared object", str(exc))
        missing.extend(found or [str(exc)])
    if ctypes.util.find_library("xcb-cursor") is None:  # loaded by Qt at run time
        missing.append("libxcb-cursor.so.0")
    return missing


def _uses_x11() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if platform:
        return platform == "xcb"
    return bool(os.environ.get("DISPLAY")) and not os.environ.get("WAYLAND_DISPLAY")


def run(args: argparse.Namespace) -> int:
    if not has_display():
        print(HEADLESS_HINT.format(exe=_command_name()))
        return 0
    if _uses_x11() and (missing := missing_x11_libraries()):
        print(f"The desktop application cannot start: Qt's X11 support needs system libraries "
              f"that are missing ({', '.join(missing)}).\nOn Debian or Ubuntu install them "
              f"with:\n\n    sudo apt install {X11_PACKAGES}\n\nMeanwhile the headless "
              "demo works: inspector demo", file=sys.stderr)
        return 3
    from inspector.gui.app import run_app

    return run_app(args.workspace, exit_after_start=args.exit_after_start)
