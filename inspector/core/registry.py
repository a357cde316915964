"""The model registry: every trained model of a workspace is a version, one version is active.

A version is a model folder under `models/` (see model_catalog.py); its record is read from the
checkpoint's own metadata, so it cannot drift from the weights: the parent version (a warm
start's source), the dataset fingerprint and split manifest (`split.json`), the training and
model settings, metrics, verdict thresholds, temperature and date. Nothing is read but the
safetensors header: listing needs no torch.

Activation goes through `promote` (after the promotion gate, see evaluation/compare.py) or
`rollback`; both write the choice atomically to `models/active.json` (what the live engine
loads) and an entry to the workspace's audit log, and append the change to
`models/activations.jsonl` so the history of what ran on the line when can be listed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.core.errors import CheckpointError, InspectorError
from inspector.core.model_catalog import (
    CHECKPOINT_NAME,
    ModelInfo,
    active_model,
    list_models,
    read_header_metadata,
    set_active_model,
)

if TYPE_CHECKING:
    from inspector.core.evaluation.compare import GateReport
    from inspector.core.station.audit import AuditLog
    from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

HISTORY_FILE = "activations.jsonl"


class PromotionError(InspectorError):
    """A version may not become active (refused by the gate without a reason, unusable)."""


@dataclass(frozen=True)
class ModelVersion:
    info: ModelInfo
    parent: str | None = None
    dataset_fingerprint: str | None = None
    dataset: str | None = None
    train_config: dict[str, Any] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    temperature: float = 1.0
    metrics: dict[str, Any] = field(default_factory=dict)
    new_classes: list[str] = field(default_factory=list)  # added since the parent

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def folder(self) -> Path:
        return self.info.folder

    @property
    def split_manifest(self) -> Path:
        return self.info.folder / "split.json"


def read_version(info: ModelInfo) -> ModelVersion:
    if not info.usable:
        return ModelVersion(info)
    try:
        meta = read_header_metadata(info.folder / CHECKPOINT_NAME)
    except CheckpointError:
        return ModelVersion(info)
    parent = meta.get("parent") if isinstance(meta.get("parent"), dict) else {}
    verdict = meta.get("verdict") if isinstance(meta.get("verdict"), dict) else {}
    return ModelVersion(
        info, parent.get("model"), meta.get("dataset_fingerprint"), meta.get("dataset"),
        dict(meta.get("train_config") or {}), dict(meta.get("model_config") or {}),
        {str(k): float(v) for k, v in (verdict.get("thresholds") or {}).items()},
        float(meta.get("temperature", 1.0)),
        {k: v for k, v in (meta.get("metrics") or {}).items() if k != "history"},
        list(parent.get("new") or []))


class Registry:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def versions(self) -> list[ModelVersion]:
        """Every version, newest first (unusable ones last)."""
        return [read_version(info) for info in list_models(self.workspace)]

    def get(self, name: str) -> ModelVersion:
        for version in self.versions():
            if version.name == Path(name).name:
                return version
        raise CheckpointError(f"There is no model version '{name}' in "
                              f"{self.workspace.models_dir}.")

    def active(self) -> ModelVersion | None:
        info = active_model(self.workspace)
        return read_version(info) if info else None

    def children(self) -> dict[str | None, list[ModelVersion]]:
        """The version tree: parent name (None for roots) -> its versions, oldest first. A
        parent that is gone (deleted) makes its children roots."""
        versions = self.versions()
        names = {v.name for v in versions}
        tree: dict[str | None, list[ModelVersion]] = {}
        for version in reversed(versions):
            parent = version.parent if version.parent in names else None
            tree.setdefault(parent, []).append(version)
        return tree

    def walk(self) -> Iterator[tuple[int, ModelVersion]]:
        """(depth, version) in tree order: roots oldest first, each followed by its children."""
        tree = self.children()

        def visit(parent: str | None, depth: int) -> Iterator[tuple[int, ModelVersion]]:
            for version in tree.get(parent, []):
                yield depth, version
                yield from visit(version.name, depth + 1)

        yield from visit(None, 0)

    # -- the gate
    def compare(self, name: str, baseline: str | None = None, device: str = "auto",
                on_progress=None, stop_event=None) -> GateReport:
        """Run the promotion gate for `name` against `baseline` (default: the active version)
        and keep the report in the candidate's folder (gate.json) for `promote`."""
        from inspector.core.evaluation.compare import GATE_FILE, compare_models
        from inspector.core.station.inbox import ReviewInbox

        candidate = self.get(name)
        if baseline is None:
            active = self.active()
            base = active.folder if active and active.name != candidate.name else None
        else:
            base = self.get(baseline).folder
        report = compare_models(candidate.folder, base, self.workspace.dataset(),
                                self.workspace.config, ReviewInbox(self.workspace.root),
                                device, on_progress, stop_event)
        report.save(candidate.folder / GATE_FILE)
        return report

    def saved_report(self, name: str) -> GateReport | None:
        """The candidate's saved comparison if it is still valid: made against the version
        that is active now, after the candidate's checkpoint was written."""
        from inspector.core.evaluation.compare import GATE_FILE, load_report

        candidate = self.get(name)
        loaded = load_report(candidate.folder / GATE_FILE)
        if loaded is None:
            return None
        report, created = loaded
        active = self.active()
        current = active.name if active and active.name != candidate.name else None
        try:
            newer = created >= (candidate.folder / CHECKPOINT_NAME).stat().st_mtime
        except OSError:
            return None
        return report if newer and report.baseline == current else None

    # -- activation
    def history(self) -> list[dict[str, Any]]:
        path = self.workspace.models_dir / HISTORY_FILE
        entries = []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue  # a line torn by a kill: the rest still counts
        return entries

    def promote(self, name: str, report: GateReport | None, *, user: str, role: str,
                audit: AuditLog | None, force_reason: str | None = None) -> ModelVersion:
        """Make `name` active. Without a gate report, or with one that refused it, a written
        `force_reason` is required; it goes to the audit log with the report's reasons."""
        version = self.get(name)
        if report is not None and report.candidate != version.name:
            raise PromotionError(f"The comparison is of {report.candidate}, not {version.name}.")
        if report is not None:
            active = self.active()
            now = active.name if active is not None and active.name != version.name else None
            if report.baseline != now:
                raise PromotionError(
                    f"The comparison of {version.name} was made against "
                    f"{report.baseline or 'no active version'}, but {now or 'none'} is active "
                    "now: compare it again.")
        reason = (force_reason or "").strip()
        refused = report is None or report.refused
        if refused and len(reason) < 10:
            why = ("it has not been compared with the active model" if report is None
                   else "; ".join(report.reasons))
            raise PromotionError(f"{version.name} cannot be promoted: {why}. To promote it "
                                 "anyway, write the reason (at least 10 characters).")
        return self._activate(version, "promote", user, role, audit, reason or None, report)

    def rollback(self, name: str, *, user: str, role: str, audit: AuditLog | None,
                 reason: str | None = None) -> ModelVersion:
        """Make an earlier version active again at once (no gate: it ran on the line before)."""
        return self._activate(self.get(name), "rollback", user, role, audit, reason, None)

    def _activate(self, version: ModelVersion, how: str, user: str, role: str,
                  audit: AuditLog | None, reason: str | None,
                  report: GateReport | None) -> ModelVersion:
        from inspector.core.station import audit as actions

        if not version.info.usable:
            raise PromotionError(f"{version.name} cannot be made active: {version.info.problem}")
        previous = self.active()
        detail: dict[str, Any] = {"model": version.name, "how": how,
                                  "previous": previous.name if previous else None}
        if reason:
            detail["reason"] = reason
        if report is not None:
            detail["gate"] = "refused" if report.refused else "passed"
            if report.reasons:
                detail["gate_reasons"] = report.reasons
        # the audit entry first: an activation that cannot be audited does not happen
        if audit is not None:
            audit.append(user, role, actions.ACTIVE_MODEL, **detail)
        set_active_model(self.workspace, version.folder)
        self._append_history({"time": time.time(), "user": user, **detail})
        log.info("%s: %s is active (was %s)", how, version.name,
                 previous.name if previous else "none")
        return version

    def _append_history(self, entry: dict[str, Any]) -> None:
        path = self.workspace.models_dir / HISTORY_FILE
        try:
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        except OSError as exc:  # the audit log has it; the history is a convenience
            log.warning("cannot append to %s: %s", path, exc)
