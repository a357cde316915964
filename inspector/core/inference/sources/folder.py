"""A folder of images, in name order, each decoded to RGB like a dataset image.

Files with a supported image suffix (inspector.core.data.images.IMAGE_SUFFIXES) are taken in
natural name order (img2 before img10), decoded by load_rgb (grey, palette, 16-bit and alpha
images all come out HxWx3 uint8 RGB; EXIF orientation honoured). An unreadable file is skipped
with a logged warning naming it; the source's `error` says which were skipped. Images may
differ in size: each frame is delivered as it is.

Defaults: drop=False (every image delivered) and realtime=False; realtime=True paces images at
SourceConfig.fps (default 2 per second). The folder is listed again at each pass, so loop=True
picks up images added meanwhile. ENDED after the last image (FAILED when there is none).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import ClassVar

from inspector.config import SourceConfig
from inspector.core.inference.sources.base import (
    Feed,
    FrameSource,
    Pacer,
    SourceState,
    StateCallback,
)

log = logging.getLogger(__name__)

DEFAULT_FOLDER_FPS = 2.0
_DIGITS = re.compile(r"(\d+)")


def natural_key(path: Path) -> tuple[tuple[tuple[int, int | str], ...], str]:
    """Sort key: runs of digits compare as numbers, the rest case-insensitively."""
    parts = _DIGITS.split(path.name)
    key = tuple((0, int(part)) if part.isdigit() else (1, part.lower()) for part in parts)
    return key, path.name


def list_images(folder: Path) -> list[Path]:
    from inspector.core.data.images import is_image_name

    return sorted((p for p in folder.iterdir() if is_image_name(p) and p.is_file()),
                  key=natural_key)


class ImageFolderSource(FrameSource):
    kind: ClassVar[str] = "folder"
    OPTIONS: ClassVar[frozenset[str]] = frozenset({"drop", "on_state", "realtime", "max_pixels"})

    def __init__(self, path: Path, config: SourceConfig | None = None, *, drop: bool = False,
                 realtime: bool = False, max_pixels: int | None = None,
                 on_state: StateCallback | None = None) -> None:
        super().__init__(f"folder {Path(path).name}", drop=drop, on_state=on_state)
        self.path = Path(path)
        self.config = config or SourceConfig(spec=str(path))
        self.realtime = realtime
        self.max_pixels = max_pixels

    def _produce(self, feed: Feed) -> None:
        from inspector.core.data.images import DEFAULT_MAX_PIXELS, IMAGE_SUFFIXES, load_rgb
        from inspector.core.errors import DatasetError

        max_pixels = self.max_pixels or DEFAULT_MAX_PIXELS
        pacer = Pacer(self.config.fps or DEFAULT_FOLDER_FPS) if self.realtime else None
        skipped: dict[str, str] = {}
        connected = False
        while not feed.stopping:
            try:
                files = list_images(self.path)
            except OSError as exc:
                feed.set_state(SourceState.FAILED,
                               f"cannot list {self.path}: {exc.strerror or exc}")
                return
            if not files:
                feed.set_state(SourceState.FAILED,
                               f"{self.path} holds no images (supported: "
                               f"{', '.join(sorted(IMAGE_SUFFIXES))})")
                return
            delivered = 0
            for path in files:
                if feed.stopping:
                    return
                try:
                    image = load_rgb(path, max_pixels)
                except (DatasetError, OSError) as exc:
                    message = str(exc)
                    log.warning("%s: skipped %s", self.describe(), message)
                    skipped[path.name] = message
                    feed.note(f"skipped {path.name}: {message}")
                    continue
                if not connected:
                    connected = True
                    feed.set_state(SourceState.CONNECTED)
                if pacer is not None and not pacer.wait(feed):
                    return
                if not feed.publish(image):
                    return
                delivered += 1
            if delivered == 0:
                first = next(iter(skipped.values()))
                feed.set_state(SourceState.FAILED,
                               f"none of the {len(files)} images in {self.path} could be "
                               f"read; the first: {first}")
                return
            if not self.config.loop:
                break
        if feed.stopping:
            return
        feed.drain()
        error = None
        if skipped:
            names = ", ".join(sorted(skipped, key=lambda n: natural_key(Path(n))))
            error = f"skipped {len(skipped)} unreadable image(s): {names} (see the log)"
        feed.set_state(SourceState.ENDED, error)
