"""Workers for facts about the machine that need heavy imports (torch), kept off start-up."""

from __future__ import annotations

from inspector.gui.workers.base import Worker


def device_worker(name: str = "auto") -> Worker:
    """The compute device training and the torch backend will use, described for the user."""

    def task(_progress, _stop) -> str:
        from inspector.core.training.devices import describe_device, resolve_device

        device = resolve_device(name)
        return describe_device(device) + ("" if device.type == "cuda" else ", no GPU")

    return Worker(task, "finding the compute device")
