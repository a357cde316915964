from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from inspector.gui.widgets.gallery import GalleryItem, GalleryMode, GalleryView


def _items(n):
    rng = np.random.default_rng(0)
    return [GalleryItem(Path(f"/data/ok/{i}.png"), f"image {i}",
                        rng.integers(0, 255, (40, 30, 3), dtype=np.uint8),
                        np.zeros((40, 30, 3), np.uint8)) for i in range(n)]


def _view(qtbot, n=6):
    view = GalleryView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    view.set_items(_items(n))
    return view


def test_items_show_image_and_overlay_side_by_side_or_alone(qtbot):
    view = _view(qtbot)
    model = view.gallery
    assert model.rowCount() == 6
    assert model.index(2).data() == "image 2"
    wide = model.index(0).data(Qt.ItemDataRole.DecorationRole)
    view.set_mode(GalleryMode.OVERLAY)
    alone = model.index(0).data(Qt.ItemDataRole.DecorationRole)
    # two pictures side by side: twice the single picture's aspect ratio (and a gap)
    assert wide.width() / wide.height() > 1.9 * alone.width() / alone.height()
    assert alone.toImage().pixelColor(5, 5).name() == "#000000"  # the (black) overlay
    view.set_mode(GalleryMode.IMAGE)
    assert model.index(0).data(Qt.ItemDataRole.DecorationRole).toImage().pixelColor(
        5, 5).name() != "#000000"


def test_keyboard_moves_and_digits_are_reported(qtbot):
    view = _view(qtbot)
    view.setFocus()
    assert view.current_row() == 0
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.current_row() == 1
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert view.current_row() == 5
    with qtbot.waitSignal(view.digit_pressed, timeout=1000) as pressed:
        qtbot.keyClick(view, Qt.Key.Key_3)
    assert pressed.args == [3]
    removed = view.remove_row(5)
    assert removed.caption == "image 5" and view.current_row() == 4
