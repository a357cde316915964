"""The whole model lifecycle on synthetic data, through the core: train v1, run live, override
three results, accept them from the inbox, add a class, retrain v2 warm, compare, see the gate
refuse a deliberately worse v3, promote v2, roll back to v1, and find each step audited."""

from __future__ import annotations

import pytest
from helpers import dead_class_copy, tiny_training_config

from inspector.core.data.synthetic import generate_patch_dataset
from inspector.core.inference.session import build_live_run, live_model_path
from inspector.core.registry import PromotionError, Registry
from inspector.core.results.store import ResultsStore
from inspector.core.station import audit as actions
from inspector.core.station.audit import AuditLog
from inspector.core.station.decisions import record_decision
from inspector.core.station.inbox import ReviewInbox
from inspector.core.station.review import accept_items
from inspector.core.training.fit import fit
from inspector.core.workspace import Workspace

CLASSES = ("ok", "short", "missing_hole")


def test_the_model_lifecycle_from_v1_to_rollback(tmp_path):
    workspace = Workspace.create(tmp_path / "ws")
    dataset = workspace.dataset()
    generate_patch_dataset(dataset.root, per_class=16, seed=3, size=48, classes=CLASSES)
    dataset.split()
    config = tiny_training_config()
    workspace.config.model, workspace.config.train = config.model, config.train
    workspace.config.promotion.min_support = 1
    workspace.save_config()
    registry = Registry(workspace)
    audit = AuditLog.for_workspace(workspace.root)
    inbox = ReviewInbox(workspace.root)

    # v1, and live inspection with it
    fit(workspace.config, dataset, workspace.models_dir / "v1")
    assert registry.active().name == "v1"
    run = build_live_run(workspace.config.live, live_model_path(workspace), device="cpu",
                         virtual_mode="patch", match_virtual_classes=True)
    results = []
    with ResultsStore(workspace.results_path, workspace.config.live.results) as store:
        with run.source:
            summary = run.inspector(store, results.append).run(max_frames=6)
        assert summary.frames == 6 and len(results) == 6

        # three overrides: each to a class the model did not say
        for result in results[:3]:
            label = next(c for c in CLASSES if c != result.decision.label)
            outcome = record_decision(
                store, inbox, audit, ticket_or_id=result.ticket, image=result.frame,
                model_verdict=result.decision.verdict.value, model_label=result.decision.label,
                confidence=result.decision.confidence, operator="ana", label=label,
                source=result.source, model_version=result.model_version)
            assert outcome.kind == "override" and outcome.inbox_item is not None
            row = store.get(outcome.result_id)
            assert (row.operator, row.decision) == ("ana", label)

    # the engineer accepts them into the dataset
    items = inbox.items()
    assert len(items) == 3
    report = accept_items(inbox, dataset, [(i, i.operator_label, False) for i in items],
                          lambda action, **detail: audit.append("eng", "engineer", action,
                                                                **detail))
    assert len(report.accepted) == 3 and not inbox.items()
    manifest = dataset.manifest()
    for outcome in report.accepted:
        assert outcome.path is not None and outcome.hash
        assert manifest.split_of(outcome.hash) in {"train", "val", "test"}

    # a new defect class; v2 warm-starts from the active v1
    generate_patch_dataset(dataset.root, per_class=16, seed=7, size=48, classes=("spur",))
    dataset.keep_split_current()
    fit(workspace.config, workspace.dataset(), workspace.models_dir / "v2",
        warm_start=registry.active().folder)
    v2 = registry.get("v2")
    assert v2.parent == "v1" and v2.new_classes == ["spur"]
    gate_v2 = registry.compare("v2")
    assert gate_v2.baseline == "v1"
    assert next(c for c in gate_v2.comparisons if c.name == "spur").note == "new class"

    # v3: v2 with a class that can never win, refused by the gate
    dead_class_copy(workspace.models_dir / "v2", workspace.models_dir / "v3", "short")
    gate_v3 = registry.compare("v3", baseline="v2")
    assert gate_v3.refused and any(r.startswith("short:") for r in gate_v3.reasons)
    with pytest.raises(PromotionError):
        registry.promote("v3", gate_v3, user="eng", role="engineer", audit=audit)

    # promote v2 (with a reason if this tiny model happens to lose on a class), roll back
    reason = "tiny test model; reviewed" if gate_v2.refused else None
    registry.promote("v2", gate_v2, user="eng", role="engineer", audit=audit,
                     force_reason=reason)
    assert registry.active().name == "v2"
    registry.rollback("v1", user="eng", role="engineer", audit=audit, reason="back to v1")
    assert registry.active().name == "v1"

    entries = audit.entries(limit=100, newest_first=False)
    steps = [(e.action, e.detail.get("model") if e.action == actions.ACTIVE_MODEL else None)
             for e in entries]
    assert steps.count((actions.OVERRIDE, None)) == 3
    assert steps.count((actions.INBOX_ACCEPT, None)) == 3
    assert steps[-2:] == [(actions.ACTIVE_MODEL, "v2"), (actions.ACTIVE_MODEL, "v1")]
    assert entries[-1].detail["how"] == "rollback"
    assert audit.verify() is None
    audit.close()

