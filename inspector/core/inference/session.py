"""A live inspection run built from a workspace's settings: one recipe for the CLI and the GUI.

    run = build_live_run(config.live, live_model_path(workspace), on_state=...)
    with run.source:
        summary = run.inspector(store, on_result).run(stop_event)

`build_live_run` loads the model (Predictor), makes the verdict policy from the checkpoint's
fitted thresholds and the workspace's overrides (VerdictPolicy), and opens the frame source with
the options a front end would otherwise have to know: the virtual camera's mode and patch size,
and whether files play at their own rate. `describe_live_model` gives the active model's classes
and thresholds from the checkpoint's header alone (no torch), so a window can show its buttons
and sliders before anything heavy is loaded. `ShiftTally` counts the verdicts of the current
shift: those already stored when it starts, plus every result counted since.

Importing this module does not import torch or OpenCV; `build_live_run` does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from inspector.config import LiveConfig, VerdictConfig
from inspector.core.errors import InspectorError
from inspector.core.inference.verdict import VerdictPolicy

if TYPE_CHECKING:
    from inspector.core.inference.live import LiveInspector, LiveResult
    from inspector.core.inference.predictor import Predictor
    from inspector.core.inference.sources import FrameSource, StateCallback
    from inspector.core.results.store import ResultsStore
    from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

VirtualMode = Literal["board", "patch"]
VIRTUAL_MODES: tuple[str, ...] = ("board", "patch")
VERDICTS: tuple[str, ...] = ("PASS", "FAIL", "REVIEW")


class NoModelError(InspectorError):
    """The workspace has no usable trained model to inspect with."""


# ------------------------------------------------------------------------------ the model
def live_model_path(workspace: Workspace) -> Path:
    """The checkpoint of the workspace's active model (chosen on the Models page), else of its
    newest usable one. NoModelError when it has none."""
    from inspector.core.model_catalog import CHECKPOINT_NAME, active_model

    model = active_model(workspace)
    if model is None:
        raise NoModelError(f"The workspace {workspace.root.name} has no trained model yet, so "
                           "there is nothing to inspect with: train one on the Training page "
                           "(or with `inspector train`) first.")
    return model.folder / CHECKPOINT_NAME


@dataclass(frozen=True)
class LiveModel:
    """What a front end shows about the model before loading it: read from the header only."""

    path: Path
    name: str
    classes: list[str]
    input_size: int
    policy: VerdictPolicy  # the thresholds a run would start with (settings over fitted)
    fitted_thresholds: dict[str, float]  # the model's own, without the settings' overrides

    @property
    def good_class(self) -> str:
        return self.policy.good


def _header_policy(classes: Sequence[str], verdict: VerdictConfig, meta: Mapping) -> VerdictPolicy:
    return VerdictPolicy(classes, verdict, meta.get("verdict", {}),
                         float(meta.get("temperature", 1.0)))


def describe_live_model(workspace: Workspace, verdict: VerdictConfig | None = None,
                        path: Path | None = None) -> LiveModel:
    """The active model (or the checkpoint at `path`) with the verdict policy a run would use,
    from the checkpoint's header: no weights are read and torch is not imported.
    NoModelError without a model; ConfigError when the settings name classes it lacks."""
    from inspector.core.model_catalog import read_header_metadata

    path = path or live_model_path(workspace)
    verdict = verdict if verdict is not None else workspace.config.live.verdict
    meta = read_header_metadata(path)
    classes = [str(c) for c in meta.get("classes", [])]
    policy = _header_policy(classes, verdict, meta)
    fitted = _header_policy(classes, verdict.model_copy(update={"thresholds": {}}), meta)
    return LiveModel(path, path.parent.name, classes, int(meta.get("input_size", 0)), policy,
                     dict(fitted.thresholds))


def make_policy(predictor: Predictor, verdict: VerdictConfig) -> VerdictPolicy:
    """The verdict policy for a loaded model: its fitted thresholds, `verdict` overriding them."""
    return VerdictPolicy(predictor.classes, verdict, predictor.verdict_defaults,
                         predictor.temperature)


# ------------------------------------------------------------------------------ the source
def source_options(spec: str, input_size: int, *, virtual_mode: str = "board",
                   model_classes: Sequence[str] | None = None,
                   realtime_files: bool = False) -> dict[str, Any]:
    """The open_source options a live run uses for `spec`.

    The virtual camera shows whole boards ("board") or single patches ("patch", twice the
    model's input size). With `model_classes` its defects are those of the model's classes
    that the generator can draw (all of them when it can draw none). `realtime_files` plays a
    video or a folder at its own rate, like a camera, instead of as fast as the model goes.
    """
    if virtual_mode not in VIRTUAL_MODES:
        raise InspectorError(f"The virtual camera's mode is 'board' or 'patch', not "
                             f"'{virtual_mode}'.")
    text = spec.strip().lower()
    options: dict[str, Any] = {}
    if text.startswith("virtual"):
        options["mode"] = virtual_mode
        if virtual_mode == "patch":
            options["size"] = input_size * 2
        if model_classes is not None:
            from inspector.core.data.synthetic.common import DEFECT_CLASSES

            known = [c for c in model_classes if c in DEFECT_CLASSES]
            if known:
                options["classes"] = tuple(known)
    elif realtime_files:
        options["realtime"] = True  # taken by files and folders; cameras and URLs ignore it
    return options


def open_live_source(config: LiveConfig, input_size: int, *, virtual_mode: str = "board",
                     model_classes: Sequence[str] | None = None, realtime_files: bool = False,
                     on_state: StateCallback | None = None) -> FrameSource:
    """The frame source named by `config.source` with source_options(...); not started.
    CameraError when the spec names no source."""
    from inspector.core.inference.sources import open_source

    options = source_options(config.source.spec, input_size, virtual_mode=virtual_mode,
                             model_classes=model_classes, realtime_files=realtime_files)
    if on_state is not None:
        options["on_state"] = on_state
    return open_source(config.source, **options)


# ------------------------------------------------------------------------------ the run
@dataclass
class LiveRun:
    """Everything a live inspection needs, built and ready; `source` is not started yet."""

    config: LiveConfig
    model_path: Path
    predictor: Predictor
    policy: VerdictPolicy
    source: FrameSource

    @property
    def classes(self) -> list[str]:
        return list(self.predictor.classes)

    def inspector(self, store: ResultsStore | None = None,
                  on_result: Callable[[LiveResult], None] | None = None) -> LiveInspector:
        from inspector.core.inference.live import LiveInspector

        return LiveInspector(self.predictor, self.policy, self.source, self.config, store,
                             on_result)


def build_live_run(config: LiveConfig, model: Path, *, device: str = "auto",
                   virtual_mode: str = "board", match_virtual_classes: bool = False,
                   realtime_files: bool = False, on_state: StateCallback | None = None,
                   source: FrameSource | None = None) -> LiveRun:
    """Load the model at `model` (a checkpoint file or its folder) with `config.backend`, make
    its verdict policy with `config.verdict`, and open `config.source` (or take `source`, a
    FrameSource made elsewhere, whose state callback becomes `on_state`).

    `config` is copied: later edits of the caller's object do not reach the run. Raises
    CheckpointError (no such model, no ONNX export for an ONNX backend), ConfigError (the
    settings name classes the model lacks) or CameraError (a spec that names no source).
    """
    from inspector.core.inference.predictor import Predictor
    from inspector.core.model_catalog import CHECKPOINT_NAME

    config = config.model_copy(deep=True)
    path = Path(model)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    predictor = Predictor.from_checkpoint(path, device, config.backend)
    policy = make_policy(predictor, config.verdict)
    if source is None:
        source = open_live_source(
            config, predictor.input_size, virtual_mode=virtual_mode,
            model_classes=predictor.classes if match_virtual_classes else None,
            realtime_files=realtime_files, on_state=on_state)
    elif on_state is not None:
        source.on_state = on_state
    return LiveRun(config, path, predictor, policy, source)


# ------------------------------------------------------------------------------ the shift
def current_shift(shifts: Mapping[str, str], now: float) -> tuple[str, float, float] | None:
    """(name, start, end) of the shift `now` falls in; None without (valid) shifts."""
    from inspector.core.results.stats import shift_ranges

    try:
        ranges = shift_ranges(now - 2 * 86_400.0, now + 1.0, shifts)
    except ValueError as exc:
        log.warning("live.results.shifts: %s; counting since the start instead", exc)
        return None
    for name, _day, start, end in ranges:
        if start <= now < end:
            return name, start, end
    return None


@dataclass(frozen=True)
class ShiftCounts:
    name: str  # the shift's name; "" when counting since `start` without shifts
    start: float
    end: float | None
    passed: int = 0
    failed: int = 0
    review: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.review

    @property
    def yield_pct(self) -> float | None:
        return 100.0 * self.passed / self.total if self.total else None


class ShiftTally:
    """Verdict counts of the current shift (live.results.shifts): the rows `store` already
    holds for it when the tally starts, plus each verdict `add`ed since. When the shift ends
    the counts start again from zero. Without shifts it counts from its creation. Thread-safe.
    """

    def __init__(self, shifts: Mapping[str, str], store: ResultsStore | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._shifts = dict(shifts)
        self._clock = clock
        self._lock = threading.Lock()
        now = clock()
        self._counts = dict.fromkeys(VERDICTS, 0)
        found = current_shift(self._shifts, now)
        if found is None:
            self._name, self._start, self._end = "", now, None
            return
        self._name, self._start, self._end = found
        if store is not None:
            store.flush()  # rows of an earlier run still queued
            counts = store.verdict_counts([(self._start, now)])[0]
            self._counts = {v: int(counts.get(v, 0)) for v in VERDICTS}

    def add(self, verdict: str, when: float | None = None) -> None:
        when = self._clock() if when is None else when
        with self._lock:
            if self._end is not None and when >= self._end:
                found = current_shift(self._shifts, when)
                if found is not None:
                    self._name, self._start, self._end = found
                    self._counts = dict.fromkeys(VERDICTS, 0)
            if verdict in self._counts:
                self._counts[verdict] += 1

    def snapshot(self) -> ShiftCounts:
        with self._lock:
            c = self._counts
            return ShiftCounts(self._name, self._start, self._end, c["PASS"], c["FAIL"],
                               c["REVIEW"])
