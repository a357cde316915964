"""The bad-input corpus, generated (never committed as binaries): each function writes one case
into a folder and returns its path. Used by the tests beside this file."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def _rgb(size: int = 48, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)


def good_png(folder: Path, name: str = "good.png", seed: int = 0) -> Path:
    path = folder / name
    Image.fromarray(_rgb(seed=seed)).save(path)
    return path


def _encoded(fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(_rgb(64)).save(buffer, fmt, **options)
    return buffer.getvalue()


# -- images ------------------------------------------------------------------------------
def truncated_jpeg(folder: Path) -> Path:
    data = _encoded("JPEG", quality=90)
    path = folder / "truncated.jpg"
    path.write_bytes(data[: len(data) // 2])
    return path


def truncated_png(folder: Path) -> Path:
    data = _encoded("PNG")
    path = folder / "truncated.png"
    path.write_bytes(data[: len(data) // 2])
    return path


def zero_bytes(folder: Path) -> Path:
    path = folder / "empty.png"
    path.write_bytes(b"")
    return path


def text_named_png(folder: Path) -> Path:
    path = folder / "notes.png"
    path.write_text("this is a shopping list, not a picture\n")
    return path


def tiff_16bit(folder: Path) -> Path:
    path = folder / "deep.tif"
    ramp = (np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) * 16).astype(np.uint16)
    Image.fromarray(ramp).save(path)
    return path


def cmyk_jpeg(folder: Path) -> Path:
    path = folder / "cmyk.jpg"
    Image.fromarray(_rgb(64)).convert("CMYK").save(path, "JPEG")
    return path


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def decompression_bomb(folder: Path) -> Path:
    """A 60,000 x 60,000 PNG in a few hundred bytes (3.6 gigapixels once decoded)."""
    width = height = 60_000
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * width
    compressor = zlib.compressobj(9)
    data = compressor.compress(row * 8) + compressor.flush()  # only the first rows are given
    path = folder / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
                     + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b""))
    return path


def huge_dimensions(folder: Path) -> Path:
    """A real, fully decodable image, larger than the pixel limit the test sets."""
    path = folder / "huge.png"
    Image.new("RGB", (3000, 2000), (20, 120, 40)).save(path)
    return path


def palette_png(folder: Path) -> Path:
    path = folder / "palette.png"
    Image.fromarray(_rgb(64)).convert("P", palette=Image.Palette.ADAPTIVE).save(path)
    return path


def broken_link(folder: Path) -> Path:
    path = folder / "gone.png"
    path.symlink_to(folder / "does-not-exist.png")
    return path


def unreadable(folder: Path) -> Path:
    """A file no one may read (as root, permissions do not stop reads: a FIFO stands in, which
    a reader would block on forever if it tried)."""
    if os.geteuid() == 0:
        path = folder / "pipe.png"
        os.mkfifo(path)
        return path
    path = good_png(folder, "locked.png")
    path.chmod(0)
    return path


def non_ascii_name(folder: Path) -> Path:
    return good_png(folder, "défaut_短路_Ωmega.png", seed=7)


def symlink_loop(folder: Path) -> Path:
    a, b = folder / "loop-a.png", folder / "loop-b.png"
    a.symlink_to(b)
    b.symlink_to(a)
    return a


# -- archives ----------------------------------------------------------------------------
def _zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return path


def zip_path_escape(folder: Path) -> Path:
    return _zip(folder / "escape.zip", [("ok/fine.png", _encoded("PNG")),
                                       ("../../evil.png", _encoded("PNG"))])


def zip_absolute_path(folder: Path) -> Path:
    return _zip(folder / "absolute.zip", [("ok/fine.png", _encoded("PNG")),
                                         ("/tmp/inspector-evil.png", _encoded("PNG"))])


def zip_with_link(folder: Path) -> Path:
    info = zipfile.ZipInfo("ok/link.png")
    info.create_system = 3  # unix
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return _zip(folder / "link.zip", [("ok/fine.png", _encoded("PNG")), (info, b"/etc/passwd")])


def zip_bomb(folder: Path) -> Path:
    """One entry that expands 1000-fold: 600 MB of zeros in about 600 KB."""
    path = folder / "bomb.zip"
    block = b"\x00" * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive, \
            archive.open("ok/zeros.png", "w", force_zip64=True) as entry:
        for _ in range(600):
            entry.write(block)
    return path


def text_named_zip(folder: Path) -> Path:
    path = folder / "not-a.zip"
    path.write_text("PK? no, plain text\n")
    return path


# -- configs -----------------------------------------------------------------------------
def config_wrong_type(folder: Path) -> Path:
    path = folder / "wrong-type.toml"
    path.write_text('[train]\nepochs = "ten"\n')
    return path


def config_out_of_range(folder: Path) -> Path:
    path = folder / "out-of-range.toml"
    path.write_text("[train]\nbatch_size = 0\n")
    return path


def config_unknown_key(folder: Path) -> Path:
    path = folder / "unknown-key.toml"
    path.write_text("[train]\nepocs = 10\n")
    return path


def config_not_toml(folder: Path) -> Path:
    path = folder / "not.toml"
    path.write_text("{ this is : json-ish, [not toml\n")
    return path


# -- checkpoints -------------------------------------------------------------------------
class _Payload:
    """Unpickling this runs code: it creates the marker file named at pickling time."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def pickle_with_code(folder: Path, marker: Path, name: str = "best.safetensors") -> Path:
    path = folder / name
    path.write_bytes(pickle.dumps({"state_dict": _Payload(marker)}))
    return path


def truncated_checkpoint(source: Path, folder: Path) -> Path:
    data = source.read_bytes()
    path = folder / "truncated.safetensors"
    path.write_bytes(data[: len(data) // 3])
    return path


# -- streams -----------------------------------------------------------------------------
def short_video(folder: Path, frames: int = 12, name: str = "short.avi") -> Path:
    import cv2

    path = folder / name
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (64, 48))
    for i in range(frames):
        frame = np.full((48, 64, 3), (i * 20) % 255, dtype=np.uint8)
        writer.write(frame)
    writer.release()
    return path


def video_corrupt_halfway(folder: Path) -> Path:
    path = short_video(folder, 40, "corrupt.avi")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + len(data) // 4] = os.urandom(len(data) // 4)
    path.write_bytes(bytes(data))
    return path


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under `root` (links not followed) with a hash of its content."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(root).as_posix()] = hashlib.sha256(
                path.read_bytes()).hexdigest()
    return found
