"""Run by test_durability.py in a process of its own, which the test kills with SIGKILL.

    python kill_helper.py RESULTS.sqlite COUNT

Adds results in bursts of 10 (half with a small frame and overlay) and, for each, waits for its
ticket and prints the acknowledged row id on a line of its own, flushed at once.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from inspector.config import ResultsConfig
from inspector.core.results import InspectionResult, ResultsStore


def main() -> None:
    path, count = Path(sys.argv[1]), int(sys.argv[2])
    frame = np.full((32, 48, 3), 128, np.uint8)
    with ResultsStore(path, ResultsConfig(save_frames="all")) as store:
        print("ready", flush=True)
        done = 0
        while done < count:
            tickets = []
            for i in range(done, min(done + 10, count)):
                with_frame = i % 2 == 0
                tickets.append(store.add(InspectionResult(
                    time=time.time(), source="kill-test", model_version="v1",
                    verdict=("PASS", "FAIL", "REVIEW")[i % 3], label="ok", confidence=0.5,
                    probabilities={"ok": 0.5, "short": 0.5}, thresholds={"ok": 0.6},
                    frame=frame if with_frame else None,
                    overlay=frame if with_frame else None)))
            for ticket in tickets:
                sys.stdout.write(f"{ticket.wait(30)}\n")
                sys.stdout.flush()
            done += len(tickets)


if __name__ == "__main__":
    main()
