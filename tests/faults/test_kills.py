"""kill -9 in the middle of the writes that matter: what was there before is still whole."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.core.data.dataset import Dataset
from inspector.core.data.images import content_hash
from inspector.core.training.checkpoint import load_checkpoint, save_checkpoint

HELPER = Path(__file__).with_name("kill_helper.py")
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


def _run_and_kill(args: list[str], units: int, seed: int) -> int:
    """Start the helper, let it finish `units` units of work and part of the next, kill -9."""
    process = subprocess.Popen([sys.executable, str(HELPER), *args], stdout=subprocess.PIPE,
                               text=True)
    done = 0
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready", "the helper did not start"
        while done < units:
            process.stdout.readline()
            done += 1
        time.sleep(random.Random(seed).uniform(0.0, 0.15))  # somewhere inside the next unit
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == -signal.SIGKILL
    return done


@pytest.mark.parametrize("seed", range(3))
def test_a_kill_during_a_checkpoint_write_leaves_a_whole_checkpoint(tmp_path, seed):
    path = tmp_path / "last.safetensors"
    done = _run_and_kill(["checkpoint", str(path)], 2 + seed, seed)
    checkpoint = load_checkpoint(path)  # the previous one or the new one, never half of one
    epoch = checkpoint.meta["epoch"]
    assert epoch >= done  # every save it acknowledged, or a later one
    assert float(checkpoint.model_state["fc.bias"][0]) == float(epoch)
    # the killed write's temporary files (ours and safetensors' own) go with the next save
    leftovers = [p for p in tmp_path.iterdir() if p != path]
    assert all(p.name.startswith((".last.safetensors.", ".tmp")) for p in leftovers), leftovers
    old = time.time() - 3600
    for stale in leftovers:
        os.utime(stale, (old, old))
    save_checkpoint(path, checkpoint.meta, checkpoint.model_state)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("seed", range(3))
def test_a_kill_during_dataset_operations_leaves_files_and_manifest_in_agreement(tmp_path,
                                                                                 seed):
    root = tmp_path / "data"
    data = Dataset.create(root)
    data.create_class("ok")
    data.create_class("short")
    data.split()
    _run_and_kill(["dataset", str(root)], 3 + seed, seed)

    reopened = Dataset(root)  # finishes or rolls back what the journal says was under way
    records, errors = reopened.records()
    assert not errors
    on_disk = {p.relative_to(root).as_posix() for p in root.glob("*/*.png")}
    assert {r.path.relative_to(root).as_posix() for r in records} == on_disk
    manifest = reopened.manifest()
    assert manifest is not None
    for record in records:  # every image has its split, under its own content hash
        assert record.hash == content_hash(record.path)
        assert manifest.split_of(record.hash) in {"train", "val", "test"}
    assert not list((root / ".inspector").glob("journal/*.pending"))
    # and the dataset works on: another operation succeeds
    assert reopened.relabel(sorted(root.glob("ok/*.png"))[:1], "short")
