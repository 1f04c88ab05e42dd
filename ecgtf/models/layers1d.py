"""Building blocks shared by the 1-D convolutional models."""

from __future__ import annotations

import keras


def conv_stem(inputs, filters: int, kernel_size: int, strides: int = 2):
    """Conv1D (no bias) + BatchNorm + ReLU, named ``stem_conv``/``stem_bn``/``stem_relu``.

    Args:
        inputs: ``(batch, samples, leads)`` tensor.
        filters: output channels.
        kernel_size: kernel length in samples.
        strides: time downsampling of the stem.
    """
    x = keras.layers.Conv1D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                            name="stem_conv")(inputs)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    return keras.layers.Activation("relu", name="stem_relu")(x)
