from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from inspector.gui.widgets.confusion_matrix import FRACTION_ROLE, ConfusionMatrixView, blues

CLASSES = ["ok", "short", "spur"]
COUNTS = np.array([[8, 2, 0], [1, 3, 0], [0, 0, 0]])


def _view(qtbot):
    view = ConfusionMatrixView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    view.set_matrix(COUNTS, CLASSES)
    return view


def test_counts_names_and_row_normalised_colours(qtbot):
    view = _view(qtbot)
    model = view.matrix
    assert [model.headerData(i, Qt.Orientation.Horizontal) for i in range(3)] == CLASSES
    assert [model.headerData(i, Qt.Orientation.Vertical) for i in range(3)] == CLASSES
    assert model.index(0, 1).data() == "2"
    assert model.index(0, 1).data(FRACTION_ROLE) == 0.2
    assert model.index(1, 1).data(FRACTION_ROLE) == 0.75
    assert model.index(2, 2).data(FRACTION_ROLE) == 0.0  # an empty row is not a division by 0
    # darker for a larger share of the row
    assert (model.index(1, 1).data(Qt.ItemDataRole.BackgroundRole).lightness()
            < model.index(0, 1).data(Qt.ItemDataRole.BackgroundRole).lightness())
    assert blues(0.0).name() == "#f7fbff" and blues(1.0).name() == "#08306b"
    assert view.total() == 14


def test_click_and_keyboard_activate_cells(qtbot):
    view = _view(qtbot)
    with qtbot.waitSignal(view.cell_activated, timeout=1000) as clicked:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visual_center(1, 0))
    assert clicked.args == [1, 0]
    view.setFocus()
    view.setCurrentIndex(view.matrix.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    with qtbot.waitSignal(view.cell_activated, timeout=1000) as entered:
        qtbot.keyClick(view, Qt.Key.Key_Enter)
    assert entered.args == [1, 2]
