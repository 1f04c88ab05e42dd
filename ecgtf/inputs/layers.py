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


#: ``illumination`` settings of :class:`ImageToInput`: ``none`` leaves the pixels as they are;
#: ``flatten`` divides every pixel (per channel) by the paper brightness around it, estimated by a
#: greyscale morphological closing of the resized image (see :func:`flatten_illumination`).
ILLUMINATION_MODES = ("none", "flatten")
#: Side (pixels of the network's input) of the square closing of ``flatten``: wider than the
#: trace and the grid lines, so the closing sees paper, and small next to a shadow.
ILLUMINATION_KERNEL = 5
#: Largest zoom :func:`unzoom_grid` undoes.
MAX_GRID_ZOOM = 1.4


def flatten_illumination(images, kernel: int = ILLUMINATION_KERNEL, eps: float = 1.0):
    """Printouts ``(batch, H, W, C)`` (0-255, float) with the light on the paper made even.

    The paper brightness at each pixel is the greyscale closing (a ``kernel`` x ``kernel``
    maximum, then minimum) of each channel: it removes dark marks thinner than the kernel (the
    trace, grid lines, labels) and keeps larger regions with their edges where they are, so a
    cast shadow (the paper multiplied by a factor over a polygon) is part of the brightness and
    cancels in ``images / brightness``. Returns values in [0, 255]: paper 255 in and out of
    shadows, the grey table around a warped page 255 as well. Graph ops only.
    """
    x = tf.convert_to_tensor(images, tf.float32)
    bright = tf.nn.max_pool2d(x, int(kernel), 1, "SAME")
    bright = -tf.nn.max_pool2d(-bright, int(kernel), 1, "SAME")
    return 255.0 * tf.minimum(x / tf.maximum(bright, eps), 1.0)


def _grid_period(profile, period_px: float):
    """Period (pixels, sub-pixel) of a grid profile ``(batch, n)`` near ``period_px``: the lag of
    the highest autocorrelation between ``0.9 * period_px`` and ``1.5 * period_px``."""
    p = profile - tf.reduce_mean(profile, axis=1, keepdims=True)
    lags = list(range(max(2, int(0.9 * period_px) - 1), int(np.ceil(1.5 * period_px)) + 2))
    ac = tf.stack([tf.reduce_mean(p[:, :-lag] * p[:, lag:], axis=1) for lag in lags], axis=1)
    k = tf.clip_by_value(tf.argmax(ac[:, 1:-1], axis=1, output_type=tf.int32) + 1, 1, len(lags) - 2)
    a, b, c = (tf.gather(ac, k + d, batch_dims=1) for d in (-1, 0, 1))
    curve = a - 2 * b + c
    shift = tf.where(curve < 0, 0.5 * (a - c) / tf.where(curve < 0, curve, -1.0), 0.0)
    return tf.cast(k, tf.float32) + float(lags[0]) + tf.clip_by_value(shift, -0.5, 0.5)


def grid_zoom(images, period_px: float):
    """``(zoom_x, zoom_y)``, each ``(batch,)``: how much larger than printed the red grid of
    printouts ``(batch, H, W, 3)`` (0-255) appears across and along (see :func:`unzoom_grid`)."""
    x = tf.convert_to_tensor(images, tf.float32)
    ratio = (x[..., 0] - x[..., 1]) / (x[..., 0] + 1.0)
    return (_grid_period(tf.reduce_mean(ratio, axis=1), period_px) / period_px,
            _grid_period(tf.reduce_mean(ratio, axis=2), period_px) / period_px)


def unzoom_grid(images, period_px: float, max_zoom: float = MAX_GRID_ZOOM):
    """Printouts ``(batch, H, W, 3)`` (0-255, float) with a photo's zoom undone, measured on the
    red grid.

    A photographed page that fills the frame shows the paper larger than it was printed (a
    perspective warp, cropped to the frame: up to 1.3x, differently across and along).
    ``(R - G) / R``, which a shadow does not change, is the pink grid's brightness; its mean over
    rows (columns) repeats every 5 mm across (along) the page, and the autocorrelation of that
    profile finds the period. Each image is shrunk about its centre by ``period / period_px``
    on each axis (between 1 and ``max_zoom``: a measured zoom below 1 leaves the axis as is),
    the uncovered border filled with white paper. ``period_px``: the printed 5 mm period, in
    pixels of ``images``. Graph ops only.
    """
    x = tf.convert_to_tensor(images, tf.float32)
    zoom_x, zoom_y = (tf.clip_by_value(z, 1.0, max_zoom) for z in grid_zoom(x, period_px))
    shape = tf.shape(x)
    cy, cx = (tf.cast(shape[1], tf.float32) - 1) / 2, (tf.cast(shape[2], tf.float32) - 1) / 2
    zero = tf.zeros_like(zoom_x)
    transforms = tf.stack([zoom_x, zero, cx * (1 - zoom_x), zero, zoom_y, cy * (1 - zoom_y), zero, zero], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(images=x, transforms=transforms, output_shape=shape[1:3],
                                                 fill_value=255.0, interpolation="BILINEAR", fill_mode="CONSTANT")


@keras.saving.register_keras_serializable(package="ecgtf")
class ImageToInput(keras.layers.Layer):
    """Printout image(s) of any size -> the network's input: resize to ``image_size``, scale to [0, 1].

    Takes ``(batch, H, W, 3)`` (one printout) or ``(batch, n, H, W, 3)`` (a sequence of per-lead
    images) with pixel values 0-255 (uint8 or float) and returns float32 of shape
    ``(batch, image_size[0], image_size[1], 3)`` or ``(batch, n, image_size[0], image_size[1], 3)``.
    Bilinear resizing with antialiasing (``tf.image.resize``); an input already at ``image_size``
    passes unchanged apart from the scaling. With ``grid_period_px`` (the printed 5 mm grid
    period in input pixels) a photo's zoom is first undone (:func:`unzoom_grid`); with
    ``illumination="flatten"`` the resized image goes through :func:`flatten_illumination`
    (``illumination_kernel`` pixels) before the scaling, so shadows on a photographed printout
    cancel. Graph ops only, so a SavedModel
    export can put a PNG/JPEG decoder in front of it.
    """

    def __init__(self, image_size, illumination: str = "none", illumination_kernel: int = ILLUMINATION_KERNEL,
                 grid_period_px: float | None = None, **kwargs):
        super().__init__(trainable=False, **{k: v for k, v in kwargs.items() if k != "trainable"})
        if illumination not in ILLUMINATION_MODES:
            raise ValueError(f"unknown illumination {illumination!r}; valid: {', '.join(ILLUMINATION_MODES)}")
        self.image_size = tuple(int(s) for s in image_size)
        self.illumination = str(illumination)
        self.illumination_kernel = int(illumination_kernel)
        self.grid_period_px = None if grid_period_px is None else float(grid_period_px)

    def call(self, inputs):
        x = tf.cast(inputs, tf.float32)
        if x.shape.rank == 5:
            shape = tf.shape(x)
            flat = tf.reshape(x, tf.concat([[-1], shape[2:]], 0))
            out = tf.reshape(self._prepare(flat), tf.concat([shape[:2], self.image_size, shape[-1:]], 0))
            out.set_shape([inputs.shape[0], inputs.shape[1], *self.image_size, inputs.shape[-1]])
            return out / 255.0
        return self._prepare(x) / 255.0

    def _prepare(self, x):
        if self.grid_period_px is not None:
            x = unzoom_grid(x, self.grid_period_px)
        if tuple(x.shape[1:3]) != self.image_size:
            x = tf.image.resize(x, self.image_size, method="bilinear", antialias=True)
        if self.illumination == "flatten":
            x = flatten_illumination(x, self.illumination_kernel)
        return x

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-3], *self.image_size, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "image_size": list(self.image_size), "illumination": self.illumination,
                "illumination_kernel": self.illumination_kernel, "grid_period_px": self.grid_period_px}
