"""Classification metrics: checked against hand-computed numbers and plain definitions."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from inspector.core.evaluation.metrics import (
    Metrics,
    compute_metrics,
    confusion_matrix,
    macro_f1,
)

CLASSES = ["c0", "c1", "c2"]
# Support 3, 2, 5. Confusion [true, predicted]:
#   c0: [2, 1, 0]   c1: [0, 1, 1]   c2: [1, 1, 3]   (predicted totals 3, 3, 4)
Y_TRUE = [0, 0, 0, 1, 1, 2, 2, 2, 2, 2]
Y_PRED = [0, 1, 0, 1, 2, 2, 2, 0, 2, 1]


def _reference(y_true, y_pred, n):
    """Per-class precision, recall, F1 by counting, as scikit-learn defines them with
    zero_division=0, and its macro-F1 over the labels seen in y_true or y_pred."""
    out = []
    for c in range(n):
        tp = sum(t == c and p == c for t, p in zip(y_true, y_pred, strict=True))
        fp = sum(t != c and p == c for t, p in zip(y_true, y_pred, strict=True))
        fn = sum(t == c and p != c for t, p in zip(y_true, y_pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.append((precision, recall, f1))
    seen = sorted(set(y_true) | set(y_pred))
    macro = sum(out[c][2] for c in seen) / len(seen) if seen else 0.0
    return out, macro


def test_hand_computed_three_class_example():
    m = compute_metrics(Y_TRUE, Y_PRED, CLASSES)
    np.testing.assert_array_equal(m.confusion, [[2, 1, 0], [0, 1, 1], [1, 1, 3]])
    assert m.confusion.dtype == np.int64
    assert m.accuracy == pytest.approx(6 / 10)
    expected = [  # precision, recall, f1, support
        (2 / 3, 2 / 3, 2 / 3, 3),
        (1 / 3, 1 / 2, 2 / 5, 2),  # 2 * 1/3 * 1/2 / (1/3 + 1/2) = 2/5
        (3 / 4, 3 / 5, 2 / 3, 5),  # 2 * 3/4 * 3/5 / (3/4 + 3/5) = 2/3
    ]
    for cm, (precision, recall, f1, support), name in zip(m.per_class, expected, CLASSES,
                                                          strict=True):
        assert cm.name == name
        assert cm.precision == pytest.approx(precision)
        assert cm.recall == pytest.approx(recall)
        assert cm.f1 == pytest.approx(f1)
        assert cm.support == support
    assert m.macro_f1 == pytest.approx(26 / 45)  # (2/3 + 2/5 + 2/3) / 3
    assert macro_f1(Y_TRUE, Y_PRED, 3) == pytest.approx(26 / 45)
    assert m.top_confusions == [("c0", "c1", 1), ("c1", "c2", 1), ("c2", "c0", 1),
                                ("c2", "c1", 1)]


@pytest.mark.parametrize("seed", range(5))
def test_random_labels_agree_with_the_counting_definitions(seed):
    rng = np.random.default_rng(seed)
    n = 6
    y_true = rng.integers(0, n - 1, 300).tolist()  # class 5 never true...
    y_pred = [t if rng.random() < 0.6 else int(rng.integers(0, n - 2)) for t in y_true]
    # ...and, with class 4 never predicted and rarely true, both edge cases occur.
    m = compute_metrics(y_true, y_pred, [f"k{i}" for i in range(n)])
    reference, macro = _reference(y_true, y_pred, n)
    for cm, (precision, recall, f1) in zip(m.per_class, reference, strict=True):
        assert cm.precision == pytest.approx(precision)
        assert cm.recall == pytest.approx(recall)
        assert cm.f1 == pytest.approx(f1)
    assert m.macro_f1 == pytest.approx(macro)
    assert macro_f1(np.array(y_true), np.array(y_pred), n) == pytest.approx(macro)
    assert m.accuracy == pytest.approx(np.mean(np.array(y_true) == np.array(y_pred)))


def test_perfect_predictions():
    y = [0, 1, 2, 2, 1, 0, 0]
    m = compute_metrics(y, y, CLASSES)
    assert m.accuracy == 1.0
    assert m.macro_f1 == 1.0
    assert all(c.precision == c.recall == c.f1 == 1.0 for c in m.per_class)
    assert m.top_confusions == []
    np.testing.assert_array_equal(m.confusion, np.diag([3, 2, 2]))


def test_all_wrong():
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [1, 2, 2, 0, 0, 1]
    m = compute_metrics(y_true, y_pred, CLASSES)
    assert m.accuracy == 0.0
    assert m.macro_f1 == 0.0
    assert all(c.precision == c.recall == c.f1 == 0.0 for c in m.per_class)
    assert sum(n for _, _, n in m.top_confusions) == 6


def test_a_class_absent_from_truth_and_prediction_is_left_out_of_the_mean():
    y_true = [0, 0, 1, 1]
    y_pred = [0, 0, 1, 0]
    # c0: P 2/3, R 1, F1 0.8; c1: P 1, R 1/2, F1 2/3; c2 absent from both.
    m = compute_metrics(y_true, y_pred, CLASSES)
    assert m.macro_f1 == pytest.approx((0.8 + 2 / 3) / 2)
    assert macro_f1(y_true, y_pred, 3) == pytest.approx((0.8 + 2 / 3) / 2)
    absent = m.per_class[2]
    assert (absent.precision, absent.recall, absent.f1, absent.support) == (0.0, 0.0, 0.0, 0)


def test_a_class_in_the_data_but_never_predicted_counts_with_f1_zero():
    y_true = [0, 0, 1, 2]
    y_pred = [0, 0, 0, 2]
    m = compute_metrics(y_true, y_pred, CLASSES)
    assert m.per_class[1].precision == 0.0  # never predicted
    assert m.per_class[1].recall == 0.0
    assert m.macro_f1 == pytest.approx((0.8 + 0.0 + 1.0) / 3)


def test_a_class_predicted_but_never_true_counts_too():
    y_true = [0, 0, 1, 1]
    y_pred = [0, 2, 1, 1]
    m = compute_metrics(y_true, y_pred, CLASSES)
    assert m.per_class[2].support == 0
    assert m.per_class[2].precision == 0.0
    # c0: P 1, R 1/2, F1 2/3; c1: F1 1; c2: F1 0.
    assert m.macro_f1 == pytest.approx((2 / 3 + 1 + 0) / 3)


def test_top_confusions_most_frequent_first_and_at_most_ten():
    n = 6
    y_true, y_pred = [], []
    count = 1
    for t in range(n):
        for p in range(n):
            if t != p:
                y_true += [t] * count
                y_pred += [p] * count
                count += 1  # every off-diagonal pair has its own count, 1..30
    m = compute_metrics(y_true, y_pred, [f"k{i}" for i in range(n)])
    counts = [c for _, _, c in m.top_confusions]
    assert len(m.top_confusions) == 10
    assert counts == list(range(30, 20, -1))
    assert m.top_confusions[0] == ("k5", "k4", 30)


def test_top_confusions_ties_follow_class_order():
    m = compute_metrics([2, 1, 0, 0], [1, 2, 2, 2], CLASSES)
    assert m.top_confusions == [("c0", "c2", 2), ("c1", "c2", 1), ("c2", "c1", 1)]


def test_empty_input():
    m = compute_metrics([], [], CLASSES)
    assert m.accuracy == 0.0
    assert m.macro_f1 == 0.0
    assert m.confusion.shape == (3, 3) and m.confusion.sum() == 0
    assert macro_f1([], [], 3) == 0.0


def test_confusion_matrix_accepts_arrays_and_refuses_bad_labels():
    np.testing.assert_array_equal(confusion_matrix(np.array([0, 1]), np.array([1, 1]), 2),
                                  [[0, 1], [0, 1]])
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix([0, 1], [-1, 1], 3)
    with pytest.raises(ValueError, match="labels"):
        confusion_matrix([0, 1, 2], [0, 1], 3)
    with pytest.raises(ValueError, match="integers"):
        confusion_matrix([0.5, 1], [0, 1], 3)
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix([0], [0], 0)
    with pytest.raises(ValueError, match="empty"):
        compute_metrics([0], [0], [])


def test_to_dict_is_json_ready_and_round_trips():
    m = compute_metrics(np.array(Y_TRUE, dtype=np.int32), np.array(Y_PRED), CLASSES)
    data = json.loads(json.dumps(m.to_dict()))
    assert data["classes"] == CLASSES
    assert data["confusion"] == [[2, 1, 0], [0, 1, 1], [1, 1, 3]]
    assert data["per_class"][1] == pytest.approx(
        {"name": "c1", "precision": 1 / 3, "recall": 0.5, "f1": 0.4, "support": 2})
    assert data["top_confusions"][0] == {"true": "c0", "predicted": "c1", "count": 1}
    back = Metrics.from_dict(data)
    assert back.classes == m.classes and back.per_class == m.per_class
    assert back.top_confusions == m.top_confusions
    np.testing.assert_array_equal(back.confusion, m.confusion)


def test_macro_f1_is_fast_on_a_validation_epoch():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, 100_000)
    y_pred = np.where(rng.random(100_000) < 0.9, y_true, rng.integers(0, 10, 100_000))
    import time

    start = time.perf_counter()
    value = macro_f1(y_true, y_pred, 10)
    assert time.perf_counter() - start < 0.5
    assert 0.85 < value < 0.95


def test_importing_metrics_loads_no_heavy_library():
    code = (
        "import sys\n"
        "HEAVY = ('matplotlib', 'torch', 'scipy', 'cv2', 'PySide6')\n"
        "import inspector.core.evaluation.metrics\n"
        "heavy = [m for m in HEAVY if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "import inspector.core.evaluation\n"
        "heavy = [m for m in HEAVY if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
