"""Run by test_no_network.py in a fresh interpreter: every IP socket is blocked before anything
is imported, then the demo's whole path runs (dataset, training, live inspection). Prints the
attempted connections as JSON on the last line."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

attempts: list[str] = []


def _guard(name, original):
    def blocked(self, *args, **kwargs):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(f"{name} {args[:1]!r}")
            raise OSError(f"network blocked by the test ({name})")
        return original(self, *args, **kwargs)
    return blocked


for method in ("connect", "connect_ex", "sendto", "sendmsg"):
    setattr(socket.socket, method, _guard(method, getattr(socket.socket, method)))
_getaddrinfo = socket.getaddrinfo


def _no_lookup(host, *args, **kwargs):
    if host not in (None, "localhost", "127.0.0.1", "::1"):
        attempts.append(f"getaddrinfo {host!r}")
        raise OSError("name lookups blocked by the test")
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _no_lookup


def main() -> None:
    root = Path(sys.argv[1])
    from inspector.core import demo

    def tiny(workspace):
        config = workspace.config.model_copy(deep=True)
        config.model.input_size = 32
        config.train.epochs = 1
        config.train.batch_size = 8
        config.train.workers = 0
        return config

    demo.demo_training_config = tiny  # the path is the demo's; only its size is cut
    workspace = demo.ensure_demo_workspace(root, per_class=6)
    model = demo.ensure_demo_model(workspace)
    summary = demo.run_demo_live(workspace, model, frames=5)
    import albumentations  # noqa: F401 - imported by training already; its update check is off

    print(json.dumps({"attempts": attempts, "frames": summary.frames}))


if __name__ == "__main__":
    main()
