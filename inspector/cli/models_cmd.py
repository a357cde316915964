"""`inspector models list | compare | promote | rollback | export`: the model registry."""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path

from inspector.core.errors import InspectorError
from inspector.core.workspace import CONFIG_NAME, Workspace


def register(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser(
        "models", help="list, compare, promote, roll back and export model versions",
        description="Every trained model of a workspace is a version; one is active (what live "
        "inspection loads). A new version becomes active through the promotion gate: it is "
        "compared with the active one on the test split and the operators' corrections, and "
        "refused if any class gets worse by more than the configured margin, unless a reason "
        "is given. Every activation is written to the workspace's audit log.")
    models.add_argument("--workspace", type=Path, default=None,
                        help="the workspace (default: the current folder)")
    models.add_argument("--user", default=None, help="who acts (default: the login name)")
    actions = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the version tree, the active one marked")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    compare = actions.add_parser("compare", help="run the promotion gate for a version")
    compare.add_argument("model", help="the candidate version (a folder name under models/)")
    compare.add_argument("--baseline", help="compare with this version (default: the active)")
    compare.add_argument("--device", default="auto")
    compare.add_argument("--json", type=Path, help="also write the report as JSON here")
    promote = actions.add_parser("promote", help="make a version active (after the gate)")
    promote.add_argument("model")
    promote.add_argument("--force-reason", metavar="TEXT",
                         help="promote although the gate refused it, for this written reason")
    promote.add_argument("--device", default="auto")
    rollback = actions.add_parser("rollback", help="make an earlier version active again")
    rollback.add_argument("model")
    rollback.add_argument("--reason", default=None)
    export = actions.add_parser("export", help="export a version to ONNX or TorchScript")
    export.add_argument("model")
    export.add_argument("--format", choices=("onnx", "torchscript"), default="onnx")
    export.add_argument("--out", type=Path, default=None)
    models.set_defaults(func=cmd_models)


def _workspace(args: argparse.Namespace) -> Workspace:
    root = args.workspace
    if root is None:
        if not (Path.cwd() / CONFIG_NAME).is_file():
            raise InspectorError("Give --workspace, or run this inside a workspace folder.")
        root = Path.cwd()
    return Workspace.open(root)


def _percent(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def cmd_models(args: argparse.Namespace) -> int:
    from inspector.core.registry import Registry
    from inspector.core.station.audit import AuditLog

    workspace = _workspace(args)
    registry = Registry(workspace)
    user = args.user or getpass.getuser()
    if args.action == "list":
        return _list(registry, args.json)
    if args.action == "compare":
        report = registry.compare(args.model, args.baseline, args.device)
        _print_report(report)
        if args.json:
            args.json.write_text(json.dumps(report.to_dict(), indent=1))
        return 1 if report.refused else 0
    if args.action == "export":
        from inspector.core.inference.export import export_onnx, export_torchscript

        folder = registry.get(args.model).folder
        out = (export_onnx(folder, args.out) if args.format == "onnx"
               else export_torchscript(folder, args.out))
        print(f"Exported {args.model} to {out} (checked against PyTorch; model card "
              f"{out.with_suffix('.md').name} beside it).")
        return 0
    with AuditLog.for_workspace(workspace.root) as audit:
        if args.action == "rollback":
            version = registry.rollback(args.model, user=user, role="engineer", audit=audit,
                                        reason=args.reason)
            print(f"Rolled back: {version.name} is active.")
            return 0
        report = registry.saved_report(args.model)
        if report is None:
            print(f"Comparing {args.model} with the active version first…", flush=True)
            report = registry.compare(args.model, device=args.device)
        _print_report(report)
        version = registry.promote(args.model, report, user=user, role="engineer", audit=audit,
                                   force_reason=args.force_reason)
        print(f"Promoted: {version.name} is active"
              + (" (forced past the gate; the reason is in the audit log)." if report.refused
                 else "."))
    return 0


def _list(registry, as_json: bool) -> int:
    active = registry.active()
    rows = list(registry.walk())
    if as_json:
        print(json.dumps([{"name": v.name, "parent": v.parent, "depth": depth,
                           "active": active is not None and v.name == active.name,
                           "classes": v.info.classes, "created": v.info.created,
                           "test_accuracy": v.info.test_accuracy,
                           "test_macro_f1": v.info.test_macro_f1,
                           "problem": v.info.problem} for depth, v in rows], indent=1))
        return 0
    if not rows:
        print("No trained models yet: train one (inspector train --data WORKSPACE).")
        return 0
    print(f"{'version':<34} {'created':<19} {'classes':>7} {'test acc':>8} {'macro-F1':>8}")
    for depth, version in rows:
        info = version.info
        mark = "*" if active is not None and version.name == active.name else " "
        name = f"{'  ' * depth}{'└ ' if depth else ''}{version.name}"
        extra = f"  + {', '.join(version.new_classes)}" if version.new_classes else ""
        problem = f"  UNUSABLE: {info.problem}" if info.problem else ""
        print(f"{mark}{name:<33} {info.created[:19]:<19} {len(info.classes):>7} "
              f"{_percent(info.test_accuracy):>8} {_percent(info.test_macro_f1):>8}"
              f"{extra}{problem}")
    print("* active")
    return 0


def _print_report(report) -> None:
    against = report.baseline or "nothing (no active version)"
    print(f"{report.candidate} against {against}: {report.n_test} test images"
          f" + {report.n_inbox} operator corrections")
    print(f"  {'class':<20} {'images':>6}  {'recall':>15}  {'precision':>15}")
    for c in report.comparisons:
        recall = (f"{_percent(c.baseline_recall)} → {_percent(c.candidate_recall)}"
                  if c.baseline_recall is not None else f"{_percent(c.candidate_recall):>15}")
        precision = (f"{_percent(c.baseline_precision)} → {_percent(c.candidate_precision)}"
                     if c.baseline_precision is not None
                     else f"{_percent(c.candidate_precision):>15}")
        flag = "  WORSE" if c.worse else (f"  ({c.note})" if c.note else "")
        print(f"  {c.name:<20} {c.support:>6}  {recall:>15}  {precision:>15}{flag}")
    if report.baseline is not None:
        print(f"  accuracy {_percent(report.baseline_accuracy)} → "
              f"{_percent(report.candidate_accuracy)}; {report.n_changed} images changed "
              f"({sum(c.fixed for c in report.changed)} fixed, "
              f"{sum(c.broken for c in report.changed)} broken)")
    for warning in report.warnings:
        print(f"  note: {warning}")
    if report.refused:
        print("REFUSED by the gate: " + "; ".join(report.reasons))
    else:
        print("The gate passes it.")
