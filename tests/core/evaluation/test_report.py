"""Evaluation reports: the JSON, the confusion-matrix PNG, mistakes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inspector.core.evaluation.metrics import compute_metrics
from inspector.core.evaluation.report import (
    MAX_MISTAKES,
    EvaluationReport,
    render_confusion_png,
    top_mistakes,
    write_report,
)

CLASSES = ["ok", "short", "open", "spur", "spurious_copper", "mouse_bite", "missing_hole",
           "pin_hole"]


def _metrics(n_classes: int = 8, n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    classes = CLASSES if n_classes == 8 else [f"class_{i}" for i in range(n_classes)]
    y_true = rng.integers(0, n_classes, n)
    y_pred = np.where(rng.random(n) < 0.8, y_true, rng.integers(0, n_classes, n))
    return compute_metrics(y_true, y_pred, classes)


def _report(**changes) -> EvaluationReport:
    fields = {"split": "test", "metrics": _metrics(), "ece": 0.08, "ece_calibrated": 0.02,
              "temperature": 1.7, "n_images": 400, "model": "resnet50_cbam-v3",
              "dataset": "main", "created": "2025-01-02T03:04:05+00:00",
              "mistakes": [{"path": "test/short/a.png", "true": "short", "predicted": "ok",
                            "confidence": 0.7},
                           {"path": Path("test/open/b.png"), "true": "open",
                            "predicted": "spur", "confidence": np.float32(0.95)}]}
    fields.update(changes)
    return EvaluationReport(**fields)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


@pytest.mark.parametrize(("n_classes", "low", "high"), [(2, 400, 1000), (8, 600, 1300),
                                                        (20, 1100, 1900)])
def test_confusion_png_is_a_png_of_a_sensible_size(n_classes, low, high):
    m = _metrics(n_classes)
    width, height = _png_size(render_confusion_png(m.confusion, m.classes, title="a title"))
    assert low <= width <= high
    assert low <= height <= high


def _pixels(confusion: list[list[int]]) -> np.ndarray:
    data = render_confusion_png(np.array(confusion), ["a", "b"])
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB")).astype(int)


def test_confusion_png_colours_by_row_fraction():
    """Rows with the same fractions give the same colours whatever their totals: only the
    numbers written in the cells differ. Other fractions change whole cells."""
    base = _pixels([[900, 100], [9, 1]])
    same_fractions = _pixels([[900, 100], [90, 10]])
    other_fractions = _pixels([[900, 100], [1, 9]])
    assert base.shape == same_fractions.shape == other_fractions.shape

    def changed(other: np.ndarray) -> float:
        return float((np.abs(base - other).sum(axis=2) > 30).mean())

    assert changed(same_fractions) < 0.01  # a few digits
    assert changed(other_fractions) > 0.05  # two cells change colour


def test_confusion_png_refuses_a_mismatch():
    with pytest.raises(ValueError, match="shape"):
        render_confusion_png(np.zeros((3, 3), int), ["a", "b"])
    with pytest.raises(ValueError, match="shape"):
        render_confusion_png(np.zeros((0, 0), int), [])


def test_rendering_loads_no_gui_backend():
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from inspector.core.evaluation.report import render_confusion_png\n"
        "assert 'matplotlib' not in sys.modules\n"
        "render_confusion_png(np.eye(3, dtype=int), ['a', 'b', 'c'])\n"
        "loaded = [m for m in ('matplotlib.pyplot', 'PySide6', 'PyQt5', 'PyQt6', 'tkinter')\n"
        "          if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def test_write_report_writes_json_and_png(tmp_path):
    report = _report()
    json_path, png_path = write_report(report, tmp_path / "reports" / "v3")
    assert json_path == tmp_path / "reports" / "v3" / "evaluation.json"
    assert png_path == tmp_path / "reports" / "v3" / "evaluation-confusion.png"
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["split"] == "test" and data["model"] == "resnet50_cbam-v3"
    assert data["temperature"] == pytest.approx(1.7)
    assert data["metrics"]["classes"] == CLASSES
    per_class = {c["name"]: c for c in data["metrics"]["per_class"]}
    assert set(per_class) == set(CLASSES)
    for row in per_class.values():
        assert {"precision", "recall", "f1", "support"} <= set(row)
        assert 0.0 <= row["f1"] <= 1.0
    assert sum(row["support"] for row in per_class.values()) == 400
    assert data["mistakes"][0]["path"] == "test/open/b.png"  # most confident first
    assert data["mistakes"][0]["confidence"] == pytest.approx(0.95)
    assert _png_size(png_path.read_bytes())[0] > 400
    assert sorted(p.name for p in json_path.parent.iterdir()) == [
        "evaluation-confusion.png", "evaluation.json"]  # no temporary files left


def test_write_report_with_a_stem_and_refuses_a_path_as_stem(tmp_path):
    json_path, png_path = write_report(_report(), tmp_path, stem="test-v3")
    assert json_path.name == "test-v3.json" and png_path.name == "test-v3-confusion.png"
    with pytest.raises(ValueError, match="stem"):
        write_report(_report(), tmp_path, stem="../escape")


def test_report_round_trips_through_json():
    report = _report()
    back = EvaluationReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert back.to_dict() == report.to_dict()
    assert back.metrics.per_class == report.metrics.per_class


def test_nan_numbers_become_null():
    data = json.loads(json.dumps(_report(ece_calibrated=float("nan")).to_dict(),
                                 allow_nan=False))
    assert data["ece_calibrated"] is None


def test_created_defaults_to_now_in_iso_format():
    from datetime import datetime

    report = EvaluationReport(split="val", metrics=_metrics(), ece=0.1, ece_calibrated=0.05,
                              temperature=1.2, n_images=400, model="m", dataset="d")
    assert datetime.fromisoformat(report.created).tzinfo is not None
    assert report.mistakes == []


def test_mistakes_are_sorted_and_capped():
    rng = np.random.default_rng(0)
    mistakes = [{"path": f"{i}.png", "true": "ok", "predicted": "short",
                 "confidence": float(c)} for i, c in enumerate(rng.random(250))]
    report = _report(mistakes=mistakes)
    assert len(report.mistakes) == MAX_MISTAKES
    confidences = [m["confidence"] for m in report.mistakes]
    assert confidences == sorted(confidences, reverse=True)
    assert confidences[0] == max(m["confidence"] for m in mistakes)


def test_top_mistakes():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55]])
    y_true = [0, 0, 1, 1, 0]
    paths = [f"img{i}.png" for i in range(5)]
    mistakes = top_mistakes(paths, y_true, probs, ["ok", "short"])
    assert [m["path"] for m in mistakes] == ["img1.png", "img2.png", "img4.png"]
    assert mistakes[0] == {"path": "img1.png", "true": "ok", "predicted": "short",
                           "confidence": pytest.approx(0.8)}
    assert len(top_mistakes(paths, y_true, probs, ["ok", "short"], limit=2)) == 2
    assert top_mistakes([], [], np.zeros((0, 2)), ["ok", "short"]) == []
    with pytest.raises(ValueError, match="match"):
        top_mistakes(paths[:2], y_true, probs, ["ok", "short"])
