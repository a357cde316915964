"""install.sh and uninstall.sh on a stand-in bundle (its `inspector` runs this checkout's CLI).

The real bundle goes through the same cycle in installer/smoke.py; these run on every CI run
because they are quick: what IT relies on is that an upgrade keeps the user's settings, an
uninstall leaves them, and only --purge removes them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import __version__

ROOT = Path(__file__).resolve().parents[2]


def _build_module():
    path = ROOT / "installer" / "build.py"
    spec = importlib.util.spec_from_file_location("installer_build", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "dist" / "inspector"
    folder.mkdir(parents=True)
    exe = folder / "inspector"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m inspector "$@"\n')
    exe.chmod(0o755)
    _build_module().finish_bundle(folder, {"version": __version__})
    return folder


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "INSPECTOR_"))}
    env["HOME"] = str(home)
    env["PYTHONPATH"] = str(ROOT)
    return env


def _sh(script: Path, *args: object, env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run(["sh", str(script), *map(str, args)], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_bundle_gets_the_scripts_the_desktop_entry_and_its_figures(bundle):
    for name in ("install.sh", "uninstall.sh"):
        assert os.access(bundle / name, os.X_OK)
    assert "@EXEC@" in (bundle / "share" / "inspector.desktop").read_text()
    assert (bundle / "share" / "inspector.svg").read_text().startswith("<svg")
    info = json.loads((bundle / "BUILD-INFO.json").read_text())
    assert info["version"] == __version__ and info["size_bytes"] > 0


def test_install_upgrade_uninstall_keep_the_users_folders_and_purge_removes_them(
        bundle, env, tmp_path):
    where = ["--prefix", tmp_path / "opt", "--bin", tmp_path / "bin", "--share", tmp_path / "share"]
    printed = _sh(bundle / "install.sh", *where, env=env)
    assert f"Inspector {__version__} installed" in printed
    command = tmp_path / "bin" / "inspector"
    assert (tmp_path / "opt" / "current").resolve() == tmp_path / "opt" / "versions" / __version__
    version = subprocess.run([command, "--version"], env=env, capture_output=True, text=True,
                             check=True).stdout
    assert version.strip() == f"Inspector {__version__}"
    desktop = (tmp_path / "share" / "applications" / "inspector.desktop").read_text()
    assert f"Exec={command} %f" in desktop and "Icon=inspector" in desktop
    assert (tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" /
            "inspector.svg").is_file()

    settings = Path(env["HOME"]) / ".config" / "Inspector"  # platformdirs on Linux
    settings.mkdir(parents=True)
    (settings / "gui.ini").write_text("[window]\n")
    logs = Path(env["HOME"]) / ".local" / "share" / "Inspector" / "logs"
    logs.mkdir(parents=True)
    (logs / "inspector.log").write_text("a shift's log\n")

    _sh(bundle / "install.sh", *where, env=env)  # the upgrade path: the bundle again
    assert (settings / "gui.ini").is_file()
    _sh(tmp_path / "opt" / "current" / "uninstall.sh", *where, env=env)
    assert not (tmp_path / "opt").exists() and not command.exists()
    assert not (tmp_path / "share" / "applications" / "inspector.desktop").exists()
    assert (settings / "gui.ini").is_file() and (logs / "inspector.log").is_file()

    _sh(bundle / "install.sh", *where, env=env)
    refused = subprocess.run(["sh", tmp_path / "opt" / "current" / "uninstall.sh", *where,
                              "--purge"], env=env, input="no\n", capture_output=True, text=True,
                             check=False)
    assert refused.returncode == 1 and "Nothing was removed" in refused.stdout
    assert (tmp_path / "opt").exists() and (settings / "gui.ini").is_file()
    _sh(tmp_path / "opt" / "current" / "uninstall.sh", *where, "--purge", env=env,
        stdin="delete\n")
    assert not settings.exists() and not logs.exists()


def test_an_upgrade_keeps_one_previous_version(bundle, env, tmp_path):
    where = ["--prefix", tmp_path / "opt", "--bin", tmp_path / "bin", "--share", tmp_path / "share"]
    versions = tmp_path / "opt" / "versions"
    for old in ("0.0.1", "0.0.2"):
        (versions / old).mkdir(parents=True)
    (tmp_path / "opt" / "current").symlink_to("versions/0.0.2")
    printed = _sh(bundle / "install.sh", *where, env=env)
    assert "previous version kept" in printed
    assert sorted(p.name for p in versions.iterdir()) == ["0.0.2", __version__]


def test_a_folder_without_an_executable_is_refused(tmp_path, env):
    folder = tmp_path / "empty"
    folder.mkdir()
    script = folder / "install.sh"
    script.write_text((ROOT / "installer" / "install.sh").read_text())
    done = subprocess.run(["sh", script, "--prefix", tmp_path / "opt"], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "no inspector executable" in done.stderr
    assert not (tmp_path / "opt").exists()


def test_weights_are_bundled_only_when_they_are_torchvisions_file(tmp_path, monkeypatch):
    build = _build_module()
    monkeypatch.delenv("INSPECTOR_IMAGENET_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert build.find_weights(None) is None  # none on this machine: the build goes on without
    with pytest.raises(SystemExit, match="no such file"):
        build.find_weights(tmp_path / "missing.pth")
    other = tmp_path / "my-resnet.pth"
    other.write_bytes(b"not the ImageNet file")
    with pytest.raises(SystemExit, match="not torchvision's IMAGENET1K_V2"):
        build.find_weights(other)
    import hashlib

    monkeypatch.setattr(build, "IMAGENET_SHA256_PREFIX",
                        hashlib.sha256(other.read_bytes()).hexdigest()[:8])
    assert build.find_weights(other) == other
    staged = build.stage_weights(other, tmp_path / "work")
    # the bundle carries it under the name inspector.core.models.pretrained looks for
    from inspector.core.models.pretrained import BUNDLED_PATH

    assert staged.name == BUNDLED_PATH.name and staged.parent.name == BUNDLED_PATH.parent.name
    assert staged.read_bytes() == other.read_bytes()
