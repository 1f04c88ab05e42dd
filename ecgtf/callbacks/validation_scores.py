"""Scores over the whole validation set at the end of each epoch."""

from __future__ import annotations

import math

import keras
import numpy as np

from ecgtf.evaluation.scores import compute_metrics
from ecgtf.evaluation.thresholds import shift_probabilities


def _is_scalar(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


class ValidationScores(keras.callbacks.Callback):
    """Predicts the whole validation set each epoch and adds its scores to ``logs``.

    Every scalar of :func:`ecgtf.evaluation.scores.compute_metrics` is written as
    ``val_<key>`` (e.g. ``val_cinc2017_f1``, ``val_macro_auc``, ``val_F1_A``), so
    callbacks placed after this one (``ModelCheckpoint(monitor="val_cinc2017_f1",
    mode="max")``, ``CSVLogger``, ``EarlyStopping``) see them. Nested results
    (``per_class``, ``confusion_matrix``) stay in :attr:`last_metrics`.

    Args:
        task: an :class:`ecgtf.data.tasks.Task`.
        val_data: a ``tf.data.Dataset`` yielding ``(x, y)`` (or ``(x, y, w)``)
            batches, or a tuple of arrays ``(x, y)``; read in full every time.
        thresholds: decision thresholds passed to ``compute_metrics`` (binary and
            multilabel); None means 0.5.
        prior_shift: logit shift that the finished model will have folded into its output
            layer (:mod:`ecgtf.training.priors`); the epoch is scored with it applied, so
            the checkpoint is chosen by the decisions the saved model will make.
        every: score every ``every`` epochs (and always on the first); other epochs
            write no ``val_<key>``.
        verbose: 1 prints one line with the main scores; 0 is silent.
        batch_size: batch size for a tuple of arrays.

    Attributes:
        last_metrics: the full ``compute_metrics`` dict of the last scored epoch.
        last_y_true: its labels ``(N, outputs)``.
        last_y_prob: its probabilities ``(N, outputs)``.
        last_epoch: the 0-based epoch they belong to.
    """

    def __init__(self, task, val_data, thresholds=None, every: int = 1, verbose: int = 1, batch_size: int = 64,
                 prior_shift=None):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.task = task
        self.val_data = val_data
        self.thresholds = thresholds
        self.every = every
        self.verbose = verbose
        self.batch_size = batch_size
        self.prior_shift = prior_shift
        self.last_metrics: dict | None = None
        self.last_y_true: np.ndarray | None = None
        self.last_y_prob: np.ndarray | None = None
        self.last_epoch: int | None = None

    def predict(self):
        """Labels and probabilities over the whole validation set.

        Returns:
            ``(y_true, y_prob)``, both ``(N, outputs)`` float arrays.
        """
        if isinstance(self.val_data, (tuple, list)):
            x, y = self.val_data[0], self.val_data[1]
            prob = self.model.predict(x, batch_size=self.batch_size, verbose=0)
            ys = np.asarray(y)
        else:
            probs, labels = [], []
            for batch in self.val_data:
                x, y = batch[0], batch[1]
                probs.append(keras.ops.convert_to_numpy(self.model(x, training=False)))
                labels.append(keras.ops.convert_to_numpy(y))
            prob = np.concatenate(probs)
            ys = np.concatenate(labels)
        prob = np.asarray(prob, dtype=np.float32).reshape(len(prob), -1)
        if ys.ndim == 1 and self.task.kind == "binary":
            ys = ys.reshape(-1, 1)
        return ys.astype(np.float32), prob

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}  # not `logs or {}`: an empty dict from Keras must be filled in place
        if epoch % self.every and epoch != 0:
            return
        y_true, y_prob = self.predict()
        y_prob = shift_probabilities(y_prob, self.prior_shift)
        metrics = compute_metrics(self.task, y_true, y_prob, thresholds=self.thresholds)
        self.last_metrics, self.last_y_true, self.last_y_prob, self.last_epoch = metrics, y_true, y_prob, epoch
        for key, value in metrics.items():
            if _is_scalar(value):
                logs[f"val_{key}"] = float(value)
        if self.verbose:
            shown = [self.task.main_score] + [k for k in ("macro_auc", "macro_f1", "auc", "f1", "accuracy")
                                              if k != self.task.main_score and k in metrics]
            text = ", ".join(f"{k} {metrics[k]:.4f}" for k in shown[:4]
                             if k in metrics and not (isinstance(metrics[k], float) and math.isnan(metrics[k])))
            print(f"epoch {epoch + 1}: validation ({len(y_prob)} records): {text or 'scores undefined'}")
