"""What wandb's Keras integration does not log for us; wandb is imported only when used.

Per-epoch losses, ``val_*`` scores and the learning rate go through wandb's own
``wandb.integration.keras.WandbMetricsLogger`` (under ``epoch/``). It lacks three things,
which :class:`WandbValidationPlots` adds from the :class:`ValidationScores` callback's
predictions of the whole validation set (so nothing is predicted twice):

- ``wandb.plot.confusion_matrix`` of the epoch (single-label tasks);
- ROC curves of the epoch (``wandb.plot.roc_curve``; one-vs-rest per class);
- the keys a sweep watches (the task's main score and the sweep metric) under their own,
  unprefixed names each epoch, so wandb's hyperband sees them (it counts the logged values of
  ``metric.name``) and the run summary holds them.

``WandbModelCheckpoint`` is not used: it uploads one artifact per improved epoch, which for
InceptionResNetV2 fills a disk; :mod:`ecgtf.tracking.wandb_run` logs the best ``model.keras``
once at the end. ``WandbEvalCallback`` (prediction tables) is not needed for ECG records.
"""

from __future__ import annotations

import math
import os

import keras
import numpy as np


def active_wandb():
    """The ``wandb`` module when logging is possible, else None.

    None when ``WANDB_MODE=disabled``, when wandb is not installed or when no run is
    active (``wandb.run is None``).
    """
    if os.environ.get("WANDB_MODE", "").lower() == "disabled":
        return None
    try:
        import wandb
    except ImportError:
        return None
    return wandb if wandb.run is not None else None


class WandbValidationPlots(keras.callbacks.Callback):
    """Logs the epoch's confusion matrix, ROC curves and the watched scores to the active run.

    Place it after :class:`ecgtf.callbacks.ValidationScores`. Does nothing without an active
    wandb run (:func:`active_wandb`).

    Args:
        scores_callback: the :class:`ValidationScores` of the same fit.
        class_names: ``task.classes`` (axis labels; binary tasks have two).
        watch: epoch-log keys logged under their own names too (e.g. ``val_cinc2017_f1``).
    """

    def __init__(self, scores_callback, class_names, watch=()):
        super().__init__()
        self.scores_callback = scores_callback
        self.class_names = list(class_names)
        self.watch = list(dict.fromkeys(watch))
        self._defined = False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        wandb = active_wandb()
        if wandb is None:
            return
        if not self._defined:
            for key in ("val/*", *self.watch):
                wandb.define_metric(key, step_metric="epoch/epoch")
            self._defined = True
        row = {"epoch/epoch": epoch}
        for key in self.watch:
            value = logs.get(key)
            if value is not None and math.isfinite(float(value)):
                row[key] = float(value)
        scores = self.scores_callback
        if scores.last_epoch == epoch and scores.last_y_prob is not None:
            row.update(self.plots(wandb, scores.task.kind, scores.last_y_true, scores.last_y_prob))
        wandb.log(row)

    def plots(self, wandb, kind: str, y_true: np.ndarray, y_prob: np.ndarray) -> dict:
        """``{"val/confusion_matrix": ..., "val/roc": ...}`` for one epoch's predictions.

        Args:
            wandb: the wandb module.
            kind: ``binary``, ``multiclass`` or ``multilabel``.
            y_true: ``(N, outputs)`` labels.
            y_prob: ``(N, outputs)`` probabilities.
        """
        if kind == "multilabel":  # wandb's plots take one label per record; per-class ROC instead
            out = {}
            for i, name in enumerate(self.class_names):
                probs = np.stack([1 - y_prob[:, i], y_prob[:, i]], axis=1)
                out[f"val/roc_{name}"] = wandb.plot.roc_curve(y_true[:, i].astype(int), probs,
                                                              labels=["absent", name], classes_to_plot=[1])
            return out
        if kind == "binary":
            truth = y_true[:, 0].astype(int)
            probs = np.stack([1 - y_prob[:, 0], y_prob[:, 0]], axis=1)
        else:
            truth, probs = y_true.argmax(1), y_prob
        return {
            "val/confusion_matrix": wandb.plot.confusion_matrix(
                y_true=truth.tolist(), preds=probs.argmax(1).tolist(), class_names=self.class_names),
            "val/roc": wandb.plot.roc_curve(truth, probs, labels=self.class_names),
        }


def wandb_callbacks(scores_callback, task, watch=()) -> list:
    """The callbacks that log a fit to the active wandb run; ``[]`` without one.

    Args:
        scores_callback: the fit's :class:`ValidationScores` (placed before these).
        task: the run's task.
        watch: epoch-log keys also logged unprefixed (the sweep metric).
    """
    if active_wandb() is None:
        return []
    from wandb.integration.keras import WandbMetricsLogger

    return [WandbMetricsLogger(log_freq="epoch"),
            WandbValidationPlots(scores_callback, task.classes, watch=(f"val_{task.main_score}", *watch))]
