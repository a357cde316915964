from __future__ import annotations

from PySide6.QtGui import QColor

from inspector.gui.widgets.count_chart import CountChart, nice_step
from inspector.gui.widgets.split_bar import SPLIT_COLORS


def test_bars_are_painted_in_the_split_colours_with_one_row_per_class(qtbot):
    chart = CountChart()
    qtbot.addWidget(chart)
    chart.resize(400, 240)
    chart.set_counts(["ok", "short"], {"train": [10, 0], "val": [0, 6]})
    assert chart.totals == [10, 6]
    image = chart.grab().toImage()
    plot, row, _ = chart._layout()
    first_y = int(plot.top() + row * 0.5)
    second_y = int(plot.top() + row * 1.5)
    x = int(plot.left() + 5)
    assert image.pixelColor(x, first_y) == QColor(SPLIT_COLORS["train"])
    assert image.pixelColor(x, second_y) == QColor(SPLIT_COLORS["val"])
    assert chart.row_at(first_y) == 0 and chart.row_at(second_y) == 1
    assert chart.row_at(plot.bottom() + 2) is None
    assert chart.tooltip_for(1) == "short: 6 images (val 6)"


def test_an_empty_dataset_says_so_instead_of_drawing_axes(qtbot):
    chart = CountChart()
    qtbot.addWidget(chart)
    chart.resize(300, 200)
    chart.set_counts(["ok"], {"train": [0]})
    assert chart.totals == [0]
    image = chart.grab().toImage()
    train = QColor(SPLIT_COLORS["train"])
    assert not any(image.pixelColor(x, y) == train
                   for x in range(0, 300, 3) for y in range(0, 200, 3))


def test_axis_steps_are_round_numbers():
    assert [nice_step(v) for v in (0, 0.4, 3, 7, 12, 180, 4000)] == [1, 1, 5, 10, 20, 200, 5000]
