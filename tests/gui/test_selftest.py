"""The self-test's desktop check builds and paints the main window without touching settings."""

from __future__ import annotations

from inspector.core.paths import user_config_dir
from inspector.gui.selftest import check_gui


def test_the_main_window_builds_and_paints_offscreen(qapp):
    before = sorted(user_config_dir().rglob("*")) if user_config_dir().exists() else []
    detail = check_gui()
    assert "main window 1280x800" in detail
    assert "Live" in detail and "Results" in detail
    after = sorted(user_config_dir().rglob("*")) if user_config_dir().exists() else []
    assert after == before  # a throw-away settings file: the user's layout is untouched
