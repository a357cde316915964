from __future__ import annotations

import json

from inspector.cli import main


def test_train_writes_a_model_and_says_it_had_no_imagenet_weights(trained_model, capsys):
    out, result = trained_model
    assert (out / "best.safetensors").is_file()
    assert result["epochs_run"] == 1
    assert any("ImageNet" in w for w in result["warnings"])


def test_evaluate_prints_metrics_and_writes_json(trained_model, tiny_data, tmp_path, capsys):
    out, _ = trained_model
    report_path = tmp_path / "report.json"
    assert main(["evaluate", "--model", str(out), "--data", str(tiny_data), "--split", "val",
                 "--json", str(report_path), "--out", str(tmp_path / "eval")]) == 0
    printed = capsys.readouterr().out
    assert "macro-F1" in printed and "missing_hole" in printed
    report = json.loads(report_path.read_text())
    assert report["split"] == "val"
    assert (tmp_path / "eval" / "evaluation-confusion.png").is_file()


def test_predict_classifies_files_and_reports_bad_ones(trained_model, tiny_data, tmp_path,
                                                       capsys):
    out, _ = trained_model
    good = sorted((tiny_data / "short").iterdir())[0]
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    code = main(["predict", "--model", str(out), "--json", str(good), str(bad)])
    rows = json.loads(capsys.readouterr().out)
    assert code == 1  # one file could not be read
    assert rows[0]["label"] in {"missing_hole", "ok", "short"}
    assert 0.0 < rows[0]["confidence"] <= 1.0


def test_a_foreign_model_file_is_a_clear_error(tmp_path, tiny_data, capsys):
    fake = tmp_path / "best.safetensors"
    fake.write_bytes(b"\x00" * 64)
    assert main(["evaluate", "--model", str(fake), "--data", str(tiny_data)]) == 2
    assert "not a usable model file" in capsys.readouterr().err


def test_ctrl_c_saves_a_resumable_checkpoint_and_exits_cleanly(tiny_data, tmp_path):
    import signal
    import subprocess
    import sys

    from inspector.core.training.checkpoint import load_checkpoint

    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "inspector", "train", "--data", str(tiny_data), "--out", str(out),
         "--epochs", "3", "--input-size", "32", "--batch-size", "4", "--workers", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:  # the first epoch's summary line
        if line.startswith("epoch 1/3"):
            break
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr[-2000:]
    assert "--resume" in stdout
    assert "Traceback" not in stderr
    state = load_checkpoint(out / "last.safetensors").meta["resume"]
    assert state["epoch"] == 1
