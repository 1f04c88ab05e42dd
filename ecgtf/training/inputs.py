"""What a model sees: the batch transform for each input kind.

Training and prediction share one transform, ``prepare(x)`` on raw windows
``(batch, samples, leads)`` in mV, so evaluation applies exactly the training
preprocessing.
"""

from __future__ import annotations

import inspect

import tensorflow as tf

from ecgtf.models.registry import ModelEntry

# Keys of TrainConfig.model_options that configure the input transform, not the model.
SPECTROGRAM_KEYS = ("image_size", "window_s", "hop_s", "max_freq_hz", "fft_length", "channels")


def standardize_batch(x: tf.Tensor, eps: float = 1e-6) -> tf.Tensor:
    """Per-record, per-lead standardisation of ``(batch, samples, leads)``."""
    mean, var = tf.nn.moments(x, axes=[1], keepdims=True)
    return (x - mean) / (tf.sqrt(var) + eps)


def split_options(entry: ModelEntry, options: dict) -> tuple[dict, dict]:
    """Splits model options into ``(input_options, builder_options)``."""
    if entry.input_kind == "spectrogram":
        inputs = {k: v for k, v in options.items() if k in SPECTROGRAM_KEYS}
        return inputs, {k: v for k, v in options.items() if k not in SPECTROGRAM_KEYS}
    return {}, dict(options)


def make_prepare(entry: ModelEntry, sampling_rate: float, standardize: bool, input_options: dict):
    """The batch transform ``prepare(x) -> model input`` for ``entry``'s input kind."""
    kind = entry.input_kind
    if kind == "raw":
        return standardize_batch if standardize else (lambda x: x)
    if kind == "spectrogram":
        from ecgtf.data.spectrogram import make_spectrogram_fn

        spec = make_spectrogram_fn(sampling_rate, **input_options)
        return (lambda x: spec(standardize_batch(x))) if standardize else spec
    raise NotImplementedError(f"input kind {kind!r} has no pipeline yet")


def model_input_shape(prepare, length: int, n_leads: int) -> tuple[int, ...]:
    """Shape (without batch) of what ``prepare`` makes of ``(length, n_leads)`` windows."""
    return tuple(int(d) for d in prepare(tf.zeros((1, length, n_leads))).shape[1:])


def supported_options(builder, options: dict) -> dict:
    """The subset of ``options`` that ``builder`` accepts as keywords."""
    params = inspect.signature(builder).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(options)
    return {k: v for k, v in options.items() if k in params}
