"""What a run leaves behind: metrics (with 95% bootstrap intervals and calibration errors),
thresholds and plots from validation predictions."""

from __future__ import annotations

import json
import os

import numpy as np

from ecgtf.atomic import replacing
from ecgtf.data.tasks import Task


def to_jsonable(obj):
    """Converts numpy scalars/arrays (and NaN) into plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def write_json(obj, path: str) -> str:
    """Writes ``obj`` as JSON through a temporary file and a rename (never a half-written file)."""
    with replacing(path) as tmp, open(tmp, "w") as f:
        json.dump(to_jsonable(obj), f, indent=2)
    return path


def write_report(task: Task, y_true: np.ndarray, y_prob: np.ndarray, out_dir: str, *, thresholds=None,
                 metrics_name: str = "metrics.json", history_csv: str | None = None, prefix: str = "",
                 record_ids=None) -> dict:
    """Scores predictions and writes ``metrics.json``, the plots and the predictions into ``out_dir``.

    Args:
        task: the task scored.
        y_true: ``(N, outputs)`` labels.
        y_prob: ``(N, outputs)`` probabilities.
        out_dir: folder receiving the files.
        thresholds: per-output decision thresholds (binary/multi-label) or None.
        metrics_name: file name of the metrics.
        history_csv: when given, also draws ``training_curves.png`` from it.
        prefix: prepended to the plot and prediction file names (e.g. ``"test_"``).
        record_ids: when given, ``{prefix}predictions.csv`` gets one row per record: its id,
            the true labels (``true_<output>``) and the probabilities (``prob_<output>``).

    Returns:
        The metrics dictionary.
    """
    from ecgtf.evaluation import plots
    from ecgtf.evaluation.bootstrap import confidence_intervals
    from ecgtf.evaluation.calibration import calibration_report
    from ecgtf.evaluation.scores import compute_metrics

    os.makedirs(out_dir, exist_ok=True)
    metrics = to_jsonable(compute_metrics(task, y_true, y_prob, thresholds=thresholds))
    metrics["n_records"] = int(len(y_true))
    metrics["ci95"] = to_jsonable(confidence_intervals(task, y_true, y_prob, thresholds))
    metrics["calibration"] = to_jsonable(calibration_report(task, y_true, y_prob))
    write_json(metrics, os.path.join(out_dir, metrics_name))
    cm = metrics.get("confusion_matrix")
    if cm is not None:
        names = list(task.classes)
        cm = np.asarray(cm)
        if cm.ndim == 3:  # multi-label: one 2x2 per class
            plots.plot_multilabel_confusion(cm, names, os.path.join(out_dir, f"{prefix}confusion_matrix.png"))
        else:
            plots.plot_confusion_matrix(cm, names, os.path.join(out_dir, f"{prefix}confusion_matrix.png"))
    plots.plot_roc(task, y_true, y_prob, os.path.join(out_dir, f"{prefix}roc.png"), thresholds=thresholds)
    plots.plot_reliability(task, y_true, y_prob, os.path.join(out_dir, f"{prefix}calibration.png"))
    if record_ids is not None:
        write_predictions(task, record_ids, y_true, y_prob, os.path.join(out_dir, f"{prefix}predictions.csv"))
    if history_csv and os.path.isfile(history_csv):
        plots.plot_training_curves(history_csv, os.path.join(out_dir, "training_curves.png"))
    return metrics


def write_predictions(task: Task, record_ids, y_true: np.ndarray, y_prob: np.ndarray, path: str) -> str:
    """Writes one CSV row per record: ``record_id``, ``true_<output>``..., ``prob_<output>``...."""
    import pandas as pd

    names = list(task.output_names)
    frame = pd.DataFrame({"record_id": [str(r) for r in record_ids]})
    for i, name in enumerate(names):
        frame[f"true_{name}"] = np.asarray(y_true)[:, i].astype(int)
    for i, name in enumerate(names):
        frame[f"prob_{name}"] = np.asarray(y_prob, dtype=np.float64)[:, i]
    with replacing(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.8g")  # full float32 precision: no ties from rounding
    return path


def summary_lines(task: Task, metrics: dict) -> list[str]:
    """A few human lines: the main scores with their 95% bootstrap intervals, per-class F1, and the
    mean expected calibration error."""
    ci = metrics.get("ci95") or {}

    def with_ci(key):
        low, high = (ci.get(key) or {}).get("low"), (ci.get(key) or {}).get("high")
        return f"{_fmt(metrics.get(key))}" + (f" (95% CI {low:.3f}-{high:.3f})" if low is not None
                                               and high is not None else "")

    lines = [f"{task.main_score}: {with_ci(task.main_score)}"]
    for key in ("cinc2017_f1", "challenge_metric", "macro_auc", "auc", "f1", "macro_f1", "accuracy"):
        if key != task.main_score and key in metrics and not isinstance(metrics[key], (dict, list)):
            lines.append(f"{key}: {with_ci(key)}")
    per_class = metrics.get("per_class")
    if isinstance(per_class, dict):
        lines.append("per-class F1: " + ", ".join(f"{c} {_fmt(v.get('f1'))}" for c, v in per_class.items()))
    calibration = metrics.get("calibration")
    if isinstance(calibration, dict) and calibration.get("ece_mean") is not None:
        lines.append(f"expected calibration error (mean over outputs): {calibration['ece_mean']:.3f}")
    return lines


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
