"""``tf.data`` pipelines of raw ECG crops from a decoded dataset.

Training takes a random fixed-length window of each record per epoch; evaluation
takes the centre window (or all windows, averaged by :mod:`ecgtf.data.crops`). Windows are
raw mV; the model's ``prepare`` block (:mod:`ecgtf.inputs`) turns them into its input.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ecgtf.data.augment import AugmentConfig, augment
from ecgtf.data.transforms import pad_or_crop


def make_raw_dataset(data, indices, *, length: int, batch_size: int, training: bool, seed: int = 0,
                     augment_config: AugmentConfig | None = None, pad: str = "center",
                     labels: np.ndarray | None = None, sample_weights: np.ndarray | None = None,
                     drop_remainder: bool = False) -> tf.data.Dataset:
    """Batches of ``(x, y[, w])`` with ``x`` of shape ``(batch, length, leads)`` float32 mV.

    Args:
        data: a :class:`ecgtf.data.datasets.LoadedData` (anything with ``signal(i)``,
            ``labels``, ``sampling_rate`` and ``lead_names``).
        indices: which records (positions in ``data``) to use.
        length: window length in samples.
        batch_size: examples per batch.
        training: shuffle each epoch and take random windows; otherwise keep order and
            take centre windows.
        seed: shuffling and cropping seed.
        augment_config: on-the-fly augmentation (training only); None for none.
        pad: where zeros go for records shorter than ``length``.
        labels: overrides ``data.labels`` (e.g. soft labels).
        sample_weights: optional per-record weights, yielded as a third element.
        drop_remainder: drop a last incomplete batch.
    """
    indices = np.asarray(indices, dtype=np.int64)
    y_all = np.asarray(data.labels if labels is None else labels, dtype=np.float32)
    n_leads = len(data.lead_names)
    rate = float(data.sampling_rate)

    def load(i, r):
        return pad_or_crop(data.signal(int(i)), length, int(r) if training else None, pad)

    def fetch(i, r):
        x = tf.numpy_function(load, [i, r], tf.float32, stateful=False)
        x.set_shape((length, n_leads))
        return x

    tensors = (indices, y_all[indices]) + ((np.asarray(sample_weights, np.float32)[indices],)
                                           if sample_weights is not None else ())
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if training:
        ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
    rand = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).map(tf.abs)
    ds = tf.data.Dataset.zip((ds, rand))

    def to_example(elem, r):
        x = fetch(elem[0], r)
        if training and augment_config is not None:
            x = augment(x, rate, augment_config)
        return (x, *elem[1:])

    ds = ds.map(to_example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
