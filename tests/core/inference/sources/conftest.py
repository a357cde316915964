"""Data for the frame-source tests, all made here: numbered videos, image folders, and a tiny
MJPEG-over-HTTP server on 127.0.0.1 (never any other address)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspector.core.inference.sources import SourceState

BITS = 8
BAR = 20  # pixels per bit: wide enough to survive JPEG


def numbered(n: int, width: int = BITS * BAR, height: int = 96) -> np.ndarray:
    """An RGB image carrying the number n as black and white bars (robust to JPEG)."""
    image = np.zeros((height, width, 3), np.uint8)
    for bit in range(BITS):
        if n >> bit & 1:
            image[:, bit * BAR:(bit + 1) * BAR] = 255
    return image


def number_of(image: np.ndarray) -> int:
    """The number numbered() drew into `image` (an RGB frame)."""
    grey = image.mean(axis=2)
    return sum(1 << bit for bit in range(BITS)
               if grey[:, bit * BAR + 5:(bit + 1) * BAR - 5].mean() > 128)


def write_video(path: Path, n: int, fps: float = 25.0) -> Path:
    """An MJPG .avi of n numbered frames."""
    first = numbered(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps,
                             (first.shape[1], first.shape[0]))
    assert writer.isOpened()
    for i in range(n):
        writer.write(cv2.cvtColor(numbered(i), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return write_video(tmp_path / "clip.avi", 30)


class StateLog:
    """An on_state callback that records (state, error) and lets a test wait for a state."""

    def __init__(self) -> None:
        self.events: list[tuple[SourceState, str | None]] = []
        self._cond = threading.Condition()

    def __call__(self, state: SourceState, error: str | None) -> None:
        with self._cond:
            self.events.append((state, error))
            self._cond.notify_all()

    @property
    def states(self) -> list[SourceState]:
        """The states in order, repeats (a new message in the same state) collapsed."""
        with self._cond:
            out: list[SourceState] = []
            for state, _ in self.events:
                if not out or out[-1] != state:
                    out.append(state)
            return out

    def wait_for(self, state: SourceState, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: any(s == state for s, _ in self.events), timeout)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class MjpegServer:
    """multipart/x-mixed-replace JPEG frames on http://127.0.0.1:<port>/video.mjpg."""

    def __init__(self, port: int = 0, fps: float = 50.0) -> None:
        self.port = port
        self.fps = fps
        self.sent = 0
        self._server: ThreadingHTTPServer | None = None
        self._halt = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def start(self) -> MjpegServer:
        owner = self
        halt = self._halt = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                n = 0
                try:
                    while not halt.is_set():
                        image = cv2.cvtColor(numbered(n % 256), cv2.COLOR_RGB2BGR)
                        jpeg = cv2.imencode(".jpg", image)[1].tobytes()
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n"
                                         b"Content-Length: %d\r\n\r\n" % len(jpeg))
                        self.wfile.write(jpeg + b"\r\n")
                        self.wfile.flush()
                        owner.sent += 1
                        n += 1
                        time.sleep(1.0 / owner.fps)
                except OSError:
                    pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._halt.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def mjpeg_server() -> Iterator[MjpegServer]:
    server = MjpegServer().start()
    yield server
    server.stop()


def closed_port() -> int:
    """A 127.0.0.1 port nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A 127.0.0.1 port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]
