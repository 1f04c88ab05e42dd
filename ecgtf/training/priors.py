"""Class weights for training, and undoing them at decision time (prior shift).

Balanced class weights ``n / (classes * n_k)`` make the loss count every class as if it
were equally frequent. A softmax trained with them estimates the class probabilities
under that balanced prior, so each class's probability is inflated by its weight: rare
classes are over-predicted (on CinC 2017, ``~`` got 119 of 1,365 test decisions for 45
true noisy records). Dividing the probabilities by the weights and renormalising gives
the probabilities at the training data's own class frequencies. Since
``softmax(z + c) = softmax(z) * exp(c) / sum(...)``, that is a constant shift
``c_k = -log(w_k)`` of the output logits: it is folded into the bias of the model's
output layer, so the saved model itself outputs the corrected probabilities.

Only single-label (softmax) tasks are shifted: a binary task's decision threshold is
tuned on validation anyway, and multi-label tasks are trained unweighted.
"""

from __future__ import annotations

import numpy as np

CLASS_WEIGHTS = ("auto", "none")
DECISION_PRIORS = ("data", "balanced")


def _class_index(task, labels: np.ndarray) -> np.ndarray:
    return labels[:, 0].astype(int) if task.kind == "binary" else np.asarray(labels).argmax(1)


def balanced_weights(task, train_labels: np.ndarray, mode: str) -> np.ndarray | None:
    """Per-class weights ``n / (present classes * n_k)`` from the training labels, or None.

    Args:
        task: an :class:`ecgtf.data.tasks.Task`.
        train_labels: ``(n, outputs)`` labels of the training records only.
        mode: ``auto`` (balanced) or ``none``.

    Returns:
        One weight per class (``max(2, outputs)`` of them), or None for ``none`` and for
        multi-label tasks (their classes overlap).
    """
    if mode not in CLASS_WEIGHTS:
        raise ValueError(f"--class-weight must be auto or none, got {mode!r}")
    if mode == "none" or task.kind == "multilabel":
        return None
    from sklearn.utils.class_weight import compute_class_weight

    index = _class_index(task, train_labels)
    present = np.unique(index)
    # A class with no training record would weigh as one with a single record (never used
    # for a record, but its prior shift must be finite).
    weights = np.full(max(2, task.num_outputs), len(index) / len(present), dtype=np.float64)
    weights[present] = compute_class_weight("balanced", classes=present, y=index)
    return weights


def record_weights(task, labels: np.ndarray, per_class: np.ndarray | None) -> np.ndarray | None:
    """Each record's weight (its class's weight), for ``labels`` of any records."""
    if per_class is None:
        return None
    return per_class[_class_index(task, labels)].astype(np.float32)


def prior_shift(task, per_class: np.ndarray | None, decision_prior: str = "data") -> np.ndarray | None:
    """Logit shift that undoes class-weighted training, or None when there is nothing to undo.

    Args:
        task: an :class:`ecgtf.data.tasks.Task`; only ``multiclass`` tasks are shifted.
        per_class: the weights the loss used (:func:`balanced_weights`), or None.
        decision_prior: ``data`` (decide at the training data's class frequencies) or
            ``balanced`` (keep the class-weighted probabilities).

    Returns:
        ``-log(w)`` centred to mean 0, one value per class, or None.
    """
    if decision_prior not in DECISION_PRIORS:
        raise ValueError(f"--decision-prior must be one of {', '.join(DECISION_PRIORS)}, got {decision_prior!r}")
    if per_class is None or task.kind != "multiclass" or decision_prior == "balanced":
        return None
    shift = -np.log(np.asarray(per_class, dtype=np.float64))
    return shift - shift.mean()


def _softmax_head(model):
    """The model's output layer when it is a biased Dense layer with a softmax, else None."""
    import keras

    head = model.layers[-1]
    if isinstance(head, keras.Model):  # a run's model: prepare block, then the network
        return _softmax_head(head)
    activation = getattr(getattr(head, "activation", None), "__name__", "")
    if isinstance(head, keras.layers.Dense) and head.use_bias and activation == "softmax":
        return head
    return None


def can_fold(model) -> bool:
    """Whether :func:`fold_into_head` can shift this model's output."""
    return _softmax_head(model) is not None


def fold_into_head(model, shift: np.ndarray) -> None:
    """Adds ``shift`` to the bias of the model's softmax output layer, in place.

    Raises:
        ValueError: the last layer is not a biased Dense layer with a softmax activation,
            or has a different number of outputs.
    """
    head = _softmax_head(model)
    if head is None:
        raise ValueError(f"cannot fold a prior shift into {model.layers[-1].name!r}: the last layer must be "
                         "a Dense layer with a bias and a softmax activation")
    kernel, bias = head.get_weights()
    if bias.shape != np.shape(shift):
        raise ValueError(f"prior shift has {np.size(shift)} values for {bias.shape[0]} outputs")
    head.set_weights([kernel, (bias + np.asarray(shift)).astype(bias.dtype)])
