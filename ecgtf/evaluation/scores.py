"""Scores for every task kind, including the official PhysioNet/CinC challenge scores.

Generic scores (AUC, F1, precision, recall, confusion matrices) come from
``sklearn.metrics``. Only the challenge definitions are written here:

* CinC 2017 (Clifford et al., CinC 2017): per-class ``F1_x = 2 N_xx / (row_x + column_x)``
  of the confusion matrix and their mean over N, A and O (noise excluded).
* CinC 2020 (Perez Alday et al., Physiol Meas 2020): the weighted multi-label
  "challenge metric" over a class-weight table (``weights.csv``), normalised so that
  perfect outputs score 1 and normal-only ("inactive") outputs score 0.

A class whose score is undefined (no positives for AUC; no positives and no
predictions for F1) gets NaN and is left out of the macro means.
"""

from __future__ import annotations

import csv

import numpy as np
from sklearn import metrics as skm

# Codes the 2020/2021 challenges score as one class; the first code names the class.
EQUIVALENT_CLASSES = (
    ("713427006", "59118001"),
    ("284470004", "63593006"),
    ("427172004", "17338001"),
)
CINC2017_SCORED = ("N", "A", "O")
_TO_REPRESENTATIVE = {code: group[0] for group in EQUIVALENT_CLASSES for code in group}


# --------------------------------------------------------------------------- helpers

def _nanmean(values) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.nanmean(values)) if np.any(np.isfinite(values)) else float("nan")


def _auc(y_true, y_score) -> float:
    """ROC AUC of one output, NaN when ``y_true`` holds only one class."""
    y_true = np.asarray(y_true).astype(int)
    if y_true.min(initial=0) == y_true.max(initial=0):
        return float("nan")
    return float(skm.roc_auc_score(y_true, y_score))


def _per_class_auc(y_true, y_prob) -> list[float]:
    return [_auc(y_true[:, c], y_prob[:, c]) for c in range(y_true.shape[1])]


def _representative(code: str) -> str:
    return _TO_REPRESENTATIVE.get(code, code)


# --------------------------------------------------------------------------- CinC 2017

def cinc2017_f1(y_true, y_pred, classes=("N", "A", "O", "~")) -> dict:
    """Official CinC 2017 score.

    ``F1_x = 2 N_xx / (sum of row x + sum of column x)`` of the confusion matrix, which
    equals the per-class F1 that ``sklearn.metrics.f1_score`` computes.

    Args:
        y_true: reference class indices, shape ``(N,)``, into ``classes``.
        y_pred: predicted class indices, shape ``(N,)``.
        classes: class names in index order; the noise class ``"~"`` is scored but
            not averaged.

    Returns:
        ``{"F1_N": ..., "F1_A": ..., "F1_O": ..., "F1_~": ..., "cinc2017_f1": ...}``;
        a class absent from both references and predictions is NaN and the mean is
        taken over the defined scored classes.
    """
    f1 = skm.f1_score(y_true, y_pred, labels=list(range(len(classes))), average=None,
                      zero_division=np.nan)
    out = {f"F1_{name}": float(v) for name, v in zip(classes, f1)}
    out["cinc2017_f1"] = _nanmean([out[f"F1_{c}"] for c in CINC2017_SCORED if c in classes])
    return out


# --------------------------------------------------------------------------- CinC 2020

def load_weights(weights_csv: str, classes=None) -> tuple[list[str], np.ndarray]:
    """Reads the official CinC 2020/2021 ``weights.csv`` and merges equivalent classes.

    The first row and column hold SNOMED CT codes. The 2020 table lists equivalent codes
    (:data:`EQUIVALENT_CLASSES`) separately with identical weights; the 2021 table
    writes them in one cell as ``713427006|59118001``. Either way each group becomes
    one class named by its first code.

    Args:
        weights_csv: path to ``weights.csv``.
        classes: optional SNOMED codes giving the order (and subset) of the result;
            equivalent codes map to their group. Default: the table's order.

    Returns:
        ``(classes, W)``: the class codes and the ``(C, C)`` float weight matrix.

    Raises:
        ValueError: the table is not square, equivalent classes have different
            weights, or a requested class is not in the table.
    """
    with open(weights_csv, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    aliases = dict(_TO_REPRESENTATIVE)
    for cell in rows[0][1:]:
        group = [c.strip() for c in cell.split("|")]
        aliases.update({c: aliases.get(group[0], group[0]) for c in group})
    cols = [aliases[c.strip().split("|")[0]] for c in rows[0][1:]]
    names = [aliases.get(r[0].strip().split("|")[0], r[0].strip()) for r in rows[1:]]
    values = np.array([[float(v) for v in r[1:]] for r in rows[1:]], dtype=float)
    if names != cols or values.shape != (len(cols), len(cols)):
        raise ValueError(f"{weights_csv}: weight table must be square with the same codes on both axes")
    table_classes, keep = [], []
    for i, code in enumerate(cols):
        if code in table_classes:
            first = keep[table_classes.index(code)]
            if not (np.array_equal(values[i], values[first]) and np.array_equal(values[:, i], values[:, first])):
                raise ValueError(f"{weights_csv}: equivalent class {code} has different weights")
            continue
        table_classes.append(code)
        keep.append(i)
    weights = values[np.ix_(keep, keep)]
    if classes is None:
        return table_classes, weights
    wanted = [aliases.get(str(c), str(c)) for c in classes]
    missing = [c for c in wanted if c not in table_classes]
    if missing:
        raise ValueError(f"classes not in {weights_csv}: {missing}")
    idx = [table_classes.index(c) for c in wanted]
    return wanted, weights[np.ix_(idx, idx)]


def _modified_confusion(labels, outputs) -> np.ndarray:
    """Multi-label confusion matrix ``A[j, k]``: each record adds ``1/|labels ∪ outputs|``
    (at least 1) to every (label j, output k) pair it holds."""
    labels = np.asarray(labels, dtype=float)
    outputs = np.asarray(outputs, dtype=float)
    norm = np.maximum(np.logical_or(labels > 0, outputs > 0).sum(axis=1), 1)
    return (labels / norm[:, None]).T @ outputs


def challenge_metric(labels, outputs, classes, weights, normal_class: str = "426783006") -> float:
    """Official PhysioNet/CinC 2020 challenge metric.

    ``(sum W∘A_observed - sum W∘A_inactive) / (sum W∘A_correct - sum W∘A_inactive)``,
    where ``A`` is the normalised multi-label confusion matrix, "correct" outputs equal
    the labels and "inactive" outputs predict only ``normal_class``.

    Args:
        labels: binary reference labels, shape ``(N, C)``.
        outputs: binary predictions, shape ``(N, C)``.
        classes: ``C`` SNOMED codes in column order (must contain ``normal_class``).
        weights: ``(C, C)`` weight matrix in the same order (see :func:`load_weights`).
        normal_class: code of the normal-sinus-rhythm class.

    Returns:
        The score (1 for perfect outputs, 0 for normal-only outputs; 0 when the
        denominator vanishes, as in the official code).
    """
    labels = np.asarray(labels) > 0
    outputs = np.asarray(outputs) > 0
    weights = np.asarray(weights, dtype=float)
    classes = [str(c) for c in classes]
    if normal_class not in classes:
        raise ValueError(f"normal class {normal_class} not among the classes")
    inactive = np.zeros_like(labels)
    inactive[:, classes.index(normal_class)] = True
    observed = np.nansum(weights * _modified_confusion(labels, outputs))
    correct = np.nansum(weights * _modified_confusion(labels, labels))
    inactive_score = np.nansum(weights * _modified_confusion(labels, inactive))
    if correct == inactive_score:
        return 0.0
    return float((observed - inactive_score) / (correct - inactive_score))


def macro_f1(labels, outputs) -> float:
    """Challenge macro F1: mean over classes of ``2TP / (2TP + FP + FN)``, skipping
    classes with no positives and no predictions.

    Args:
        labels: binary ``(N, C)``.
        outputs: binary ``(N, C)``.
    """
    f1 = skm.f1_score(np.asarray(labels).astype(int), np.asarray(outputs).astype(int),
                      average=None, zero_division=np.nan)
    return _nanmean(f1)


def macro_auroc(labels, scores) -> float:
    """Challenge macro AUROC: mean of per-class ROC AUC over classes with both positives
    and negatives.

    Args:
        labels: binary ``(N, C)``.
        scores: probabilities ``(N, C)``.
    """
    return _nanmean(_per_class_auc(np.asarray(labels), np.asarray(scores)))


# --------------------------------------------------------------------------- per task

def _binary_metrics(y_true, y_prob, threshold: float) -> dict:
    t = np.asarray(y_true).reshape(-1).astype(int)
    p = np.asarray(y_prob, dtype=float).reshape(-1)
    pred = (p >= threshold).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(t, pred, labels=[0, 1]).ravel()
    return {
        "auc": _auc(t, p),
        "sensitivity": float(tp / (tp + fn)) if tp + fn else float("nan"),
        "specificity": float(tn / (tn + fp)) if tn + fp else float("nan"),
        "accuracy": float(skm.accuracy_score(t, pred)),
        "f1": float(skm.f1_score(t, pred, zero_division=0.0)),
        "threshold": float(threshold),
        "confusion_matrix": [[int(tn), int(fp)], [int(fn), int(tp)]],
    }


def _per_class(task, y_true, y_pred, y_prob) -> dict:
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        y_true, y_pred, average=None, zero_division=np.nan)
    auc = _per_class_auc(y_true, y_prob)
    return {name: {"f1": float(f1[c]), "precision": float(precision[c]), "recall": float(recall[c]),
                   "auc": auc[c]} for c, name in enumerate(task.classes)}


def compute_metrics(task, y_true, y_prob, thresholds=None) -> dict:
    """All scores of one task, JSON-serialisable (plain floats, ints and lists).

    Args:
        task: an :class:`ecgtf.data.tasks.Task`.
        y_true: labels: ``(N, 1)`` for binary, one-hot ``(N, C)`` (or class indices
            ``(N,)``) for multiclass, multi-hot ``(N, C)`` for multilabel.
        y_prob: model probabilities, ``(N, 1)`` or ``(N, C)``.
        thresholds: per-output decision thresholds for binary/multilabel tasks (a
            float or a list, see :mod:`ecgtf.evaluation.thresholds`); default 0.5.
            Ignored for multiclass (argmax).

    Returns:
        binary: ``auc, sensitivity, specificity, accuracy, f1, threshold,
        confusion_matrix`` (2×2). multiclass: ``macro_auc, macro_f1, accuracy,
        per_class, confusion_matrix`` (C×C, rows = reference). multilabel:
        ``macro_auc, macro_f1, per_class, confusion_matrix`` (C × 2×2, as
        ``sklearn.metrics.multilabel_confusion_matrix``). ``af4`` adds
        :func:`cinc2017_f1`'s keys; ``scored27`` adds ``challenge_metric`` (or
        ``challenge_metric_note`` when ``task.extras["weights"]`` is missing) and
        ``macro_auroc``. Undefined values are NaN.
    """
    y_prob = np.asarray(y_prob, dtype=float)
    if task.kind == "binary":
        thr = 0.5 if thresholds is None else float(np.ravel(thresholds)[0])
        return _binary_metrics(y_true, y_prob, thr)

    n_classes = len(task.classes)
    y_true = np.asarray(y_true)
    if task.kind == "multiclass":
        idx_true = y_true.astype(int) if y_true.ndim == 1 else y_true.argmax(axis=1)
        idx_pred = y_prob.argmax(axis=1)
        onehot_true = np.eye(n_classes, dtype=int)[idx_true]
        onehot_pred = np.eye(n_classes, dtype=int)[idx_pred]
        out = {
            "macro_auc": _nanmean(_per_class_auc(onehot_true, y_prob)),
            "macro_f1": macro_f1(onehot_true, onehot_pred),
            "accuracy": float(skm.accuracy_score(idx_true, idx_pred)),
            "per_class": _per_class(task, onehot_true, onehot_pred, y_prob),
            "confusion_matrix": skm.confusion_matrix(idx_true, idx_pred,
                                                     labels=list(range(n_classes))).tolist(),
        }
        if task.name == "af4":
            out.update(cinc2017_f1(idx_true, idx_pred, task.classes))
        return out

    labels = (y_true > 0.5).astype(int)
    thr = np.full(n_classes, 0.5) if thresholds is None else np.broadcast_to(
        np.asarray(thresholds, dtype=float), (n_classes,))
    outputs = (y_prob >= thr).astype(int)
    out = {
        "macro_auc": macro_auroc(labels, y_prob),
        "macro_f1": macro_f1(labels, outputs),
        "per_class": _per_class(task, labels, outputs, y_prob),
        "confusion_matrix": skm.multilabel_confusion_matrix(labels, outputs).tolist(),
    }
    if task.name == "scored27":
        out["macro_auroc"] = out["macro_auc"]
        weights = task.extras.get("weights")
        if weights is None:
            out["challenge_metric_note"] = "skipped: no weights.csv (task.extras['weights'] is None)"
        else:
            codes = task.extras.get("snomed_codes", task.classes)
            out["challenge_metric"] = challenge_metric(
                labels, outputs, codes, weights, task.extras.get("normal_class", "426783006"))
    return out


def main_score(task, metrics: dict) -> float:
    """The score that picks the best epoch: ``metrics[task.main_score]``.

    Args:
        task: an :class:`ecgtf.data.tasks.Task`.
        metrics: the output of :func:`compute_metrics`.

    Raises:
        KeyError: the score is missing (e.g. ``challenge_metric`` without weights).
    """
    if task.main_score not in metrics:
        note = metrics.get(f"{task.main_score}_note", "")
        raise KeyError(f"main score {task.main_score!r} not in metrics {sorted(metrics)}. {note}".strip())
    return float(metrics[task.main_score])
