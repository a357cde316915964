"""`inspector self-test`: what IT runs after installing, and the bundle's smoke test runs."""

from __future__ import annotations

import json

from inspector.cli import main


def test_the_self_test_passes_here_and_reports_each_check(tmp_path, capsys):
    out = tmp_path / "self-test.json"
    assert main(["self-test", "--no-gui", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[ok  ] classify (PyTorch)" in printed
    assert "[ok  ] classify (ONNX Runtime)" in printed
    # the tests run without ImageNet weights: that is a note, not a failure
    assert "[note] ImageNet weights" in printed and "INSPECTOR_IMAGENET_WEIGHTS" in printed
    report = json.loads(out.read_text())
    assert report["passed"] is True
    names = [c["name"] for c in report["checks"]]
    assert names[:4] == ["python packages", "compute device", "ImageNet weights", "user folders"]
    assert {"model file", "classify (PyTorch)", "classify (ONNX Runtime)",
            "train (child process)"} <= set(names)
    assert "[ok  ] train (child process)" in printed


def test_user_folders_inside_the_installation_fail_it(monkeypatch, capsys):
    from inspector.core.paths import installation_dir

    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(installation_dir() / "data"))
    assert main(["self-test", "--quick"]) == 1
    printed = capsys.readouterr().out
    assert "[FAIL] user folders" in printed and "inside the installation" in printed
    assert "FAILED: user folders" in printed
    assert not (installation_dir() / "data").exists()


def test_a_package_missing_from_a_bundle_is_named(monkeypatch, capsys):
    import importlib

    real = importlib.import_module

    def import_module(name: str, package: str | None = None):
        if name == "onnxruntime":
            raise ModuleNotFoundError("No module named 'onnxruntime'")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", import_module)
    assert main(["self-test", "--quick"]) == 1
    printed = capsys.readouterr().out
    assert "[FAIL] python packages" in printed and "No module named 'onnxruntime'" in printed
