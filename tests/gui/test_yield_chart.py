"""The yield chart: stacked verdict bars per bucket with the yield line."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor, QImage

from inspector.gui.widgets.yield_chart import VERDICT_COLORS, YieldChart


def colours_in(image: QImage) -> set[str]:
    step = 2
    return {image.pixelColor(x, y).name() for x in range(0, image.width(), step)
            for y in range(0, image.height(), step)}


def test_buckets_totals_yields_and_tooltips(qtbot):
    chart = YieldChart()
    qtbot.addWidget(chart)
    chart.set_buckets(["06:00", "07:00", "08:00"], [90, 0, 45], [5, 0, 3], [5, 0, 2],
                      ["Mon 06:00–07:00", "Mon 07:00–08:00", "Mon 08:00–08:30"])
    assert chart.totals == [100, 0, 50]
    assert chart.yields == [90.0, None, 90.0]
    assert chart.tooltip_for(0) == ("Mon 06:00–07:00: 100 inspected · 90 pass · 5 fail · "
                                    "5 review · yield 90.0 %")
    assert chart.tooltip_for(1) == "Mon 07:00–08:00: no results"
    with pytest.raises(ValueError):
        chart.set_buckets(["a"], [1, 2], [0], [0])


def test_it_paints_the_verdict_colours_and_an_empty_message(qtbot):
    chart = YieldChart()
    qtbot.addWidget(chart)
    chart.resize(480, 220)
    chart.set_buckets([f"{h:02d}:00" for h in range(24)], [50] * 24, [10] * 24, [10] * 24)
    colours = colours_in(chart.grab().toImage())
    for verdict in ("PASS", "FAIL", "REVIEW"):
        assert QColor(VERDICT_COLORS[verdict]).name() in colours, verdict
    assert chart.bar_at(chart.width() / 2) in range(10, 14)
    assert chart.bar_at(0) is None
    chart.clear("Nothing here")
    assert chart.totals == [] and chart.bar_at(200) is None
    empty = colours_in(chart.grab().toImage())
    assert QColor(VERDICT_COLORS["PASS"]).name() not in empty


def test_a_week_of_hours_paints_without_overlapping_labels(qtbot):
    chart = YieldChart()
    qtbot.addWidget(chart)
    chart.resize(600, 200)
    n = 7 * 24
    chart.set_buckets([f"Mon {h % 24:02d}h" for h in range(n)], [i % 40 for i in range(n)],
                      [1] * n, [0] * n)
    image = chart.grab().toImage()
    assert not image.isNull()
    chart.event(_help_event(chart, QPoint(chart.width() // 2, 100)))  # a tooltip, no error


def _help_event(widget, pos):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent

    return QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos))
