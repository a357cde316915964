"""`inspector demo`: the headless demo on the built-in demo workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from inspector.cli.progress import progress_bar
from inspector.cli.report import print_stats, print_validation


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "demo", help="run the headless demo on the demo workspace",
        description="Create the demo workspace (a synthetic PCB dataset), validate it, split "
        "it and print its statistics.",
    )
    parser.add_argument("--workspace", type=Path, default=None,
                        help="where the demo workspace lives (default: datasets/demo in a "
                        "source checkout, else the user's data folder)")
    parser.add_argument("--per-class", type=int, default=None, help="images per class to make")
    parser.add_argument("--seed", type=int, default=None)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inspector.core.data.stats import compute_stats
    from inspector.core.data.validation import validate
    from inspector.core.demo import DEMO_PER_CLASS, DEMO_SEED, ensure_demo_workspace

    with progress_bar("Generating the demo dataset") as bar:
        workspace = ensure_demo_workspace(
            args.workspace, per_class=args.per_class or DEMO_PER_CLASS,
            seed=DEMO_SEED if args.seed is None else args.seed, on_progress=bar,
        )
    dataset = workspace.dataset()
    print(f"Demo workspace: {workspace.root}")
    with progress_bar("Validating") as bar:
        report = validate(dataset, on_progress=bar)
    print_validation(report, limit=5)
    print()
    print_stats(compute_stats(dataset))
    print("\nOpen it in the desktop application with: inspector gui " + str(workspace.root))
    return 0
