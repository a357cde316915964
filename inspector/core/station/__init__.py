"""The inspection station: roles and the engineer PIN, the append-only audit log, the review
inbox of operator corrections, and operator decisions on live results. Qt-free."""

from inspector.core.station.access import AccessControl, PinError, Role, hash_pin, verify_pin
from inspector.core.station.audit import AuditEntry, AuditError, AuditLog
from inspector.core.station.decisions import DecisionOutcome, record_decision
from inspector.core.station.inbox import InboxItem, ReviewInbox

__all__ = [
    "AccessControl", "AuditEntry", "AuditError", "AuditLog", "DecisionOutcome", "InboxItem",
    "PinError", "ReviewInbox", "Role", "hash_pin", "record_decision", "verify_pin",
]
