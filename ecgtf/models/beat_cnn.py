"""A small 1-D CNN on the per-lead median beat (input kind ``median_beat``).

Input: ``(beat_length, leads)`` median beats in mV from
:func:`ecgtf.data.beats.median_beats` (80 samples = 0.3 s before and 0.5 s after the QRS at
100 Hz). Beats are aligned on the QRS, so the head flattens the feature map instead of
pooling it away: *where* in the beat a feature sits (Q wave, ST segment, T wave) is the
diagnosis. Five conv-BN-ReLU layers in three stages, Gaussian input noise (mV) and dropout
against the small training sets this is meant for; about 0.2 M parameters at ``(80, 12)``.
"""

from __future__ import annotations

import keras

from ecgtf.models.registry import register_model


def _conv(x, filters: int, kernel_size: int, name: str):
    x = keras.layers.Conv1D(filters, kernel_size, padding="same", use_bias=False, name=name + "_conv")(x)
    x = keras.layers.BatchNormalization(name=name + "_bn")(x)
    return keras.layers.Activation("relu", name=name + "_relu")(x)


@register_model("beat_cnn", input_kind="median_beat",
                defaults={"batch_size": 32, "lr": 1e-3, "epochs": 60},
                description="Small 1-D CNN on the per-lead median beat (~0.2 M params); best on small PTB-XL sets.")
def build_beat_cnn(input_shape, num_classes: int, *, activation: str = "sigmoid", stages=((32, 32), (64, 64), (128,)),
                   kernel_size: int = 5, noise_mv: float = 0.02, dense: int = 64, dropout: float = 0.5,
                   name: str = "beat_cnn") -> keras.Model:
    """Builds the median-beat CNN.

    Args:
        input_shape: ``(beat_length, leads)``, e.g. ``(80, 12)``; fixed length (the head flattens).
        num_classes: number of outputs.
        activation: ``"sigmoid"`` for multi-label/binary, ``"softmax"`` for single-label.
        stages: filters of the conv layers of each stage; a stage ends with a 2x max-pool.
        kernel_size: conv kernel length (samples).
        noise_mv: standard deviation of the Gaussian noise added in training (mV); 0 disables.
        dense: units of the hidden dense layer.
        dropout: dropout before the hidden layer (and 0.6 x this after it).
        name: model name.

    Returns:
        A flat functional model ``(batch, beat_length, leads) -> (batch, num_classes)``.
    """
    if len(input_shape) != 2 or input_shape[0] is None:
        raise ValueError(f"beat_cnn needs a fixed (beat_length, leads) input, got {tuple(input_shape)}")
    inputs = keras.Input(shape=tuple(input_shape), name="median_beat")
    x = keras.layers.GaussianNoise(noise_mv, name="input_noise")(inputs) if noise_mv else inputs
    for s, filters in enumerate(stages, start=1):
        for c, f in enumerate(filters, start=1):
            x = _conv(x, int(f), kernel_size, name=f"stage{s}_{c}")
        x = keras.layers.MaxPooling1D(2, name=f"stage{s}_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="flat_dropout")(x)
    x = keras.layers.Dense(dense, activation="relu", name="hidden")(x)
    if dropout:
        x = keras.layers.Dropout(0.6 * dropout, name="hidden_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)
