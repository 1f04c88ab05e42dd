"""Comparing two models on the same records: paired bootstrap of the task's main score."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecgtf.evaluation.bootstrap import bootstrap_scores, resample_indices
from ecgtf.evaluation.ensemble import merge_predictions
from ecgtf.evaluation.scores import compute_metrics, main_score


def paired_bootstrap(task, y_true: np.ndarray, prob_a: np.ndarray, prob_b: np.ndarray, *,
                     n_boot: int = 1000, seed: int = 0) -> dict:
    """Main score of A and B on the same records, and a bootstrap CI of ``B - A``.

    Records are resampled with replacement, the same draw for both models (paired), so the
    interval reflects how much the difference depends on which records were scored.
    Resamples where the score is undefined (e.g. one class only) are dropped.

    Args:
        task: the :class:`ecgtf.data.tasks.Task` scored (its ``main_score`` is used).
        y_true: ``(N, outputs)`` labels.
        prob_a, prob_b: ``(N, outputs)`` probabilities of the two models, same row order.
        n_boot: bootstrap resamples.
        seed: seed of the resampling.

    Returns:
        ``score``, ``score_a``, ``score_b``, ``diff`` (B - A), ``ci95`` of the difference,
        ``p_b_better`` (share of resamples where B scores higher), ``n_records``, ``n_boot``.
    """
    y_true, prob_a, prob_b = (np.asarray(a) for a in (y_true, prob_a, prob_b))
    if not (len(y_true) == len(prob_a) == len(prob_b)):
        raise ValueError(f"different record counts: labels {len(y_true)}, A {len(prob_a)}, B {len(prob_b)}")

    def score(prob):
        return main_score(task, compute_metrics(task, y_true, prob))

    score_a, score_b = score(prob_a), score(prob_b)
    idx = resample_indices(len(y_true), n_boot, seed)  # the same draws for both models (paired)
    boot_a, boot_b = (bootstrap_scores(task, y_true, prob, idx) for prob in (prob_a, prob_b))
    if task.main_score not in boot_a:
        raise KeyError(f"no bootstrap for the main score {task.main_score!r} of task {task.name}")
    diffs = boot_b[task.main_score] - boot_a[task.main_score]
    diffs = diffs[np.isfinite(diffs)]
    low, high = (np.percentile(diffs, [2.5, 97.5]) if len(diffs) else (np.nan, np.nan))
    return {"score": task.main_score, "score_a": score_a, "score_b": score_b, "diff": score_b - score_a,
            "ci95": [float(low), float(high)], "p_b_better": float(np.mean(diffs > 0)) if len(diffs) else np.nan,
            "n_records": int(len(y_true)), "n_boot": int(len(diffs))}


def align_predictions(frame_a: pd.DataFrame, frame_b: pd.DataFrame):
    """``(y_true, prob_a, prob_b, record_ids)`` from two ``predictions.csv`` tables.

    Only records present in both are kept; their labels must agree
    (:func:`ecgtf.evaluation.ensemble.merge_predictions`).

    Raises:
        ValueError: no shared records, different outputs, or disagreeing labels.
    """
    y_true, (prob_a, prob_b), record_ids = merge_predictions([frame_a, frame_b])
    return y_true, prob_a, prob_b, record_ids
