"""The desktop part of the self-test: Qt starts, the main window builds and paints.

In a packaged bundle this is where a missing Qt plugin or a module PyInstaller did not see
would show. Without a display it uses Qt's offscreen platform; nothing is written to the
user's settings (a throw-away settings file) and no workspace is opened.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def check_gui() -> str:
    from inspector.cli.gui_cmd import has_display

    if not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings

    from inspector.gui.app import build_main_window, close_without_quitting, make_application

    app = make_application()
    with tempfile.TemporaryDirectory(prefix="inspector-self-test-gui-") as tmp:
        settings = QSettings(str(Path(tmp) / "gui.ini"), QSettings.Format.IniFormat)
        window = build_main_window(settings)
        try:
            window.resize(1280, 800)
            image = window.grab().toImage()
            if image.isNull() or image.width() < 100:
                raise RuntimeError("the main window did not paint")
            pages = window.page_titles()
        finally:
            close_without_quitting(window)
            window.deleteLater()
            app.processEvents()
    return (f"Qt {app.platformName()} platform, main window {image.width()}x{image.height()}, "
            f"pages: {', '.join(pages)}")
