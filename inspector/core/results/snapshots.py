"""JPEG snapshots of FAIL/REVIEW frames: <snapshots>/<YYYY-MM-DD local>/<id>-frame.jpg."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from datetime import datetime
from pathlib import Path

import numpy as np

KINDS: tuple[str, ...] = ("frame", "overlay")


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    """An RGB (or grey, or RGBA) uint8 image as JPEG bytes."""
    import cv2

    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"snapshots must be uint8 images, not {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGR)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    elif image.ndim != 2:
        raise ValueError(f"snapshots must be RGB or grey images, not shape {image.shape}")
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("OpenCV could not encode the image as JPEG")
    return data.tobytes()


def decode_jpeg(data: bytes) -> np.ndarray | None:
    """JPEG bytes as an RGB uint8 image, None if they do not decode."""
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def relative_path(when: float, row_id: int, kind: str) -> str:
    """The snapshot's path relative to the snapshots folder, with forward slashes."""
    day = datetime.fromtimestamp(when).strftime("%Y-%m-%d")
    return f"{day}/{row_id}-{kind}.jpg"


def write_file(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write to a temporary file beside `path` and rename it into place; with `durable` the
    file and its folder are synced (power-loss safe), otherwise the OS writes them back."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        Path(tmp_name).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp_name).unlink()
        raise
    if durable:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def describe_os_error(folder: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        reason = "disk full (no space left on device)"
    elif exc.errno == errno.EDQUOT:
        reason = "disk quota exceeded"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "the folder is not writable"
    elif exc.errno in (errno.ENOTDIR, errno.EEXIST):
        reason = "a file is in the way of the folder"
    else:
        reason = exc.strerror or str(exc)
    return f"Snapshots not saved in {folder}: {reason}"


def resolve(snapshots_dir: Path, relative: str) -> Path | None:
    """The absolute path of a stored relative path, None if it would leave the folder."""
    root = snapshots_dir.resolve()
    path = (root / relative).resolve()
    if root != path and root not in path.parents:
        return None
    return path


def remove_files(snapshots_dir: Path, relatives: list[str]) -> tuple[int, int]:
    """Delete snapshot files (missing ones are fine); returns (files, bytes) removed."""
    files = freed = 0
    for relative in relatives:
        path = resolve(snapshots_dir, relative)
        if path is None:
            continue
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            continue
        files += 1
        freed += size
    return files, freed


def remove_empty_days(snapshots_dir: Path) -> None:
    """Remove day folders left empty (and stale temporary files older than an hour)."""
    if not snapshots_dir.is_dir():
        return
    now = datetime.now().timestamp()
    for day in snapshots_dir.iterdir():
        if not day.is_dir() or len(day.name) != 10:
            continue
        with contextlib.suppress(OSError):
            for tmp in day.glob(".*.tmp"):
                if now - tmp.stat().st_mtime > 3600:
                    tmp.unlink()
            if not any(day.iterdir()):
                day.rmdir()
