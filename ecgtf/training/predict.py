"""Predictions over whole records, with the training preprocessing.

A record longer than the model's window is cut into windows ``hop`` samples apart and
the window predictions are averaged, so a record's prediction does not depend on how
long it is or how much padding it got; a shorter one is zero-padded into one window.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ecgtf.data.pipeline import make_raw_dataset


def predict_records(model, data, indices, *, length: int, prepare, batch_size: int = 64,
                    hop: int | None = None) -> np.ndarray:
    """Probabilities ``(len(indices), outputs)`` for the records at ``indices`` of ``data``.

    Args:
        model: a Keras model taking ``prepare(windows)``.
        data: a :class:`ecgtf.data.datasets.LoadedData`.
        indices: record positions in ``data``.
        length: window length in samples (as in training).
        prepare: the batch transform used in training (``ecgtf.training.inputs.make_prepare``).
        batch_size: windows per forward pass.
        hop: window hop in samples for averaging over crops; None takes the centre window.
    """
    indices = np.asarray(indices, dtype=np.int64)
    if len(indices) == 0:
        return np.zeros((0, model.output_shape[-1]), dtype=np.float32)
    infer = tf.function(lambda x: model(prepare(x), training=False), reduce_retracing=True)
    if hop is None:
        ds = make_raw_dataset(data, indices, length=length, batch_size=batch_size, training=False)
        return np.concatenate([infer(x).numpy() for x, _ in ds]).astype(np.float32)
    from ecgtf.data.crops import predict_averaged

    signals = [data.signal(int(i)) for i in indices]
    return predict_averaged(lambda w: infer(tf.convert_to_tensor(w)).numpy(), signals, length, hop,
                            batch_size=batch_size).astype(np.float32)
