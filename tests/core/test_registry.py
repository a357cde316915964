"""The registry and the promotion gate: versions with parents, compare, promote, rollback."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from helpers import dead_class_copy, tiny_training_config

from inspector.core.data.synthetic import generate_patch_dataset
from inspector.core.evaluation.compare import compare_models
from inspector.core.registry import PromotionError, Registry
from inspector.core.station import audit as actions
from inspector.core.station.audit import AuditLog
from inspector.core.station.inbox import ReviewInbox
from inspector.core.training.fit import fit
from inspector.core.workspace import Workspace


@pytest.fixture(scope="module")
def lineage(tmp_path_factory):
    """A workspace with v1 (3 classes), v2 warm-started with a 4th class, v3 = v1 made worse."""
    root = tmp_path_factory.mktemp("registry") / "ws"
    workspace = Workspace.create(root)
    dataset = workspace.dataset()
    generate_patch_dataset(dataset.root, per_class=16, seed=3, size=48,
                           classes=("ok", "short", "missing_hole"))
    dataset.split()
    config = tiny_training_config()
    config.train.epochs = 3
    config.promotion.min_support = 1  # two or three test images per class here
    workspace.config.promotion.min_support = 1
    v1 = fit(config, dataset, workspace.models_dir / "v1")
    generate_patch_dataset(dataset.root, per_class=16, seed=5, size=48, classes=("spur",))
    dataset.keep_split_current()
    fit(config, workspace.dataset(), workspace.models_dir / "v2", warm_start=v1.out_dir)
    dead_class_copy(v1.out_dir, workspace.models_dir / "v3", "short")
    yield workspace, config
    shutil.rmtree(root.parent, ignore_errors=True)  # ~300 MB of models


def test_versions_know_their_parents_and_form_a_tree(lineage):
    workspace, _ = lineage
    registry = Registry(workspace)
    versions = {v.name: v for v in registry.versions()}
    assert set(versions) == {"v1", "v2", "v3"}
    assert versions["v1"].parent is None
    assert versions["v2"].parent == "v1" and versions["v2"].new_classes == ["spur"]
    assert versions["v2"].dataset_fingerprint and versions["v2"].split_manifest.is_file()
    assert versions["v2"].thresholds and versions["v2"].temperature > 0
    assert versions["v2"].train_config["epochs"] == 3
    tree = [(depth, v.name) for depth, v in registry.walk()]
    assert tree[0] == (0, "v1")
    assert {(1, "v2"), (1, "v3")} <= set(tree)


def test_the_gate_refuses_a_worse_model_and_promotion_needs_a_reason(lineage, tmp_path):
    workspace, config = lineage
    registry = Registry(workspace)
    base = workspace.models_dir / "v1"
    report = compare_models(workspace.models_dir / "v3", base, workspace.dataset(), config)
    assert report.refused and report.candidate == "v3" and report.baseline == "v1"
    short = next(c for c in report.comparisons if c.name == "short")
    assert short.worse and short.candidate_recall == 0.0 and short.baseline_recall > 0
    assert any(r.startswith("short: recall") for r in report.reasons)
    assert report.n_changed == sum(1 for c in report.changed) and report.changed
    assert all(c.broken for c in report.changed if c.truth == "short"
               and c.baseline_label == "short")
    diff = report.confusion_difference()
    i = report.classes.index("short")
    assert diff[i, i] < 0  # fewer short images classified as short

    with AuditLog.for_workspace(workspace.root) as audit:
        registry.rollback("v1", user="eng", role="engineer", audit=audit)
        with pytest.raises(PromotionError, match="write the reason"):
            registry.promote("v3", report, user="eng", role="engineer", audit=audit)
        assert registry.active().name == "v1"
        with pytest.raises(PromotionError, match="not been compared"):
            registry.promote("v3", None, user="eng", role="engineer", audit=audit)
        registry.promote("v3", report, user="eng", role="engineer", audit=audit,
                         force_reason="line trial approved by QA lead")
        assert registry.active().name == "v3"
        registry.rollback("v1", user="eng", role="engineer", audit=audit, reason="trial over")
        assert registry.active().name == "v1"
        entries = audit.entries(action=actions.ACTIVE_MODEL, newest_first=False)
        assert [(e.detail["model"], e.detail["how"]) for e in entries][-2:] == [
            ("v3", "promote"), ("v1", "rollback")]
        assert entries[-2].detail["reason"] == "line trial approved by QA lead"
        assert entries[-2].detail["gate"] == "refused"
        assert audit.verify() is None
    assert [h["model"] for h in registry.history()][-2:] == ["v3", "v1"]


def test_a_new_class_is_reported_not_compared_and_inbox_items_count(lineage):
    workspace, config = lineage
    inbox = ReviewInbox(workspace.root)
    rng = np.random.default_rng(0)
    inbox.add(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8), operator="ana",
              operator_label="short", model_label="ok", model_verdict="PASS", confidence=0.7)
    report = compare_models(workspace.models_dir / "v2", workspace.models_dir / "v1",
                            workspace.dataset(), config, inbox=inbox)
    assert report.n_inbox == 1
    spur = next(c for c in report.comparisons if c.name == "spur")
    assert spur.baseline_recall is None and spur.note == "new class"
    assert report.classes == ["missing_hole", "ok", "short", "spur"]
    assert np.asarray(report.candidate_confusion).sum() == report.n_test + report.n_inbox
    for item in inbox.items():
        inbox.discard(item)


def test_the_same_model_passes_the_gate_with_nothing_changed(lineage):
    workspace, config = lineage
    v1 = workspace.models_dir / "v1"
    report = compare_models(v1, v1, workspace.dataset(), config)
    assert not report.refused and report.n_changed == 0
    assert report.candidate_accuracy == report.baseline_accuracy
    assert not report.confusion_difference().any()


def test_a_saved_gate_report_counts_only_against_the_version_active_now(lineage):
    workspace, _ = lineage
    registry = Registry(workspace)
    with AuditLog.for_workspace(workspace.root) as audit:
        registry.rollback("v1", user="eng", role="engineer", audit=audit)
        report = registry.compare("v3")
        assert (workspace.models_dir / "v3" / "gate.json").is_file()
        saved = registry.saved_report("v3")
        assert saved is not None and saved.baseline == "v1" and saved.refused
        assert saved.reasons == report.reasons
        registry.rollback("v2", user="eng", role="engineer", audit=audit)
        assert registry.saved_report("v3") is None  # made against v1, v2 is active now
        registry.rollback("v1", user="eng", role="engineer", audit=audit)
