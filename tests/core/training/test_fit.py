from __future__ import annotations

import errno
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import tomli_w
from helpers import tiny_training_config

from inspector.core.data.dataset import Dataset
from inspector.core.errors import CheckpointError
from inspector.core.training.checkpoint import load_checkpoint
from inspector.core.training.fit import TrainProgress, fit


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    config = tiny_training_config()
    events: list[TrainProgress] = []
    out = tmp_path_factory.mktemp("run")
    result = fit(config, Dataset(tiny_data), out, events.append)
    return config, result, events


def test_a_run_writes_a_calibrated_evaluated_model(trained):
    _, result, events = trained
    assert not result.stopped
    assert result.epochs_run == 2
    assert result.best_path.is_file()
    # a finished run drops its resume state (model + optimizer, ~3x the model) by default
    assert result.last_path is None and not (result.out_dir / "last.safetensors").exists()
    assert (result.out_dir / "evaluation.json").is_file()
    assert (result.out_dir / "evaluation-confusion.png").is_file()
    assert (result.out_dir / "split.json").is_file()
    checkpoint = load_checkpoint(result.best_path)
    assert checkpoint.classes == ["missing_hole", "ok", "short"]
    assert checkpoint.meta["temperature"] > 0
    assert "test" in checkpoint.meta["metrics"]
    assert 0.0 <= result.test["metrics"]["accuracy"] <= 1.0
    kinds = {e.stage for e in events}
    assert {"batch", "epoch", "status"} <= kinds
    batch = next(e for e in events if e.stage == "batch")
    assert batch.images_per_s > 0 and math.isfinite(batch.eta_s) and batch.lr > 0


def test_training_without_imagenet_weights_says_so_and_trains_every_layer(trained):
    _, result, events = trained
    assert result.pretrained is None
    assert any("ImageNet" in w for w in result.warnings)
    assert any("ImageNet" in e.message for e in events if e.stage == "status")
    assert load_checkpoint(result.best_path).meta["warnings"]


def _history(result):
    return [(h["epoch"], round(h["loss"], 4), round(h["val_macro_f1"], 4)) for h in result.history]


def test_stop_then_resume_matches_an_uninterrupted_run(trained, tiny_data, tmp_path):
    config, reference, _ = trained
    stop = threading.Event()
    seen = []

    def on_progress(p: TrainProgress) -> None:
        if p.stage == "batch":
            seen.append(p.batch)
            if len(seen) == 5:  # 3 batches an epoch: the second batch of the second epoch
                stop.set()

    first = fit(config, Dataset(tiny_data), tmp_path, on_progress, stop)
    assert first.stopped
    state = load_checkpoint(tmp_path / "last.safetensors").meta["resume"]
    assert (state["epoch"], state["position"]) == (1, 2)
    resumed = fit(config, Dataset(tiny_data), tmp_path, resume=True)
    assert not resumed.stopped
    assert _history(resumed) == _history(reference)


def test_a_finished_run_says_how_to_train_it_further(trained, tiny_data):
    config, result, _ = trained
    with pytest.raises(CheckpointError, match=r"finished.*warm-started"):
        fit(config, Dataset(tiny_data), result.out_dir, resume=True)


def test_keep_resume_state_lets_a_finished_run_grow_by_more_epochs(tiny_data, tmp_path):
    config = tiny_training_config()
    config.train.epochs, config.train.keep_resume_state = 1, True
    first = fit(config, Dataset(tiny_data), tmp_path)
    assert first.last_path is not None and first.last_path.is_file()
    config.train.epochs = 2
    extended = fit(config, Dataset(tiny_data), tmp_path, resume=True)
    assert extended.epochs_run == 2 and [h["epoch"] for h in extended.history] == [1, 2]


def test_resume_refuses_a_folder_without_a_run(tmp_path, tiny_data, tiny_config):
    with pytest.raises(CheckpointError, match="nothing to resume"):
        fit(tiny_config, Dataset(tiny_data), tmp_path, resume=True)


def test_a_batch_larger_than_the_dataset_is_reduced_with_a_warning(tiny_data, tiny_config,
                                                                   tmp_path):
    tiny_config.train.batch_size = 500
    tiny_config.train.epochs = 1
    result = fit(tiny_config, Dataset(tiny_data), tmp_path)
    assert any("batch size 500" in w for w in result.warnings)


def test_a_full_disk_keeps_the_previous_checkpoint(tiny_data, tiny_config, tmp_path,
                                                   monkeypatch):
    import safetensors.torch

    tiny_config.train.epochs = 2
    real_write = safetensors.torch.save_file
    writes = []

    def failing_write(tensors, path, metadata=None):
        writes.append(path)
        if len(writes) > 2:  # epoch 1 (best + last) succeeds, then the disk fills mid-write
            Path(path).write_bytes(b"\0" * 1000)
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(tensors, path, metadata=metadata)

    monkeypatch.setattr(safetensors.torch, "save_file", failing_write)
    with pytest.raises(CheckpointError, match="disk is full"):
        fit(tiny_config, Dataset(tiny_data), tmp_path)
    assert load_checkpoint(tmp_path / "last.safetensors").meta["resume"]["epoch"] == 1
    assert not list(tmp_path.glob(".*.tmp"))


def _write_config(config, path):
    path.write_text(tomli_w.dumps(config.model_dump(mode="json", exclude_none=True)))
    return path


def test_kill_9_during_training_then_resume_finishes_like_an_uninterrupted_run(
        trained, tiny_data, tmp_path):
    config, reference, _ = trained
    config_path = _write_config(config, tmp_path / "config.toml")
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "inspector", "train", "--data", str(tiny_data), "--out",
           str(out), "--config", str(config_path)]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (out / "last.safetensors").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.kill()  # SIGKILL: no handler runs
    process.wait()
    assert (out / "last.safetensors").exists(), "the run never finished its first epoch"
    assert not (out / "evaluation.json").exists()
    done = subprocess.run([*cmd, "--resume", "--json", str(tmp_path / "r.json")],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    import json

    history = json.loads((tmp_path / "r.json").read_text())["history"]
    assert [(h["epoch"], round(h["loss"], 4), round(h["val_macro_f1"], 4))
            for h in history] == _history(reference)


def test_two_processes_train_with_distributed_data_parallel(tiny_data, tiny_config, tmp_path):
    tiny_config.train.epochs = 1
    config_path = _write_config(tiny_config, tmp_path / "config.toml")
    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "inspector", "train", "--data",
         str(tiny_data), "--out", str(out), "--config", str(config_path), "--json",
         str(tmp_path / "r.json")],
        capture_output=True, text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    result = json.loads((tmp_path / "r.json").read_text())
    assert result["world_size"] == 2
    assert load_checkpoint(out / "best.safetensors").classes == ["missing_hole", "ok", "short"]


def test_running_out_of_gpu_memory_retries_smaller_then_explains(tiny_data, tiny_config,
                                                                  tmp_path, monkeypatch):
    import torch

    import inspector.core.training.fit as fit_module
    from inspector.core.errors import TrainingError

    real = fit_module.train_one_epoch
    sizes = []

    def once_out_of_memory(model, loader, *args, **kwargs):
        sizes.append(loader.batch_size)
        if len(sizes) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(model, loader, *args, **kwargs)

    tiny_config.train.epochs = 1
    monkeypatch.setattr(fit_module, "train_one_epoch", once_out_of_memory)
    result = fit(tiny_config, Dataset(tiny_data), tmp_path / "a")
    assert sizes == [8, 4]
    assert any("out of memory" in w for w in result.warnings)

    def always_out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")

    monkeypatch.setattr(fit_module, "train_one_epoch", always_out_of_memory)
    with pytest.raises(TrainingError, match="ran out of memory even with batch size 2"):
        fit(tiny_config, Dataset(tiny_data), tmp_path / "b")
