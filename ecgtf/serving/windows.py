"""Crop-averaged prediction as TensorFlow graph ops (the SavedModel's twin of :mod:`ecgtf.data.crops`).

:func:`windowed_probabilities` gives, for a batch of records ``(batch, samples, leads)``, the
same numbers as :func:`ecgtf.training.predict.predict_signals`: leading and trailing rows that
are zero in every lead are padding and ignored (so a client may zero-pad records of different
lengths into one batch), the valid part is cut into windows ``hop`` samples apart plus one
aligned to its end, and the window probabilities are averaged per record. A valid part no
longer than the window gives one centred, zero-padded window. All windows of the batch go
through the model in one call.
"""

from __future__ import annotations

import tensorflow as tf


def valid_spans(signal_mv: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """``(start, stop)`` int32 ``(batch,)`` of each record without its all-zero edge rows
    (``(0, 0)`` for an all-zero record), as :func:`ecgtf.data.crops.valid_span`."""
    nonzero = tf.reduce_any(tf.not_equal(signal_mv, 0.0), axis=2)  # (batch, samples)
    n = tf.shape(signal_mv, out_type=tf.int32)[1]
    any_nonzero = tf.reduce_any(nonzero, axis=1)
    first = tf.argmax(tf.cast(nonzero, tf.int32), axis=1, output_type=tf.int32)
    last = n - tf.argmax(tf.cast(tf.reverse(nonzero, [1]), tf.int32), axis=1, output_type=tf.int32)
    zero = tf.zeros_like(first)
    return tf.where(any_nonzero, first, zero), tf.where(any_nonzero, last, zero)


def window_offsets(valid_len: tf.Tensor, length: int, hop: int) -> tuple[tf.Tensor, tf.Tensor]:
    """``(record, offset)`` int32 ``(windows,)``: each window's record and its first sample
    relative to the record's valid start (negative: the window starts with zero padding).

    Starts are ``min(j * hop, valid_len - length)`` for ``j = 0 .. ceil(last / hop)``, the
    regular starts of :func:`ecgtf.data.crops.window_starts` and one aligned to the end.
    """
    last = valid_len - length
    long = last > 0
    counts = tf.where(long, (last + hop - 1) // hop + 1, tf.ones_like(valid_len))
    j = tf.ragged.range(counts)
    record = tf.cast(j.value_rowids(), tf.int32)
    j = tf.cast(j.flat_values, tf.int32)
    last_w = tf.gather(last, record)
    pad_before = (length - tf.gather(valid_len, record)) // 2
    offset = tf.where(tf.gather(long, record), tf.minimum(j * hop, last_w), -pad_before)
    return record, offset


def windowed_probabilities(predict, signal_mv: tf.Tensor, length: int, hop: int) -> tf.Tensor:
    """Per-record mean of ``predict`` over each record's windows.

    Args:
        predict: ``(windows, length, leads)`` float32 mV -> ``(windows, classes)`` probabilities.
        signal_mv: ``(batch, samples, leads)`` float32 mV at the run's rate.
        length: window length in samples.
        hop: samples between window starts.

    Returns:
        ``(batch, classes)`` float32.
    """
    signal_mv = tf.convert_to_tensor(signal_mv, tf.float32)
    start, stop = valid_spans(signal_mv)
    valid_len = stop - start
    record, offset = window_offsets(valid_len, int(length), int(hop))
    t = offset[:, None] + tf.range(int(length), dtype=tf.int32)[None, :]  # (windows, length), valid coords
    inside = (t >= 0) & (t < tf.gather(valid_len, record)[:, None])
    n = tf.shape(signal_mv, out_type=tf.int32)[1]
    index = tf.clip_by_value(tf.gather(start, record)[:, None] + t, 0, tf.maximum(n - 1, 0))
    rows = tf.broadcast_to(record[:, None], tf.shape(index))
    windows = tf.gather_nd(signal_mv, tf.stack([rows, index], axis=-1))  # (windows, length, leads)
    windows = windows * tf.cast(inside, tf.float32)[:, :, None]
    windows.set_shape([None, int(length), signal_mv.shape[-1]])
    probs = tf.convert_to_tensor(predict(windows), tf.float32)
    return tf.math.segment_mean(probs, record)
