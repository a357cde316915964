"""A zip of class folders (ZIP/<class>/<images>, or inside one wrapping folder).

Archives come from elsewhere, so every entry is checked against the central directory before
anything is written:

- names: no absolute paths, no '..', no drive letters, backslashes or NUL characters;
- types: symbolic links and other special files are skipped, encrypted entries too;
- sizes: at most MAX_ENTRIES entries and MAX_TOTAL_BYTES uncompressed in all; an entry over
  BOMB_MIN_BYTES that expands more than MAX_RATIO times, or entries sharing compressed data,
  make the archive a zip bomb and it is refused whole;
- reading: each entry goes through a stream that stops at its declared size, so a header that
  lies cannot make the importer hold more than it declared. Entries are read one at a time into
  memory, decoded to check they are images, and added with Dataset.add_encoded; nothing is
  extracted to disk.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import stat
import threading
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

from inspector.config import ImportConfig
from inspector.core.data.dataset import Dataset, check_class_name
from inspector.core.data.images import is_image_name
from inspector.core.data.importers._common import (
    ClassResolver,
    ImportReport,
    Progress,
    ProgressCounter,
    is_hidden,
    is_stopped,
)
from inspector.core.data.importers.folder import LOOSE_REASON
from inspector.core.errors import DatasetError, DatasetImportError

log = logging.getLogger(__name__)

MAX_ENTRIES = 100_000
MAX_TOTAL_BYTES = 4 * 1024**3  # uncompressed, all entries together
MAX_ENTRY_BYTES = 512 * 1024**2  # one image
MAX_RATIO = 200  # uncompressed / compressed, for entries over BOMB_MIN_BYTES
BOMB_MIN_BYTES = 1024**2
_CHUNK = 1024**2
_DRIVE = re.compile(r"^[A-Za-z]:")


class _EntryError(Exception):
    """One entry cannot be imported; the message says why."""


@dataclass(frozen=True)
class _Entry:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]


def unsafe_name_reason(name: str) -> str | None:
    """Why an entry name must not be used as a path, or None when it is safe."""
    if "\x00" in name:
        return "its name holds a NUL character"
    if "\\" in name:
        return "its name holds a backslash (a Windows path trick)"
    if name.startswith("/"):
        return "its path is absolute"
    if _DRIVE.match(name) or ":" in name:
        return "its name holds a drive letter or a colon"
    if ".." in PurePosixPath(name).parts:
        return "its path climbs out of the archive with '..'"
    return None


def _file_type_reason(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        return "it is a symbolic link; links are never followed from an archive"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "it is a special file (device, pipe or socket), not an image"
    return None


def _refuse(source: Path, why: str) -> DatasetImportError:
    return DatasetImportError(f"{source} was not imported: {why}")


def _check_archive(source: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse the whole archive for what only a broken or hostile one does."""
    if len(infos) > MAX_ENTRIES:
        raise _refuse(source, f"it has {len(infos):,} entries, more than the {MAX_ENTRIES:,} "
                              "allowed. Split it, or unpack it and import the folder.")
    files = [i for i in infos if not i.is_dir()]
    total = sum(i.file_size for i in files)
    if total > MAX_TOTAL_BYTES:
        raise _refuse(source, f"it would unpack to {total / 1024**3:.1f} GiB, over the "
                              f"{MAX_TOTAL_BYTES / 1024**3:.0f} GiB allowed. Split it, or unpack "
                              "it and import the folder.")
    for info in files:
        if info.file_size > BOMB_MIN_BYTES and \
                info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _refuse(source, f"the entry {info.filename!r} would expand "
                                  f"{info.file_size // max(info.compress_size, 1):,} times "
                                  f"(over {MAX_RATIO}:1), the mark of a zip bomb.")
    ordered = sorted(files, key=lambda i: i.header_offset)
    for first, second in itertools.pairwise(ordered):
        # The smallest end the first entry's data can have (a local header is 30 bytes plus
        # the name, of at least one byte a character, plus extra fields not counted here).
        end = first.header_offset + 30 + len(first.orig_filename) + first.compress_size
        if end > second.header_offset and second.compress_size > 0:
            raise _refuse(source, f"the entries {first.filename!r} and {second.filename!r} "
                                  "share their data, the mark of a zip bomb.")


def _read_limited(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The entry's bytes, never more than its declared size."""
    limit = info.file_size
    chunks: list[bytes] = []
    got = 0
    try:
        with archive.open(info) as stream:
            while True:
                chunk = stream.read(min(_CHUNK, limit - got + 1))
                if not chunk:
                    break
                got += len(chunk)
                if got > limit:
                    raise _EntryError("it holds more data than its header declares; the "
                                      "archive is damaged or forged")
                chunks.append(chunk)
    except _EntryError:
        raise
    except RuntimeError as exc:  # zipfile: encrypted, password required
        raise _EntryError(f"it cannot be read ({exc})") from None
    except NotImplementedError as exc:
        raise _EntryError(f"it uses a compression this program cannot read ({exc}); "
                          "re-create the archive with the standard Deflate method") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise _EntryError(f"it is damaged in the archive ({exc})") from None
    if got != limit:
        raise _EntryError(f"it is cut short in the archive ({got} of {limit} bytes)")
    return b"".join(chunks)


def image_problem(data: bytes, max_pixels: int) -> str | None:
    """Why encoded bytes are not a usable image (decoded fully, size checked first), or None."""
    if not data:
        return "it is an empty file"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    return (f"it is {width}x{height}, over {max_pixels:,} pixels; downscale it "
                            "or raise dataset.max_image_pixels if it is genuine")
                image.load()
    except Image.DecompressionBombError:
        return "it claims too many pixels (a decompression bomb)"
    except UnidentifiedImageError:
        return "it is not a supported image; delete or replace it in the archive"
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        return f"it is a damaged image ({exc}); replace it in the archive"
    return None


def _strip_wrapper(entries: list[_Entry]) -> list[_Entry]:
    """Drop one folder that wraps the whole tree (mydata/<class>/...), when there is one."""
    tops = {e.parts[0] for e in entries}
    if len(tops) != 1 or any(len(e.parts) < 3 for e in entries):
        return entries
    log.debug("archive wrapped in the folder %s", next(iter(tops)))
    return [_Entry(e.info, e.parts[1:]) for e in entries]


def import_zip(source: Path, dataset: Dataset, config: ImportConfig | None = None,
               on_progress: Progress | None = None,
               stop_event: threading.Event | None = None) -> ImportReport:
    del config  # images are added as they are
    if not source.is_file():
        what = "does not exist" if not source.exists() else "is not a file"
        raise DatasetImportError(f"{source} {what}. Give the path of a .zip archive.")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
        raise DatasetImportError(
            f"{source} is not a zip archive or is damaged ({exc}). Check the file, or unpack it "
            "and import the folder with the format 'folder'."
        ) from None
    except OSError as exc:
        raise DatasetImportError(f"Cannot read {source}: {exc.strerror or exc}.") from None
    with archive:
        return _import(source, archive, dataset, on_progress, stop_event)


def _import(source: Path, archive: zipfile.ZipFile, dataset: Dataset,
            on_progress: Progress | None, stop_event: threading.Event | None) -> ImportReport:
    infos = archive.infolist()
    _check_archive(source, infos)
    report = ImportReport()
    entries: list[_Entry] = []
    for info in infos:
        name = info.filename
        reason = unsafe_name_reason(name) or _file_type_reason(info)
        if reason is None and info.is_dir():
            continue
        parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
        if reason is None and any(is_hidden(p) for p in parts):
            continue
        if reason is None and info.flag_bits & 0x1:
            reason = "it is encrypted; unpack it with its password and import the folder"
        if reason is None and not is_image_name(PurePosixPath(name)):
            reason = "not an image file (by its extension); not imported"
        if reason is None and info.file_size > MAX_ENTRY_BYTES:
            reason = f"it is {info.file_size / 1024**2:.0f} MiB, too large for an image"
        if reason is not None:
            report.skip(f"{source.name}:{name}", reason)
            continue
        entries.append(_Entry(info, parts))
    plan = _plan(source, _strip_wrapper(entries), report)
    progress = ProgressCounter(on_progress, sum(len(items) for _, items in plan))
    classes = ClassResolver(dataset)
    max_pixels = dataset.config.max_image_pixels
    for label, items in plan:
        if is_stopped(stop_event):
            report.add.stopped = True
            break
        target = classes.ensure(label)
        failed: list[tuple[str, str]] = []
        stream = _images(source, archive, items, max_pixels=max_pixels, failed=failed,
                         progress=progress)
        sub = dataset.add_encoded(target, stream, len(items), None, stop_event)
        sub.failed = failed + sub.failed
        report.record(target, sub)
        if sub.stopped:
            break
    else:
        progress.finish()
    return report


def _plan(source: Path, entries: list[_Entry],
          report: ImportReport) -> list[tuple[str, list[_Entry]]]:
    by_class: dict[str, list[_Entry]] = {}
    bad_folders: dict[str, str] = {}
    for entry in entries:
        if len(entry.parts) < 2:
            report.skip(f"{source.name}:{entry.info.filename}", LOOSE_REASON)
            continue
        folder = entry.parts[0]
        if folder in bad_folders:
            continue
        try:
            label = check_class_name(folder)
        except DatasetError as exc:
            bad_folders[folder] = f"{exc} Rename the folder in the archive to import its images."
            report.skip(f"{source.name}:{folder}/", bad_folders[folder])
            continue
        by_class.setdefault(label, []).append(entry)
    return sorted(by_class.items())


def _images(source: Path, archive: zipfile.ZipFile, items: list[_Entry], *, max_pixels: int,
            failed: list[tuple[str, str]], progress: ProgressCounter
            ) -> Iterator[tuple[str, bytes]]:
    """(file name, bytes) of each usable entry, read one at a time; the others go to failed."""
    for entry in items:
        where = f"{source.name}:{entry.info.filename}"
        try:
            data = _read_limited(archive, entry.info)
        except _EntryError as exc:
            failed.append((where, f"{where}: {exc}."))
            progress.advance()
            continue
        problem = image_problem(data, max_pixels)
        if problem is not None:
            failed.append((where, f"{where}: {problem}."))
            progress.advance()
            continue
        yield entry.parts[-1], data
        progress.advance()
