"""Decision thresholds: tuned on validation data, applied to test probabilities.

Binary and multilabel outputs are independent sigmoids, so each gets the threshold
that maximises its F1 on the validation set. Multiclass outputs use argmax.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve

DEFAULT_THRESHOLD = 0.5


def _best_f1_threshold(y_true, y_score) -> float:
    """Threshold (one of the unique scores, used as ``score >= t``) with the highest F1;
    0.5 when the labels hold no positive. Ties go to the lowest threshold."""
    y_true = np.asarray(y_true).astype(int)
    if y_true.sum() == 0:
        return DEFAULT_THRESHOLD
    precision, recall, thresholds = precision_recall_curve(y_true, y_score)
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
    return float(thresholds[int(np.argmax(f1))])


def tune_thresholds(task, y_true, y_prob) -> list[float] | None:
    """Per-output thresholds that maximise F1 on the given (validation) data.

    Candidates are the sorted unique probabilities of each output
    (``sklearn.metrics.precision_recall_curve``); a prediction is positive when
    ``prob >= threshold``.

    Args:
        task: an :class:`ecgtf.data.tasks.Task`.
        y_true: labels ``(N, 1)`` (binary) or ``(N, C)`` (multilabel).
        y_prob: probabilities of the same shape.

    Returns:
        One float per output (``task.num_outputs``), or None for multiclass tasks
        (argmax needs no threshold).
    """
    if task.kind == "multiclass":
        return None
    y_true = np.asarray(y_true).reshape(len(y_prob), -1)
    y_prob = np.asarray(y_prob, dtype=float).reshape(len(y_prob), -1)
    return [_best_f1_threshold(y_true[:, c], y_prob[:, c]) for c in range(y_prob.shape[1])]


def apply_thresholds(task, y_prob, thresholds=None) -> np.ndarray:
    """Turns probabilities into predictions.

    Args:
        task: an :class:`ecgtf.data.tasks.Task`.
        y_prob: probabilities ``(N, outputs)``.
        thresholds: a float or one per output (binary/multilabel); None means 0.5.
            Ignored for multiclass.

    Returns:
        int array of ``y_prob``'s shape: ``prob >= threshold`` for binary/multilabel,
        the one-hot argmax for multiclass.
    """
    y_prob = np.asarray(y_prob, dtype=float)
    if task.kind == "multiclass":
        return np.eye(y_prob.shape[-1], dtype=int)[y_prob.argmax(axis=-1)]
    thr = DEFAULT_THRESHOLD if thresholds is None else np.asarray(thresholds, dtype=float)
    return (y_prob >= thr).astype(int)


def shift_probabilities(y_prob: np.ndarray, shift: np.ndarray | None) -> np.ndarray:
    """Softmax probabilities ``(n, classes)`` as the model with ``shift`` added to its logits
    would give (the prior shift of :mod:`ecgtf.training.priors`)."""
    if shift is None:
        return y_prob
    scaled = np.asarray(y_prob, dtype=np.float64) * np.exp(np.asarray(shift, dtype=np.float64))
    return (scaled / scaled.sum(axis=1, keepdims=True)).astype(np.float32)
