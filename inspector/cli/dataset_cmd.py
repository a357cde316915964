"""`inspector dataset check | stats | split | import | synth`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inspector.cli.progress import progress_bar
from inspector.cli.report import print_stats, print_validation
from inspector.config import DatasetConfig, SplitConfig
from inspector.core.data.dataset import Dataset
from inspector.core.data.importers import FORMATS
from inspector.core.errors import DatasetError, InspectorError
from inspector.core.workspace import CONFIG_NAME, Workspace


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("dataset", help="check, split, import or generate datasets")
    sub = parser.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    where = "a dataset folder (one folder per class) or a workspace (its active dataset)"

    check = sub.add_parser("check", help="report every problem in a dataset")
    check.add_argument("path", type=Path, help=where)
    check.add_argument("--all", action="store_true", help="list every file, not the first 20")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(func=cmd_check)

    stats = sub.add_parser("stats", help="counts per class and split, sizes, imbalance")
    stats.add_argument("path", type=Path, help=where)
    stats.set_defaults(func=cmd_stats)

    split = sub.add_parser("split", help="assign new images to train/val/test (stable)")
    split.add_argument("path", type=Path, help=where)
    split.add_argument("--reset", action="store_true",
                       help="redo every assignment (old test images may move into training)")
    for name in ("train", "val", "test"):
        split.add_argument(f"--{name}", type=float, default=None,
                           help=f"fraction for {name} (only for images not yet assigned)")
    split.set_defaults(func=cmd_split)

    imp = sub.add_parser("import", help="import images into a dataset",
                         description="Import SRC into DEST (created if missing). Source files "
                         "are only read.")
    imp.add_argument("--format", choices=FORMATS, default="folder", dest="fmt")
    imp.add_argument("src", type=Path)
    imp.add_argument("dest", type=Path, help=where)
    imp.set_defaults(func=cmd_import)

    synth = sub.add_parser("synth", help="generate a synthetic PCB patch dataset")
    synth.add_argument("dest", type=Path, help=where)
    synth.add_argument("--per-class", type=int, required=True)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--size", type=int, default=128, help="patch side in pixels")
    synth.add_argument("--style", choices=("photo", "scan"), default="photo",
                       help="photo: a camera on the line; scan: binarised like DeepPCB")
    synth.set_defaults(func=cmd_synth)


def open_dataset(path: Path, create: bool = False) -> tuple[Dataset, Workspace | None]:
    """A workspace gives its active dataset and settings; any other folder is a dataset."""
    path = path.expanduser()
    if (path / CONFIG_NAME).is_file():
        workspace = Workspace.open(path)
        return workspace.dataset(), workspace
    if create:
        return Dataset.create(path), None
    if not path.exists():
        raise DatasetError(f"{path} does not exist. Give a dataset folder or a workspace.")
    return Dataset(path), None


def cmd_check(args: argparse.Namespace) -> int:
    from inspector.core.data.validation import validate

    dataset, _ = open_dataset(args.path)
    with progress_bar("Checking") as bar:
        report = validate(dataset, on_progress=bar)
    if args.json:
        print(json.dumps({
            "root": str(report.root), "images_checked": report.images_checked,
            "counts": report.counts,
            "issues": [{"kind": i.kind.name.lower(), "error": i.is_error, "message": i.message,
                        "paths": [str(p) for p in i.paths], "class": i.label}
                       for i in report.issues],
        }, indent=1))
    else:
        print_validation(report, limit=None if args.all else 20)
    return 1 if report.errors else 0


def cmd_stats(args: argparse.Namespace) -> int:
    from inspector.core.data.stats import compute_stats

    dataset, _ = open_dataset(args.path)
    with progress_bar("Reading") as bar:
        records, _errors = dataset.records(on_progress=bar)
    print_stats(compute_stats(dataset, records))
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    from inspector.core.data.stats import compute_stats

    dataset, workspace = open_dataset(args.path)
    given = {k: getattr(args, k) for k in ("train", "val", "test") if getattr(args, k) is not None}
    if given:
        ratios = dataset.config.split.as_dict() | given
        try:
            dataset.config = DatasetConfig(**(dataset.config.model_dump() | {"split": ratios}))
        except ValueError as exc:
            raise InspectorError(f"Invalid split fractions: {exc}") from None
        if workspace is not None:
            workspace.config.dataset.split = SplitConfig(**ratios)
            workspace.save_config()
    with progress_bar("Hashing") as bar:
        records, _ = dataset.records(on_progress=bar)
    assigned = dataset.split(reset=args.reset, records=records)
    print(f"{assigned} images assigned to a split"
          + (" (all assignments redone)" if args.reset else "; earlier assignments kept"))
    print_stats(compute_stats(dataset, records))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from inspector.core.data.importers import import_dataset

    dataset, workspace = open_dataset(args.dest, create=True)
    config = workspace.config.importers if workspace else None
    with progress_bar(f"Importing {args.src}") as bar:
        report = import_dataset(args.fmt, args.src, dataset, config, on_progress=bar)
    print(report.summary())
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from inspector.core.data.synthetic import generate_patch_dataset

    if args.per_class < 1:
        raise InspectorError("--per-class must be at least 1.")
    dataset, _ = open_dataset(args.dest, create=True)
    with progress_bar("Generating", unit="patch") as bar:
        counts = generate_patch_dataset(dataset.root, per_class=args.per_class, seed=args.seed,
                                        size=args.size, style=args.style, on_progress=bar)
    dataset.keep_split_current()
    total = sum(counts.values())
    print(f"Generated {total} patches ({args.per_class} per class, seed {args.seed}, "
          f"{args.style} style) in {dataset.root}:")
    for label, count in counts.items():
        print(f"  {label}: {count}")
    return 0
