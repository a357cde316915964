"""fit in a child process: the same result as in-process, typed errors, cancel, a killed child."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading

import pytest
from helpers import tiny_training_config

from inspector.core.data.dataset import Dataset
from inspector.core.errors import InspectorError, TrainingError
from inspector.core.training.checkpoint import load_checkpoint
from inspector.core.training.isolated import fit_in_subprocess


def test_trains_in_a_child_and_relays_progress_and_warnings(tiny_data, tmp_path):
    config = tiny_training_config()
    config.train.epochs = 1
    config.train.workers = 1  # the child may have DataLoader processes of its own
    dataset = Dataset(tiny_data)
    stages, logs = [], []
    result = fit_in_subprocess(config, dataset.root, dataset.config, tmp_path / "run",
                               lambda p: stages.append(p.stage), resume=False,
                               on_log=logs.append)
    assert result.epochs_run == 1 and result.best_path.is_file()
    assert load_checkpoint(result.best_path).classes == result.classes
    assert "batch" in stages and "epoch" in stages
    assert any("ImageNet" in line for line in logs)  # the child's warning reached us


def test_a_users_error_keeps_its_type_and_message(tmp_path):
    empty = Dataset.create(tmp_path / "empty")
    with pytest.raises(InspectorError) as raised:
        fit_in_subprocess(tiny_training_config(), empty.root, empty.config, tmp_path / "run")
    assert type(raised.value) is not InspectorError  # DatasetError or TrainingError, as in-process
    assert "Traceback" not in str(raised.value)


def test_cancel_stops_after_the_current_batch_and_leaves_a_resumable_run(tiny_data, tmp_path):
    config = tiny_training_config()
    config.train.epochs = 3
    dataset = Dataset(tiny_data)
    stop = threading.Event()
    result = fit_in_subprocess(config, dataset.root, dataset.config, tmp_path / "run",
                               lambda p: stop.set() if p.stage == "batch" else None, stop)
    assert result.stopped and result.epochs_run < 3
    resumed = fit_in_subprocess(config, dataset.root, dataset.config, tmp_path / "run",
                                resume=True)
    assert resumed.epochs_run == 3 and not resumed.stopped


def test_a_killed_child_is_a_clear_error_not_a_hang(tiny_data, tmp_path):
    dataset = Dataset(tiny_data)

    def kill_on_first_batch(report) -> None:
        if report.stage == "batch":
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGKILL)

    with pytest.raises(TrainingError, match="ended unexpectedly"):
        fit_in_subprocess(tiny_training_config(), dataset.root, dataset.config,
                          tmp_path / "run", kill_on_first_batch)
