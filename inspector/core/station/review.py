"""Accepting and discarding review-inbox items, each written to the audit log.

An item that cannot be accepted does not stop the others; an audit log that cannot be written
does, so nothing goes unrecorded past the first failure. The GUI's Review page runs these in a
worker; tests and scripts call them directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector.core.data.dataset import Dataset
from inspector.core.errors import InspectorError
from inspector.core.station import audit as actions
from inspector.core.station.audit import AuditEntry, AuditError
from inspector.core.station.inbox import InboxItem, ReviewInbox

Recorder = Callable[..., AuditEntry | None]  # record(action, **detail)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AcceptOutcome:
    item: InboxItem
    label: str
    created: bool = False  # the class was made for this item
    path: Path | None = None  # the new file; None when the class had the image already
    hash: str | None = None
    error: str | None = None


@dataclass
class AcceptReport:
    outcomes: list[AcceptOutcome] = field(default_factory=list)
    entries: list[AuditEntry] = field(default_factory=list)  # written for them
    audit_error: str | None = None  # the audit log failed: the remaining items were left
    stopped: bool = False

    @property
    def accepted(self) -> list[AcceptOutcome]:
        return [o for o in self.outcomes if o.error is None]

    @property
    def failed(self) -> list[AcceptOutcome]:
        return [o for o in self.outcomes if o.error is not None]




def item_detail(item: InboxItem) -> dict[str, Any]:
    return {"item": item.id, "model": item.model_label, "verdict": item.model_verdict,
            "operator": item.operator, "operator_class": item.operator_label,
            "result": item.result_id}


def accept_items(inbox: ReviewInbox, dataset: Dataset, plan: list[tuple[InboxItem, str, bool]],
                 record: Recorder | None = None, on_progress: Progress | None = None,
                 stop_event: threading.Event | None = None) -> AcceptReport:
    """Accept each (item, class, create the class) in turn, each audited (INBOX_ACCEPT) through
    `record` as soon as it is done."""
    from inspector.core.data.images import content_hash

    report = AcceptReport()
    for done, (item, label, create) in enumerate(plan, 1):
        if stop_event is not None and stop_event.is_set():
            report.stopped = True
            break
        try:
            created = create and label not in dataset.classes()
            path = inbox.accept(item, dataset, label, create_class=create)
            digest = content_hash(path) if path is not None else None
        except (InspectorError, OSError) as exc:
            report.outcomes.append(AcceptOutcome(item, label, error=str(exc)))
            continue
        report.outcomes.append(AcceptOutcome(item, label, created, path, digest))
        try:
            rel = path.relative_to(dataset.root).as_posix() if path is not None else None
            entry = record(actions.INBOX_ACCEPT, label=label, new_class=created, file=rel,
                           hash=digest, duplicate=path is None,
                           **item_detail(item)) if record is not None else None
        except AuditError as exc:
            report.audit_error = str(exc)
            break
        if entry is not None:
            report.entries.append(entry)
        if on_progress is not None:
            on_progress(done, len(plan))
    return report


@dataclass
class DiscardReport:
    items: list[InboxItem] = field(default_factory=list)
    entries: list[AuditEntry] = field(default_factory=list)
    audit_error: str | None = None


def discard_items(inbox: ReviewInbox, items: list[InboxItem], record: Recorder | None = None,
                  stop_event: threading.Event | None = None) -> DiscardReport:
    """Discard the items, each audited (INBOX_DISCARD)."""
    report = DiscardReport()
    for item in items:
        if stop_event is not None and stop_event.is_set():
            break
        inbox.discard(item)
        report.items.append(item)
        try:
            entry = record(actions.INBOX_DISCARD, **item_detail(item)) if record else None
        except AuditError as exc:
            report.audit_error = str(exc)
            break
        if entry is not None:
            report.entries.append(entry)
    return report
