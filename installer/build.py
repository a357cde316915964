#!/usr/bin/env python3
"""Build Inspector's packaged application: a PyInstaller one-folder bundle for Linux.

    python3 installer/build.py                     CUDA torch (runs on the CPU where no GPU)
    python3 installer/build.py --torch cpu         CPU-only torch (a smaller bundle; needs
                                                   download.pytorch.org/whl/cpu or a mirror)
    python3 installer/build.py --weights FILE      bundle these ImageNet weights
    python3 installer/build.py --archive           also make dist/inspector-<ver>-<torch>.tar.gz
    python3 installer/build.py --smoke             run installer/smoke.py on the result

Only the standard library here: the script makes its own build environment
(build/installer/venv-<torch>, reused while its requirements do not change), installs the
chosen torch, the project and PyInstaller into it, and runs installer/inspector.spec. ImageNet
weights found on the build machine (--weights, INSPECTOR_IMAGENET_WEIGHTS or torchvision's
cache) are checked and bundled, so that the installed application trains with transfer learning
offline. The result is dist/inspector/: the executable, install.sh, uninstall.sh, the desktop
entry and icon, and BUILD-INFO.json with the figures (size, build time).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALLER = ROOT / "installer"
PYINSTALLER = "pyinstaller==6.22.3"
TORCH = {
    # The builds tested with this release (constraints.txt); a CUDA build runs on the CPU too.
    "cuda": (["torch==2.14.1", "torchvision==0.29.1"], []),
    "cpu": (["torch==2.14.1+cpu", "torchvision==0.29.1+cpu"],
            ["--index-url", os.environ.get("INSPECTOR_TORCH_CPU_INDEX",
                                           "https://download.pytorch.org/whl/cpu")]),
}
IMAGENET_FILE = "resnet50-11ad3fa6.pth"
IMAGENET_SHA256_PREFIX = "11ad3fa6"
BUNDLE_EXTRAS = ("install.sh", "uninstall.sh")


def say(message: str) -> None:
    print(f"[build] {message}", flush=True)


def run(cmd: list[str], **kwargs) -> None:
    say("$ " + " ".join(str(c) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def project_version() -> str:
    text = (ROOT / "inspector" / "__init__.py").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise SystemExit("cannot read __version__ from inspector/__init__.py")


def requirements_fingerprint(variant: str) -> str:
    """What the build environment's packages depend on (not the rest of pyproject.toml: a
    lint setting must not cost a 5 GB reinstall)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    digest = hashlib.sha256()
    digest.update(json.dumps([project.get("dependencies", []), project.get("requires-python"),
                              PYINSTALLER, TORCH[variant]]).encode())
    digest.update((ROOT / "constraints.txt").read_bytes())
    return digest.hexdigest()[:16]


def venv_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def build_environment(variant: str, folder: Path) -> Path:
    """The build venv with the chosen torch, the project (not editable) and PyInstaller."""
    python = venv_python(folder)
    stamp = folder / ".inspector-build"
    fingerprint = requirements_fingerprint(variant)
    if python.exists() and stamp.is_file() and stamp.read_text() == fingerprint:
        say(f"reusing the build environment {folder}")
        # The project's own code may have changed: reinstall it alone (seconds).
        run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
             "--disable-pip-version-check", ROOT])
        return python
    say(f"making the build environment {folder} ({variant} torch)")
    venv.EnvBuilder(with_pip=True, clear=folder.exists()).create(folder)
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check"]
    packages, index = TORCH[variant]
    run([*pip, *index, *packages])
    # Constraints pin Qt to what was tested; the torch pins are left to the chosen variant.
    constraints = folder / "constraints.txt"
    constraints.write_text("".join(line + "\n" for line in
                                   (ROOT / "constraints.txt").read_text().splitlines()
                                   if not line.startswith(("torch", "torchvision"))))
    run([*pip, "-c", constraints, ROOT, PYINSTALLER])
    stamp.write_text(fingerprint)
    return python


def find_weights(given: Path | None) -> Path | None:
    """The ImageNet file to bundle: --weights, the environment variable, torchvision's cache.
    Only torchvision's own .pth file, checked against its published hash."""
    candidates = [given] if given else []
    if os.environ.get("INSPECTOR_IMAGENET_WEIGHTS"):
        candidates.append(Path(os.environ["INSPECTOR_IMAGENET_WEIGHTS"]))
    torch_home = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch"))
    candidates.append(torch_home / "hub" / "checkpoints" / IMAGENET_FILE)
    for candidate in candidates:
        path = candidate.expanduser()
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if not digest.startswith(IMAGENET_SHA256_PREFIX):
                raise SystemExit(f"{path} is not torchvision's IMAGENET1K_V2 ResNet-50 file "
                                 f"({IMAGENET_FILE}): its sha256 starts {digest[:8]}, not "
                                 f"{IMAGENET_SHA256_PREFIX}. Use --no-weights to build without.")
            return path
        if given is not None and candidate == given:
            raise SystemExit(f"--weights {given}: no such file")
    return None


def stage_weights(weights: Path, work: Path) -> Path:
    """A copy under the name the application looks for (inspector/weights/<IMAGENET_FILE>),
    whatever the file was called on the build machine."""
    staged = work / "weights" / IMAGENET_FILE
    staged.parent.mkdir(parents=True, exist_ok=True)
    if not (staged.is_file() and staged.stat().st_size == weights.stat().st_size
            and hashlib.sha256(staged.read_bytes()).digest()
            == hashlib.sha256(weights.read_bytes()).digest()):
        shutil.copyfile(weights, staged)
    return staged


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def finish_bundle(bundle: Path, info: dict) -> None:
    """Add the installer scripts, the desktop entry and the icon; write BUILD-INFO.json."""
    for name in BUNDLE_EXTRAS:
        target = bundle / name
        shutil.copy2(INSTALLER / name, target)
        target.chmod(0o755)
    share = bundle / "share"
    share.mkdir(exist_ok=True)
    shutil.copy2(ROOT / "resources" / "inspector.desktop", share / "inspector.desktop")
    icon = ROOT / "inspector" / "gui" / "resources" / "inspector.svg"
    shutil.copy2(icon, share / "inspector.svg")
    info["size_bytes"] = folder_size(bundle)
    (bundle / "BUILD-INFO.json").write_text(json.dumps(info, indent=2) + "\n")


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch", choices=sorted(TORCH), default="cuda",
                        help="which torch build to bundle (default: cuda)")
    parser.add_argument("--weights", type=Path, default=None,
                        help="ImageNet weights to bundle (default: found on this machine)")
    parser.add_argument("--no-weights", action="store_true",
                        help="do not bundle ImageNet weights even where they are found")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "installer",
                        help="build environment and PyInstaller's work folder")
    parser.add_argument("--archive", action="store_true", help="also make a .tar.gz")
    parser.add_argument("--smoke", action="store_true", help="run the smoke test afterwards")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    version = project_version()
    python = build_environment(args.torch, args.work / f"venv-{args.torch}")
    environment_s = time.perf_counter() - started

    weights = None if args.no_weights else find_weights(args.weights)
    env = dict(os.environ, INSPECTOR_BUNDLE_NAME="inspector")
    env.pop("INSPECTOR_BUNDLE_WEIGHTS", None)
    if weights:
        env["INSPECTOR_BUNDLE_WEIGHTS"] = str(stage_weights(weights, args.work))
        say(f"bundling ImageNet weights from {weights}")
    else:
        say("no ImageNet weights on this machine: the bundle trains from random weights unless "
            "the workstation provides them (see README)")

    bundle = args.dist / "inspector"
    pyinstaller_started = time.perf_counter()
    run([python, "-m", "PyInstaller", INSTALLER / "inspector.spec", "--noconfirm", "--clean",
         "--log-level", "WARN", "--distpath", args.dist, "--workpath", args.work / "pyinstaller"],
        env=env, cwd=ROOT)
    pyinstaller_s = time.perf_counter() - pyinstaller_started

    torch_version = subprocess.run(
        [python, "-c", "import torch; print(torch.__version__)"], capture_output=True,
        text=True, check=True).stdout.strip()
    info = {"name": "Inspector", "version": version, "commit": git_commit(),
            "torch": torch_version, "torch_variant": args.torch,
            "imagenet_weights_bundled": weights is not None,
            "platform": f"{platform.system()}-{platform.machine()}",
            "python": platform.python_version(),
            "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "environment_seconds": round(environment_s, 1),
            "pyinstaller_seconds": round(pyinstaller_s, 1),
            "build_seconds": round(time.perf_counter() - started, 1)}  # finishing takes ~1 s
    finish_bundle(bundle, info)
    say(f"bundle: {bundle} ({info['size_bytes'] / 2**30:.2f} GiB), built in "
        f"{info['build_seconds']:.0f} s (environment {environment_s:.0f} s, PyInstaller "
        f"{pyinstaller_s:.0f} s)")

    if args.archive:
        archive = args.dist / f"inspector-{version}-{info['platform'].lower()}-{args.torch}.tar.gz"
        say(f"archiving to {archive}")
        with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
            tar.add(bundle, arcname=f"inspector-{version}")
        say(f"archive: {archive.stat().st_size / 2**30:.2f} GiB")
    if args.smoke:
        run([sys.executable, INSTALLER / "smoke.py", bundle])
    return 0


if __name__ == "__main__":
    sys.exit(main())
