from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import save

from inspector.core.errors import CheckpointError
from inspector.core.model_catalog import (
    active_model,
    delete_model,
    list_models,
    read_header_metadata,
    set_active_model,
)
from inspector.core.workspace import Workspace


def _model(workspace: Workspace, name: str, created: str, **meta: object) -> None:
    folder = workspace.models_dir / name
    folder.mkdir(parents=True)
    fields = {"format": "inspector-checkpoint", "format_version": 1, "created": created,
              "classes": ["ok", "short"], "input_size": 64, "epoch": 3,
              "metrics": {"val_macro_f1": 0.9, "test": {"accuracy": 0.95, "macro_f1": 0.93,
                                                        "ece": 0.05, "ece_calibrated": 0.02}},
              "pretrained": None} | meta
    data = save({"model.w": np.zeros(4, np.float32)},
                metadata={"inspector": json.dumps(fields)})
    (folder / "best.safetensors").write_bytes(data)


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace.create(tmp_path / "ws")
    _model(ws, "model-a", "2024-01-01T10:00:00+00:00", pretrained="torchvision: /x.pth")
    _model(ws, "model-b", "2024-03-01T10:00:00+00:00")
    (ws.models_dir / "model-b" / "model.onnx").write_bytes(b"onnx")
    (ws.models_dir / "broken").mkdir()
    damaged = b"\x05\x00\x00\x00\x00\x00\x00\x00{oops"  # a 5-byte header, not JSON
    (ws.models_dir / "broken" / "best.safetensors").write_bytes(damaged)
    (ws.models_dir / "empty").mkdir()  # no checkpoint: not a model
    return ws


def test_lists_models_newest_first_with_their_metadata(workspace):
    models = list_models(workspace)
    assert [m.name for m in models] == ["model-b", "model-a", "broken"]
    b, a, broken = models
    assert b.classes == ["ok", "short"] and b.input_size == 64 and b.epoch == 3
    assert (b.val_macro_f1, b.test_accuracy, b.test_macro_f1, b.test_ece) == (0.9, 0.95, 0.93,
                                                                               0.02)
    assert b.has_onnx and not a.has_onnx and not b.has_int8
    assert a.imagenet and not b.imagenet
    assert not broken.usable and "damaged" in (broken.problem or "")


def test_active_defaults_to_the_oldest_and_a_choice_persists(workspace):
    # a newer model never goes live by itself: it is promoted
    assert active_model(workspace).name == "model-a"
    set_active_model(workspace, workspace.models_dir / "model-b")
    assert active_model(workspace).name == "model-b"
    set_active_model(workspace, workspace.models_dir / "model-a")
    reopened = Workspace.open(workspace.root)
    assert active_model(reopened).name == "model-a"
    with pytest.raises(CheckpointError):
        set_active_model(workspace, "broken")
    assert active_model(workspace).name == "model-a"


def test_deleting_moves_to_the_trash_and_the_active_model_is_kept(workspace):
    set_active_model(workspace, "model-b")
    with pytest.raises(CheckpointError, match="active model"):
        delete_model(workspace, "model-b")
    set_active_model(workspace, "model-a")
    target = delete_model(workspace, "model-b")
    assert target.parent.name == ".trash" and (target / "best.safetensors").is_file()
    assert not (workspace.models_dir / "model-b").exists()
    assert [m.name for m in list_models(workspace)] == ["model-a", "broken"]
    assert active_model(workspace).name == "model-a"
    with pytest.raises(CheckpointError):
        delete_model(workspace, "model-b")


def test_a_foreign_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "x.safetensors"
    path.write_bytes(save({"w": np.zeros(1, np.float32)}))
    with pytest.raises(CheckpointError, match="not an Inspector model"):
        read_header_metadata(path)


def test_listing_does_not_import_torch(workspace):
    code = ("import sys; from pathlib import Path; from inspector.core.workspace import "
            "Workspace; from inspector.core.model_catalog import list_models, active_model; "
            f"ws = Workspace.open(Path({str(workspace.root)!r})); list_models(ws); "
            "active_model(ws); assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ.copy())
