"""The validation report: every problem in a dataset that can hurt training or evaluation.

Each image is decoded in full (truncation shows only then). Decoding runs on a small thread
pool: Pillow releases the GIL while it decodes, so this scales with cores.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from inspector.core.data.dataset import Dataset, ImageRecord
from inspector.core.data.images import ImageProblem, ImageReadError, verify_image

log = logging.getLogger(__name__)


class IssueKind(StrEnum):
    EMPTY = "zero-byte file"
    NOT_IMAGE = "not an image"
    TRUNCATED = "truncated image"
    UNREADABLE = "unreadable file"
    TOO_LARGE = "too many pixels"
    UNSUPPORTED = "unsupported file"
    DUPLICATE = "duplicate"
    LABEL_CONFLICT = "label conflict"
    TOO_FEW = "too few images"
    IMBALANCE = "class imbalance"


_FROM_PROBLEM = {
    ImageProblem.EMPTY: IssueKind.EMPTY,
    ImageProblem.NOT_IMAGE: IssueKind.NOT_IMAGE,
    ImageProblem.TRUNCATED: IssueKind.TRUNCATED,
    ImageProblem.UNREADABLE: IssueKind.UNREADABLE,
    ImageProblem.TOO_LARGE: IssueKind.TOO_LARGE,
}

# Problems that make a file unusable; the others are warnings about the data as a whole.
ERROR_KINDS = frozenset(_FROM_PROBLEM.values()) | {IssueKind.LABEL_CONFLICT}


@dataclass(frozen=True)
class Issue:
    kind: IssueKind
    message: str
    paths: tuple[Path, ...] = ()
    label: str | None = None

    @property
    def is_error(self) -> bool:
        return self.kind in ERROR_KINDS


@dataclass
class ValidationReport:
    root: Path
    images_checked: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    stopped: bool = False

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.is_error]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.is_error]

    def by_kind(self) -> dict[IssueKind, list[Issue]]:
        grouped: dict[IssueKind, list[Issue]] = defaultdict(list)
        for issue in self.issues:
            grouped[issue.kind].append(issue)
        return dict(grouped)

    def bad_paths(self) -> set[Path]:
        """Files to leave out of training: unusable ones and label conflicts."""
        return {p for i in self.errors for p in i.paths}


def validate(
    dataset: Dataset,
    on_progress: Callable[[int, int], None] | None = None,
    stop_event: threading.Event | None = None,
    workers: int = 4,
) -> ValidationReport:
    config = dataset.config
    report = ValidationReport(root=dataset.root)
    classes = dataset.classes()
    files = dataset.image_files()
    total = len(files)

    for path in dataset.other_files():
        where = "at the top of the dataset, outside any class" if path.parent == dataset.root \
            else f"in class '{path.parent.name}'"
        what = "a folder" if path.is_dir() else f"a '{path.suffix or 'no suffix'}' file"
        report.issues.append(Issue(
            IssueKind.UNSUPPORTED,
            f"{path}: {what} {where} is not used; move it out of the dataset or convert it "
            "to png, jpg, bmp, tif or webp.",
            (path,),
        ))

    def check(path: Path) -> ImageReadError | None:
        try:
            verify_image(path, config.max_image_pixels)
        except ImageReadError as exc:
            return exc
        return None

    bad: dict[Path, ImageReadError] = {}
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for path, error in zip(files, pool.map(check, files), strict=True):
            done += 1
            if error is not None:
                bad[path] = error
            if on_progress is not None and (done % 100 == 0 or done == total):
                on_progress(done, total)
            if stop_event is not None and stop_event.is_set():
                report.stopped = True
                pool.shutdown(cancel_futures=True)
                break
    report.images_checked = done

    for path, error in bad.items():
        report.issues.append(Issue(_FROM_PROBLEM[error.problem], str(error), (path,),
                                   path.parent.name))

    records, errors = dataset.records()
    for error in errors:
        if error.path not in bad:
            report.issues.append(Issue(_FROM_PROBLEM[error.problem], str(error), (error.path,),
                                       error.path.parent.name))
    good = [r for r in records if r.path not in bad]
    _content_issues(good, report)

    report.counts = {label: 0 for label in classes}
    for record in good:
        report.counts[record.label] += 1
    _balance_issues(report.counts, config.min_images_per_class, config.imbalance_warn_ratio,
                    report)
    log.info("validated %s: %d images, %d errors, %d warnings", dataset.root, done,
             len(report.errors), len(report.warnings))
    return report


def _content_issues(records: list[ImageRecord], report: ValidationReport) -> None:
    by_hash: dict[str, list[ImageRecord]] = defaultdict(list)
    for record in records:
        by_hash[record.hash].append(record)
    for group in by_hash.values():
        if len(group) < 2:
            continue
        paths = tuple(r.path for r in group)
        labels = sorted({r.label for r in group})
        names = ", ".join(str(p) for p in paths)
        if len(labels) > 1:
            report.issues.append(Issue(
                IssueKind.LABEL_CONFLICT,
                f"The same image is labelled {' and '.join(labels)}: {names}. "
                "Keep it in the right class and delete the other copies.",
                paths,
            ))
        else:
            report.issues.append(Issue(
                IssueKind.DUPLICATE,
                f"{len(paths)} identical files in '{labels[0]}': {names}. They count once "
                "in training; delete the extra copies to keep statistics honest.",
                paths, labels[0],
            ))


def _balance_issues(counts: dict[str, int], minimum: int, ratio_limit: float,
                    report: ValidationReport) -> None:
    for label, count in sorted(counts.items()):
        if count < minimum:
            report.issues.append(Issue(
                IssueKind.TOO_FEW,
                f"Class '{label}' has {count} usable images; at least {minimum} are needed for "
                "a meaningful train/val/test split. Capture or import more.",
                (), label,
            ))
    nonzero = [c for c in counts.values() if c > 0]
    if len(nonzero) >= 2:
        ratio = max(nonzero) / min(nonzero)
        if ratio > ratio_limit:
            big = max(counts, key=lambda k: counts[k])
            small = min((k for k in counts if counts[k] > 0), key=lambda k: counts[k])
            report.issues.append(Issue(
                IssueKind.IMBALANCE,
                f"Classes are imbalanced {ratio:.1f}:1 ('{big}' {counts[big]} vs '{small}' "
                f"{counts[small]}); add images to small classes, or train with Focal Loss "
                "alpha or the weighted sampler.",
            ))
