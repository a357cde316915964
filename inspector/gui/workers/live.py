"""Live inspection for the Live page: the engine on its own thread, the newest result for the GUI.

`LiveWorker` runs the core's `LiveInspector.run` (built by `core.inference.session`, exactly as
the CLI builds it) on a worker thread. Its `on_result` callback only puts the result in a
one-slot buffer under a lock and, when the slot was empty, emits `result_ready` (queued to the
GUI thread); the page takes the newest with `take_latest()`. A result the GUI had no time for is
replaced, never queued: the display follows the camera and the event loop never backs up. The
shift's counters count every result, shown or not.

Threshold and ROI changes are handed over under the same lock and applied by the loop thread
just before it processes the next frame, so a frame is judged wholly by the old settings or
wholly by the new ones. Source state changes (connected, reconnecting, failed, ended) arrive as
`state_changed`; problems building the run (no trained model, a source that cannot be named, a
missing ONNX export) as `failed(str)` with the core's message.

`StationStore` is the workspace's results store, opened on first use by whichever worker needs
it, and its review inbox; `decide` records an operator's decision through the core (the
`decision_worker` runs it off the GUI thread).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from inspector.config import LiveConfig, VerdictConfig
from inspector.core.results.record import ResultsError
from inspector.gui.workers.base import Progress, Worker
from inspector.gui.workers.training import import_quietly

if TYPE_CHECKING:
    from inspector.core.inference.live import LiveResult, LiveSummary
    from inspector.core.inference.session import LiveRun, ShiftCounts, ShiftTally
    from inspector.core.results.store import ResultsStore
    from inspector.core.station.audit import AuditLog
    from inspector.core.station.decisions import DecisionOutcome
    from inspector.core.station.inbox import ReviewInbox
    from inspector.core.workspace import Workspace

log = logging.getLogger(__name__)

# libgomp's threads spin for a while after each parallel region unless told otherwise; beside
# the GUI thread and a frame source on a small machine they starve both (measured on 2 cores:
# frames of 1.6 s instead of 25 ms with the virtual camera's patches, and a slower screen).
# Only effective before torch is loaded, as here (the page imports this module at start-up);
# a setting made by the user wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

LIVE_MODULES = ("torch", "torchvision", "cv2", "albumentations",
                "inspector.core.inference.predictor", "inspector.core.inference.live")


class StationStore:
    """A workspace's results store (opened on first use, from any thread) and review inbox.

    `close()` writes what is queued and closes the store; the page calls it when the workspace
    changes or the page goes, once no worker uses the store any more (`users`)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.users = 0  # workers holding it; counted on the GUI thread
        self.closing = False
        self._store: ResultsStore | None = None
        self._lock = threading.Lock()
        self._closed = False

    def open(self) -> ResultsStore:
        from inspector.core.results.store import ResultsStore

        with self._lock:
            if self._closed:
                raise ResultsError("The results store was closed (the workspace changed).")
            if self._store is None:
                workspace = self.workspace
                self._store = ResultsStore(workspace.results_path, workspace.config.live.results)
            return self._store

    @property
    def inbox(self) -> ReviewInbox:
        from inspector.core.station.inbox import ReviewInbox

        return ReviewInbox(self.workspace.root)

    @property
    def is_open(self) -> bool:
        return self._store is not None

    def close(self) -> None:
        with self._lock:
            store, self._store = self._store, None
            self._closed = True
        if store is not None:
            store.close()
            log.debug("results store closed: %s", store.path)

    def release(self) -> None:
        """A worker is done with the store: close it if it was waiting for that."""
        self.users = max(0, self.users - 1)
        if self.closing and self.users == 0:
            self.close()

    def close_when_idle(self) -> None:
        self.closing = True
        if self.users == 0:
            self.close()


@dataclass(frozen=True)
class LiveStarted:
    """The run as built: shown by the page when the first frames are on their way."""

    model_path: Path
    model_version: str
    backend: str
    classes: list[str]
    good_class: str
    thresholds: dict[str, float]
    source: str  # the source's describe()
    input_size: int


class _Relay(QObject):
    """Emitted from the worker's threads; queued to the GUI thread."""

    result = Signal()
    state = Signal(str, str)
    started = Signal(object)


class LiveWorker(Worker):
    """One live inspection run. Build it, connect its signals, `start()`; `cancel()` stops it.

    `finished`/`cancelled` carry the core's LiveSummary; `failed(str)` a message for the user.
    """

    result_ready = Signal()  # a newer result waits: take it with take_latest()
    state_changed = Signal(str, str)  # source state value, its message ("" when none)
    run_started = Signal(object)  # LiveStarted

    def __init__(self, workspace: Workspace, stores: StationStore, *,
                 config: LiveConfig | None = None, model_path: Path | None = None,
                 virtual_mode: str = "board", device: str = "auto",
                 realtime_files: bool = True, source: Any = None,
                 parent: QObject | None = None) -> None:
        self.workspace = workspace
        self.stores = stores
        self.config = (config or workspace.config.live).model_copy(deep=True)
        self.model_path = model_path
        self.virtual_mode = virtual_mode
        self.device = device
        self.realtime_files = realtime_files
        self._source = source  # a FrameSource made by the caller (tests), else from config
        super().__init__(self._task, f"live inspection of {self.config.source.spec}", parent)
        self._lock = threading.Lock()
        self._latest: LiveResult | None = None
        self._tally: ShiftTally | None = None
        self._run: LiveRun | None = None
        self._pending_policy: Any = None
        self._pending_roi: tuple[tuple[int, int, int, int] | None] | None = None
        self._pending_verdict: VerdictConfig | None = None
        self.results_counted = 0
        self.state = ""
        self._relay = _Relay(self)
        self._relay.result.connect(self.result_ready)
        self._relay.state.connect(self._on_state)
        self._relay.started.connect(self.run_started)

    # ------------------------------------------------------------------ the GUI thread
    def take_latest(self) -> LiveResult | None:
        """The newest result not taken yet, or None."""
        with self._lock:
            result, self._latest = self._latest, None
        return result

    def counts(self) -> ShiftCounts | None:
        """The shift's verdict counts (every result, shown or not); None before the run."""
        tally = self._tally
        return tally.snapshot() if tally is not None else None

    def set_verdict(self, verdict: VerdictConfig) -> None:
        """New thresholds for the running inspection, from the next frame on. Raises the core's
        ConfigError for a class the model lacks (checked here, at once, once it is loaded)."""
        verdict = verdict.model_copy(deep=True)
        with self._lock:
            self.config.verdict = verdict
            self._pending_verdict = verdict
            self._pending_policy = self._policy_for(verdict)

    def set_roi(self, roi: tuple[int, int, int, int] | None) -> None:
        """A new region of interest (None: the whole frame), from the next frame on."""
        with self._lock:
            self.config.roi = roi
            self._pending_roi = (roi,)

    def _policy_for(self, verdict: VerdictConfig) -> Any:
        """The VerdictPolicy of the loaded model (None before it is loaded); under the lock."""
        if self._run is None:
            return None
        from inspector.core.inference.session import make_policy

        return make_policy(self._run.predictor, verdict)

    @Slot(str, str)
    def _on_state(self, state: str, error: str) -> None:
        self.state = state
        self.state_changed.emit(state, error)

    # ------------------------------------------------------------------ the worker thread
    def _task(self, _progress: Progress, stop: threading.Event) -> LiveSummary:
        import_quietly(LIVE_MODULES)
        from inspector.core.inference.session import ShiftTally, build_live_run, live_model_path

        relay = self._relay

        def on_state(state: Any, error: str | None) -> None:
            relay.state.emit(str(state), error or "")

        with self._lock:
            config = self.config.model_copy(deep=True)
            self._pending_roi = self._pending_verdict = self._pending_policy = None
        model = self.model_path or live_model_path(self.workspace)
        run = build_live_run(config, model, device=self.device, virtual_mode=self.virtual_mode,
                             match_virtual_classes=self.virtual_mode == "patch",
                             realtime_files=self.realtime_files, on_state=on_state,
                             source=self._source)
        store = self.stores.open()
        self._tally = ShiftTally(config.results.shifts, store)
        with self._lock:
            self._run = run
            if self._pending_verdict is not None:  # changed while the model was loading
                self._pending_policy = self._policy_for(self._pending_verdict)
        relay.started.emit(LiveStarted(
            run.model_path, run.predictor.version, run.predictor.backend.name, run.classes,
            run.policy.good, dict(run.policy.thresholds), run.source.describe(),
            run.predictor.input_size))
        from inspector.core.inference.live import LiveInspector

        worker = self

        class Inspector(LiveInspector):
            def process(self, image: Any, fps: float | None = None) -> Any:
                worker._apply_pending(self)
                return super().process(image, fps)

        inspector = Inspector(run.predictor, run.policy, run.source, run.config, store,
                              self._take_result)
        with run.source:
            return inspector.run(stop)

    def _apply_pending(self, inspector: Any) -> None:
        """Between two frames, in the loop thread: the thresholds and ROI handed over since."""
        with self._lock:
            policy, self._pending_policy = self._pending_policy, None
            roi, self._pending_roi = self._pending_roi, None
            if policy is not None:
                self._pending_verdict = None
        if policy is not None:
            inspector.policy = policy
        if roi is not None:
            config = inspector.config.model_copy(deep=True)
            config.roi = roi[0]
            inspector.config = config

    def _take_result(self, result: LiveResult) -> None:
        tally = self._tally
        if tally is not None:
            tally.add(result.decision.verdict.value)
        with self._lock:
            was_empty = self._latest is None
            self._latest = result
            self.results_counted += 1
        if was_empty:
            self._relay.result.emit()


def live_worker(workspace: Workspace, stores: StationStore, **options: Any) -> LiveWorker:
    return LiveWorker(workspace, stores, **options)


# ---------------------------------------------------------------------------- decisions
def decide(stores: StationStore, audit: AuditLog | None, result: LiveResult, *, operator: str,
           label: str, role: str) -> DecisionOutcome:
    """Record the operator's class for a live result through the core: the results store row,
    the review inbox (overrides and decided REVIEWs) and the audit log. Everything is committed
    when this returns."""
    from inspector.core.station.decisions import record_decision

    if result.ticket is None:
        raise ResultsError("This result was not stored, so there is nothing to decide on.")
    decision = result.decision
    return record_decision(
        stores.open(), stores.inbox, audit, ticket_or_id=result.ticket, image=result.frame,
        model_verdict=decision.verdict.value, model_label=decision.label,
        confidence=decision.confidence, operator=operator, label=label, role=role,
        source=result.source, model_version=result.model_version)


def decision_worker(stores: StationStore, audit: AuditLog | None, result: LiveResult, *,
                    operator: str, label: str, role: str) -> Worker:
    """A Worker whose result is the DecisionOutcome."""

    def task(_progress: Progress, _stop: threading.Event) -> DecisionOutcome:
        return decide(stores, audit, result, operator=operator, label=label, role=role)

    return Worker(task, f"recording {operator}'s decision")


def result_id_worker(result: LiveResult) -> Worker:
    """A Worker whose result is the stored row's id (waits for the writer if needed)."""

    def task(_progress: Progress, _stop: threading.Event) -> int:
        from inspector.core.station.decisions import result_id

        if result.ticket is None:
            raise ResultsError("This result was not stored.")
        return result_id(result.ticket)

    return Worker(task, "finding the stored result")


def model_info_worker(workspace: Workspace) -> Worker:
    """A Worker whose result is the active model's LiveModel (header only: quick, no torch)."""
    verdict = workspace.config.live.verdict.model_copy(deep=True)

    def task(_progress: Progress, _stop: threading.Event) -> Any:
        from inspector.core.inference.session import describe_live_model

        return describe_live_model(workspace, verdict)

    return Worker(task, "reading the active model")
