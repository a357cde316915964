"""The live-run recipe shared by the CLI and the GUI: the workspace's model, the verdict policy
with the workspace's overrides, the source with its options, and the shift's counters."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import datetime

import pytest

from inspector.config import LiveConfig, VerdictConfig
from inspector.core.errors import CameraError, ConfigError
from inspector.core.inference.session import (
    NoModelError,
    ShiftTally,
    build_live_run,
    current_shift,
    describe_live_model,
    live_model_path,
    source_options,
)
from inspector.core.inference.sources import FrameSource, SourceState
from inspector.core.model_catalog import set_active_model
from inspector.core.results import InspectionResult, ResultsStore
from inspector.core.workspace import Workspace

SHIFTS = {"early": "06:00", "late": "14:00", "night": "22:00"}


@pytest.fixture
def workspace(tmp_path, small_checkpoint):
    workspace = Workspace.create(tmp_path / "ws")
    for name in ("first", "second"):
        folder = workspace.models_dir / name
        folder.mkdir()
        shutil.copy(small_checkpoint, folder / "best.safetensors")
    return workspace


def test_the_active_model_is_the_one_chosen_else_the_newest(workspace):
    set_active_model(workspace, "first")
    assert live_model_path(workspace) == workspace.models_dir / "first" / "best.safetensors"


def test_a_workspace_without_a_model_says_what_to_do(tmp_path):
    empty = Workspace.create(tmp_path / "empty")
    with pytest.raises(NoModelError, match=r"no trained model yet.*Training page"):
        live_model_path(empty)


def test_the_model_is_described_from_its_header_with_the_workspace_overrides(workspace):
    set_active_model(workspace, "second")
    workspace.config.live.verdict.thresholds = {"short": 0.9}
    model = describe_live_model(workspace)
    assert model.name == "second" and model.input_size == 32
    assert model.classes == ["missing_hole", "ok", "short"]
    assert model.policy.thresholds == {"missing_hole": 0.6, "ok": 0.6, "short": 0.9}
    assert model.fitted_thresholds == {"missing_hole": 0.6, "ok": 0.6, "short": 0.6}
    workspace.config.live.verdict.thresholds = {"scratch": 0.5}
    with pytest.raises(ConfigError, match="unknown classes"):
        describe_live_model(workspace)


def test_source_options_for_each_kind_of_source():
    assert source_options("virtual", 32) == {"mode": "board"}
    assert source_options("virtual:4", 32, virtual_mode="patch") == {"mode": "patch",
                                                                      "size": 64}
    assert source_options("virtual", 32, virtual_mode="patch",
                          model_classes=["ok", "short", "gadget"])["classes"] == ("short",)
    assert source_options("clip.mp4", 32) == {}
    assert source_options("clip.mp4", 32, realtime_files=True) == {"realtime": True}
    assert source_options("0", 32, virtual_mode="patch") == {}
    with pytest.raises(Exception, match="'board' or 'patch'"):
        source_options("virtual", 32, virtual_mode="tiles")


def test_a_run_is_built_from_the_settings_and_inspects(workspace):
    config = LiveConfig()
    config.source.spec = "virtual:2"
    config.verdict = VerdictConfig(thresholds={"ok": 0.2}, ood_method="none")
    states: list[str] = []
    run = build_live_run(config, workspace.models_dir / "first", device="cpu",
                         virtual_mode="patch", on_state=lambda s, _e: states.append(str(s)))
    config.verdict.thresholds["ok"] = 0.99  # the run took a copy
    assert run.model_path.name == "best.safetensors"
    assert run.policy.thresholds["ok"] == 0.2
    assert run.source.describe().startswith("virtual camera 2")
    results = []
    with run.source:
        summary = run.inspector(None, results.append).run(threading.Event(), max_frames=3)
    assert summary.frames == 3 and len(results) == 3
    assert results[0].frame.shape == (64, 64, 3)  # patches at twice the input size
    assert results[0].model_version == "first/best.safetensors"
    assert "connected" in states


def test_a_source_given_by_the_caller_reports_to_on_state(workspace):
    class Still(FrameSource):
        def __init__(self) -> None:
            super().__init__("still", drop=False)

        def _produce(self, feed) -> None:
            import numpy as np

            feed.set_state(SourceState.CONNECTED)
            feed.publish(np.zeros((40, 40, 3), np.uint8))
            feed.drain()
            feed.set_state(SourceState.ENDED)

    states: list[str] = []
    run = build_live_run(LiveConfig(), workspace.models_dir / "first", device="cpu",
                         source=Still(), on_state=lambda s, _e: states.append(str(s)))
    with run.source:
        summary = run.inspector().run()
    assert summary.frames == 1 and summary.end_state == "ended"
    assert states[-1] == "ended"


def test_a_spec_that_names_no_source_is_refused(workspace):
    config = LiveConfig()
    config.source.spec = "ftp://camera"
    with pytest.raises(CameraError, match="not supported"):
        build_live_run(config, workspace.models_dir / "first", device="cpu")


def _at(day: str, hhmm: str) -> float:
    return datetime.fromisoformat(f"{day}T{hhmm}:00").timestamp()


def test_the_current_shift():
    assert current_shift(SHIFTS, _at("2024-05-02", "07:30"))[0] == "early"
    name, start, end = current_shift(SHIFTS, _at("2024-05-03", "01:00"))
    assert name == "night"  # the night shift runs past midnight
    assert (start, end) == (_at("2024-05-02", "22:00"), _at("2024-05-03", "06:00"))
    assert current_shift({}, time.time()) is None
    assert current_shift({"early": "6 am"}, time.time()) is None


def _result(verdict: str, when: float) -> InspectionResult:
    return InspectionResult(time=when, source="test", model_version="v", verdict=verdict,
                            label="ok", confidence=0.9, probabilities={"ok": 0.9},
                            thresholds={"ok": 0.5})


def test_the_tally_counts_the_shift_from_the_store_then_live_and_rolls_over(tmp_path):
    now = [_at("2024-05-02", "13:00")]
    with ResultsStore(tmp_path / "results.sqlite") as store:
        store.add(_result("PASS", _at("2024-05-02", "05:59")))  # the night shift before
        for verdict in ("PASS", "PASS", "FAIL", "REVIEW"):
            store.add(_result(verdict, _at("2024-05-02", "06:30")))
        tally = ShiftTally(SHIFTS, store, clock=lambda: now[0])
    counts = tally.snapshot()
    assert (counts.name, counts.passed, counts.failed, counts.review) == ("early", 2, 1, 1)
    assert counts.yield_pct == 50.0
    tally.add("PASS")
    tally.add("FAIL")
    assert tally.snapshot().total == 6
    tally.add("PASS", _at("2024-05-02", "14:00"))  # the late shift begins: counted afresh
    counts = tally.snapshot()
    assert (counts.name, counts.total, counts.passed) == ("late", 1, 1)


def test_without_shifts_the_tally_counts_from_its_start():
    tally = ShiftTally({}, None)
    tally.add("REVIEW")
    counts = tally.snapshot()
    assert counts.name == "" and counts.end is None and counts.review == 1
    assert counts.yield_pct == 0.0
