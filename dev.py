#!/usr/bin/env python3
"""Set up the development environment in .venv and run Inspector or its checks.

    python3 dev.py run [ARGS...]    set up, then start Inspector (the demo workspace by default)
    python3 dev.py test [ARGS...]   set up, then run lint-imports, ruff and pytest (ARGS: pytest's)

Set-up is idempotent: it reinstalls only when pyproject.toml, constraints.txt or this file change.
Standard library only, so that it runs on a bare Python 3.11+.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".inspector-setup-stamp"
INPUTS = ("pyproject.toml", "constraints.txt", "dev.py")


def venv_bin(name: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    exe = f"{name}.exe" if os.name == "nt" else name
    return VENV / sub / exe


def setup_fingerprint() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for name in INPUTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older Python
        sys.exit(f"Inspector needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    python = venv_bin("python")
    if not python.exists():
        print(f"Creating the virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
    wanted = setup_fingerprint()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    print("Installing Inspector and its dependencies (the first run takes minutes) ...",
          flush=True)
    # constraints.txt pins the torch build tested here; pyproject.toml itself accepts a range.
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check",
           "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[test]"]
    result = subprocess.run(cmd, cwd=ROOT, check=False)
    if result.returncode != 0:
        sys.exit("Set-up failed: pip could not install the dependencies (see its output above).")
    STAMP.write_text(wanted + "\n")


def run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "setup"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1")
    if command == "setup":
        return 0
    if command == "run":
        return run([str(venv_bin("inspector")), *rest], env)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    for check in ([str(venv_bin("lint-imports"))], [str(venv_bin("ruff")), "check", "."]):
        code = run(check, env)
        if code != 0:
            return code
    return run([str(venv_bin("python")), "-m", "pytest", *rest], env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
