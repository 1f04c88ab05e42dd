"""Scores, decision thresholds and plots for trained models."""

from ecgtf.evaluation.scores import (
    EQUIVALENT_CLASSES,
    challenge_metric,
    cinc2017_f1,
    compute_metrics,
    load_weights,
    macro_auroc,
    macro_f1,
    main_score,
)
from ecgtf.evaluation.thresholds import apply_thresholds, tune_thresholds

__all__ = [
    "EQUIVALENT_CLASSES", "apply_thresholds", "challenge_metric", "cinc2017_f1", "compute_metrics",
    "load_weights", "macro_auroc", "macro_f1", "main_score", "tune_thresholds",
]
