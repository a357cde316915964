"""Frame sources that end early, break halfway or do not exist: reported through the source's
state with a message, never raised into the live loop; every good frame is delivered."""

from __future__ import annotations

import time

from corpus import generate
from inspector.core.inference.sources import open_source


def _drain(source, timeout: float = 20.0) -> int:
    frames, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = source.read(timeout=0.5)
        if frame is not None:
            frames += 1
        elif str(source.state) in {"ended", "failed", "stopped"}:
            break
    return frames


def test_a_video_that_ends_early_ends_cleanly(cases):
    with open_source(str(generate.short_video(cases, 12)), drop=False) as source:
        frames = _drain(source)
        assert str(source.state) == "ended" and source.error is None
    assert frames == 12


def test_a_video_corrupt_halfway_delivers_what_it_can_and_says_so(cases):
    path = generate.video_corrupt_halfway(cases)
    with open_source(str(path), drop=False) as source:
        frames = _drain(source)
        state, error = str(source.state), source.error
    assert 1 <= frames < 40
    assert state in {"ended", "failed"}
    if state == "failed":
        assert error and str(path.name) in error


def test_a_camera_that_does_not_exist_fails_with_a_message(cases):
    with open_source("9", reconnect_attempts=1, open_timeout_s=2.0,
                     reconnect_initial_s=0.1) as source:
        frames = _drain(source, timeout=15.0)
        assert frames == 0
        assert str(source.state) == "failed"
        assert source.error and "9" in source.error


def test_a_folder_with_a_corrupt_image_skips_it_and_says_so(cases):
    folder = cases / "replay"
    folder.mkdir()
    for i in range(3):
        generate.good_png(folder, f"{i:02d}-good.png", seed=i)
    generate.truncated_png(folder).rename(folder / "01b-broken.png")
    with open_source(str(folder), drop=False) as source:
        frames = _drain(source)
        stats = source.stats
    assert frames == 3 and stats.frames_read == 3
