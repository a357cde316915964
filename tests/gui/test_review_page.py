"""The Review page: inbox items shown with both answers, accepted into the dataset (existing
class, the operator's answer as a new class, a class named here) or discarded; audited."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QMessageBox

from inspector.core.data.images import content_hash
from inspector.core.station import audit as actions
from inspector.core.station.access import AccessControl, Role
from inspector.core.station.audit import AuditLog
from inspector.core.station.inbox import InboxItem, ReviewInbox
from inspector.core.workspace import Workspace
from inspector.gui.pages.review import NEW, ReviewPage
from inspector.gui.session import StationSession

TIMEOUT = 5000


@pytest.fixture
def session(qtbot, workspace: Workspace) -> Iterator[StationSession]:
    session = StationSession()
    session.attach(AccessControl(workspace.root), AuditLog.for_workspace(workspace.root), 0,
                   Role.ENGINEER, workspace.root)
    yield session
    session.close()


@pytest.fixture
def inbox(workspace: Workspace) -> ReviewInbox:
    return ReviewInbox(workspace.root)


def add(inbox: ReviewInbox, seed: int, operator_label: str = "short", model_label: str = "ok",
        **fields: object) -> InboxItem:
    image = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    values: dict[str, object] = {"operator": "ana", "model_verdict": "FAIL",
                                 "confidence": 0.71, "result_id": 100 + seed,
                                 "when": 1_700_000_000.0 + seed}
    values.update(fields)
    return inbox.add(image, operator_label=operator_label, model_label=model_label,
                     **values)  # type: ignore[arg-type]


@pytest.fixture
def page(qtbot, workspace, session) -> ReviewPage:
    page = ReviewPage()
    qtbot.addWidget(page)
    page.set_session(session)
    page.resize(1000, 600)
    page.show()
    page.activateWindow()
    return page


def show(qtbot, page: ReviewPage, workspace: Workspace) -> None:
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        page.set_workspace(workspace, workspace.dataset())


def accept(qtbot, page: ReviewPage, **kwargs: object):
    with qtbot.waitSignal(page.accepted, timeout=TIMEOUT) as blocker:
        assert page.accept_selected(**kwargs)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT)
    return blocker.args[0]


def test_items_show_the_frame_both_answers_who_and_when(qtbot, page, workspace, inbox):
    first = add(inbox, 1)
    add(inbox, 2, operator_label="ok", model_label="ok", model_verdict="REVIEW")
    add(inbox, 3, operator="bo")
    counts = []
    page.count_changed.connect(counts.append)
    show(qtbot, page, workspace)
    assert counts == [3] and page.count_label.text() == "3 waiting"
    model = page.model
    assert model.rowCount() == 3
    texts = [model.index(0, c).data() for c in range(1, 6)]
    assert texts[:3] == ["FAIL · ok 71%", "short", "ana"]
    assert texts[3].startswith("2023-11-1")  # local date and time of the decision (not today)
    assert model.index(1, 2).data() == "ok (confirmed)"
    assert model.index(2, 3).data() == "bo"
    assert isinstance(model.index(0, 0).data(Qt.ItemDataRole.DecorationRole), QPixmap)
    assert page.selected_items() == [first]  # the oldest is selected, ready for Enter
    assert page.class_combo.currentText() == "short"  # the operator's answer
    assert page.preview.image_size is not None and page.preview.image_size.width() == 64
    assert "ana" in page.caption.text() and "result #101" in page.caption.text()
    assert page.empty_label.isHidden()


def test_enter_accepts_into_the_operators_class_with_a_hash_and_a_split(qtbot, page, workspace,
                                                                        inbox, session):
    item = add(inbox, 1)
    keep = add(inbox, 2)
    show(qtbot, page, workspace)
    dataset = workspace.dataset()
    before = set(dataset.image_files("short"))
    changed = []
    page.dataset_changed.connect(lambda: changed.append(1))
    page.table.setFocus()
    with qtbot.waitSignal(page.accepted, timeout=TIMEOUT):
        qtbot.keyClick(page.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.items == [keep], timeout=TIMEOUT)
    [new] = set(dataset.image_files("short")) - before
    digest = content_hash(new)
    manifest = dataset.manifest()
    assert manifest is not None and manifest.split_of(digest) in {"train", "val", "test"}
    assert changed == [1]
    assert [i.id for i in inbox.items()] == [keep.id]
    entry = session.audit.entries(limit=1)[0]
    assert (entry.action, entry.user, entry.role) == (actions.INBOX_ACCEPT, "engineer",
                                                      "engineer")
    assert entry.detail["item"] == item.id and entry.detail["label"] == "short"
    assert entry.detail["file"] == f"short/{new.name}" and entry.detail["hash"] == digest
    assert entry.detail["new_class"] is False and entry.detail["result"] == 101
    assert page.selected_items() == [keep]  # the next one is ready
    assert "Added 1 to short" in page.message_bar.text()


def test_the_operators_answer_becomes_a_new_class(qtbot, page, workspace, inbox, session):
    add(inbox, 1, operator_label="mouse_bite")
    show(qtbot, page, workspace)
    assert page.class_combo.currentText() == "mouse_bite (new class)"
    report = accept(qtbot, page)
    [outcome] = report.accepted
    assert outcome.created and outcome.path.parent.name == "mouse_bite"
    assert "mouse_bite" in workspace.dataset().classes()
    assert session.audit.entries(limit=1)[0].detail["new_class"] is True


def test_new_class_in_the_combo_asks_for_a_name(qtbot, page, workspace, inbox, dialogs):
    add(inbox, 1)
    show(qtbot, page, workspace)
    combo = page.class_combo
    dialogs.texts.append(("a/b", True))  # refused: the reason is shown
    index = page.choices().index((NEW, "", True))
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert "cannot be a class name" in page.message_bar.text()
    assert combo.currentText() == "short"  # back to what it was
    dialogs.texts.append(("pad_lift", True))
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert combo.currentText() == "pad_lift (new class)"
    report = accept(qtbot, page)
    assert report.accepted[0].path.parent == workspace.dataset().root / "pad_lift"


def test_several_items_each_into_the_operators_class_or_all_into_one(qtbot, page, workspace,
                                                                     inbox, session):
    a = add(inbox, 1, operator_label="short")
    b = add(inbox, 2, operator_label="ok")
    c = add(inbox, 3, operator_label="short")
    show(qtbot, page, workspace)
    page.select_items([a.id, b.id])
    assert page.class_combo.currentText() == "Each as the operator said"
    report = accept(qtbot, page)
    assert sorted((o.item.id, o.label) for o in report.accepted) == [(a.id, "short"),
                                                                     (b.id, "ok")]
    qtbot.waitUntil(lambda: page.items == [c], timeout=TIMEOUT)
    d = add(inbox, 4, operator_label="ok")
    with qtbot.waitSignal(page.refreshed, timeout=TIMEOUT):
        page.refresh()
    page.select_items([c.id, d.id])
    report = accept(qtbot, page, label="ok")
    assert {o.label for o in report.accepted} == {"ok"}
    assert session.audit.count(action=actions.INBOX_ACCEPT) == 4


def test_delete_discards_after_asking(qtbot, page, workspace, inbox, dialogs, session):
    item = add(inbox, 1)
    show(qtbot, page, workspace)
    page.table.setFocus()
    dialogs.answer = QMessageBox.StandardButton.No
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert "Discard this frame" in dialogs.messages("question")[-1]
    assert inbox.items() == [item]
    dialogs.answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(page.discarded, timeout=TIMEOUT):
        qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: page.items == [], timeout=TIMEOUT)
    assert inbox.items() == [] and not inbox.image_path(item).exists()
    assert not page.empty_label.isHidden() and page.count == 0
    entry = session.audit.entries(limit=1)[0]
    assert entry.action == actions.INBOX_DISCARD and entry.detail["item"] == item.id
    assert len(workspace.dataset().image_files("short")) == 4  # nothing added


def test_operator_mode_refuses_to_change_the_dataset(qtbot, page, workspace, inbox, session,
                                                     dialogs):
    add(inbox, 1)
    show(qtbot, page, workspace)
    AccessControl(workspace.root).set_pin("4321")
    assert session.lock()
    assert not page.accept_button.isEnabled() and not page.discard_button.isEnabled()
    assert not page.accept_selected()
    dialogs.answer = QMessageBox.StandardButton.Yes
    assert not page.discard_selected()
    assert "Only an engineer" in page.message_bar.text()
    assert len(inbox.items()) == 1
    assert session.audit.count(action=actions.INBOX_ACCEPT) == 0


def test_a_refused_accept_shows_why_and_keeps_the_item(qtbot, page, workspace, inbox):
    item = add(inbox, 1)
    show(qtbot, page, workspace)
    assert not page.accept_selected(label="nonexistent")
    assert "no class 'nonexistent'" in page.message_bar.text()
    report = accept(qtbot, page, label="Short", create=True)  # differs from 'short' in case
    assert report.failed and "already exists" in page.message_bar.text()
    qtbot.waitUntil(lambda: not page.busy, timeout=TIMEOUT)
    assert inbox.items() == [item]
