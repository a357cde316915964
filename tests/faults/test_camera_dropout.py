"""A camera that drops out for 5 seconds during live inspection: the state says so, the source
reconnects by itself (the real reconnect logic, with back-off), inspection goes on, and every
frame the camera delivered is inspected and stored."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from inspector.config import LiveConfig, ResultsConfig, SourceConfig
from inspector.core.inference.live import LiveInspector
from inspector.core.inference.predictor import Predictor
from inspector.core.inference.sources.capture import LiveCaptureSource
from inspector.core.inference.verdict import VerdictPolicy
from inspector.core.results import ResultsStore
from inspector.core.training.checkpoint import save_untrained_model

OUTAGE_S = 5.0


class _Capture:
    """A driver that delivers 20 frames a second until it is unplugged."""

    def __init__(self, camera: UnpluggedCamera) -> None:
        self.camera = camera

    def isOpened(self) -> bool:  # noqa: N802
        return True

    def read(self):
        time.sleep(0.05)
        if self.camera.unplugged():
            return False, None
        self.camera.delivered += 1
        return True, np.full((48, 64, 3), self.camera.delivered % 255, np.uint8)

    def release(self) -> None:
        pass

    def set(self, prop, value) -> bool:
        return False

    def get(self, prop) -> float:
        return 0.0


class UnpluggedCamera(LiveCaptureSource):
    kind = "camera"

    def __init__(self, config: SourceConfig, on_state) -> None:
        super().__init__("camera 0 (test)", config, drop=False, on_state=on_state)
        self.delivered = 0
        self.outage: tuple[float, float] | None = None

    def unplug_for(self, seconds: float) -> None:
        start = time.monotonic()
        self.outage = (start, start + seconds)

    def unplugged(self) -> bool:
        return self.outage is not None and self.outage[0] <= time.monotonic() < self.outage[1]

    def _open(self, feed):
        if self.unplugged():
            return None, "camera 0 does not answer (unplugged?)"
        return _Capture(self), ""

    def _lost_message(self, connected: bool) -> str:
        return "camera 0 stopped sending frames" if connected else "camera 0 sends nothing"


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    save_untrained_model(folder / "best.safetensors", ["ok", "short"], 32)
    return Predictor.from_checkpoint(folder / "best.safetensors", "cpu", "torch")


def test_a_five_second_dropout_is_reported_and_recovered(predictor, tmp_path):
    states: list[tuple[float, str, str | None]] = []
    config = SourceConfig(spec="0", reconnect_initial_s=0.2, reconnect_max_s=1.0)
    camera = UnpluggedCamera(config, lambda s, e: states.append((time.monotonic(), str(s), e)))
    policy = VerdictPolicy(predictor.classes, LiveConfig().verdict, {}, 1.0)
    stop = threading.Event()
    with ResultsStore(tmp_path / "results.sqlite", ResultsConfig(save_frames="none")) as store:
        inspector = LiveInspector(predictor, policy, camera, LiveConfig(), store)
        with camera:
            timer = threading.Timer(1.0, camera.unplug_for, (OUTAGE_S,))
            timer.start()
            ender = threading.Timer(1.0 + OUTAGE_S + 2.0, stop.set)
            ender.start()
            summary = inspector.run(stop)
            timer.cancel()
            ender.cancel()
        store.flush()
        stored = store.count()

    kinds = [state for _, state, _ in states]
    assert "reconnecting" in kinds
    lost = kinds.index("reconnecting")
    assert "connected" in kinds[lost:]  # back by itself
    messages = [error for _, state, error in states if state == "reconnecting"]
    assert any(m and "camera 0" in m for m in messages)  # said why, for the operator
    back = next(t for t, state, _ in states[lost:] if state == "connected")
    gone = states[lost][0]
    assert OUTAGE_S - 0.5 <= back - gone <= OUTAGE_S + 1.5  # within one back-off step
    assert camera.stats.reconnects >= 1
    assert summary.end_state not in {"failed"}
    assert summary.frames == stored  # every inspected frame is stored
    assert 0 <= camera.delivered - summary.frames <= 1  # at most the one in flight at Stop
    assert summary.verdicts and sum(summary.verdicts.values()) == summary.frames
