from __future__ import annotations

import json
import sqlite3

import pytest

from inspector.cli import main


@pytest.fixture(scope="module")
def exported(trained_model, tiny_data):
    out, _ = trained_model
    assert main(["export", "--model", str(out), "--int8", "--data", str(tiny_data)]) == 0
    return out


def test_export_writes_checked_fp32_and_int8_models_with_their_metadata(exported, capsys):
    assert (exported / "model.onnx").is_file()
    assert (exported / "model.int8.onnx").is_file()
    info = json.loads((exported / "model.int8.onnx.json").read_text())
    report = info["quantization"]
    assert report["n_images"] > 0  # measured on the test split when it was made
    assert 0.0 <= report["int8_accuracy"] <= 1.0
    assert (exported / "model.md").read_text().count("missing_hole") >= 1


def test_int8_needs_a_dataset_to_calibrate_on(trained_model, capsys):
    out, _ = trained_model
    assert main(["export", "--model", str(out), "--int8"]) == 2
    assert "--int8 needs --data" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["torch", "onnx", "onnx-int8"])
def test_live_on_a_folder_stores_one_result_per_image(exported, tiny_data, tmp_path, capsys,
                                                      backend):
    images = sorted((tiny_data / "short").iterdir())[:5]
    folder = tmp_path / "frames"
    folder.mkdir()
    for image in images:
        (folder / image.name).write_bytes(image.read_bytes())
    code = main(["live", "--model", str(exported), "--source", str(folder), "--backend",
                 backend, "--out", str(tmp_path / "store"), "--device", "cpu"])
    printed = capsys.readouterr().out
    assert code == 0
    expected = {"torch": "torch on cpu", "onnx": "(model.onnx)", "onnx-int8": "(model.int8.onnx)"}
    assert expected[backend] in printed.split("Inspecting", 1)[1].splitlines()[0]
    with sqlite3.connect(tmp_path / "store" / "results.sqlite") as db:
        (count,) = db.execute("SELECT COUNT(*) FROM results").fetchone()
    assert count == len(images)


def test_live_without_an_export_says_how_to_make_one(trained_model, tmp_path, capsys):
    out, _ = trained_model
    lonely = tmp_path / "model"
    lonely.mkdir()
    (lonely / "best.safetensors").write_bytes((out / "best.safetensors").read_bytes())
    code = main(["live", "--model", str(lonely), "--source", str(tmp_path), "--backend", "onnx",
                 "--max-frames", "1"])
    assert code == 2
    assert "inspector export" in capsys.readouterr().err


def test_live_in_a_workspace_uses_its_active_model(trained_model, tiny_data, tmp_path, capsys):
    import shutil

    from inspector.core.model_catalog import set_active_model
    from inspector.core.workspace import Workspace

    out, _ = trained_model
    workspace = Workspace.create(tmp_path / "ws")
    for name in ("older", "newer"):
        shutil.copytree(out, workspace.models_dir / name)
    set_active_model(workspace, "older")
    frames = tmp_path / "frames"
    frames.mkdir()
    shutil.copy(sorted((tiny_data / "ok").iterdir())[0], frames)
    assert main(["live", "--workspace", str(workspace.root), "--source", str(frames),
                 "--out", str(tmp_path / "store"), "--max-frames", "1"]) == 0
    assert "older/best.safetensors" in capsys.readouterr().out

