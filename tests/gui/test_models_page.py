"""The Models page: the version tree, the promotion gate, promote, rollback, export, delete.

One workspace for the module: v1 trained one epoch at 32 px, v2 warm-started from v1 with a
fourth class (spur), and v3 = v1 with the class v1 recognises best made unwinnable, so the gate
must refuse it. Each test starts with v1 active.
"""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest
from helpers import dead_class_copy, tiny_training_config
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from inspector.core.data.synthetic import generate_patch_dataset
from inspector.core.model_catalog import active_model, set_active_model
from inspector.core.registry import Registry
from inspector.core.station import audit as actions
from inspector.core.station.access import AccessControl, Role
from inspector.core.station.audit import AuditLog
from inspector.core.training.fit import fit
from inspector.core.workspace import Workspace
from inspector.gui.pages.models import ModelsPage, ReasonDialog
from inspector.gui.session import StationSession
from inspector.gui.widgets.gate_view import RED
from inspector.gui.widgets.version_tree import ACTIVE_MARK

TIMEOUT = 60_000



@pytest.fixture(scope="module")
def lineage(tiny_data, tmp_path_factory):
    workspace = Workspace.create(tmp_path_factory.mktemp("models") / "ws")
    workspace.config.promotion.min_support = 1  # two test images per class here
    workspace.save_config()
    dataset = workspace.dataset()
    for folder in sorted(tiny_data.iterdir()):
        shutil.copytree(folder, dataset.root / folder.name)
    dataset.split()
    config = tiny_training_config()
    config.train.epochs = 1
    v1 = fit(config, dataset, workspace.models_dir / "v1")
    generate_patch_dataset(dataset.root, per_class=14, seed=5, size=48, classes=("spur",))
    dataset.keep_split_current()
    fit(config, workspace.dataset(), workspace.models_dir / "v2", warm_start=v1.out_dir)
    # the class v1 gets right most often: killing it must cost recall the gate sees
    per_class = v1.test["metrics"]["per_class"]
    dead = max(per_class, key=lambda c: c["recall"])["name"]
    dead_class_copy(v1.out_dir, workspace.models_dir / "v3", dead)
    yield SimpleNamespace(workspace=workspace, v1=v1, dead=dead)
    shutil.rmtree(workspace.root.parent, ignore_errors=True)  # ~400 MB of models


@pytest.fixture
def session(qtbot, lineage):
    root = lineage.workspace.root
    session = StationSession()
    session.attach(AccessControl(root), AuditLog.for_workspace(root), 0, Role.ENGINEER, root)
    yield session
    session.close()


@pytest.fixture
def page(qtbot, lineage, session):
    workspace = lineage.workspace
    set_active_model(workspace, "v1")  # the starting point of every test (not under test)
    page = ModelsPage()
    qtbot.addWidget(page)
    page.set_session(session)
    page.resize(1280, 800)
    page.show()
    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        page.set_workspace(workspace, workspace.dataset())
    return page


@pytest.fixture
def reasons(monkeypatch):
    """Answers the page's reason dialogs in turn: the text is typed, then the accept button
    is clicked if the dialog enables it, else the dialog is cancelled (None: cancel)."""
    script = SimpleNamespace(answers=[], shown=[])

    def run(dialog: ReasonDialog) -> int:
        script.shown.append(dialog)
        text = script.answers.pop(0) if script.answers else None
        if text is not None:
            dialog.edit.setPlainText(text)
        if text is not None and dialog.accept_button.isEnabled():
            dialog.accept_button.click()
        else:
            dialog.reject()
        return dialog.result()

    monkeypatch.setattr(ReasonDialog, "exec", run)
    return script


def _active_entries(workspace):
    with AuditLog.for_workspace(workspace.root) as audit:
        return audit.entries(action=actions.ACTIVE_MODEL, newest_first=False)


def _compared(qtbot, page, name):
    """The gate report of `name` against the active version (compared now if need be)."""
    page.select_version(name)
    if name not in page.reports:
        with qtbot.waitSignal(page.compared, timeout=TIMEOUT):
            qtbot.mouseClick(page.compare_button, Qt.MouseButton.LeftButton)
    return page.reports[name]


def test_the_tree_shows_each_version_under_its_parent_with_the_active_marked(page, lineage):
    tree = page.tree
    assert tree.topLevelItemCount() == 1
    root = tree.topLevelItem(0)
    assert root.text(0) == f"v1  {ACTIVE_MARK}" and root.font(0).bold()
    assert sorted(root.child(i).text(0) for i in range(root.childCount())) == ["v2", "v3"]
    assert not tree.item("v2").font(0).bold()
    assert tree.text("v1", "Classes") == "3"
    assert tree.text("v2", "Classes") == "4 (+ spur)"
    assert tree.text("v1", "Input") == "32 px"
    metrics = lineage.v1.test["metrics"]
    assert tree.text("v1", "Test accuracy") == f"{metrics['accuracy']:.3f}"
    assert tree.text("v1", "Test macro-F1") == f"{metrics['macro_f1']:.3f}"
    assert tree.text("v1", "Val macro-F1") == f"{lineage.v1.best_val_macro_f1:.3f}"
    assert tree.text("v1", "Weights") == "random"  # tests never have ImageNet weights
    assert tree.text("v2", "Export") == "–"
    page.select_version("v2")
    details = page.details.text()
    assert "warm-started from <b>v1</b>, adding spur" in details
    assert "missing_hole, ok, short, spur" in details and "temperature" in details
    # nothing activates a version without the gate or a rollback: no "Set active" here
    assert not hasattr(page, "active_button")
    assert page.compare_button.isEnabled() and not page.promote_button.isEnabled()
    # v2 never ran and is newer than v1: it goes through the gate, not a rollback
    assert not page.rollback_button.isEnabled()
    page.select_version("v1")
    assert not page.compare_button.isEnabled()  # the active one


def test_compare_shows_the_gate_refusing_a_worse_version(qtbot, page, lineage):
    page.select_version("v3")
    with qtbot.waitSignal(page.compared, timeout=TIMEOUT) as compared:
        qtbot.mouseClick(page.compare_button, Qt.MouseButton.LeftButton)
    report = compared.args[0]
    assert report.candidate == "v3" and report.baseline == "v1" and report.refused
    gate = page.gate_view
    assert gate.verdict_text().startswith("✗  Refused: " + lineage.dead + ": recall")
    row = [c.name for c in report.comparisons].index(lineage.dead)
    name_cell = gate.class_table.item(row, 0)
    delta_cell = gate.class_table.item(row, 3)
    assert name_cell.foreground().color() == RED and delta_cell.foreground().color() == RED
    assert delta_cell.text().startswith("−")
    assert gate.class_table.item(row, 6).text() == "worse: refused"
    dead = report.classes.index(lineage.dead)
    assert gate.matrix.value(dead, dead) < 0  # fewer images of the class recognised
    assert gate.changed_table.rowCount() == len(report.changed) > 0
    assert page.tree.text("v3", "Gate") == "refused"
    assert (lineage.workspace.models_dir / "v3" / "gate.json").is_file()
    assert page.promote_button.isEnabled()
    assert "The gate refuses v3" in page.message_bar.text()


def test_a_comparison_can_be_cancelled(qtbot, page):
    page.select_version("v2")
    page.compare()
    assert page.busy
    qtbot.waitUntil(page.cancel_button.isVisible, timeout=5_000)  # shown at once
    with qtbot.waitSignal(page.busy_changed, timeout=TIMEOUT):
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert not page.busy and page.refresh_button.isEnabled()
    # stopped before both models ran: nothing shown; ran to the end anyway: the full report
    if "v2" not in page.reports:
        assert page.message_bar.text() == "Comparison cancelled."
        assert page.gate_view.report is None


def test_promoting_a_refused_version_takes_a_written_reason_that_is_audited(
        qtbot, page, lineage, reasons):
    workspace = lineage.workspace
    report = _compared(qtbot, page, "v3")
    assert report.refused
    before = len(_active_entries(workspace))
    reasons.answers += ["too short"]  # 9 characters: the dialog will not accept it
    assert not page.promote()
    assert not reasons.shown[-1].accept_button.isEnabled()
    assert "v3 was not promoted" in page.message_bar.text()
    assert page.promote(reason="") is False  # the registry itself refuses it, with why
    assert "write the reason (at least 10 characters)" in page.message_bar.text()
    assert page.message_bar.level.name == "ERROR"
    assert active_model(workspace).name == "v1" and len(_active_entries(workspace)) == before

    reasons.answers += ["Line trial approved by the QA lead"]
    with (qtbot.waitSignal(page.refreshed, timeout=10_000),
          qtbot.waitSignal(page.active_model_changed, timeout=10_000) as changed):
        assert page.promote()
    assert changed.args == [workspace.models_dir / "v3"]
    assert active_model(workspace).name == "v3"
    entry = _active_entries(workspace)[-1]
    assert entry.user == "engineer" and entry.role == "engineer"
    assert entry.detail["model"] == "v3" and entry.detail["how"] == "promote"
    assert entry.detail["reason"] == "Line trial approved by the QA lead"
    assert entry.detail["gate"] == "refused" and entry.detail["previous"] == "v1"
    assert page.tree.text("v3", "Version") == f"v3  {ACTIVE_MARK}"
    assert "past the gate's refusal" in page.message_bar.text()


def test_roll_back_is_one_audited_action(qtbot, page, lineage, reasons, session):
    workspace = lineage.workspace
    Registry(workspace).rollback("v3", user="eng", role="engineer", audit=session.audit)
    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        page.refresh()
    recorded = []
    session.recorded.connect(recorded.append)
    page.select_version("v1")
    assert page.rollback_button.isEnabled()
    reasons.answers += [""]  # the reason is optional
    with (qtbot.waitSignal(page.refreshed, timeout=10_000),
          qtbot.waitSignal(page.active_model_changed, timeout=10_000) as changed):
        qtbot.mouseClick(page.rollback_button, Qt.MouseButton.LeftButton)
    assert changed.args == [workspace.models_dir / "v1"]
    assert active_model(workspace).name == "v1"
    entry = _active_entries(workspace)[-1]
    assert (entry.detail["model"], entry.detail["how"], entry.detail["previous"]) == (
        "v1", "rollback", "v3")
    assert "reason" not in entry.detail
    assert [e.action for e in recorded] == [actions.ACTIVE_MODEL]  # the audit page is told
    assert Registry(workspace).history()[-1]["model"] == "v1"
    # v3 ran on the line before: rolling back to it needs no gate either
    page.select_version("v3")
    assert page.rollback_button.isEnabled()


def test_a_comparison_against_a_version_no_longer_active_does_not_promote(
        qtbot, page, lineage, session):
    workspace = lineage.workspace
    _compared(qtbot, page, "v3")
    Registry(workspace).rollback("v2", user="cli", role="engineer", audit=session.audit)
    assert not page.promote(reason="Line trial approved by the QA lead")
    assert "compared with v1, but v2 is active now: compare it again" in (
        page.message_bar.text())
    assert active_model(workspace).name == "v2"


def test_actions_are_refused_outside_engineer_mode(qtbot, page, tmp_path):
    access = AccessControl(tmp_path)
    access.set_pin("2468")
    operator = StationSession()
    operator.attach(access, None, 0, Role.OPERATOR, tmp_path)
    page.set_session(operator)
    page.select_version("v3")
    assert not any(b.isEnabled() for b in (page.compare_button, page.promote_button,
                                           page.rollback_button, page.export_button,
                                           page.delete_button))
    page.compare()
    assert "Only an engineer" in page.message_bar.text() and not page.busy
    page.select_version("v1")
    assert not page.rollback(reason="") and not page.promote(reason="a reason long enough")
    page.export("torchscript")
    assert not page.busy
    page.select_version("v3")
    assert operator.unlock("2468")
    assert page.compare_button.isEnabled()  # the page follows the role
    operator.close()


def test_no_activation_without_the_audit_log(qtbot, page, lineage):
    _compared(qtbot, page, "v3")
    no_audit = StationSession()  # the window could not open the workspace's audit log
    no_audit.attach(None, None, 0, Role.ENGINEER, lineage.workspace.root)
    page.set_session(no_audit)
    assert not page.promote(reason="Line trial approved by the QA lead")
    assert "audit log is not open" in page.message_bar.text()
    page.select_version("v1")
    assert active_model(lineage.workspace).name == "v1"
    no_audit.close()


def test_a_changed_image_shows_both_models_grad_cam_maps(qtbot, page):
    report = _compared(qtbot, page, "v3")
    gate = page.gate_view
    assert report.changed
    first = report.changed[0].path
    if not gate.has_cam(first):
        with qtbot.waitSignal(gate.cam_shown, timeout=TIMEOUT) as shown:
            gate.select_changed(0)
        assert shown.args == [first]
    panel = gate.cam_panel
    assert panel.has_maps
    assert panel.baseline_view.image_size is not None
    assert panel.candidate_view.image_size is not None
    assert panel.image_view.image_size is not None
    assert "Active <b>v1</b>" in panel.baseline_caption.text()
    assert "Candidate <b>v3</b>" in panel.candidate_caption.text()


def test_export_writes_onnx_and_torchscript_and_the_tree_shows_them(qtbot, page, lineage):
    models = lineage.workspace.models_dir
    page.select_version("v1")
    with (qtbot.waitSignal(page.refreshed, timeout=TIMEOUT),
          qtbot.waitSignal(page.exported, timeout=TIMEOUT)):
        page.export_actions["torchscript"].trigger()
    assert (models / "v1" / "model.torchscript.pt").is_file()
    assert "Exported v1 to model.torchscript.pt" in page.message_bar.text()
    assert page.tree.text("v1", "Export") == "TorchScript"
    with (qtbot.waitSignal(page.refreshed, timeout=TIMEOUT),
          qtbot.waitSignal(page.exported, timeout=TIMEOUT)):
        page.export_actions["onnx"].trigger()
    assert (models / "v1" / "model.onnx").is_file()
    assert page.tree.text("v1", "Export") == "ONNX + TorchScript"
    assert page.selected_version().name == "v1"


def test_delete_asks_first_and_never_removes_the_active_version(qtbot, page, lineage, dialogs):
    models = lineage.workspace.models_dir
    shutil.copytree(models / "v1", models / "v1-copy")
    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        page.refresh()
    page.select_version("v1")
    assert not page.delete_button.isEnabled()
    page.delete()
    assert "v1 is the active version" in page.message_bar.text() and (models / "v1").is_dir()
    page.select_version("v1-copy")
    page.tree.setFocus()
    dialogs.answer = QMessageBox.StandardButton.No
    qtbot.keyClick(page.tree, Qt.Key.Key_Delete)
    assert dialogs.messages("question") and (models / "v1-copy").is_dir()
    dialogs.answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        qtbot.keyClick(page.tree, Qt.Key.Key_Delete)
    assert not (models / "v1-copy").exists()
    assert any((models / ".trash").glob("v1-copy-*/best.safetensors"))
    assert page.tree.names() == ["v1", "v2", "v3"] or sorted(page.tree.names()) == [
        "v1", "v2", "v3"]


def test_a_damaged_version_is_listed_in_red_and_can_only_be_deleted(qtbot, page, lineage):
    broken = lineage.workspace.models_dir / "broken"
    broken.mkdir()
    (broken / "best.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json")
    try:
        with qtbot.waitSignal(page.refreshed, timeout=10_000):
            page.refresh()
        item = page.tree.item("broken")
        assert page.tree.indexOfTopLevelItem(item) >= 0  # no parent to hang under
        assert page.tree.text("broken", "Classes") == "unreadable"
        assert item.foreground(0).color().name() == "#b71c1c"
        assert "damaged" in item.toolTip(0)
        page.select_version("broken")
        assert "damaged" in page.details.text()
        assert not page.compare_button.isEnabled() and not page.export_button.isEnabled()
        assert page.delete_button.isEnabled()
        assert not page.promote(reason="Line trial approved by the QA lead")
        assert "cannot be used" in page.message_bar.text()
    finally:
        shutil.rmtree(broken)
