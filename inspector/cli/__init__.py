"""The command line: `inspector [SUBCOMMAND]`, a thin front end over inspector.core.

Heavy modules are imported inside each command, so `inspector --help` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys

from inspector import __version__
from inspector.core.errors import InspectorError

log = logging.getLogger("inspector")


def build_parser() -> argparse.ArgumentParser:
    from inspector.cli import (
        dataset_cmd,
        demo_cmd,
        gui_cmd,
        live_cmd,
        models_cmd,
        paths_cmd,
        selftest_cmd,
        station_cmd,
        train_cmd,
    )

    parser = argparse.ArgumentParser(
        prog="inspector",
        description="Visual inspection of printed circuit boards. With no subcommand, opens the "
        "desktop application on the last workspace (or the demo workspace).",
    )
    parser.add_argument("--version", action="version", version=f"Inspector {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui_cmd.register(commands)
    demo_cmd.register(commands)
    dataset_cmd.register(commands)
    train_cmd.register(commands)
    live_cmd.register(commands)
    models_cmd.register(commands)
    station_cmd.register(commands)
    selftest_cmd.register(commands)
    paths_cmd.register(commands)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbosity, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    # A frozen (PyInstaller) executable re-runs itself for the training's child process
    # (core/training/isolated.py): this hands such a run to multiprocessing instead.
    multiprocessing.freeze_support()
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    if args.command is None:
        args = parser.parse_args(["gui", *(argv if argv is not None else sys.argv[1:])])
    try:
        return int(args.func(args) or 0)
    except InspectorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
