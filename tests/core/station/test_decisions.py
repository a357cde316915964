"""An operator's decision on a live result: written to the results store, and for overrides
and decided REVIEWs to the review inbox and the audit log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from inspector.core.results import InspectionResult, ResultsError, ResultsStore, Ticket
from inspector.core.station import audit as actions
from inspector.core.station.audit import AuditLog
from inspector.core.station.decisions import CONFIRM, OVERRIDE, record_decision
from inspector.core.station.inbox import ReviewInbox
from inspector.core.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path / "ws")


@pytest.fixture
def store(workspace: Workspace) -> Iterator[ResultsStore]:
    with ResultsStore(workspace.results_path) as opened:
        yield opened


@pytest.fixture
def inbox(workspace: Workspace) -> ReviewInbox:
    return ReviewInbox(workspace.root)


@pytest.fixture
def audit(workspace: Workspace) -> Iterator[AuditLog]:
    with AuditLog.for_workspace(workspace.root) as opened:
        yield opened


def frame(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (32, 48, 3), dtype=np.uint8)


def stored(store: ResultsStore, verdict: str = "FAIL", label: str = "short") -> Ticket:
    return store.add(InspectionResult(
        time=time.time(), source="virtual", model_version="run-1", verdict=verdict,
        label=label, confidence=0.64, probabilities={label: 0.64, "ok": 0.36},
        thresholds={"ok": 0.6, "short": 0.5}))


def decide(store, inbox, audit, ticket, **kwargs):
    values = {"image": frame(), "model_verdict": "FAIL", "model_label": "short",
              "confidence": 0.64, "operator": "ana", "label": "short", "source": "virtual",
              "model_version": "run-1"}
    values.update(kwargs)
    return record_decision(store, inbox, audit, ticket_or_id=ticket, **values)


def test_confirming_a_fail_writes_the_decision_only(store, inbox, audit):
    ticket = stored(store)
    outcome = decide(store, inbox, audit, ticket, label="short")
    assert outcome.kind == CONFIRM and outcome.result_id == ticket.wait(5)
    row = store.get(outcome.result_id)
    assert row is not None and row.operator == "ana" and row.decision == "short"
    assert row.decided_at is not None and abs(row.decided_at - time.time()) < 60
    assert outcome.inbox_item is None and inbox.items() == []
    assert outcome.audit_entry is None and audit.count() == 0


def test_an_override_goes_to_the_store_the_inbox_and_the_audit_log(store, inbox, audit):
    ticket = stored(store)
    outcome = decide(store, inbox, audit, ticket, label="ok", operator="  ana  ")
    assert outcome.kind == OVERRIDE and outcome.label == "ok"
    row = store.get(outcome.result_id)
    assert row is not None and (row.operator, row.decision) == ("ana", "ok")
    [item] = inbox.items()
    assert item == outcome.inbox_item
    assert (item.model_label, item.operator_label, item.operator) == ("short", "ok", "ana")
    assert item.result_id == outcome.result_id and item.model_version == "run-1"
    [entry] = audit.entries()
    assert entry == outcome.audit_entry
    assert (entry.user, entry.role, entry.action) == ("ana", "operator", actions.OVERRIDE)
    assert entry.detail == {"result": outcome.result_id, "verdict": "FAIL", "model": "short",
                            "operator_class": "ok", "confidence": 0.64}


def test_a_confirmed_review_goes_to_the_inbox_as_review_decided(store, inbox, audit):
    ticket = stored(store, verdict="REVIEW", label="open")
    outcome = decide(store, inbox, audit, ticket, model_verdict="REVIEW", model_label="open",
                     label="open")
    assert outcome.kind == CONFIRM
    [item] = inbox.items()
    assert not item.is_override and item.model_verdict == "REVIEW"
    [entry] = audit.entries()
    assert entry.action == actions.REVIEW_DECIDED and entry.detail["operator_class"] == "open"


def test_an_override_without_a_frame_is_still_audited(store, inbox, audit):
    outcome = decide(store, inbox, audit, stored(store), image=None, label="ok")
    assert outcome.kind == OVERRIDE and outcome.inbox_item is None and inbox.items() == []
    assert audit.count() == 1


def test_a_row_id_works_as_well_as_a_ticket_and_the_audit_log_is_optional(store, inbox):
    row = stored(store).wait(5)
    outcome = decide(store, inbox, None, row, label="ok", role="engineer")
    assert outcome.audit_entry is None and outcome.result_id == row
    assert store.get(row).decision == "ok"


def test_a_nameless_operator_is_refused_before_anything_is_written(store, inbox, audit):
    ticket = stored(store)
    with pytest.raises(ResultsError, match="operator's name"):
        decide(store, inbox, audit, ticket, operator="   ", label="ok")
    assert store.get(ticket.wait(5)).decision is None
    assert inbox.items() == [] and audit.count() == 0


def test_a_failed_ticket_raises_results_error(store, inbox, audit):
    ticket = Ticket()
    ticket._fail(ResultsError("The disk is full."))
    with pytest.raises(ResultsError, match="disk is full"):
        decide(store, inbox, audit, ticket, label="ok")
    assert inbox.items() == [] and audit.count() == 0


def test_a_ticket_still_queued_raises_results_error_with_advice(store, inbox, audit):
    with pytest.raises(ResultsError, match="still waiting to be written"):
        decide(store, inbox, audit, Ticket(), label="ok", timeout=0.05)


def test_a_result_gone_from_the_store_raises_results_error(store, inbox, audit):
    with pytest.raises(ResultsError, match="is not in"):
        decide(store, inbox, audit, 12345, label="ok")
    assert inbox.items() == [] and audit.count() == 0


def test_a_decision_survives_reopening_the_store(workspace, inbox, audit):
    with ResultsStore(workspace.results_path) as store:
        outcome = decide(store, inbox, audit, stored(store), label="ok")
    with ResultsStore(workspace.results_path) as again:
        assert again.get(outcome.result_id).decision == "ok"
