"""A compact residual 1-D CNN, sized for fast CPU training on short ECG crops.

Aimed at PTB-XL at 100 Hz (``(1000, 12)``) and CinC 2017 single-lead crops at 150 Hz: a
strided stem, five strided residual blocks (each halving the time axis), optional
squeeze-and-excitation, and concatenated global average and max pooling. About 0.4 M
parameters with the defaults, a fraction of Ribeiro's 6.4 M.

References:
    Hu, J. et al. Squeeze-and-excitation networks. CVPR 2018.
"""

from __future__ import annotations

import keras

from ecgtf.models.layers1d import conv_stem
from ecgtf.models.registry import register_model


def _squeeze_excite(x, ratio: int, name: str):
    """Channel re-weighting: global average -> bottleneck Dense -> sigmoid gates."""
    channels = x.shape[-1]
    s = keras.layers.GlobalAveragePooling1D(keepdims=True, name=name + "_se_pool")(x)
    s = keras.layers.Dense(max(channels // ratio, 4), activation="relu", name=name + "_se_reduce")(s)
    s = keras.layers.Dense(channels, activation="sigmoid", name=name + "_se_expand")(s)
    return keras.layers.Multiply(name=name + "_se_scale")([x, s])


def _block(x, filters: int, kernel_size: int, stride: int, se_ratio: int | None, name: str):
    """Strided conv-BN-ReLU, conv-BN, optional SE, plus a projected shortcut, then ReLU."""
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = keras.layers.Conv1D(filters, 1, strides=stride, padding="same", use_bias=False,
                                       name=name + "_proj")(x)
        shortcut = keras.layers.BatchNormalization(name=name + "_proj_bn")(shortcut)
    x = keras.layers.Conv1D(filters, kernel_size, strides=stride, padding="same", use_bias=False,
                            name=name + "_conv1")(x)
    x = keras.layers.BatchNormalization(name=name + "_bn1")(x)
    x = keras.layers.Activation("relu", name=name + "_relu1")(x)
    x = keras.layers.Conv1D(filters, kernel_size, padding="same", use_bias=False, name=name + "_conv2")(x)
    x = keras.layers.BatchNormalization(name=name + "_bn2")(x)
    if se_ratio:
        x = _squeeze_excite(x, se_ratio, name)
    x = keras.layers.Add(name=name + "_add")([x, shortcut])
    return keras.layers.Activation("relu", name=name + "_out")(x)


@register_model("compact1d", input_kind="raw", defaults={"batch_size": 64, "lr": 3e-3},
                description="Compact residual 1-D CNN with SE (~0.4 M params), fast on CPU.")
def build_compact1d(input_shape, num_classes: int, *, activation: str = "sigmoid",
                    filters=(32, 48, 64, 96, 128), stem_filters: int = 32, stem_kernel_size: int = 9,
                    kernel_size: int = 7, se_ratio: int | None = 8, dropout: float = 0.3,
                    name: str = "compact1d") -> keras.Model:
    """Builds the compact residual 1-D CNN.

    Time-axis reduction is ``2 ** (1 + len(filters))`` (64 with the defaults: 1000 samples at
    100 Hz end as 16 steps of 0.64 s).

    Args:
        input_shape: ``(samples, leads)``, e.g. ``(1000, 12)`` or ``(1500, 1)``; signals in mV.
            ``samples`` may be ``None`` (variable length).
        num_classes: number of outputs.
        activation: ``"sigmoid"`` for multi-label/binary, ``"softmax"`` for single-label.
        filters: filters of each residual block; every block halves the time axis.
        stem_filters: filters of the stride-2 stem convolution.
        stem_kernel_size: kernel length of the stem (samples).
        kernel_size: kernel length inside the blocks (samples).
        se_ratio: squeeze-and-excitation reduction ratio; ``None`` or 0 disables SE.
        dropout: dropout rate before ``predictions``.
        name: model name.

    Returns:
        A flat functional model ``(batch, samples, leads) -> (batch, num_classes)``.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="signal")
    x = conv_stem(inputs, stem_filters, stem_kernel_size)
    for index, block_filters in enumerate(filters, start=1):
        x = _block(x, int(block_filters), kernel_size, 2, se_ratio, name=f"block{index}")
    x = keras.layers.Concatenate(name="pool_concat")([
        keras.layers.GlobalAveragePooling1D(name="avg_pool")(x),
        keras.layers.GlobalMaxPooling1D(name="max_pool")(x),
    ])
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)
