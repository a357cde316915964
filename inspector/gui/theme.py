"""Light and dark themes for the Fusion style, chosen in View > Theme and kept between runs.

"system" leaves Qt's own palette (which follows the desktop's colour scheme where the platform
reports one); "light" and "dark" set an explicit palette so a station looks the same on any
desktop. Widgets that paint their own colours read them from the palette, never hard-code them.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")

_DARK = {
    QPalette.ColorRole.Window: "#2b2d30",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1e1f22",
    QPalette.ColorRole.AlternateBase: "#2b2d30",
    QPalette.ColorRole.ToolTipBase: "#3c3f41",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.PlaceholderText: "#8c8c8c",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#3c3f41",
    # image letterboxes and frames use Dark / Mid: the light defaults showed grey bands
    QPalette.ColorRole.Dark: "#18191b",
    QPalette.ColorRole.Mid: "#4a4d50",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Link: "#6ea8fe",
    QPalette.ColorRole.Highlight: "#2f65ca",
    QPalette.ColorRole.HighlightedText: "#ffffff",
}
_DARK_DISABLED = "#7a7a7a"

_saved: dict[str, QPalette] = {}  # the palette Qt gave the application, for "system"


def apply_theme(name: str, app: QApplication | None = None) -> str:
    """Apply a theme to the application; an unknown name falls back to "system"."""
    app = app or QApplication.instance()  # type: ignore[assignment]
    if not isinstance(app, QApplication):
        return "system"
    _saved.setdefault("system", QPalette(app.palette()))
    name = name if name in THEMES else "system"
    if name == "dark":
        palette = QPalette()
        for role, colour in _DARK.items():
            palette.setColor(role, QColor(colour))
        for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                     QPalette.ColorRole.WindowText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(_DARK_DISABLED))
    elif name == "light":
        palette = app.style().standardPalette()
    else:
        palette = QPalette(_saved["system"])
    app.setPalette(palette)
    # Style sheets resolve palette(...) colours when a widget is polished: re-apply them, or
    # hints styled with palette(placeholder-text) keep the old theme's grey.
    for widget in app.allWidgets():
        sheet = widget.styleSheet()
        if "palette(" in sheet:
            widget.setStyleSheet(sheet)
    return name


def is_dark(app: QGuiApplication | None = None) -> bool:
    """Whether the current palette is dark (for widgets that choose colours to contrast with it)."""
    app = app or QGuiApplication.instance()  # type: ignore[assignment]
    if app is None:
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128
