"""Thumbnails decoded off the GUI thread, kept in an LRU cache.

The grid asks `thumbnail(path)` while it paints (so only visible rows are ever asked for). A
cached image comes back at once; otherwise the path is queued and None comes back (the grid
paints a placeholder). A few decoding threads take the *newest* requests first (what is on
screen now) and the queue is capped, so requests for rows scrolled past are dropped rather than
decoded. The threads never touch a QObject: they put results in a deque that a GUI-thread timer
drains, so a loader deleted mid-decode cannot be called from a dead thread, and idle threads
end on their own.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from pathlib import Path

from PIL import Image, ImageOps
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

log = logging.getLogger(__name__)

THUMB_SIZE = 96
CACHE_BYTES = 96 * 1024 * 1024
QUEUE_LIMIT = 256  # requests beyond this are for rows long scrolled past: the oldest go
THREADS = 2
IDLE_EXIT_S = 2.0
DRAIN_INTERVAL_MS = 30
MAX_PIXELS = 64_000_000  # a thumbnail is not worth decoding a giant image


def decode_thumbnail(path: str | Path, size: int = THUMB_SIZE) -> QImage:
    """The image at `path` shrunk to fit size x size, as an RGB QImage (any thread may call).

    JPEGs are decoded at a reduced scale (draft), so a large photo costs little.
    """
    with Image.open(path) as opened:
        if opened.width * opened.height > MAX_PIXELS:
            raise ValueError(f"{opened.width}x{opened.height} pixels is too large to preview")
        opened.draft("RGB", (size, size))
        image = ImageOps.exif_transpose(opened)
        if image.mode != "RGB":
            image = image.convert("RGB")
        image.thumbnail((size, size), Image.Resampling.BILINEAR)
        data = image.tobytes()
        qimage = QImage(data, image.width, image.height, image.width * 3,
                        QImage.Format.Format_RGB888)
        return qimage.copy()  # own the pixels: `data` dies with this frame


class ThumbnailLoader(QObject):
    """Decodes thumbnails on demand; `ready(paths)` says which ones are now in the cache."""

    ready = Signal(list)  # paths whose thumbnail (or failure) is now known

    def __init__(self, size: int = THUMB_SIZE, cache_bytes: int = CACHE_BYTES,
                 threads: int = THREADS, queue_limit: int = QUEUE_LIMIT,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.size = size
        self.cache_bytes = cache_bytes
        self.queue_limit = queue_limit
        self._max_threads = max(1, threads)
        self._cache: OrderedDict[str, QImage | None] = OrderedDict()  # None: cannot decode
        self._cached_bytes = 0
        self._queue: deque[str] = deque()  # newest on the right
        self._pending: set[str] = set()
        self._results: deque[tuple[str, QImage | None]] = deque()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._generation = 0  # bumped by clear(): results of older requests are dropped
        self._closed = False
        self.requested = 0  # decodes queued so far (tests check it stays near the visible rows)
        self.decoded = 0
        self._drain_timer = QTimer(self)
        self._drain_timer.setInterval(DRAIN_INTERVAL_MS)
        self._drain_timer.timeout.connect(self._drain)

    # ------------------------------------------------------------------ the grid's side
    def thumbnail(self, path: str) -> QImage | None:
        """The cached thumbnail, or None (queued for decoding unless known to fail)."""
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        self.request(path)
        return None

    def has_failed(self, path: str) -> bool:
        return path in self._cache and self._cache[path] is None

    def is_cached(self, path: str) -> bool:
        return path in self._cache

    def request(self, path: str) -> None:
        with self._cond:
            if self._closed or path in self._pending:
                return
            self._pending.add(path)
            self._queue.append(path)
            while len(self._queue) > self.queue_limit:
                self._pending.discard(self._queue.popleft())
            self.requested += 1
            self._cond.notify()
            self._threads = [t for t in self._threads if t.is_alive()]
            if len(self._threads) < min(self._max_threads, len(self._queue)):
                thread = threading.Thread(target=self._run, name="thumbnails", daemon=True)
                self._threads.append(thread)
                thread.start()
        if not self._drain_timer.isActive():
            self._drain_timer.start()

    def forget(self, paths: list[str] | None = None) -> None:
        """Drop cached thumbnails (of `paths`, or all): the files changed or moved."""
        if paths is None:
            self._cache.clear()
            self._cached_bytes = 0
            return
        for path in paths:
            image = self._cache.pop(path, None)
            if image is not None:
                self._cached_bytes -= image.sizeInBytes()

    def clear(self) -> None:
        """Forget everything, queued requests included (another dataset is shown)."""
        with self._cond:
            self._generation += 1
            self._queue.clear()
            self._pending.clear()
            self._results.clear()
        self.forget()

    def close(self) -> None:
        """Stop the threads (they end after their current image)."""
        self.clear()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._threads = []
        self._drain_timer.stop()

    # ------------------------------------------------------------------ decoding threads
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    woken = not self._closed and self._cond.wait(IDLE_EXIT_S)
                    if not woken and (self._closed or not self._queue):
                        return
                if self._closed:
                    return
                path = self._queue.pop()  # the newest request: what is on screen now
                generation = self._generation
            try:
                image: QImage | None = decode_thumbnail(path, self.size)
            except Exception as exc:  # any undecodable file gets a placeholder
                log.debug("no thumbnail for %s: %s", path, exc)
                image = None
            with self._cond:
                if generation == self._generation:
                    self._results.append((path, image))

    # ------------------------------------------------------------------ the GUI thread
    def _drain(self) -> None:
        with self._cond:
            results = list(self._results)
            self._results.clear()
            for path, _ in results:
                self._pending.discard(path)
            idle = not self._pending and not self._results
        if results:
            for path, image in results:
                self._store(path, image)
            self.decoded += len(results)
            self.ready.emit([path for path, _ in results])
        if idle:
            self._drain_timer.stop()

    def _store(self, path: str, image: QImage | None) -> None:
        old = self._cache.pop(path, None)
        if old is not None:
            self._cached_bytes -= old.sizeInBytes()
        self._cache[path] = image
        self._cached_bytes += image.sizeInBytes() if image is not None else 0
        while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
            _, evicted = self._cache.popitem(last=False)
            if evicted is not None:
                self._cached_bytes -= evicted.sizeInBytes()
        if len(self._cache) > 200_000:  # failures cost no bytes; bound them by count
            self._cache.popitem(last=False)
