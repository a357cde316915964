"""A dataset: one folder per class of images, plus Inspector's metadata in `.inspector/`.

Metadata (never inside a class folder):
    .inspector/manifest.json   the split manifest (see split.py)
    .inspector/index.json      cache of content hash and size per file, keyed by (size, mtime)
    .inspector/journal/        one record per operation, for crash recovery and undo
    .inspector/trash/          deleted images and classes, restorable with undo

Every operation that moves files writes its journal record first ("pending"), then moves, then
marks the record "done". Opening a dataset rolls a pending operation forward, so a killed
process leaves the dataset and its manifest in agreement.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from inspector.config import DatasetConfig
from inspector.core.atomic import atomic_open, atomic_write_json
from inspector.core.data.images import (
    ImageProblem,
    ImageReadError,
    bytes_hash,
    content_hash,
    is_image_name,
    probe_image,
    verify_bytes,
    verify_image,
)
from inspector.core.data.journal import Journal, Operation
from inspector.core.data.split import SplitManifest
from inspector.core.errors import DatasetError

log = logging.getLogger(__name__)

META_DIR = ".inspector"
Progress = Callable[[int, int], None]

_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{i}" for p in ("com", "lpt") for i in range(10)
}
_BAD_NAME_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def check_class_name(name: str) -> str:
    """Return the name normalised (NFC, stripped) or raise a DatasetError saying what is wrong."""
    clean = unicodedata.normalize("NFC", name).strip()
    problem = None
    if not clean:
        problem = "it is empty"
    elif len(clean) > 64:
        problem = "it is longer than 64 characters"
    elif clean.startswith("."):
        problem = "it starts with a dot"
    elif _BAD_NAME_CHARS.search(clean):
        problem = 'it contains one of \\ / : * ? " < > | or a control character'
    elif clean.lower().split(".")[0] in _WINDOWS_RESERVED:
        problem = "it is a reserved device name on Windows"
    elif clean.endswith("."):
        problem = "it ends with a dot"
    if problem:
        raise DatasetError(f"'{name}' cannot be a class name: {problem}.")
    return clean


def safe_file_name(name: str, default_suffix: str = ".png") -> str:
    """A file name safe on every platform, keeping the stem readable and the suffix."""
    path = Path(name)
    stem = _BAD_NAME_CHARS.sub("_", unicodedata.normalize("NFC", path.stem)).strip(" .") or "image"
    suffix = path.suffix.lower() if is_image_name(path) else default_suffix
    return f"{stem[:120]}{suffix}"


@dataclass(frozen=True)
class ImageRecord:
    path: Path
    label: str
    hash: str
    size: int
    width: int
    height: int


@dataclass
class AddReport:
    added: list[Path] = field(default_factory=list)
    duplicates: list[Path] = field(default_factory=list)  # already in the class: skipped
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, message)
    stopped: bool = False

    def merge(self, other: AddReport) -> None:
        self.added += other.added
        self.duplicates += other.duplicates
        self.failed += other.failed
        self.stopped = self.stopped or other.stopped

    def summary(self) -> str:
        text = f"{len(self.added)} added, {len(self.duplicates)} duplicates skipped"
        text += f", {len(self.failed)} refused"
        return text + (" (stopped early)" if self.stopped else "")


ADDING_MARK = "adding"  # in the meta folder while an add is under way


class Dataset:
    """A folder of class folders. Read-only use (check, stats) never writes into it."""

    def __init__(self, root: Path, config: DatasetConfig | None = None) -> None:
        self.root = Path(root).resolve()
        self.config = config or DatasetConfig()
        if not self.root.is_dir():
            raise DatasetError(f"{self.root} is not a folder. Create it or give another path.")
        self._lock = threading.RLock()
        self._index: dict[str, list] | None = None
        if self.is_managed:
            self._recover()

    # ----------------------------------------------------------------- metadata
    @property
    def meta(self) -> Path:
        return self.root / META_DIR

    @property
    def is_managed(self) -> bool:
        """True once Inspector keeps metadata here (created, split or modified by it)."""
        return self.meta.is_dir()

    @property
    def manifest_path(self) -> Path:
        return self.meta / "manifest.json"

    @classmethod
    def create(cls, root: Path, config: DatasetConfig | None = None) -> Dataset:
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        (root / META_DIR).mkdir(exist_ok=True)
        return cls(root, config)

    def _ensure_meta(self) -> None:
        self.meta.mkdir(exist_ok=True)

    # ----------------------------------------------------------------- listing
    def classes(self) -> list[str]:
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            if entry.is_dir() and not entry.name.startswith(".") and not entry.is_symlink()
        )

    def class_dir(self, label: str) -> Path:
        return self.root / check_class_name(label)

    def image_files(self, label: str | None = None) -> list[Path]:
        labels = [label] if label is not None else self.classes()
        files: list[Path] = []
        for name in labels:
            folder = self.root / name
            if not folder.is_dir():
                raise DatasetError(f"There is no class '{name}' in {self.root}.")
            files.extend(
                sorted(p for p in folder.iterdir() if p.is_file() and is_image_name(p)
                       and not p.name.startswith("."))
            )
        return files

    def other_files(self) -> list[Path]:
        """Files Inspector does not use: wrong type in a class folder, or loose at the top."""
        others = [p for p in self.root.iterdir() if p.is_file() and not p.name.startswith(".")]
        for label in self.classes():
            folder = self.root / label
            others.extend(
                p for p in folder.iterdir()
                if not p.name.startswith(".") and (p.is_dir() or not is_image_name(p))
            )
        return sorted(others)

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _load_index(self) -> dict[str, list]:
        if self._index is None:
            self._index = {}
            index_path = self.meta / "index.json"
            if index_path.exists():
                try:
                    self._index = json.loads(index_path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    log.warning("ignoring a damaged hash cache %s", index_path)
        return self._index

    def records(
        self, on_progress: Progress | None = None, stop_event: threading.Event | None = None,
        label: str | None = None,
    ) -> tuple[list[ImageRecord], list[ImageReadError]]:
        """Every image (of one class, if given) with its hash and size; unreadable ones come
        back as errors, not raised.

        Hashes are cached by (size, mtime) in managed datasets, so a rescan of 50,000 images
        reads only the files that changed.
        """
        with self._lock:
            index = self._load_index()
            files = self.image_files(label)
            records: list[ImageRecord] = []
            errors: list[ImageReadError] = []
            fresh: dict[str, list] = {}
            stopped = False
            for done, path in enumerate(files, 1):
                if stop_event is not None and stop_event.is_set():
                    stopped = True
                    break
                rel = self._rel(path)
                try:
                    stat = path.stat()
                    cached = index.get(rel)
                    if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
                        entry = cached
                    else:
                        info = probe_image(path, self.config.max_image_pixels)
                        entry = [stat.st_size, stat.st_mtime_ns, content_hash(path),
                                 info.width, info.height]
                except ImageReadError as exc:
                    errors.append(exc)
                    continue
                except OSError as exc:
                    detail = exc.strerror or str(exc)
                    errors.append(ImageReadError(path, ImageProblem.UNREADABLE, detail))
                    continue
                fresh[rel] = entry
                records.append(ImageRecord(path, path.parent.name, entry[2], entry[0],
                                           entry[3], entry[4]))
                if on_progress is not None and (done % 200 == 0 or done == len(files)):
                    on_progress(done, len(files))
            if stopped:  # a partial scan must not forget what the cache knew
                fresh = index | fresh
            elif label is not None:  # keep the other classes' entries
                prefix = f"{label}/"
                fresh = {k: v for k, v in index.items() if not k.startswith(prefix)} | fresh
            if self.is_managed and fresh != index:
                self._index = fresh
                atomic_write_json(self.meta / "index.json", fresh)
            return records, errors

    # ----------------------------------------------------------------- splits
    def manifest(self) -> SplitManifest | None:
        return SplitManifest.load(self.manifest_path)

    def split(self, reset: bool = False, records: Sequence[ImageRecord] | None = None) -> int:
        """Assign every image without a split; returns how many were assigned.

        With reset, all assignments are made anew from the configured ratios: earlier test
        images may become training images, so models trained before are no longer comparable.
        """
        with self._lock:
            self._ensure_meta()
            manifest = None if reset else self.manifest()
            if manifest is None:
                manifest = SplitManifest(ratios=self.config.split.as_dict())
            if records is None:
                records, _ = self.records()
            by_class: dict[str, list[str]] = {}
            for record in records:
                by_class.setdefault(record.label, []).append(record.hash)
            assigned = manifest.assign(by_class)
            if assigned or reset or not self.manifest_path.exists():
                manifest.save(self.manifest_path)
            return assigned

    def keep_split_current(self) -> None:
        """Once a dataset is split, every image in it has a split."""
        if self.manifest_path.exists():
            self.split()

    # ----------------------------------------------------------------- journal
    @property
    def journal(self) -> Journal:
        return Journal(self.root, self.meta / "journal")

    def history(self) -> list[Operation]:
        return self.journal.history()

    def _run_moves(self, kind: str, description: str, moves: Sequence[tuple[Path, Path]],
                   seq: int | None = None) -> Operation:
        with self._lock:
            self._ensure_meta()
            rel_moves = [(self._rel_any(s), self._rel_any(d)) for s, d in moves]
            op = self.journal.run(kind, description, rel_moves, seq)
            self._index = None
            return op

    def _rel_any(self, path: Path) -> str:
        path = Path(path)
        if not path.is_absolute():
            path = self.root / path
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            raise DatasetError(f"{path} is not inside the dataset {self.root}.") from None

    def _recover(self) -> None:
        """Finish an operation that a killed process left half done.

        Only then is the split brought up to date here: opening a dataset stays cheap, and
        images copied in by hand get their split from the next operation or `split()`.
        """
        adding = self.meta / ADDING_MARK
        if self.journal.recover() or adding.exists():
            # an add killed between its copies and its split update left images without a
            # split: they are kept (each copy is whole) and get theirs now
            self._index = None
            self.keep_split_current()
            adding.unlink(missing_ok=True)

    # ----------------------------------------------------------------- class operations
    def create_class(self, name: str) -> Path:
        with self._lock:
            name = check_class_name(name)
            folder = self.root / name
            existing = {c.lower() for c in self.classes()}
            if name.lower() in existing:
                raise DatasetError(f"A class named '{name}' already exists.")
            self._ensure_meta()
            folder.mkdir()
            return folder

    def rename_class(self, old: str, new: str) -> Path:
        with self._lock:
            new = check_class_name(new)
            if old not in self.classes():
                raise DatasetError(f"There is no class '{old}' to rename.")
            if new.lower() in {c.lower() for c in self.classes() if c != old}:
                raise DatasetError(f"A class named '{new}' already exists; choose another name.")
            self._run_moves("rename_class", f"rename class {old} to {new}",
                            [(self.root / old, self.root / new)])
            return self.root / new

    def delete_class(self, name: str) -> None:
        """Move the class folder and its images to the trash (undo restores them)."""
        with self._lock:
            if name not in self.classes():
                raise DatasetError(f"There is no class '{name}' to delete.")
            count = len(self.image_files(name))
            seq = self._next_seq()
            self._run_moves("delete_class", f"delete class {name} ({count} images)",
                            [(self.root / name, self._trash(seq) / name)], seq)

    # ----------------------------------------------------------------- image operations
    def add_images(self, label: str, sources: Iterable[Path], on_progress: Progress | None = None,
                   stop_event: threading.Event | None = None) -> AddReport:
        """Copy image files into a class. Sources are only read, never moved or changed.

        Each source is decoded first: unusable files are refused with a reason. A file whose
        content is already in the class is skipped as a duplicate.
        """
        sources = list(sources)

        def items() -> Iterable[tuple[str, Path | bytes]]:
            for source in sources:
                yield Path(source).name, Path(source)

        return self._add(label, items(), len(sources), on_progress, stop_event)

    def add_encoded(self, label: str, items: Iterable[tuple[str, bytes]], total: int = 0,
                    on_progress: Progress | None = None,
                    stop_event: threading.Event | None = None) -> AddReport:
        """Add images given as (file name, encoded bytes), e.g. patches cut by an importer."""
        return self._add(label, items, total, on_progress, stop_event)

    def _add(self, label: str, items: Iterable[tuple[str, Path | bytes]], total: int,
             on_progress: Progress | None, stop_event: threading.Event | None) -> AddReport:
        report = AddReport()
        with self._lock:
            label = check_class_name(label)
            folder = self.root / label
            if not folder.is_dir():
                raise DatasetError(f"There is no class '{label}'. Create it first.")
            self._ensure_meta()
            adding = self.meta / ADDING_MARK
            adding.write_text(label, encoding="utf-8")  # until the split is current again
            known = {r.hash: r.path for r in self.records(label=label)[0]}
            for done, (name, item) in enumerate(items, 1):
                if stop_event is not None and stop_event.is_set():
                    report.stopped = True
                    break
                self._add_one(folder, name, item, known, report)
                if on_progress is not None:
                    on_progress(done, max(total, done))
            if report.added:
                # Recorded after the copies (each one atomic on its own): undo moves the
                # added files to the trash.
                seq = self._next_seq()
                moves = [(self._rel(p), self._rel_any(self._trash(seq) / self._rel(p)))
                         for p in report.added]
                self.journal.record("add", f"add {len(report.added)} images to {label}", moves,
                                    seq)
                self._index = None
            self.keep_split_current()
            adding.unlink(missing_ok=True)
        return report

    def _add_one(self, folder: Path, name: str, item: Path | bytes, known: dict[str, Path],
                 report: AddReport) -> None:
        source = str(item) if isinstance(item, Path) else name
        try:
            if isinstance(item, Path):
                if not item.is_file():
                    raise DatasetError(f"{item}: not a file (missing, a folder or a broken link).")
                verify_image(item, self.config.max_image_pixels)
                digest = content_hash(item)
            else:
                verify_bytes(item, name, self.config.max_image_pixels)
                digest = bytes_hash(item)
        except (DatasetError, OSError) as exc:
            report.failed.append((source, str(exc)))
            return
        if digest in known:
            report.duplicates.append(known[digest])
            return
        target = self._free_name(folder, safe_file_name(name))
        try:
            with atomic_open(target, "wb") as handle:
                if isinstance(item, Path):
                    with item.open("rb") as src:
                        shutil.copyfileobj(src, handle, 1 << 20)
                else:
                    handle.write(item)
        except OSError as exc:
            report.failed.append((source, f"could not write {target}: {exc.strerror or exc}"))
            if exc.errno == 28:  # ENOSPC: every following write would fail the same way
                raise DatasetError(
                    f"The disk holding {folder} is full; {len(report.added)} images were added "
                    "before it filled. Free some space and import again (duplicates are skipped)."
                ) from None
            return
        known[digest] = target
        report.added.append(target)

    @staticmethod
    def _free_name(folder: Path, name: str) -> Path:
        target = folder / name
        stem, suffix = target.stem, target.suffix
        n = 1
        while target.exists():
            target = folder / f"{stem}-{n}{suffix}"
            n += 1
        return target

    def _resolve_images(self, paths: Iterable[Path]) -> list[Path]:
        resolved = []
        for given in paths:
            path = Path(given)
            full = path if path.is_absolute() else self.root / path
            rel = self._rel_any(full)
            if rel.count("/") != 1 or rel.startswith(META_DIR):
                raise DatasetError(f"{full} is not an image of a class in {self.root}.")
            if not full.is_file():
                raise DatasetError(f"{full} does not exist (moved or deleted meanwhile?).")
            resolved.append(full)
        return resolved

    def relabel(self, paths: Iterable[Path], label: str) -> list[Path]:
        """Move images to another class; their split does not change (it follows the content)."""
        with self._lock:
            label = check_class_name(label)
            folder = self.root / label
            if not folder.is_dir():
                raise DatasetError(f"There is no class '{label}'. Create it first.")
            moves: list[tuple[Path, Path]] = []
            taken: set[Path] = set()
            for src in self._resolve_images(paths):
                if src.parent == folder:
                    continue
                dst = self._free_name(folder, src.name)
                while dst in taken:
                    dst = self._free_name(folder, f"{dst.stem}-{len(taken)}{dst.suffix}")
                taken.add(dst)
                moves.append((src, dst))
            if moves:
                self._run_moves("relabel", f"relabel {len(moves)} images as {label}", moves)
            return [dst for _, dst in moves]

    def delete_images(self, paths: Iterable[Path]) -> int:
        """Move images to the trash; undo() brings them back."""
        with self._lock:
            files = self._resolve_images(paths)
            if not files:
                return 0
            seq = self._next_seq()
            moves = [(p, self._trash(seq) / self._rel(p)) for p in files]
            self._run_moves("delete", f"delete {len(files)} images", moves, seq)
            return len(files)

    def undo(self) -> str | None:
        """Revert the latest operation not yet undone; returns its description, or None."""
        with self._lock:
            op = self.journal.undo()
            if op is None:
                return None
            self._index = None
            self.keep_split_current()
            return op.description

    def _next_seq(self) -> int:
        return self.journal.next_seq()

    def _trash(self, seq: int) -> Path:
        return self.meta / "trash" / f"{seq:08d}"


