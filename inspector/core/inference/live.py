"""The live inspection loop: frames in, a verdict, a heat map and a stored result out.

Synchronous like every long job in the core: it runs until the source ends, `max_frames` is
reached or `stop_event` is set, and reports each result through `on_result`. The GUI runs it in
a worker thread and only paints the newest result; the CLI prints a summary. The source drops
stale frames, so the loop always works on the newest one; storing happens on the results
store's writer thread, never in this loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from inspector.config import LiveConfig
from inspector.core.inference.overlay import TileMark, render_overlay
from inspector.core.inference.predictor import FrameInference, Predictor
from inspector.core.inference.verdict import Decision, Verdict, VerdictPolicy
from inspector.core.results.record import Ticket

log = logging.getLogger(__name__)

SEVERITY = {Verdict.PASS: 0, Verdict.REVIEW: 1, Verdict.FAIL: 2}


@dataclass
class LiveResult:
    index: int
    decision: Decision
    overlay: np.ndarray
    frame: np.ndarray
    fps: float
    latency_ms: float
    truth: tuple[str, ...] | None
    tiles: list[TileMark] = field(default_factory=list)
    probabilities: np.ndarray | None = None  # behind the verdict (the worst tile's when tiled)
    ticket: Ticket | None = None  # the stored row's receipt: ticket.wait() gives its id
    source: str = ""
    model_version: str = ""


@dataclass
class LiveSummary:
    frames: int = 0
    verdicts: Counter = field(default_factory=Counter)
    truth_known: int = 0
    truth_agrees: int = 0
    label_agrees: int = 0
    dropped: int = 0
    seconds: float = 0.0
    end_state: str = ""
    error: str | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def yield_pct(self) -> float | None:
        total = sum(self.verdicts.values())
        return 100.0 * self.verdicts[Verdict.PASS] / total if total else None


def truth_agrees(decision: Decision, truth: tuple[str, ...], good: str) -> bool:
    """The verdict a perfect inspector would give: PASS for a good item, not PASS otherwise."""
    is_good = all(label == good for label in truth)
    return (decision.verdict is Verdict.PASS) == is_good


class LiveInspector:
    def __init__(self, predictor: Predictor, policy: VerdictPolicy, source,
                 config: LiveConfig | None = None, store=None,
                 on_result: Callable[[LiveResult], None] | None = None) -> None:
        self.predictor, self.policy, self.source = predictor, policy, source
        self.config = config or LiveConfig()
        self.store = store
        self.on_result = on_result

    def decide(self, inference: FrameInference) -> tuple[Decision, list[TileMark]]:
        if not inference.tiles:
            item = inference.inference
            return self.policy.decide(item.probabilities, item.logits), []
        marks = []
        for tile in inference.tiles:
            decision = self.policy.decide(tile.inference.probabilities, tile.inference.logits)
            marks.append(TileMark(tile.x, tile.y, tile.w, tile.h, decision, tile.inference.cam))
        worst = max(marks, key=lambda m: (SEVERITY[m.decision.verdict], m.decision.confidence))
        return worst.decision, marks

    def process(self, image: np.ndarray, fps: float | None = None
                ) -> tuple[Decision, np.ndarray, list[TileMark], np.ndarray]:
        """One frame: inference, verdict, overlay (and the probabilities behind the verdict)."""
        config = self.config
        inference = self.predictor.infer_frame(image, config.roi, config.tiling,
                                               config.tile_overlap)
        decision, marks = self.decide(inference)
        overlay = render_overlay(image, decision, inference.inference.cam, config.cam_alpha,
                                 fps, inference.roi, marks)
        return decision, overlay, marks, inference.inference.probabilities

    def run(self, stop_event: threading.Event | None = None,
            max_frames: int | None = None) -> LiveSummary:
        stop_event = stop_event or threading.Event()
        summary = LiveSummary()
        good = self.policy.good
        fps = 0.0
        start = last = time.perf_counter()
        while not stop_event.is_set() and (max_frames is None or summary.frames < max_frames):
            frame = self.source.read(timeout=0.5)
            if frame is None:
                state = str(self.source.state)
                if state in {"ended", "failed", "stopped"}:
                    summary.end_state = state
                    summary.error = self.source.error
                    break
                continue
            tick = time.perf_counter()
            decision, overlay, marks, probabilities = self.process(frame.image, fps or None)
            now = time.perf_counter()
            fps = 1.0 / max(now - last, 1e-6) if fps == 0.0 else (
                0.9 * fps + 0.1 / max(now - last, 1e-6))
            last = now
            summary.frames += 1
            summary.verdicts[decision.verdict] += 1
            if frame.truth is not None:
                summary.truth_known += 1
                summary.truth_agrees += truth_agrees(decision, frame.truth, good)
                summary.label_agrees += decision.label in frame.truth
            ticket = None
            if self.store is not None:
                ticket = self.store.add(self._record(frame, decision, overlay, probabilities))
            if self.on_result is not None:
                self.on_result(LiveResult(frame.index, decision, overlay, frame.image, fps,
                                          (now - tick) * 1000.0, frame.truth, marks,
                                          probabilities, ticket, frame.source,
                                          self.predictor.version))
        summary.seconds = time.perf_counter() - start
        summary.dropped = self.source.stats.frames_dropped
        summary.end_state = summary.end_state or str(self.source.state)
        return summary

    def _record(self, frame, decision: Decision, overlay: np.ndarray,
                probabilities: np.ndarray):
        from inspector.core.results import InspectionResult

        item = self.predictor
        return InspectionResult(
            time=time.time(), source=frame.source, model_version=item.version,
            verdict=decision.verdict.value, label=decision.label,
            confidence=decision.confidence,
            probabilities=dict(zip(item.classes, map(float, probabilities), strict=True)),
            thresholds=self.policy.thresholds, ood_score=decision.ood_score,
            truth=",".join(frame.truth) if frame.truth else None, frame=frame.image,
            overlay=overlay)
