"""Evaluation: metrics, confusion matrix, calibration and reports.

Importing this package loads numpy only: scipy (temperature fit) and matplotlib (the confusion
PNG) are imported by the functions that need them.
"""

from inspector.core.evaluation.calibration import (
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability_bins,
    softmax,
)
from inspector.core.evaluation.metrics import (
    ClassMetrics,
    Metrics,
    compute_metrics,
    confusion_matrix,
    macro_f1,
)
from inspector.core.evaluation.report import (
    EvaluationReport,
    render_confusion_png,
    top_mistakes,
    write_report,
)

__all__ = [
    "ClassMetrics",
    "EvaluationReport",
    "Metrics",
    "compute_metrics",
    "confusion_matrix",
    "expected_calibration_error",
    "fit_temperature",
    "macro_f1",
    "negative_log_likelihood",
    "reliability_bins",
    "render_confusion_png",
    "softmax",
    "top_mistakes",
    "write_report",
]
