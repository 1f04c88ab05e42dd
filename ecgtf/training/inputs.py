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
MEDIAN_BEAT_KEYS = ("before_s", "after_s")
INPUT_KEYS = {"spectrogram": SPECTROGRAM_KEYS, "median_beat": MEDIAN_BEAT_KEYS}


def standardize_batch(x: tf.Tensor, eps: float = 1e-6) -> tf.Tensor:
    """Per-record, per-lead standardisation of ``(batch, samples, leads)``."""
    mean, var = tf.nn.moments(x, axes=[1], keepdims=True)
    return (x - mean) / (tf.sqrt(var) + eps)


def split_options(entry: ModelEntry, options: dict) -> tuple[dict, dict]:
    """Splits model options into ``(input_options, builder_options)``."""
    keys = INPUT_KEYS.get(entry.input_kind, ())
    return ({k: v for k, v in options.items() if k in keys},
            {k: v for k, v in options.items() if k not in keys})


def make_prepare(entry: ModelEntry, sampling_rate: float, standardize: bool, input_options: dict):
    """The batch transform ``prepare(x) -> model input`` for ``entry``'s input kind."""
    kind = entry.input_kind
    if kind == "raw":
        return standardize_batch if standardize else (lambda x: x)
    if kind == "spectrogram":
        from ecgtf.data.spectrogram import make_spectrogram_fn

        spec = make_spectrogram_fn(sampling_rate, **input_options)
        return (lambda x: spec(standardize_batch(x))) if standardize else spec
    if kind == "median_beat":
        beats = make_median_beat_fn(sampling_rate, **input_options)
        return (lambda x: beats(standardize_batch(x))) if standardize else beats
    raise NotImplementedError(f"input kind {kind!r} has no pipeline yet")


def make_median_beat_fn(sampling_rate: float, before_s: float | None = None, after_s: float | None = None):
    """``(batch, samples, leads)`` mV -> ``(batch, beat_length, leads)`` median beats (mV).

    Runs :func:`ecgtf.data.beats.median_beats` (NumPy/SciPy) through ``tf.numpy_function``,
    so it works inside ``tf.data`` but is not part of the saved model.
    """
    from ecgtf.data import beats

    before = beats.DEFAULT_BEFORE_S if before_s is None else float(before_s)
    after = beats.DEFAULT_AFTER_S if after_s is None else float(after_s)
    n = beats.beat_length(sampling_rate, before, after)

    def fn(x):
        out = tf.numpy_function(lambda a: beats.median_beats(a, sampling_rate, before, after),
                                [tf.cast(x, tf.float32)], tf.float32, stateful=False)
        return tf.ensure_shape(out, [x.shape[0], n, x.shape[-1]])

    return fn


def model_input_shape(prepare, length: int, n_leads: int) -> tuple[int, ...]:
    """Shape (without batch) of what ``prepare`` makes of ``(length, n_leads)`` windows."""
    return tuple(int(d) for d in prepare(tf.zeros((1, length, n_leads))).shape[1:])


def supported_options(builder, options: dict) -> dict:
    """The subset of ``options`` that ``builder`` accepts as keywords."""
    params = inspect.signature(builder).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(options)
    return {k: v for k, v in options.items() if k in params}
