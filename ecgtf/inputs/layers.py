"""Preprocessing layers that save and load with a model (inputs in mV, time on axis 1).

Every run's ``model.keras`` starts with a ``prepare`` block built from these layers
(:func:`ecgtf.inputs.specs.build_prepare`), so a saved model fed a decoded record
``(batch, samples, leads)`` in mV at the run's sampling rate computes the same input its
network was trained on. Training runs the same ``prepare`` block inside ``tf.data``, where it
overlaps with the training step.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ecgtf.data.transforms import centre_offsets

#: Added to the standard deviation by :func:`standardize_leads`.
STANDARDIZE_EPS = 1e-6


def standardize_leads(x, eps: float = STANDARDIZE_EPS):
    """Per-record, per-lead standardisation of ``(batch, samples, leads)`` over time (unitless output).

    Works on NumPy arrays and tensors alike (``keras.ops``); the one standardisation of ecgtf.
    Computed in float64 and returned as float32, so the result does not depend on how many
    records share a batch (a float32 mean over a different batch shape rounds differently).
    """
    x = keras.ops.cast(keras.ops.convert_to_tensor(x), "float64")
    mean, var = keras.ops.moments(x, axes=[1], keepdims=True)
    return keras.ops.cast((x - mean) / (keras.ops.sqrt(var) + eps), "float32")


@keras.saving.register_keras_serializable(package="ecgtf")
class Standardize(keras.layers.Layer):
    """:func:`standardize_leads` as a layer (no weights)."""

    def __init__(self, eps: float = STANDARDIZE_EPS, **kwargs):
        super().__init__(trainable=False, **{k: v for k, v in kwargs.items() if k != "trainable"})
        self.eps = float(eps)

    def call(self, inputs):
        return standardize_leads(inputs, self.eps)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "eps": self.eps}


@keras.saving.register_keras_serializable(package="ecgtf")
class CenterCropOrPad(keras.layers.Layer):
    """The centre ``length`` samples of ``(batch, samples, leads)``, zero-padded on both sides
    when shorter (same rule as :func:`ecgtf.data.transforms.pad_or_crop`)."""

    def __init__(self, length: int, **kwargs):
        super().__init__(trainable=False, **{k: v for k, v in kwargs.items() if k != "trainable"})
        self.length = int(length)

    def call(self, inputs):
        if inputs.shape[1] == self.length:
            return inputs
        n = tf.shape(inputs)[1]
        start, before = centre_offsets(n, self.length)

        def crop():
            return inputs[:, start:start + self.length]

        def pad():
            return tf.pad(inputs, [[0, 0], [before, self.length - n - before], [0, 0]])

        out = tf.cond(n >= self.length, crop, pad)
        out.set_shape([inputs.shape[0], self.length, inputs.shape[-1]])
        return out

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.length, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "length": self.length}


@keras.saving.register_keras_serializable(package="ecgtf")
class MedianBeat(keras.layers.Layer):
    """Per-lead median beat of ``(batch, samples, leads)`` mV -> ``(batch, beat_length, leads)`` mV.

    Runs :func:`ecgtf.data.beats.median_beats` (NumPy/SciPy QRS detection) through
    ``tf.numpy_function``: it works in ``tf.data``, eager prediction and a reloaded
    ``model.keras``, but it is **not a graph op**, so a SavedModel export cannot contain it
    (``graph_op`` is False).
    """

    graph_op = False

    def __init__(self, sampling_rate: float, before_s: float, after_s: float, **kwargs):
        super().__init__(trainable=False, **{k: v for k, v in kwargs.items() if k != "trainable"})
        from ecgtf.data.beats import beat_length

        self.sampling_rate = float(sampling_rate)
        self.before_s = float(before_s)
        self.after_s = float(after_s)
        self.beat_length = beat_length(self.sampling_rate, self.before_s, self.after_s)

    def _beats(self, x: np.ndarray) -> np.ndarray:
        from ecgtf.data.beats import median_beats

        return median_beats(x, self.sampling_rate, self.before_s, self.after_s)

    def call(self, inputs):
        out = tf.numpy_function(self._beats, [tf.cast(inputs, tf.float32)], tf.float32, stateful=False)
        out.set_shape([inputs.shape[0], self.beat_length, inputs.shape[-1]])
        return out

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.beat_length, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "sampling_rate": self.sampling_rate, "before_s": self.before_s,
                "after_s": self.after_s}


@keras.saving.register_keras_serializable(package="ecgtf")
class ImageToInput(keras.layers.Layer):
    """Printout image(s) of any size -> the network's input: resize to ``image_size``, scale to [0, 1].

    Takes ``(batch, H, W, 3)`` (one printout) or ``(batch, n, H, W, 3)`` (a sequence of per-lead
    images) with pixel values 0-255 (uint8 or float) and returns float32 of shape
    ``(batch, image_size[0], image_size[1], 3)`` or ``(batch, n, image_size[0], image_size[1], 3)``.
    Bilinear resizing with antialiasing (``tf.image.resize``); an input already at ``image_size``
    passes unchanged apart from the scaling. Graph ops only, so a SavedModel export can put a
    PNG/JPEG decoder in front of it.
    """

    def __init__(self, image_size, **kwargs):
        super().__init__(trainable=False, **{k: v for k, v in kwargs.items() if k != "trainable"})
        self.image_size = tuple(int(s) for s in image_size)

    def call(self, inputs):
        x = tf.cast(inputs, tf.float32)
        if x.shape.rank == 5:
            shape = tf.shape(x)
            flat = tf.reshape(x, tf.concat([[-1], shape[2:]], 0))
            out = tf.reshape(self._resize(flat), tf.concat([shape[:2], self.image_size, shape[-1:]], 0))
            out.set_shape([inputs.shape[0], inputs.shape[1], *self.image_size, inputs.shape[-1]])
            return out / 255.0
        return self._resize(x) / 255.0

    def _resize(self, x):
        if tuple(x.shape[1:3]) == self.image_size:
            return x
        return tf.image.resize(x, self.image_size, method="bilinear", antialias=True)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-3], *self.image_size, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "image_size": list(self.image_size)}
