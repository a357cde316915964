"""An acknowledged row survives `kill -9` of the process that wrote it (WAL, synchronous=NORMAL:
the committed transaction is in the OS page cache, which outlives the process)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.core.results import ResultsStore

HELPER = Path(__file__).with_name("kill_helper.py")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_acknowledged_rows_survive_kill_9(tmp_path):
    path = tmp_path / "results.sqlite"
    process = subprocess.Popen([sys.executable, str(HELPER), str(path), "100000"],
                               stdout=subprocess.PIPE, text=True, bufsize=1)
    acknowledged: list[int] = []
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        for line in process.stdout:
            acknowledged.append(int(line))
            if len(acknowledged) >= 300:  # mid-burst: the writer has more queued
                break
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        rest = process.stdout.read()  # acknowledged before the kill, still in the pipe
        acknowledged += [int(line) for line in rest.split()]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 300

    with sqlite3.connect(path) as conn:  # replays the WAL left by the killed process
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = {row[0] for row in conn.execute("SELECT id FROM results")}
    conn.close()
    assert set(acknowledged) <= stored
    with ResultsStore(path) as store:
        assert store.count() == len(stored)
        for row_id in acknowledged[-20:]:
            result = store.get(row_id)
            if result.frame_path is not None:  # a committed path names a whole file
                assert store.read_snapshot(result.frame_path).shape == (32, 48, 3)
        assert store.add(store.get(acknowledged[0])).wait(5) > max(stored)  # writable again
