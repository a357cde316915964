"""QObject workers: run core functions on QThreads and turn their callbacks into signals."""

from inspector.gui.workers.base import (
    Progress,
    Task,
    Worker,
    active_workers,
    stop_all,
    while_alive,
)

__all__ = ["Progress", "Task", "Worker", "active_workers", "stop_all", "while_alive"]
