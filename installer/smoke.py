#!/usr/bin/env python3
"""Smoke test of a built bundle: does the packaged executable start and work, headless?

    python3 installer/smoke.py dist/inspector [--no-install] [--json FILE]

Runs the bundle's own executable (never the source tree's Python) with a throw-away HOME, so
the user folders it creates are the real defaults of a fresh account and nothing of the real
user's is read or written:

1. `inspector --version` (the process alone) and `inspector gui --exit-after-start` (the main
   window shown, offscreen), timed: the first (cold) start and the median of three warm ones;
2. `inspector demo --help`;
3. `inspector self-test` (packages, device, weights, user folders, a model made, loaded and used
   to classify a synthetic board patch with PyTorch and ONNX Runtime, the main window offscreen);
4. nothing was written inside the bundle;
5. install.sh into a temporary prefix, the installed command runs, a reinstall (upgrade) keeps
   the user's settings, uninstall.sh keeps them, uninstall.sh --purge removes them.

Prints the figures (bundle size, start-up times) and exits non-zero on the first failure.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def say(message: str) -> None:
    print(f"[smoke] {message}", flush=True)


class SmokeError(Exception):
    pass


def run(cmd: list[str | Path], env: dict[str, str], timeout: float = 600,
        stdin: str | None = None) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    done = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True,
                          timeout=timeout, input=stdin, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SmokeError(f"{' '.join(str(c) for c in cmd)} exited with {done.returncode}:\n"
                           f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done, seconds


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "INSPECTOR_", "PYTHON", "QT_")) and k != "VIRTUAL_ENV"}
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen")
    return env


def check_install_cycle(bundle: Path, root: Path, env: dict[str, str]) -> dict[str, float]:
    prefix, bin_dir, share = root / "opt", root / "bin", root / "share"
    where = ["--prefix", prefix, "--bin", bin_dir, "--share", share]
    _, install_s = run(["sh", bundle / "install.sh", *where], env)
    command = bin_dir / "inspector"
    done, _ = run([command, "--version"], env)
    say(f"installed: {done.stdout.strip()} ({install_s:.1f} s to install)")
    desktop = (share / "applications" / "inspector.desktop").read_text()
    if f"Exec={command}" not in desktop:
        raise SmokeError(f"the desktop entry does not run {command}:\n{desktop}")
    paths, _ = run([command, "paths", "--shell"], env)
    folders = dict(line.split("=", 1) for line in paths.stdout.split())
    config = Path(folders["INSPECTOR_CONFIG_PATH"].strip("'"))
    if config.resolve().is_relative_to(prefix.resolve()):
        raise SmokeError(f"settings {config} are inside the installation {prefix}")
    config.mkdir(parents=True, exist_ok=True)
    marker = config / "smoke-marker.txt"
    marker.write_text("a setting the user made")
    run(["sh", bundle / "install.sh", *where], env)  # an upgrade (the same bundle again)
    if not marker.is_file():
        raise SmokeError("a reinstall removed the user's settings")
    run(["sh", prefix / "current" / "uninstall.sh", *where], env)
    if prefix.exists() or command.exists() or not marker.is_file():
        raise SmokeError("uninstall.sh left the installation or removed the user's settings")
    run(["sh", bundle / "install.sh", *where], env)
    run(["sh", prefix / "current" / "uninstall.sh", *where, "--purge", "--yes"], env)
    if config.exists():
        raise SmokeError("uninstall.sh --purge left the user's settings")
    say("install, upgrade, uninstall and --purge behave")
    return {"install_seconds": round(install_s, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path, help="the bundle folder (dist/inspector)")
    parser.add_argument("--no-install", action="store_true", help="skip the install cycle")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    bundle = args.bundle.resolve()
    exe = bundle / ("inspector.exe" if os.name == "nt" else "inspector")
    if not exe.is_file():
        say(f"no executable at {exe}: build the bundle first (installer/build.py)")
        return 2

    figures: dict[str, object] = {}
    info = bundle / "BUILD-INFO.json"
    if info.is_file():
        figures["build"] = json.loads(info.read_text())
    figures["bundle_bytes"] = sum(p.stat().st_size for p in bundle.rglob("*")
                                  if p.is_file() and not p.is_symlink())
    before = snapshot(bundle)
    with tempfile.TemporaryDirectory(prefix="inspector-smoke-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = clean_env(home)
        try:
            done, cold = run([exe, "--version"], env)
            warm = [run([exe, "--version"], env)[1] for _ in range(3)]
            say(f"{done.stdout.strip()}: start-up {cold:.2f} s cold, "
                f"{statistics.median(warm):.2f} s warm")
            figures.update(version=done.stdout.strip(), startup_cold_s=round(cold, 2),
                           startup_warm_s=round(statistics.median(warm), 2))
            gui = [exe, "gui", "--exit-after-start"]
            gui_cold = run(gui, env)[1]
            gui_warm = statistics.median(run(gui, env)[1] for _ in range(3))
            say(f"main window: start-up {gui_cold:.2f} s cold, {gui_warm:.2f} s warm")
            figures.update(gui_startup_cold_s=round(gui_cold, 2),
                           gui_startup_warm_s=round(gui_warm, 2))
            done, _ = run([exe, "demo", "--help"], env)
            if "demo workspace" not in done.stdout:
                raise SmokeError(f"demo --help printed something else:\n{done.stdout}")
            say("demo --help answers")
            report = Path(tmp) / "self-test.json"
            done, seconds = run([exe, "self-test", "--json", report], env)
            print(done.stdout, end="", flush=True)
            result = json.loads(report.read_text())
            if not result["passed"]:
                raise SmokeError("the self-test failed (see above)")
            figures["self_test_s"] = round(seconds, 1)
            figures["self_test"] = {c["name"]: c["seconds"] for c in result["checks"]}
            written = {k for k, v in snapshot(bundle).items() if before.get(k) != v}
            if written:
                names = sorted(written)
                raise SmokeError(f"the bundle wrote {len(names)} files inside its installation, "
                                 f"first {names[:10]}")
            say("nothing was written inside the bundle")
            if not args.no_install:
                figures.update(check_install_cycle(bundle, Path(tmp) / "install", env))
        except (SmokeError, subprocess.TimeoutExpired) as exc:
            say(f"FAILED: {exc}")
            return 1
    size = figures["bundle_bytes"] / 2**30  # type: ignore[operator]
    say(f"passed: bundle {size:.2f} GiB; start-up (process) {figures['startup_cold_s']} s cold / "
        f"{figures['startup_warm_s']} s warm; main window {figures['gui_startup_cold_s']} s "
        f"cold / {figures['gui_startup_warm_s']} s warm; self-test {figures['self_test_s']} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
