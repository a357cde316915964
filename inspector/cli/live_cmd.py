"""`inspector live` (headless live inspection) and `inspector export` (ONNX)."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from pathlib import Path

from inspector.config import InspectorConfig
from inspector.core.errors import InspectorError
from inspector.core.workspace import CONFIG_NAME, Workspace


def register(commands: argparse._SubParsersAction) -> None:
    live = commands.add_parser(
        "live", help="run live inspection on a camera, video, folder, URL or the virtual camera",
        description="Classify every frame of a source, with a PASS / FAIL / REVIEW verdict and "
        "a Grad-CAM overlay, store the results and print a summary. The operator's window is "
        "the desktop application's Live page; this command runs headless.")
    live.add_argument("--source", default=None,
                      help="camera index (0), video file, image folder, rtsp:// or http:// URL, "
                      "or virtual[:SEED] (default: the workspace setting, else virtual)")
    live.add_argument("--model", type=Path, default=None,
                      help="model folder or file (default: the workspace's active model)")
    live.add_argument("--workspace", type=Path, default=None,
                      help="workspace whose settings, model and results store to use")
    live.add_argument("--backend", choices=("torch", "onnx", "onnx-int8"), default=None)
    live.add_argument("--device", default="auto")
    live.add_argument("--headless", action="store_true",
                      help="no window (the only mode of this command; kept for scripts)")
    live.add_argument("--out", type=Path, default=None,
                      help="store results here (results.sqlite and snapshots/) instead of the "
                      "workspace's store")
    live.add_argument("--max-frames", type=int, default=None)
    live.add_argument("--tiling", action="store_true", help="classify a grid of patches")
    live.add_argument("--roi", default=None, help="region of interest: x,y,width,height")
    live.add_argument("--virtual-mode", choices=("board", "patch"), default="board",
                      help="virtual camera: whole moving boards, or single patches")
    live.set_defaults(func=cmd_live)

    export = commands.add_parser("export", help="export a model to ONNX (fp32 and INT8)")
    export.add_argument("--format", choices=("onnx",), default="onnx")
    export.add_argument("--model", type=Path, required=True, help="model folder or file")
    export.add_argument("--int8", action="store_true",
                        help="also make an INT8 model, calibrated on --data's validation split")
    export.add_argument("--data", type=Path, default=None,
                        help="dataset for INT8 calibration (val) and its accuracy check (test)")
    export.set_defaults(func=cmd_export)


def workspace_model(workspace: Workspace) -> Path:
    """The workspace's active model (promoted on the Models page), else its oldest usable one:
    a newly trained model goes live by promotion only."""
    from inspector.core.inference.session import NoModelError, live_model_path

    try:
        return live_model_path(workspace)
    except NoModelError:
        raise InspectorError(f"The workspace {workspace.root} has no usable trained model yet: "
                             "train one (inspector train --data WORKSPACE) or give --model."
                             ) from None


def _setup(args: argparse.Namespace) -> tuple[InspectorConfig, Workspace | None, Path]:
    workspace = None
    if args.workspace is not None:
        workspace = Workspace.open(args.workspace)
    elif args.model is None and (Path.cwd() / CONFIG_NAME).is_file():
        workspace = Workspace.open(Path.cwd())
    config = workspace.config if workspace else InspectorConfig()
    model = args.model or (workspace_model(workspace) if workspace else None)
    if model is None:
        raise InspectorError("Give --model, or --workspace to use its newest model.")
    live = config.live
    if args.source is not None:
        live.source.spec = args.source
    if args.backend is not None:
        live.backend = args.backend
    if args.tiling:
        live.tiling = True
    if args.roi:
        try:
            x, y, w, h = (int(v) for v in args.roi.split(","))
        except ValueError:
            raise InspectorError("--roi takes four integers: x,y,width,height.") from None
        live.roi = (x, y, w, h)
    return config, workspace, model


def cmd_live(args: argparse.Namespace) -> int:
    # torch's OpenMP threads spin after each parallel region and starve the frame source's
    # reader thread on a small machine (see inspector/gui/workers/live.py); only effective
    # before torch loads, as here. A value the user set wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from inspector.core.inference.session import build_live_run
    from inspector.core.results import ResultsStore

    config, workspace, model = _setup(args)
    live = config.live
    run = build_live_run(live, model, device=args.device, virtual_mode=args.virtual_mode)
    predictor, source = run.predictor, run.source
    store_path = (args.out / "results.sqlite" if args.out
                  else workspace.results_path if workspace else None)
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    last_print = [time.monotonic()]

    def on_result(result) -> None:
        now = time.monotonic()
        if now - last_print[0] >= 2.0:
            last_print[0] = now
            print(f"frame {result.index}: {result.decision.verdict.value} "
                  f"{result.decision.label} {result.decision.confidence:.2f}  "
                  f"{result.fps:.1f} FPS", flush=True)

    print(f"Inspecting {source.describe()} with {predictor.version} "
          f"({predictor.backend.name}); Ctrl-C stops.", flush=True)
    try:
        store = ResultsStore(store_path, live.results) if store_path else None
        with source:
            summary = run.inspector(store, on_result).run(stop, args.max_frames)
        if store is not None:
            store.close()
    finally:
        signal.signal(signal.SIGINT, previous)
    _print_summary(summary, store_path)
    return 0 if summary.end_state != "failed" else 1


def _print_summary(summary, store_path: Path | None) -> None:
    verdicts = ", ".join(f"{k.value} {v}" for k, v in sorted(summary.verdicts.items()))
    print(f"\n{summary.frames} frames in {summary.seconds:.1f} s ({summary.fps:.1f} FPS), "
          f"{summary.dropped} stale frames skipped; {verdicts or 'no verdicts'}")
    if summary.yield_pct is not None:
        print(f"yield: {summary.yield_pct:.1f}% PASS")
    if summary.truth_known:
        print(f"against the known truth: verdict right on {summary.truth_agrees} of "
              f"{summary.truth_known} frames ({summary.truth_agrees / summary.truth_known:.1%}); "
              f"class right on {summary.label_agrees}")
    if summary.end_state in {"ended", "failed"}:
        print(f"source {summary.end_state}" + (f": {summary.error}" if summary.error else ""))
    if store_path:
        print(f"results stored in {store_path}")


def cmd_export(args: argparse.Namespace) -> int:
    from inspector.core.inference.export import export_onnx

    model = args.model
    path = export_onnx(model if model.is_file() else model / "best.safetensors")
    print(f"ONNX model: {path} (checked against PyTorch before it was written)")
    if args.int8:
        if args.data is None:
            raise InspectorError("--int8 needs --data: INT8 is calibrated on the validation "
                                 "split and checked on the test split.")
        from inspector.cli.dataset_cmd import open_dataset
        from inspector.core.inference.quantize import quantize_with_dataset

        dataset, _ = open_dataset(args.data)
        report = quantize_with_dataset(path, model, dataset)
        if report.n_images:
            print(f"INT8 model: {report.path}; test accuracy {report.int8_accuracy:.4f} vs "
                  f"fp32 {report.fp32_accuracy:.4f} ({report.delta_points:+.2f} points) on "
                  f"{report.n_images} images")
        else:
            print(f"INT8 model: {report.path}; the dataset has no test split, so its accuracy "
                  f"was not measured (features correlation {report.features_correlation:.3f})")
    return 0
