"""What every importer shares: the report, progress counting, class creation, patch buffering."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from inspector.core.data.dataset import AddReport, Dataset, check_class_name
from inspector.core.errors import DatasetImportError

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

# Patches waiting to be written are flushed to the dataset once they hold this many bytes, so
# memory stays bounded on the full DeepPCB or PKU sets while small imports make one add per class.
BUFFER_BYTES = 64 * 1024 * 1024

_EXAMPLES_IN_SUMMARY = 3


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


@dataclass
class ImportReport:
    """What an import did. Nothing in it is an error that stopped the import."""

    counts: dict[str, int] = field(default_factory=dict)  # images added per class
    add: AddReport = field(default_factory=AddReport)  # merged over all classes
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source item, reason)
    # (source item, remark) for things imported but worth knowing: a box clamped to the image,
    # two annotation lines giving the same pixels, fewer defect-free patches than asked.
    notes: list[tuple[str, str]] = field(default_factory=list)

    def record(self, label: str, sub: AddReport) -> None:
        self.add.merge(sub)
        self.counts[label] = self.counts.get(label, 0) + len(sub.added)

    def skip(self, item: str, reason: str) -> None:
        log.info("skipped %s: %s", item, reason)
        self.skipped.append((item, reason))

    def note(self, item: str, remark: str) -> None:
        log.info("%s: %s", item, remark)
        self.notes.append((item, remark))

    @property
    def added(self) -> int:
        return len(self.add.added)

    def summary(self) -> str:
        """One paragraph for the CLI: what was added, what was not and why (a few examples)."""
        classes = {label: n for label, n in sorted(self.counts.items()) if n}
        if classes:
            per_class = ", ".join(f"{label} {n}" for label, n in classes.items())
            text = (f"Imported {_plural(self.added, 'image')} into "
                    f"{_plural(len(classes), 'class', 'classes')} ({per_class}).")
        else:
            text = "No images were imported."
        if self.add.duplicates:
            text += (f" {_plural(len(self.add.duplicates), 'image')} already in the dataset "
                     "were skipped as duplicates.")
        if self.add.failed:
            examples = "; ".join(msg for _, msg in self.add.failed[:_EXAMPLES_IN_SUMMARY])
            text += f" {_plural(len(self.add.failed), 'image')} refused, e.g. {examples}."
        if self.skipped:
            examples = "; ".join(f"{item}: {reason}"
                                 for item, reason in self.skipped[:_EXAMPLES_IN_SUMMARY])
            text += f" {_plural(len(self.skipped), 'item')} skipped, e.g. {examples}."
        if self.notes:
            text += f" {_plural(len(self.notes), 'note')} (see the report's notes)."
        if self.add.stopped:
            text += " The import was stopped before the end; what was added is kept."
        return text


class ProgressCounter:
    """Turns work done in parts (boards, then the dataset's adds) into one (done, total)."""

    def __init__(self, callback: Progress | None, total: int) -> None:
        self.callback = callback
        self.total = max(total, 0)
        self.done = 0

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._emit()

    def _emit(self) -> None:
        if self.callback is not None:
            self.total = max(self.total, self.done)
            self.callback(self.done, self.total)

    def nested(self) -> Progress:
        """A callback for a Dataset.add_* call: its done counts add to ours."""
        base = self.done

        def report(done: int, _total: int) -> None:
            self.done = base + done
            self._emit()

        return report

    def finish(self) -> None:
        self.done = max(self.done, self.total)
        self._emit()


def is_stopped(stop_event: threading.Event | None) -> bool:
    return stop_event is not None and stop_event.is_set()


class ClassResolver:
    """Maps a source's class names onto the dataset's, creating classes only when needed.

    Matching is case-insensitive, as in Dataset.create_class: a source folder 'OK' adds to an
    existing class 'ok' rather than failing.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._known: dict[str, str] | None = None

    def check(self, name: str) -> str:
        """The name as a class name (normalised), or a DatasetError saying why it cannot be."""
        return check_class_name(name)

    def ensure(self, name: str) -> str:
        label = check_class_name(name)
        if self._known is None:
            self._known = {c.lower(): c for c in self.dataset.classes()}
        existing = self._known.get(label.lower())
        if existing is not None:
            return existing
        try:
            self.dataset.create_class(label)
        except FileExistsError:
            raise DatasetImportError(
                f"Cannot create the class '{label}': a file named {label} is in the way in "
                f"{self.dataset.root}. Move or rename that file and import again."
            ) from None
        except OSError as exc:
            raise DatasetImportError(
                f"Cannot create the class folder {self.dataset.root / label}: "
                f"{exc.strerror or exc}. Check the dataset folder's permissions."
            ) from None
        self._known[label.lower()] = label
        return label


class PatchBuffer:
    """Collects encoded patches per class and adds them to the dataset in batches."""

    def __init__(self, dataset: Dataset, report: ImportReport, progress: ProgressCounter,
                 stop_event: threading.Event | None, limit_bytes: int | None = None) -> None:
        self.dataset = dataset
        self.report = report
        self.progress = progress
        self.stop_event = stop_event
        self.limit_bytes = BUFFER_BYTES if limit_bytes is None else limit_bytes
        self.classes = ClassResolver(dataset)
        self._items: dict[str, list[tuple[str, bytes]]] = {}
        self._bytes = 0
        self.made: Counter[str] = Counter()

    def put(self, label: str, name: str, data: bytes) -> None:
        self._items.setdefault(label, []).append((name, data))
        self._bytes += len(data)
        self.made[label] += 1

    def flush_if_full(self) -> None:
        if self._bytes >= self.limit_bytes:
            self.flush()

    def flush(self) -> None:
        items, self._items, self._bytes = self._items, {}, 0
        for label in sorted(items):
            if is_stopped(self.stop_event):
                self.report.add.stopped = True
                return
            batch = items[label]
            target = self.classes.ensure(label)
            sub = self.dataset.add_encoded(target, batch, len(batch), self.progress.nested(),
                                           self.stop_event)
            self.report.record(target, sub)
            if sub.stopped:
                return


def relative_name(path: Path, root: Path) -> str:
    """How a source item is named in reports: relative to the import source when possible."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def is_hidden(name: str) -> bool:
    """Hidden files and folders, and the metadata macOS adds to archives, are not data."""
    return name.startswith(".") or name == "__MACOSX"


def check_source_dir(source: Path, dataset: Dataset, what: str) -> Path:
    """The source folder, resolved; refuses a missing one or one that overlaps the dataset."""
    if not source.exists():
        raise DatasetImportError(f"{source} does not exist. Check the path of the {what}.")
    if not source.is_dir():
        raise DatasetImportError(
            f"{source} is not a folder. Give the folder holding the {what}"
            + (" (a .zip file is imported with the format 'zip')." if source.suffix.lower()
               == ".zip" else ".")
        )
    resolved = source.resolve()
    root = dataset.root.resolve()
    if resolved == root or root in resolved.parents or resolved in root.parents:
        raise DatasetImportError(
            f"{source} and the dataset {dataset.root} overlap (one is inside the other). "
            "Import from a folder outside the dataset."
        )
    return resolved
