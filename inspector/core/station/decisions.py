"""An operator's decision on a live result: confirm the model's class, or override it.

The decision goes to the result's row in the results store (operator, class, time). Every
override, and every decided REVIEW, also goes to the review inbox with the frame, so engineers
can add it to the dataset; overrides and decided REVIEWs are written to the audit log. Each
write commits before the next starts, so a decision the operator saw acknowledged survives a
kill of the application.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from inspector.core.results.record import ResultsError, Ticket
from inspector.core.results.store import ResultsStore
from inspector.core.station import audit as actions
from inspector.core.station.audit import AuditEntry, AuditLog
from inspector.core.station.inbox import InboxItem, ReviewInbox

log = logging.getLogger(__name__)

CONFIRM, OVERRIDE = "confirm", "override"


@dataclass(frozen=True)
class DecisionOutcome:
    result_id: int
    kind: str  # CONFIRM or OVERRIDE
    label: str
    inbox_item: InboxItem | None
    audit_entry: AuditEntry | None


def result_id(ticket_or_id: Ticket | int, timeout: float = 10.0) -> int:
    """The stored row's id, waiting for the writer when the row is still queued."""
    if isinstance(ticket_or_id, int):
        return ticket_or_id
    try:
        return ticket_or_id.wait(timeout)
    except TimeoutError:
        raise ResultsError("The result is still waiting to be written (the disk is slow or "
                           "full); try the decision again in a moment.") from None


def record_decision(store: ResultsStore, inbox: ReviewInbox, audit: AuditLog | None, *,
                    ticket_or_id: Ticket | int, image: np.ndarray | None, model_verdict: str,
                    model_label: str, confidence: float, operator: str, label: str,
                    role: str = "operator", source: str = "", model_version: str = "",
                    timeout: float = 10.0) -> DecisionOutcome:
    """Record that `operator` says the item is `label`. Raises ResultsError (the row cannot be
    written) or InboxError / AuditError, with the earlier steps kept."""
    operator = operator.strip()
    if not operator:
        raise ResultsError("Enter the operator's name before deciding.")
    row = result_id(ticket_or_id, timeout)
    kind = CONFIRM if label == model_label else OVERRIDE
    store.set_decision(row, operator, label)
    item = None
    if (kind == OVERRIDE or model_verdict == "REVIEW") and image is not None:
        item = inbox.add(image, operator=operator, operator_label=label,
                         model_label=model_label, model_verdict=model_verdict,
                         confidence=confidence, result_id=row, source=source,
                         model_version=model_version)
    entry = None
    if audit is not None and (kind == OVERRIDE or model_verdict == "REVIEW"):
        action = actions.OVERRIDE if kind == OVERRIDE else actions.REVIEW_DECIDED
        entry = audit.append(operator, role, action, result=row, verdict=model_verdict,
                             model=model_label, operator_class=label,
                             confidence=round(float(confidence), 4))
    log.info("result %d: %s %s -> %s by %s", row, kind, model_label, label, operator)
    return DecisionOutcome(row, kind, label, item, entry)
