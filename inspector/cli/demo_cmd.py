"""`inspector demo`: the headless demo on the built-in demo workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from inspector.cli.progress import progress_bar
from inspector.cli.report import print_stats, print_validation


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "demo", help="run the headless demo on the demo workspace",
        description="Create the demo workspace (a synthetic PCB dataset), validate and split "
        "it, train a small model (minutes on a CPU, once), then run live inspection on the "
        "virtual camera and compare the verdicts with the truth.",
    )
    parser.add_argument("--workspace", type=Path, default=None,
                        help="where the demo workspace lives (default: datasets/demo in a "
                        "source checkout, else the user's data folder)")
    parser.add_argument("--per-class", type=int, default=None, help="images per class to make")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--frames", type=int, default=200, help="virtual-camera frames to inspect")
    parser.add_argument("--no-train", action="store_true",
                        help="stop after the dataset (no model, no live inspection)")
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
    if not args.no_train:
        _train_and_inspect(workspace, args.frames)
    print("\nOpen it in the desktop application with: inspector gui " + str(workspace.root))
    return 0


def _train_and_inspect(workspace, frames: int) -> None:
    from inspector.cli.live_cmd import _print_summary
    from inspector.core.demo import ensure_demo_model, run_demo_live
    from inspector.core.models.pretrained import NO_WEIGHTS_WARNING

    print("\nTraining the demo model (once; later runs reuse it) ...", flush=True)

    def on_progress(p) -> None:
        if p.stage == "epoch":
            print(f"  epoch {p.epoch}/{p.epochs}: val accuracy {p.val_accuracy:.3f}, "
                  f"macro-F1 {p.val_macro_f1:.3f} ({p.images_per_s:.0f} img/s)", flush=True)
        elif p.stage == "status" and p.message != NO_WEIGHTS_WARNING:  # logged already
            print(f"  {p.message}", flush=True)

    model = ensure_demo_model(workspace, on_progress)
    from inspector.core.training.checkpoint import load_checkpoint

    test = load_checkpoint(model).meta.get("metrics", {}).get("test")
    if test:
        print(f"Demo model: test accuracy {test['accuracy']:.3f}, macro-F1 "
              f"{test['macro_f1']:.3f}")
    print(f"\nLive inspection of the virtual camera ({frames} frames with known defects) ...",
          flush=True)
    summary = run_demo_live(workspace, model, frames)
    _print_summary(summary, workspace.results_path)
