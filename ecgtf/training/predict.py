"""Predictions over whole records with a run's model (its ``prepare`` block inside).

A record longer than the model's window is cut into windows ``hop`` samples apart and
the window predictions are averaged, so a record's prediction does not depend on how
long it is or how much padding it got; without a hop the centre window is taken. A shorter
record is zero-padded into one centred window.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ecgtf.data.crops import predict_averaged, predict_windows
from ecgtf.data.transforms import pad_or_crop


def predict_signals(model, signals, *, length: int, hop: int | None = None, batch_size: int = 64) -> np.ndarray:
    """Probabilities ``(len(signals), outputs)`` for decoded records.

    Args:
        model: a run's model: ``(batch, samples, leads)`` mV -> probabilities.
        signals: arrays ``(samples_i, leads)`` in mV at the run's rate, after its filter
            (:func:`ecgtf.data.transforms.decode_signal`).
        length: the run's window in samples.
        hop: window hop in samples for crop averaging; None takes the centre window.
        batch_size: windows per forward pass.
    """
    signals = list(signals)
    if not signals:
        return np.zeros((0, model.output_shape[-1]), dtype=np.float32)
    infer = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def predict_fn(batch):
        return infer(tf.convert_to_tensor(batch)).numpy()

    if hop is None:
        return predict_windows(predict_fn, np.stack([pad_or_crop(s, length) for s in signals]), batch_size)
    return predict_averaged(predict_fn, signals, length, hop, batch_size=batch_size).astype(np.float32)


def predict_records(model, data, indices, spec, *, batch_size: int = 64) -> np.ndarray:
    """:func:`predict_signals` for the records at ``indices`` of ``data`` (a ``LoadedData``),
    with the window and hop of ``spec`` (a :class:`ecgtf.inputs.runspec.RunSpec`). A printout run's
    model is fed each record's rendered printout (:func:`ecgtf.data.images.predict_images`)."""
    if spec.printout:
        from ecgtf.data.images import predict_images

        return predict_images(model, data, indices, spec, batch_size=min(batch_size, 32))
    signals = (data.signal(int(i)) for i in np.asarray(indices, dtype=np.int64))
    return predict_signals(model, signals, length=spec.window_samples, hop=spec.eval_hop_samples,
                           batch_size=batch_size)
