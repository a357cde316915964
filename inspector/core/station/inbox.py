"""The review inbox: frames the operators corrected, waiting for an engineer.

Each item is two files in the workspace's `review/` folder: the frame as a lossless PNG and a
JSON record beside it (the model's answer, the operator's answer, who and when). The PNG is
written first and the JSON last, both atomically, so an item exists exactly when its JSON does;
a PNG left without one by a kill is cleaned up on the next listing. Accepting an item copies the
image into a class of the dataset through `Dataset.add_encoded`, where it gets its content hash
and its place in the stable split like any imported image; then the item's files go.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from inspector.core.atomic import atomic_write_bytes, atomic_write_json
from inspector.core.data.dataset import Dataset, check_class_name
from inspector.core.errors import DatasetError, InspectorError

log = logging.getLogger(__name__)

INBOX_DIR = "review"
ORPHAN_AGE_S = 60.0  # a PNG this old without its JSON was left by a kill


class InboxError(InspectorError):
    """An inbox item cannot be written, read or moved; the message says why."""


@dataclass(frozen=True)
class InboxItem:
    id: str
    time: float
    result_id: int | None
    source: str
    model_version: str
    model_verdict: str
    model_label: str
    confidence: float
    operator: str
    operator_label: str
    image: str  # the PNG's file name in the inbox folder

    @property
    def is_override(self) -> bool:
        return self.operator_label != self.model_label


def _encode_png(image: np.ndarray) -> bytes:
    import cv2

    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", np.ascontiguousarray(image))
    if not ok:
        raise InboxError("The frame could not be encoded as PNG.")
    return data.tobytes()


class ReviewInbox:
    def __init__(self, workspace_root: Path) -> None:
        self.folder = Path(workspace_root) / INBOX_DIR

    def add(self, image: np.ndarray, *, operator: str, operator_label: str, model_label: str,
            model_verdict: str, confidence: float, result_id: int | None = None,
            source: str = "", model_version: str = "", when: float | None = None) -> InboxItem:
        when = time.time() if when is None else when
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
        item_id = f"{stamp}-{int(when * 1000) % 1000:03d}-{result_id if result_id else 'x'}"
        base, n = item_id, 1
        while any((self.folder / f"{item_id}{ext}").exists() for ext in (".json", ".png")):
            item_id = f"{base}-{n}"  # two items in the same millisecond keep both
            n += 1
        item = InboxItem(item_id, when, result_id, source, model_version, model_verdict,
                         model_label, float(confidence), operator, operator_label,
                         f"{item_id}.png")
        try:
            atomic_write_bytes(self.folder / item.image, _encode_png(image))
            atomic_write_json(self.folder / f"{item_id}.json", asdict(item))
        except OSError as exc:
            with contextlib.suppress(OSError):
                (self.folder / item.image).unlink(missing_ok=True)
            raise InboxError(f"Could not put the frame in the review inbox {self.folder}: "
                             f"{exc.strerror or exc}. Check that the workspace folder is "
                             "writable and has free space.") from None
        return item

    def items(self) -> list[InboxItem]:
        """The waiting items, oldest first; unreadable records are skipped with a warning."""
        if not self.folder.is_dir():
            return []
        found = []
        for record in sorted(self.folder.glob("*.json")):
            try:
                data = json.loads(record.read_text(encoding="utf-8"))
                item = InboxItem(**data)
            except (OSError, ValueError, TypeError) as exc:
                log.warning("skipping the unreadable inbox record %s: %s", record, exc)
                continue
            if not (self.folder / item.image).is_file():
                log.warning("the inbox record %s has lost its image; skipped", record)
                continue
            found.append(item)
        self._clean_orphans({item.image for item in found})
        return sorted(found, key=lambda item: item.time)

    def __len__(self) -> int:
        return len(self.items())

    def image_path(self, item: InboxItem) -> Path:
        return self.folder / item.image

    def _clean_orphans(self, kept: set[str]) -> None:
        now = time.time()
        for png in self.folder.glob("*.png"):
            if png.name in kept or (self.folder / f"{png.stem}.json").exists():
                continue
            try:
                if now - png.stat().st_mtime > ORPHAN_AGE_S:
                    png.unlink()
            except OSError:
                pass

    def _remove(self, item: InboxItem) -> None:
        (self.folder / f"{item.id}.json").unlink(missing_ok=True)  # the item is gone from here
        (self.folder / item.image).unlink(missing_ok=True)

    def accept(self, item: InboxItem, dataset: Dataset, label: str,
               create_class: bool = False) -> Path | None:
        """Add the item's image to class `label` (created first when `create_class`); returns
        the new file, or None when the class already had this exact image."""
        label = check_class_name(label)
        if label not in dataset.classes():
            if not create_class:
                raise DatasetError(f"There is no class '{label}' in the dataset; create it or "
                                   "choose another.")
            dataset.create_class(label)
        path = self.folder / item.image
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InboxError(f"Cannot read {path}: {exc.strerror or exc}.") from None
        name = f"review-{item.id}.png"
        report = dataset.add_encoded(label, [(name, data)], total=1)
        if report.failed:
            raise DatasetError(f"{name} was not added to '{label}': {report.failed[0][1]}")
        self._remove(item)
        return report.added[0] if report.added else None

    def discard(self, item: InboxItem) -> None:
        self._remove(item)
