from __future__ import annotations

import threading

import numpy as np

from inspector.config import LiveConfig, VerdictConfig
from inspector.core.inference.live import LiveInspector
from inspector.core.inference.predictor import Predictor
from inspector.core.inference.sources import open_source
from inspector.core.inference.verdict import Verdict, VerdictPolicy
from inspector.core.results import ResultsStore


def _inspector(checkpoint, source, store=None, **live):
    predictor = Predictor.from_checkpoint(checkpoint, device="cpu")
    config = LiveConfig(**live)
    policy = VerdictPolicy(predictor.classes, VerdictConfig(ood_method="none"))
    results = []
    return LiveInspector(predictor, policy, source, config, store, results.append), results


def _video(path, frames: int = 12):
    import cv2

    from inspector.core.data.synthetic import SyntheticPCB

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (96, 80))
    generator = SyntheticPCB(seed=4)
    for index in range(frames):
        writer.write(cv2.cvtColor(generator.board(96, 80, 1, index=index).image,
                                  cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def test_a_video_is_inspected_frame_by_frame_and_stored(small_checkpoint, tmp_path):
    video = _video(tmp_path / "line.avi")
    with ResultsStore(tmp_path / "results.sqlite") as store, open_source(str(video)) as source:
        inspector, results = _inspector(small_checkpoint, source, store)
        summary = inspector.run()
        store.flush()
        assert store.count() == 12
    assert summary.frames == 12
    assert summary.end_state == "ended"
    assert sum(summary.verdicts.values()) == 12
    assert [r.index for r in results] == sorted(r.index for r in results)
    overlay = results[0].overlay
    assert overlay.shape == (80, 96, 3) and overlay.dtype == np.uint8
    assert not np.array_equal(overlay, results[0].frame)  # banner and heat map drawn


def test_the_virtual_camera_gives_verdicts_with_known_truth(small_checkpoint):
    stop = threading.Event()
    with open_source("virtual:3", mode="patch", size=64, realtime=False) as source:
        inspector, results = _inspector(small_checkpoint, source)
        summary = inspector.run(stop, max_frames=10)
    assert summary.frames == 10
    assert summary.truth_known == 10
    assert all(r.truth for r in results)
    assert {r.decision.verdict for r in results} <= set(Verdict)


def test_tiling_marks_tiles_on_the_frame(small_checkpoint):
    with open_source("virtual:5", width=160, height=96, realtime=False) as source:
        inspector, results = _inspector(small_checkpoint, source, tiling=True)
        inspector.run(max_frames=2)
    assert results and all(len(r.tiles) >= 6 for r in results)


def test_stop_event_ends_the_loop(small_checkpoint):
    stop = threading.Event()
    stop.set()
    with open_source("virtual:1", mode="patch", size=32, realtime=False) as source:
        inspector, _ = _inspector(small_checkpoint, source)
        assert inspector.run(stop).frames == 0
