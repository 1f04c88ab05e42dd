"""Calibration: do the probabilities read as risks? Reliability curves and the expected
calibration error (ECE) of each output.

Each output is scored one-vs-rest: its probability against whether that class is present. The
curve is ``sklearn.calibration.calibration_curve`` over equal-width bins; the ECE is the
record-weighted mean gap between the observed frequency and the mean probability over the same
bins: ``ECE = sum_b (n_b / N) |freq_b - mean_prob_b|`` (0 is perfect, in probability units).
"""

from __future__ import annotations

import numpy as np
from sklearn.calibration import calibration_curve

DEFAULT_BINS = 10


def _one_vs_rest(task, y_true, y_prob) -> tuple[np.ndarray, np.ndarray]:
    y_prob = np.asarray(y_prob, dtype=np.float64).reshape(len(y_prob), -1)
    y_true = np.asarray(y_true)
    if task.kind == "multiclass" and y_true.ndim == 1:
        y_true = np.eye(y_prob.shape[1], dtype=int)[y_true.astype(int)]
    return (y_true.reshape(len(y_prob), -1) > 0.5).astype(int), y_prob


def _bin_of(prob: np.ndarray, n_bins: int) -> np.ndarray:
    # The bins of sklearn's calibration_curve(strategy="uniform"): edges linspace(0, 1, n_bins + 1).
    return np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], prob)


def expected_calibration_error(labels, prob, n_bins: int = DEFAULT_BINS) -> float:
    """ECE of one output: ``labels`` in {0, 1} and ``prob`` in [0, 1], both ``(N,)``."""
    labels = np.asarray(labels, dtype=np.float64).reshape(-1)
    prob = np.clip(np.asarray(prob, dtype=np.float64).reshape(-1), 0.0, 1.0)
    if not len(prob):
        return float("nan")
    bins = _bin_of(prob, n_bins)
    count = np.bincount(bins, minlength=n_bins)
    freq = np.bincount(bins, weights=labels, minlength=n_bins)
    conf = np.bincount(bins, weights=prob, minlength=n_bins)
    used = count > 0
    return float(np.sum(np.abs(freq[used] - conf[used])) / len(prob))


def calibration_report(task, y_true, y_prob, n_bins: int = DEFAULT_BINS) -> dict:
    """``{"ece": {output: ECE}, "ece_mean": mean over outputs, "n_bins": n_bins}``."""
    labels, prob = _one_vs_rest(task, y_true, y_prob)
    ece = {name: expected_calibration_error(labels[:, c], prob[:, c], n_bins)
           for c, name in enumerate(task.output_names)}
    values = [v for v in ece.values() if np.isfinite(v)]
    return {"ece": ece, "ece_mean": float(np.mean(values)) if values else float("nan"), "n_bins": int(n_bins)}


def reliability_curves(task, y_true, y_prob, n_bins: int = DEFAULT_BINS) -> dict[str, tuple]:
    """``{output: (mean probability, observed frequency, records per bin)}`` over the non-empty bins."""
    labels, prob = _one_vs_rest(task, y_true, y_prob)
    out = {}
    for c, name in enumerate(task.output_names):
        p = np.clip(prob[:, c], 0.0, 1.0)
        freq, mean_prob = calibration_curve(labels[:, c], p, n_bins=n_bins, strategy="uniform")
        count = np.bincount(_bin_of(p, n_bins), minlength=n_bins)
        out[name] = (mean_prob, freq, count[count > 0])
    return out
