"""Frame sources: cameras, network streams, video files, image folders and a virtual camera.

    from inspector.core.inference.sources import open_source

    with open_source("virtual:7") as source:        # or "0", "rtsp://...", "clip.mp4", "imgs/"
        while True:
            frame = source.read(timeout=1.0)        # the newest frame not yet returned
            if frame is None:
                if source.state in TERMINAL_STATES:  # ENDED, FAILED or STOPPED
                    break
                continue                             # nothing new yet (or RECONNECTING)
            use(frame.image)                         # HxWx3 uint8 RGB

Every source is a context manager running one daemon reader thread with a one-slot buffer
(base.py). Problems with a device are states (`state`, `error`, `on_state`), never exceptions
in the consumer; only a spec that cannot name a source makes `open_source` raise CameraError.

Defaults by kind: cameras, streams and the (paced) virtual camera drop stale frames
(drop=True: a slow consumer gets the newest, `stats.frames_dropped` counts the others); video
files and folders deliver every frame (drop=False: the reader waits for the consumer) as fast as
they are taken (realtime=False). The virtual camera with realtime=False also defaults to
drop=False: it then makes a frame only when the last one was taken. Importing this package does
not import OpenCV.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inspector.config import SourceConfig
from inspector.core.errors import CameraError
from inspector.core.inference.sources.base import (
    TERMINAL_STATES,
    Frame,
    FrameSource,
    SourceState,
    SourceStats,
    StateCallback,
)
from inspector.core.inference.sources.camera import CameraSource
from inspector.core.inference.sources.folder import ImageFolderSource
from inspector.core.inference.sources.url import URL_SCHEMES, UrlSource, redact_url
from inspector.core.inference.sources.video import VIDEO_SUFFIXES, VideoFileSource
from inspector.core.inference.sources.virtual import VirtualCamera

__all__ = [
    "TERMINAL_STATES",
    "URL_SCHEMES",
    "VIDEO_SUFFIXES",
    "CameraSource",
    "Frame",
    "FrameSource",
    "ImageFolderSource",
    "SourceState",
    "SourceStats",
    "StateCallback",
    "UrlSource",
    "VideoFileSource",
    "VirtualCamera",
    "open_source",
]

log = logging.getLogger(__name__)

_KINDS: tuple[type[FrameSource], ...] = (
    CameraSource, UrlSource, VideoFileSource, ImageFolderSource, VirtualCamera)
_ALL_OPTIONS = frozenset().union(*(kind.OPTIONS for kind in _KINDS))
_CONFIG_FIELDS = frozenset(SourceConfig.model_fields) - {"spec"}

_CAMERA = re.compile(r"^(?:camera:)?(\d+)$", re.IGNORECASE)
_VIRTUAL = re.compile(r"^virtual(?::(.*))?$", re.IGNORECASE)

FORMS = (
    "  0, 1, camera:0                a camera, by index\n"
    "  rtsp://..., http(s)://...     a network stream\n"
    f"  path/to/clip.mp4              a video file ({' '.join(sorted(VIDEO_SUFFIXES))})\n"
    "  path/to/folder                a folder of images\n"
    "  virtual, virtual:7            the virtual camera (generated boards; 7 is the seed)"
)


def _refuse(spec: str, why: str) -> CameraError:
    return CameraError(f"{spec!r} is not a frame source: {why}. Use one of:\n{FORMS}")


def _config(spec: str | SourceConfig, settings: dict[str, Any]) -> SourceConfig:
    base = spec.model_dump() if isinstance(spec, SourceConfig) else {"spec": spec}
    try:
        return SourceConfig.model_validate({**base, **settings})
    except ValidationError as exc:
        lines = [f"  {'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors()]
        raise CameraError("invalid frame source settings:\n" + "\n".join(lines)) from None


def open_source(spec: str | SourceConfig, **overrides: Any) -> FrameSource:
    """A frame source (not started: use it in a `with` block or call start()).

    `spec` names it (see FORMS) or is a SourceConfig. `overrides` set SourceConfig fields
    (width, height, fps, exposure, loop, reconnect_*, open_timeout_s) and the sources' own
    options: drop, on_state, realtime (files, folders, virtual), max_pixels (folders), and for
    the virtual camera mode ("board" or "patch"), size, style, classes, ok_fraction,
    frames_per_board, hold. An option that only another kind of source takes is ignored, so a
    caller may pass e.g. size= whatever the spec; a name no source takes is a TypeError.

    Raises CameraError when the spec names no source (malformed, a missing path, a file that
    is not a video) or a setting is invalid; never for a device that does not answer: that is
    reported through the source's state.
    """
    settings = {k: v for k, v in overrides.items() if k in _CONFIG_FIELDS}
    options = {k: v for k, v in overrides.items() if k not in _CONFIG_FIELDS}
    unknown = sorted(set(options) - _ALL_OPTIONS)
    if unknown:
        raise TypeError(f"open_source() got unknown option(s) {', '.join(unknown)}; frame "
                        f"sources take {', '.join(sorted(_ALL_OPTIONS | _CONFIG_FIELDS))}")
    if isinstance(spec, str) and not spec.strip():
        raise _refuse(spec, "it is empty")
    config = _config(spec, settings)
    text = config.spec.strip()
    kind, target = _parse(text)

    def make(cls: type[FrameSource], *args: Any) -> FrameSource:
        taken = {k: v for k, v in options.items() if k in cls.OPTIONS}
        ignored = sorted(set(options) - set(taken))
        if ignored:
            log.debug("open_source(%r): %s does not use %s", text, cls.kind, ", ".join(ignored))
        return cls(*args, config, **taken)

    if kind == "camera":
        return make(CameraSource, target)
    if kind == "url":
        return make(UrlSource, target)
    if kind == "video":
        return make(VideoFileSource, target)
    if kind == "folder":
        return make(ImageFolderSource, target)
    return make(VirtualCamera, target)


def _parse(text: str) -> tuple[str, Any]:
    """(kind, target) for a spec; CameraError naming the problem and the valid forms."""
    if not text:
        raise _refuse(text, "it is empty")
    if match := _CAMERA.match(text):
        return "camera", int(match.group(1))
    if text.lower().startswith("camera:"):
        raise _refuse(text, "a camera index is a whole number (camera:0)")
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in URL_SCHEMES:
        if len(text) <= len(scheme) + 3:
            raise _refuse(text, "the URL has no address")
        return "url", text
    if scheme:
        raise _refuse(redact_url(text), f"{scheme}:// streams are not supported "
                                        f"(use {', '.join(s + '://' for s in URL_SCHEMES)})")
    if match := _VIRTUAL.match(text):
        seed = match.group(1)
        if seed is None or seed == "":
            return "virtual", 0
        if not seed.isdigit():
            raise _refuse(text, "the virtual camera's seed is a whole number (virtual:7)")
        return "virtual", int(seed)
    path = Path(text).expanduser()
    if path.is_dir():
        return "folder", path
    if path.is_file():
        if path.suffix.lower() in VIDEO_SUFFIXES:
            return "video", path
        raise _refuse(text, f"{path.name} is not a video file (a single image is not a "
                            f"source: put it in a folder)")
    if path.suffix.lower() in VIDEO_SUFFIXES:
        raise _refuse(text, "there is no such video file")
    raise _refuse(text, "there is no such file or folder, and it is no camera index, URL or "
                        "'virtual'")
