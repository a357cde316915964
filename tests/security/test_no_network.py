"""The application makes no network connection at run time: the demo's whole path (dataset,
training, live inspection, albumentations imported) runs with IP sockets blocked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_the_demo_runs_with_the_network_blocked(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NO_ALBUMENTATIONS_UPDATE"}
    script = Path(__file__).with_name("no_network_run.py")
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "demo")], env=env,
                          check=False, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["frames"] == 5
    assert report["attempts"] == []
