"""On-the-fly augmentation of raw crops in TensorFlow (used inside ``tf.data`` maps).

Every function takes one example ``(samples, leads)`` float32 in mV and returns a
tensor of the same shape. Randomness comes from TF's seeded global generator.
"""

from __future__ import annotations

import dataclasses
import math

import tensorflow as tf


@dataclasses.dataclass
class AugmentConfig:
    """Strength of each augmentation; 0 turns one off.

    Attributes:
        noise_mv: standard deviation of added Gaussian noise (mV).
        wander_mv: peak amplitude of added baseline wander (mV), 0.05-0.5 Hz.
        scale: amplitudes are multiplied by a factor in ``[1 - scale, 1 + scale]``.
        shift_s: largest time shift (s) in either direction, zero-filled.
    """

    noise_mv: float = 0.02
    wander_mv: float = 0.1
    scale: float = 0.15
    shift_s: float = 0.5


def add_noise(x: tf.Tensor, noise_mv: float) -> tf.Tensor:
    """Adds white Gaussian noise of ``noise_mv`` mV standard deviation."""
    return x + tf.random.normal(tf.shape(x), stddev=noise_mv, dtype=x.dtype)


def add_baseline_wander(x: tf.Tensor, sampling_rate: float, wander_mv: float) -> tf.Tensor:
    """Adds a slow sinusoid (0.05-0.5 Hz, random phase, up to ``wander_mv`` mV) to every lead."""
    n = tf.shape(x)[0]
    t = tf.cast(tf.range(n), x.dtype) / sampling_rate
    freq = tf.random.uniform([], 0.05, 0.5)
    phase = tf.random.uniform([], 0.0, 2.0 * math.pi)
    amp = tf.random.uniform([], 0.0, wander_mv)
    return x + (amp * tf.sin(2.0 * math.pi * freq * t + phase))[:, None]


def scale_amplitude(x: tf.Tensor, scale: float) -> tf.Tensor:
    """Multiplies the signal by one random factor in ``[1 - scale, 1 + scale]``."""
    return x * tf.random.uniform([], 1.0 - scale, 1.0 + scale)


def time_shift(x: tf.Tensor, sampling_rate: float, shift_s: float) -> tf.Tensor:
    """Shifts the signal by up to ``shift_s`` seconds either way, filling with zeros."""
    max_shift = int(round(shift_s * sampling_rate))
    if max_shift <= 0:
        return x
    n = tf.shape(x)[0]
    shift = tf.random.uniform([], -max_shift, max_shift + 1, dtype=tf.int32)
    padded = tf.pad(x, [[max_shift, max_shift], [0, 0]])
    return padded[max_shift - shift: max_shift - shift + n]


def augment(x: tf.Tensor, sampling_rate: float, config: AugmentConfig) -> tf.Tensor:
    """Applies every augmentation whose strength in ``config`` is non-zero."""
    if config.shift_s:
        x = time_shift(x, sampling_rate, config.shift_s)
    if config.scale:
        x = scale_amplitude(x, config.scale)
    if config.wander_mv:
        x = add_baseline_wander(x, sampling_rate, config.wander_mv)
    if config.noise_mv:
        x = add_noise(x, config.noise_mv)
    return x
