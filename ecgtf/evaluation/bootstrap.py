"""Bootstrap over records: 95% confidence intervals of the main scores, and the resampling that
:func:`ecgtf.evaluation.compare.paired_bootstrap` shares.

Records are drawn with replacement, ``n_boot`` times, and each resample is scored. The scores
are the ones :func:`ecgtf.evaluation.scores.compute_metrics` reports (``auc``, ``macro_auc``,
``cinc2017_f1``, ``challenge_metric``), computed here for all resamples at once:
``compute_metrics`` takes 17 ms (binary) to 67 ms (5-label) per call on 2 cores, so 1,000 calls
would add a minute to every run; the rank form of the AUC over a ``(n_boot, N)`` matrix takes
milliseconds and equals ``sklearn.metrics.roc_auc_score`` (ties count one half; tested).
A resample where a score is undefined (one class only) is left out of that score's interval.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from ecgtf.evaluation.scores import CINC2017_SCORED, challenge_metric
from ecgtf.evaluation.thresholds import apply_thresholds

DEFAULT_N_BOOT = 1000


def resample_indices(n_records: int, n_boot: int = DEFAULT_N_BOOT, seed: int = 0) -> np.ndarray:
    """``(n_boot, n_records)`` record positions drawn with replacement (row 0 is the first draw)."""
    if n_records < 1:
        raise ValueError("the bootstrap needs at least one record")
    return np.random.default_rng(seed).integers(0, n_records, size=(int(n_boot), int(n_records)))


def auc_rows(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC of each row: ``labels`` and ``scores`` are ``(B, N)``; NaN where a row has one class.

    The Mann-Whitney form ``(sum of positive ranks - P(P+1)/2) / (P·Q)`` with average ranks for
    ties, which is the area ``sklearn.metrics.roc_auc_score`` integrates.
    """
    labels = np.asarray(labels) > 0.5
    ranks = rankdata(np.asarray(scores, dtype=np.float64), axis=1)
    pos = labels.sum(axis=1).astype(np.float64)
    neg = labels.shape[1] - pos
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = ((ranks * labels).sum(axis=1) - pos * (pos + 1) / 2) / (pos * neg)
    auc[(pos == 0) | (neg == 0)] = np.nan
    return auc


def _nanmean_rows(values: np.ndarray) -> np.ndarray:
    defined = np.isfinite(values)
    total = np.where(defined, values, 0.0).sum(axis=1)
    count = defined.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _f1_rows(true_idx: np.ndarray, pred_idx: np.ndarray, classes) -> np.ndarray:
    """CinC 2017 score of each row of ``(B, N)`` class indices (mean F1 over N, A, O)."""
    f1 = []
    for c, name in enumerate(classes):
        if name not in CINC2017_SCORED:
            continue
        tp = ((true_idx == c) & (pred_idx == c)).sum(axis=1)
        denom = (true_idx == c).sum(axis=1) + (pred_idx == c).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1.append(np.where(denom > 0, 2 * tp / denom, np.nan))
    return _nanmean_rows(np.stack(f1, axis=1))


def bootstrap_scores(task, y_true, y_prob, idx: np.ndarray, thresholds=None) -> dict[str, np.ndarray]:
    """Each resample's scores: ``{score name: (B,) array}`` for the rows of ``idx`` ``(B, N)``.

    Binary tasks give ``auc``; multiclass ``macro_auc`` (one-vs-rest) and, for ``af4``,
    ``cinc2017_f1``; multilabel ``macro_auc`` and, for ``scored27`` with its weights,
    ``challenge_metric`` (after ``thresholds``).
    """
    y_prob = np.asarray(y_prob, dtype=np.float64).reshape(len(y_prob), -1)
    y_true = np.asarray(y_true)
    if task.kind == "multiclass" and y_true.ndim == 1:
        y_true = np.eye(y_prob.shape[1], dtype=int)[y_true.astype(int)]
    y_true = (y_true.reshape(len(y_prob), -1) > 0.5).astype(np.int8)
    per_output = np.stack([auc_rows(y_true[idx, c], y_prob[idx, c]) for c in range(y_prob.shape[1])], axis=1)
    if task.kind == "binary":
        return {"auc": per_output[:, 0]}
    out = {"macro_auc": _nanmean_rows(per_output)}
    if task.kind == "multiclass" and task.name == "af4":
        out["cinc2017_f1"] = _f1_rows(y_true.argmax(axis=1)[idx], y_prob.argmax(axis=1)[idx], task.classes)
    if task.name == "scored27" and task.extras.get("weights") is not None:
        outputs = apply_thresholds(task, y_prob, thresholds)
        codes = task.extras.get("snomed_codes", task.classes)
        normal = task.extras.get("normal_class", "426783006")
        out["challenge_metric"] = np.array([challenge_metric(y_true[r], outputs[r], codes, task.extras["weights"],
                                                             normal) for r in idx])
    return out


def confidence_intervals(task, y_true, y_prob, thresholds=None, *, n_boot: int = DEFAULT_N_BOOT,
                         seed: int = 0, level: float = 0.95) -> dict[str, dict]:
    """Percentile bootstrap intervals of the task's scores.

    Args:
        task: an :class:`ecgtf.data.tasks.Task`.
        y_true: ``(N, outputs)`` labels (multiclass: one-hot or indices).
        y_prob: ``(N, outputs)`` probabilities.
        thresholds: the decision thresholds the challenge metric uses (binary/multilabel).
        n_boot: resamples.
        seed: seed of the resampling.
        level: coverage of the interval.

    Returns:
        ``{score: {"low", "high", "level", "n_boot"}}``; ``n_boot`` counts the resamples where
        the score was defined; ``low``/``high`` are NaN when none was.
    """
    idx = resample_indices(len(y_prob), n_boot, seed)
    tail = 100 * (1 - level) / 2
    out = {}
    for name, values in bootstrap_scores(task, y_true, y_prob, idx, thresholds).items():
        values = values[np.isfinite(values)]
        low, high = np.percentile(values, [tail, 100 - tail]) if len(values) else (np.nan, np.nan)
        out[name] = {"low": float(low), "high": float(high), "level": level, "n_boot": int(len(values))}
    return out
