"""Roles at the station, as app.py builds the window: operator mode by default on a workspace
with an engineer PIN, the PIN dialog, the idle lock, and the audit of each of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QWidget

from inspector.core.station import audit as actions
from inspector.core.station.access import ACCESS_FILE, AccessControl, Role
from inspector.core.station.audit import AUDIT_FILE
from inspector.core.station.inbox import ReviewInbox
from inspector.core.workspace import RecentWorkspaces, Workspace
from inspector.gui.app import build_main_window
from inspector.gui.main_window import LazyPage, MainWindow

TIMEOUT = 5000
PIN = "97531"
ENGINEER_PAGES = ["Datasets", "Augmentation", "Training", "Evaluation", "Models", "Live",
                  "Results", "Review", "Audit log"]


class Blank(QWidget):
    """Stands in for a page (the Live and Results pages are built elsewhere)."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions: list[object] = []

    def set_workspace(self, workspace, dataset) -> None:
        pass

    def set_session(self, session) -> None:
        self.sessions.append(session)


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:
    settings = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    window = build_main_window(settings, RecentWorkspaces(tmp_path / "recent.json"))
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    return window


def make_station(workspace: Workspace, **station: object) -> Workspace:
    for key, value in station.items():
        setattr(workspace.config.station, key, value)
    workspace.save_config()
    AccessControl(workspace.root).set_pin(PIN)
    return workspace


def open_and_wait(qtbot, window: MainWindow, root: Path) -> None:
    with qtbot.waitSignal(window.workspace_changed, timeout=TIMEOUT):
        window.open_workspace(root)


def audit_actions(window: MainWindow) -> list[str]:
    assert window.session.audit is not None
    return [e.action for e in window.session.audit.entries(newest_first=False)]


def shown_titles(window: MainWindow) -> list[str]:
    return [title for row, title in enumerate(window.page_titles())
            if not window.nav.item(row).isHidden()]


def press_ctrl_l(qtbot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)


def unlock_with(qtbot, window: MainWindow, pin: str, name: str = "") -> None:
    press_ctrl_l(qtbot, window)
    dialog = window.unlock_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.name_edit.setText(name)
    qtbot.keyClicks(dialog.pin_edit, pin)
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)


def test_a_station_starts_in_operator_mode_with_no_engineer_page(qtbot, window, workspace):
    make_station(workspace)
    open_and_wait(qtbot, window, workspace.root)
    assert window.session.role is Role.OPERATOR
    assert window.page_titles() == ENGINEER_PAGES
    assert shown_titles(window) == ["Live", "Results"]
    assert window.current_page_title() == "Live"
    assert window.role_button.text() == "Operator mode"
    for action in (window.new_action, window.open_action, window.demo_action,
                   window.undo_action, window.lock_action, window.set_pin_action):
        assert not action.isEnabled(), action.text()
    assert not window.recent_menu.isEnabled()
    assert window.unlock_action.isEnabled()
    assert not window.show_page("Datasets")  # refused: nothing changes
    assert window.current_page_title() == "Live"
    [entry] = window.session.audit.entries()
    assert (entry.action, entry.role, entry.detail["reason"]) == (
        actions.ROLE, "operator", "workspace opened")


def test_a_window_without_station_pages_explains_how_to_unlock(qtbot, tmp_path, workspace):
    settings = QSettings(str(tmp_path / "bare.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, RecentWorkspaces(tmp_path / "bare.json"))
    qtbot.addWidget(window)
    window.add_page("Datasets", Blank())
    window.show()
    make_station(workspace)
    open_and_wait(qtbot, window, workspace.root)
    assert shown_titles(window) == []
    assert window.stack.currentWidget() is window.locked_page
    assert "Operator mode" in window.locked_page.text()
    assert not window.show_page("Datasets")
    assert window.stack.currentWidget() is window.locked_page
    assert not any(a.isVisible() for a in window.page_actions_menu.actions())


def test_operator_mode_shows_only_live_and_results_and_the_shortcuts_skip_the_rest(
        qtbot, window, workspace):
    extra = Blank()
    window.add_page("Extra", LazyPage(Blank))
    window.add_page("Blank", extra)
    assert extra.sessions == [window.session]  # pages with set_session get the session
    make_station(workspace)
    open_and_wait(qtbot, window, workspace.root)
    assert shown_titles(window) == ["Live", "Results"]
    assert window.visible_page_titles() == ["Live", "Results"]
    assert window.current_page_title() == "Live"
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_title() == "Results"
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_title() == "Results"  # no third page to go to
    assert not window.show_page("Models")
    assert not window.show_page("Extra")
    assert window.current_page_title() == "Results"
    shortcuts = {a.text(): a.shortcut().toString() for a in window.page_actions_menu.actions()
                 if a.isVisible()}
    assert shortcuts == {"Live": "Ctrl+1", "Results": "Ctrl+2"}


def test_ctrl_l_with_a_wrong_pin_does_not_unlock_and_is_audited(qtbot, window, workspace):
    make_station(workspace)
    open_and_wait(qtbot, window, workspace.root)
    unlock_with(qtbot, window, "13579", name="Maria")
    dialog = window.unlock_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.message.text() == "Wrong PIN." and dialog.pin_edit.text() == ""
    assert window.session.role is Role.OPERATOR
    assert shown_titles(window) == ["Live", "Results"]
    assert not window.show_page("Models")
    entry = window.session.audit.entries(limit=1)[0]
    assert (entry.action, entry.user, entry.detail) == (
        actions.UNLOCK_REFUSED, "Maria", {"reason": "wrong PIN"})
    for name in (AUDIT_FILE, ACCESS_FILE):  # no PIN, right or wrong, is written anywhere
        data = b"".join(p.read_bytes() for p in workspace.root.glob(f"{name}*"))
        assert b"13579" not in data and PIN.encode() not in data


def test_the_pin_field_is_masked_and_takes_digits_only(qtbot, window, workspace):
    make_station(workspace)
    open_and_wait(qtbot, window, workspace.root)
    press_ctrl_l(qtbot, window)
    dialog = window.unlock_dialog
    qtbot.keyClicks(dialog.pin_edit, "12ab34-5")
    assert dialog.pin_edit.text() == "12345"
    assert dialog.pin_edit.displayText() != "12345"
    dialog.pin_edit.setText("123")
    assert not dialog.unlock_button.isEnabled()  # shorter than a PIN can be


def test_the_right_pin_unlocks_every_page_and_is_audited_as_a_role_change(qtbot, window,
                                                                          workspace):
    make_station(workspace)
    open_and_wait(qtbot, window, workspace.root)
    with qtbot.waitSignal(window.session.role_changed, timeout=TIMEOUT):
        unlock_with(qtbot, window, PIN, name="Maria")
    assert window.session.role is Role.ENGINEER and window.session.user == "Maria"
    assert window.unlock_dialog is None or not window.unlock_dialog.isVisible()
    assert shown_titles(window) == ENGINEER_PAGES
    assert window.current_page_title() == "Live"  # unlocking keeps the page on screen
    assert all(a.isEnabled() for a in (window.new_action, window.open_action,
                                       window.undo_action, window.set_pin_action))
    assert window.role_button.text() == "Engineer mode · Maria"
    assert window.show_page("Models") and window.current_page_title() == "Models"
    entry = window.session.audit.entries(limit=1)[0]
    assert (entry.action, entry.user, entry.role) == (actions.ROLE, "Maria", "engineer")
    assert (entry.detail["previous"], entry.detail["new"], entry.detail["reason"]) == (
        "operator", "engineer", "PIN")
    assert window.settings.value("station/engineer_name") == "Maria"  # offered next time


def test_too_many_wrong_pins_pause_unlocking(qtbot, window, workspace):
    make_station(workspace, max_pin_attempts=2, lockout_seconds=60)
    open_and_wait(qtbot, window, workspace.root)
    unlock_with(qtbot, window, "1111")
    dialog = window.unlock_dialog
    qtbot.keyClicks(dialog.pin_edit, "2222")
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    assert "try again in 60 s" in dialog.message.text()
    assert not dialog.pin_edit.isEnabled() and not dialog.unlock_button.isEnabled()
    with pytest.raises(Exception, match="Too many wrong PINs"):
        window.session.unlock(PIN)  # even the right PIN waits
    assert window.session.role is Role.OPERATOR
    reasons = [e.detail["reason"] for e in window.session.audit.entries(
        action=actions.UNLOCK_REFUSED, newest_first=False)]
    assert reasons == ["wrong PIN", "wrong PIN", "attempts paused"]


def test_inactivity_locks_engineer_mode_and_input_keeps_it_open(qtbot, window, workspace):
    make_station(workspace, lock_after_minutes=0.006)  # 0.36 s
    open_and_wait(qtbot, window, workspace.root)
    assert window.session.unlock(PIN, "Maria")
    assert shown_titles(window) == ENGINEER_PAGES
    # someone keeps typing for twice the idle time: it stays unlocked
    ticks = []
    typing = QTimer()
    typing.setInterval(60)
    typing.timeout.connect(lambda: (ticks.append(1),
                                    qtbot.keyClick(window.statusBar(), Qt.Key.Key_Shift)))
    typing.start()
    qtbot.waitUntil(lambda: len(ticks) >= 12, timeout=TIMEOUT)
    typing.stop()
    assert window.session.role is Role.ENGINEER
    with qtbot.waitSignal(window.session.role_changed, timeout=TIMEOUT):
        pass  # then nobody touches it
    assert window.session.role is Role.OPERATOR
    assert shown_titles(window) == ["Live", "Results"]
    entry = window.session.audit.entries(limit=1)[0]
    assert entry.action == actions.ROLE and entry.user == "Maria"
    assert entry.detail["new"] == "operator" and entry.detail["reason"].startswith("no input")


def test_ctrl_l_locks_again_and_undo_new_open_are_refused(qtbot, window, workspace):
    make_station(workspace)
    open_and_wait(qtbot, window, workspace.root)
    assert window.session.unlock(PIN)
    window.opened.dataset.delete_class("short")
    press_ctrl_l(qtbot, window)
    assert window.session.role is Role.OPERATOR
    assert audit_actions(window)[-1] == actions.ROLE
    assert window.session.audit.entries(limit=1)[0].detail["reason"] == "locked by hand"
    window.activateWindow()
    for key in (Qt.Key.Key_Z, Qt.Key.Key_N, Qt.Key.Key_O):
        qtbot.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)
    window.undo_action.trigger()
    window.new_action.trigger()
    qtbot.waitUntil(lambda: not window.is_loading, timeout=TIMEOUT)
    assert not (window.opened.dataset.root / "short").exists()  # not undone
    assert window.workspace.root == workspace.root


def test_a_workstation_without_a_pin_stays_in_engineer_mode(qtbot, window, workspace,
                                                            dialogs):
    open_and_wait(qtbot, window, workspace.root)
    assert window.session.role is Role.ENGINEER and shown_titles(window) == ENGINEER_PAGES
    press_ctrl_l(qtbot, window)
    assert window.session.role is Role.ENGINEER  # nobody could unlock it again
    assert "no engineer PIN" in dialogs.messages("information")[-1]
    assert window.set_pin_action.text() == "Set engineer &PIN…"


def test_a_workspace_set_to_operator_without_a_pin_says_how_to_set_one(qtbot, window,
                                                                       workspace):
    workspace.config.station.start_role = "operator"
    workspace.save_config()
    open_and_wait(qtbot, window, workspace.root)
    assert window.session.role is Role.OPERATOR
    press_ctrl_l(qtbot, window)
    dialog = window.unlock_dialog
    qtbot.keyClicks(dialog.pin_edit, "1234")
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    assert "inspector station set-pin --workspace" in dialog.message.text()
    assert window.session.role is Role.OPERATOR


def test_setting_the_pin_from_the_station_menu(qtbot, window, workspace):
    open_and_wait(qtbot, window, workspace.root)
    window.set_pin_action.trigger()
    dialog = window.pin_dialog
    assert dialog is not None and dialog.current_edit.isHidden()
    qtbot.keyClicks(dialog.new_edit, "2468")
    qtbot.keyClicks(dialog.repeat_edit, "2469")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "differ" in dialog.message.text()
    assert not (workspace.root / ACCESS_FILE).exists()
    qtbot.keyClicks(dialog.new_edit, "2468")
    qtbot.keyClicks(dialog.repeat_edit, "2468")
    with qtbot.waitSignal(dialog.pin_set, timeout=TIMEOUT):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert AccessControl(workspace.root).verify("2468")
    entry = window.session.audit.entries(limit=1)[0]
    assert (entry.action, entry.detail) == (actions.PIN_SET, {"changed": False})
    assert b"2468" not in (workspace.root / AUDIT_FILE).read_bytes()
    assert window.set_pin_action.text() == "Change engineer &PIN…"
    # now it can be locked, and changing the PIN asks for the current one
    assert window.lock_now() and not window.set_pin_action.isEnabled()
    assert window.request_set_pin() is None  # refused in operator mode
    assert window.session.unlock("2468")
    dialog = window.request_set_pin()
    assert dialog is not None and not dialog.current_edit.isHidden()
    qtbot.keyClicks(dialog.current_edit, "1111")
    qtbot.keyClicks(dialog.new_edit, "3579")
    qtbot.keyClicks(dialog.repeat_edit, "3579")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "current PIN is wrong" in dialog.message.text()
    assert AccessControl(workspace.root).verify("2468")


def test_the_operator_name_is_shown_and_audited(qtbot, window, workspace, dialogs):
    make_station(workspace)
    open_and_wait(qtbot, window, workspace.root)
    dialogs.texts.append(("  Ana   Lima ", True))
    window.operator_action.trigger()
    assert window.session.operator_name == "Ana Lima" and window.session.user == "Ana Lima"
    assert window.role_button.text() == "Operator mode · Ana Lima"
    entry = window.session.audit.entries(limit=1)[0]
    assert (entry.action, entry.user, entry.detail) == (
        actions.USER, "Ana Lima", {"previous": "", "new": "Ana Lima"})
    assert window.session.unlock(PIN, "Maria")
    assert window.session.user == "Maria"
    window.lock_now()
    assert window.session.user == "Ana Lima"  # the operator is back


def test_active_model_changes_are_audited_but_not_the_model_found_on_opening(
        qtbot, window, workspace):
    models = window.page("Models")
    with qtbot.waitSignals([window.workspace_changed, models.refreshed], timeout=TIMEOUT):
        window.open_workspace(workspace.root)
    models.active_model_changed.emit(workspace.models_dir / "run-1")
    assert window.model_label.text() == "Model: run-1"
    models.active_model_changed.emit(workspace.models_dir / "run-2")
    entry = window.session.audit.entries(limit=1)[0]
    assert (entry.action, entry.detail) == (actions.ACTIVE_MODEL,
                                            {"model": "run-2", "previous": "run-1"})
    assert audit_actions(window).count(actions.ACTIVE_MODEL) == 1


def test_the_review_badge_counts_the_inbox(qtbot, window, workspace):
    inbox = ReviewInbox(workspace.root)
    for seed in range(3):
        inbox.add(np.full((16, 16, 3), seed * 40, np.uint8), operator="ana",
                  operator_label="short", model_label="ok", model_verdict="FAIL",
                  confidence=0.7, result_id=seed + 1)
    review = window.page("Review")
    with qtbot.waitSignal(review.count_changed, timeout=TIMEOUT):
        window.open_workspace(workspace.root)
    row = window.page_titles().index("Review")
    qtbot.waitUntil(lambda: window.nav.item(row).text() == "Review (3)", timeout=TIMEOUT)
    inbox.add(np.zeros((16, 16, 3), np.uint8), operator="ana", operator_label="short",
              model_label="ok", model_verdict="FAIL", confidence=0.7, result_id=9)
    # the page follows the inbox folder: the Live page adding an item updates the badge
    qtbot.waitUntil(lambda: window.nav.item(row).text() == "Review (4)", timeout=TIMEOUT)


def test_the_audit_log_page_shows_what_happened_at_the_station(qtbot, window, workspace):
    make_station(workspace)
    open_and_wait(qtbot, window, workspace.root)
    assert not window.show_page("Audit log")  # engineers only
    assert not window.session.unlock("0000")
    assert window.session.unlock(PIN, "Maria")
    # written straight to the log, as a worker or `inspector station` would
    window.session.audit.append("ana", "operator", actions.OVERRIDE, result=3, model="short",
                                operator_class="ok", verdict="FAIL", confidence=0.5)
    page = window.page("Audit log")
    with qtbot.waitSignals([page.refreshed, page.checked], timeout=TIMEOUT):
        assert window.show_page("Audit log")
    assert [e.action for e in page.model.entries] == [
        actions.OVERRIDE, actions.ROLE, actions.UNLOCK_REFUSED, actions.ROLE]
    assert page.chain_text == "Log intact: 4 entries"


def test_accepting_a_review_item_refreshes_the_datasets_page(qtbot, window, workspace):
    ReviewInbox(workspace.root).add(np.full((16, 16, 3), 90, np.uint8), operator="ana",
                                    operator_label="short", model_label="ok",
                                    model_verdict="FAIL", confidence=0.7, result_id=1)
    review, datasets = window.page("Review"), window.page("Datasets")
    with qtbot.waitSignals([review.refreshed, datasets.refreshed], timeout=TIMEOUT):
        window.open_workspace(workspace.root)
    assert window.show_page("Review")
    with qtbot.waitSignal(datasets.refreshed, timeout=TIMEOUT):
        assert review.accept_selected()
    assert datasets.model.rowCount() == 2 and len(window.opened.dataset.image_files("short")) == 5
    assert window.session.audit.entries(limit=1)[0].action == actions.INBOX_ACCEPT


def test_an_audit_log_that_cannot_be_written_is_shown_loudly(qtbot, window, workspace):
    open_and_wait(qtbot, window, workspace.root)
    window.session.audit.close()  # the disk went away, say
    with qtbot.waitSignal(window.session.audit_failed, timeout=TIMEOUT):
        assert window.session.record(actions.THRESHOLD, cls="short", old=0.5, new=0.6) is None
    assert window.audit_warning.isVisible()
    assert window.audit_warning.text() == "Audit log not written!"
    assert "closed" in window.audit_warning.toolTip()


def test_a_recorder_writes_as_who_made_it_to_the_log_it_was_made_for(qtbot, tmp_path):
    from inspector.core.station.audit import AuditLog
    from inspector.gui.session import StationSession

    session = StationSession()
    first = AuditLog.for_workspace(tmp_path / "a")
    session.attach(AccessControl(tmp_path / "a"), first, 0, Role.ENGINEER, tmp_path / "a")
    session.set_user("Ana")
    record = session.recorder()
    entry = record(actions.INBOX_DISCARD, item="x")
    assert (entry.user, entry.role) == ("engineer", "engineer")
    assert first.entries(limit=1)[0].action == actions.INBOX_DISCARD
    session.detach()  # no workspace: nothing to protect, nothing to record
    assert first.closed and session.audit is None and session.is_engineer
    assert session.record(actions.ROLE) is None
    session.close()


def test_a_closed_window_stops_filtering_the_application_s_input(qtbot, window):
    assert window._watching  # shown: input anywhere keeps engineer mode open
    window.close()
    assert not window._watching  # closed: it no longer sees (or taxes) every event
    window.show()
    assert window._watching
