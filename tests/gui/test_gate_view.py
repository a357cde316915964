"""The gate view: verdict, per-class differences, confusion difference, changed images and
their Grad-CAM maps, from a GateReport (plain data: no model is needed here)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from inspector.core.evaluation.compare import ChangedImage, ClassComparison, GateReport
from inspector.gui.widgets.gate_view import (
    AMBER,
    GREEN,
    GREEN_BG,
    RED,
    RED_BG,
    GateView,
    delta_colours,
    signed,
)

CLASSES = ["missing_hole", "ok", "short", "spur"]
RECALL, DELTA_RECALL, PRECISION, DELTA_PRECISION, NOTE = 2, 3, 4, 5, 6
BACKGROUND = Qt.ItemDataRole.BackgroundRole


@pytest.fixture
def images(tmp_path):
    paths = []
    for i, colour in enumerate(((200, 30, 30), (30, 200, 30), (30, 30, 200))):
        path = tmp_path / f"img-{i}.png"
        Image.fromarray(np.full((40, 60, 3), colour, np.uint8)).save(path)
        paths.append(str(path))
    return paths


def refused_report(images, n_changed=None):
    comparisons = [
        ClassComparison("missing_hole", 5, 0.8, 1.0, 0.8, 0.9),  # precision better
        ClassComparison("ok", 6, 0.5, 0.75, 0.9, 0.75, worse=True),  # recall far worse
        ClassComparison("short", 5, 0.79, 0.8, 0.8, 0.8),  # a drop within the margin
        ClassComparison("spur", 3, 0.667, 1.0, None, None, note="new class"),
    ]
    candidate = [[4, 1, 0, 0], [2, 3, 1, 0], [0, 1, 4, 0], [0, 1, 0, 2]]
    baseline = [[4, 1, 0, 0], [0, 5, 1, 0], [0, 1, 4, 0], [0, 0, 0, 0]]
    changed = [
        ChangedImage(images[0], "ok", "test", "ok", "PASS", 0.91, "missing_hole", "FAIL", 0.6),
        ChangedImage(images[1], "spur", "inbox", "ok", "PASS", 0.7, "spur", "FAIL", 0.8),
        ChangedImage(images[2], "short", "test", "short", "FAIL", 0.55, "short", "REVIEW",
                     0.45),
    ]
    return GateReport("v3", "v1", CLASSES, 0.02, 19, 1, comparisons, candidate, baseline,
                      changed, n_changed or len(changed), 0.684, 0.789,
                      ["ok: recall 0.900 → 0.500 (margin 0.020)"],
                      ["The candidate's spur has only 3 images"])


@pytest.fixture
def view(qtbot):
    view = GateView()
    qtbot.addWidget(view)
    view.resize(1100, 600)
    view.show()
    return view


def _cell(view, name, column):
    row = [view.class_table.item(r, 0).text() for r in range(view.class_table.rowCount())]
    return view.class_table.item(row.index(name), column)


def test_helpers_sign_and_colour_the_differences():
    assert (signed(0.25), signed(-0.6667), signed(0.0)) == ("+0.250", "−0.667", "±0")
    assert delta_colours(-0.4, 0.02) == (RED, RED_BG)
    assert delta_colours(-0.01, 0.02)[0] == AMBER  # worse, but within the margin
    assert delta_colours(0.1, 0.02) == (GREEN, GREEN_BG)
    assert delta_colours(0.0, 0.02) is None and delta_colours(None, 0.02) is None


def test_a_refused_report_gives_the_reasons_and_colours_each_class(view, images):
    view.set_report(refused_report(images))
    assert view.stack.currentIndex() == 1 and view.refused
    assert view.verdict_text() == "✗  Refused: ok: recall 0.900 → 0.500 (margin 0.020)"
    summary = view.summary.text()
    assert "<b>v3</b> compared with the active <b>v1</b>" in summary
    assert "19 test images + 1 operator correction" in summary
    assert "accuracy 0.789 → <b>0.684</b>" in summary
    assert not view.warnings.isHidden() and "only 3 images" in view.warnings.text()

    ok_delta = _cell(view, "ok", DELTA_RECALL)
    assert ok_delta.text() == "−0.400"
    assert ok_delta.foreground().color() == RED and ok_delta.background().color() == RED_BG
    assert _cell(view, "ok", 0).foreground().color() == RED and _cell(view, "ok", 0).font().bold()
    assert _cell(view, "ok", RECALL).text() == "0.900 → 0.500"
    assert _cell(view, "ok", NOTE).text() == "worse: refused"
    better = _cell(view, "missing_hole", DELTA_PRECISION)
    assert better.text() == "+0.100" and better.foreground().color() == GREEN
    assert _cell(view, "missing_hole", DELTA_RECALL).text() == "±0"
    assert _cell(view, "short", DELTA_RECALL).foreground().color() == AMBER
    assert _cell(view, "short", 0).foreground().color() != RED  # not refused for it
    assert _cell(view, "spur", RECALL).text() == "0.667"
    assert _cell(view, "spur", DELTA_RECALL).text() == ""
    assert _cell(view, "spur", NOTE).text() == "new class"


def test_a_passing_report_says_so(view, images):
    report = refused_report(images)
    report.reasons = []
    view.set_report(report)
    assert view.verdict_text() == "✓  Passes the gate" and not view.refused
    first = GateReport("v1", None, CLASSES[:3], 0.02, 6, 0,
                       [ClassComparison(c, 2, 0.5, 0.5, None, None) for c in CLASSES[:3]],
                       [[1, 1, 0]] * 3, [[0, 0, 0]] * 3, candidate_accuracy=0.333)
    view.set_report(first)
    assert view.verdict_text() == ("✓  Passes the gate (there is no active version to compare "
                                   "it with)")
    assert "no active model" in view.changed_title.text()
    assert view.changed_table.rowCount() == 0
    assert view.matrix.value(0, 0) == 0  # nothing to subtract


def test_the_confusion_difference_is_signed_and_coloured_by_what_it_means(view, images):
    view.set_report(refused_report(images))
    matrix = view.matrix
    ok, hole, spur = CLASSES.index("ok"), CLASSES.index("missing_hole"), CLASSES.index("spur")
    assert matrix.value(ok, ok) == -2 and matrix.value(ok, hole) == 2
    assert matrix.value(spur, spur) == 2
    model = matrix.difference
    assert model.index(ok, ok).data() == "−2" and model.index(ok, hole).data() == "+2"
    assert model.index(0, 0).data() == "0"
    # fewer on the diagonal and more off it are bad (red); more on the diagonal is good
    assert not model.good(ok, ok) and not model.good(ok, hole) and model.good(spur, spur)
    bad = model.index(ok, ok).data(BACKGROUND)
    good = model.index(spur, spur).data(BACKGROUND)
    assert bad.red() > bad.green() and good.green() > good.red()
    assert model.index(0, 0).data(BACKGROUND) is None
    tip = model.index(ok, ok).data(Qt.ItemDataRole.ToolTipRole)
    assert "2 fewer ok images correctly classified" in tip


def test_changed_images_show_both_answers_and_ask_for_their_maps_once(qtbot, view, images):
    report = refused_report(images)
    requested = []
    view.cam_requested.connect(requested.append)
    view.set_report(report)
    assert "3 images changed verdict" in view.changed_title.text()
    table = view.changed_table
    assert [table.item(r, 4).text() for r in range(3)] == ["broken", "fixed", "verdict"]
    assert table.item(0, 4).foreground().color() == RED
    assert table.item(1, 4).foreground().color() == GREEN
    assert table.item(1, 0).text() == "img-1.png (inbox)"
    assert table.item(0, 2).text() == "ok · PASS 91%"
    assert table.item(0, 3).text() == "missing_hole · FAIL 60%"
    # the first image is selected and shown at once; its maps are asked for
    assert requested == [report.changed[0]]
    panel = view.cam_panel
    assert panel.image_view.image_size is not None and not panel.has_maps
    assert "computing" in panel.image_caption.text()
    assert "Active <b>v1</b>: ok · PASS 91%" in panel.baseline_caption.text()

    image = np.zeros((64, 96, 3), np.uint8)
    base = np.full((64, 96, 3), 100, np.uint8)
    cand = np.full((64, 96, 3), 200, np.uint8)
    with qtbot.waitSignal(view.cam_shown, timeout=1000) as shown:
        view.set_cam(images[0], image, base, cand)
    assert shown.args == [images[0]]
    assert panel.has_maps and panel.candidate_view.image_size.width() == 96
    view.select_changed(1)
    assert requested[-1] is report.changed[1] and not panel.has_maps
    view.set_cam(images[0], image, base, cand)  # a late answer for another image: kept only
    assert not panel.has_maps
    view.select_changed(0)
    assert len(requested) == 2 and panel.has_maps  # cached: not asked again
    # the same comparison again (a refresh) keeps the maps; another one drops them
    view.set_report(refused_report(images))
    assert view.has_cam(images[0]) and len(requested) == 2
    other = refused_report(images)
    other.candidate = "v2"
    view.set_report(other)
    assert not view.has_cam(images[0]) and requested[-1].path == images[0]


def test_a_map_that_cannot_be_made_says_why_and_is_not_asked_again(view, images):
    requested = []
    view.cam_requested.connect(requested.append)
    view.set_report(refused_report(images))
    view.set_cam_failed(images[0], "img-0.png cannot be read any more: no Grad-CAM map.")
    assert "cannot be read" in view.cam_panel.image_caption.text()
    view.select_changed(1)
    view.select_changed(0)
    assert [c.path for c in requested] == [images[0], images[1]]
    assert "cannot be read" in view.cam_panel.image_caption.text()


def test_a_long_list_says_how_many_are_shown_and_no_report_shows_the_placeholder(view, images):
    view.set_report(refused_report(images, n_changed=250))
    assert "250 images changed verdict</b> (the first 3 shown)" in view.changed_title.text()
    view.set_placeholder("Compare v2 with the active version v1 to see…")
    view.set_report(None)
    assert view.stack.currentIndex() == 0
    assert view.placeholder.text().startswith("Compare v2")
    assert view.changed_table.rowCount() == 0
