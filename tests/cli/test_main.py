from __future__ import annotations

import subprocess
import sys

from inspector.cli import main


def test_help_is_fast_and_imports_nothing_heavy():
    code = ("import sys; from inspector.cli import build_parser; build_parser().format_help(); "
            "heavy = {'torch', 'cv2', 'PySide6', 'albumentations'} & set(sys.modules); "
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_no_display_prints_how_to_run_the_headless_demo(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out


def test_demo_generates_validates_and_splits(tmp_path, capsys):
    assert main(["demo", "--workspace", str(tmp_path / "demo"), "--per-class", "4",
                 "--no-train"]) == 0
    out = capsys.readouterr().out
    assert "Demo workspace" in out
    assert "train" in out
    assert (tmp_path / "demo" / "datasets" / "main" / ".inspector" / "manifest.json").exists()


def test_missing_x11_libraries_are_named_instead_of_qt_aborting(tmp_path):
    from inspector.cli.gui_cmd import missing_x11_libraries

    broken = tmp_path / "libqxcb.so"
    broken.write_bytes(b"not a shared object")
    assert missing_x11_libraries(broken)  # something is reported, nothing crashes


def test_the_installed_qt_plugin_check_runs():
    from inspector.cli.gui_cmd import missing_x11_libraries

    assert isinstance(missing_x11_libraries(), list)


def test_demo_trains_a_model_and_inspects_the_virtual_camera(tmp_path, capsys, caplog):
    workspace = tmp_path / "demo"
    assert main(["demo", "--workspace", str(workspace), "--per-class", "6", "--frames",
                 "10"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    said = captured.out + captured.err + caplog.text
    assert said.count("No ImageNet weights were found") == 1  # said once, clearly
    assert "Demo model: test accuracy" in out
    assert "10 frames in" in out
    assert "against the known truth" in out
    assert (workspace / "models" / "demo" / "best.safetensors").is_file()
    assert (workspace / "results.sqlite").is_file()
