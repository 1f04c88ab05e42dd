"""1-D ResNet-18/34 (basic blocks) for raw multi-lead ECG.

References:
    He, K. et al. Deep residual learning for image recognition. CVPR 2016.
    Strodthoff, N. et al. Deep learning for ECG analysis: benchmarks and insights from
    PTB-XL. IEEE JBHI 25(5), 2021 (1-D ResNets as PTB-XL baselines).
"""

from __future__ import annotations

import keras

from ecgtf.models.layers1d import conv_stem
from ecgtf.models.registry import register_model

BLOCKS = {"resnet1d18": (2, 2, 2, 2), "resnet1d34": (3, 4, 6, 3)}


def _basic_block(x, filters: int, kernel_size: int, stride: int, name: str):
    """Two conv-BN layers with an identity (or 1x1 projection) shortcut, then ReLU."""
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = keras.layers.Conv1D(filters, 1, strides=stride, use_bias=False, name=name + "_proj")(x)
        shortcut = keras.layers.BatchNormalization(name=name + "_proj_bn")(shortcut)
    x = keras.layers.Conv1D(filters, kernel_size, strides=stride, padding="same", use_bias=False,
                            name=name + "_conv1")(x)
    x = keras.layers.BatchNormalization(name=name + "_bn1")(x)
    x = keras.layers.Activation("relu", name=name + "_relu1")(x)
    x = keras.layers.Conv1D(filters, kernel_size, padding="same", use_bias=False, name=name + "_conv2")(x)
    x = keras.layers.BatchNormalization(name=name + "_bn2")(x)
    x = keras.layers.Add(name=name + "_add")([x, shortcut])
    return keras.layers.Activation("relu", name=name + "_out")(x)


def build_resnet1d(input_shape, num_classes: int, *, blocks=(2, 2, 2, 2), activation: str = "sigmoid",
                   width: int = 64, kernel_size: int = 7, stem_kernel_size: int = 15, dropout: float = 0.0,
                   name: str = "resnet1d") -> keras.Model:
    """Builds a 1-D ResNet with basic blocks.

    Stem Conv1D(width, stem_kernel_size, stride 2)-BN-ReLU and MaxPool(3, stride 2), then four
    stages of ``blocks[i]`` basic blocks with ``width * (1, 2, 4, 8)`` filters (stages 2-4
    halve the time axis), global average pooling, optional dropout and ``predictions``.

    Args:
        input_shape: ``(samples, leads)``, e.g. ``(1000, 12)``; signals in mV. ``samples``
            may be ``None`` (variable length).
        num_classes: number of outputs.
        blocks: basic blocks per stage.
        activation: ``"sigmoid"`` for multi-label/binary, ``"softmax"`` for single-label.
        width: filters of the stem and of the first stage.
        kernel_size: kernel length of the block convolutions (samples).
        stem_kernel_size: kernel length of the stem convolution (samples).
        dropout: dropout rate before ``predictions``.
        name: model name.

    Returns:
        A flat functional model ``(batch, samples, leads) -> (batch, num_classes)``.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="signal")
    x = conv_stem(inputs, width, stem_kernel_size)
    x = keras.layers.MaxPooling1D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, n_blocks in enumerate(blocks):
        for block in range(n_blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            x = _basic_block(x, width * 2**stage, kernel_size, stride, name=f"stage{stage + 1}_block{block + 1}")
    x = keras.layers.GlobalAveragePooling1D(name="avg_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


@register_model("resnet1d18", input_kind="raw", defaults={"batch_size": 32, "lr": 1e-3},
                description="1-D ResNet-18 (basic blocks [2,2,2,2]).")
def build_resnet1d18(input_shape, num_classes: int, *, activation: str = "sigmoid", width: int = 64,
                     kernel_size: int = 7, stem_kernel_size: int = 15, dropout: float = 0.0) -> keras.Model:
    """Builds a 1-D ResNet-18; arguments as in :func:`build_resnet1d`."""
    return build_resnet1d(input_shape, num_classes, blocks=BLOCKS["resnet1d18"], activation=activation, width=width,
                          kernel_size=kernel_size, stem_kernel_size=stem_kernel_size, dropout=dropout,
                          name="resnet1d18")


@register_model("resnet1d34", input_kind="raw", defaults={"batch_size": 32, "lr": 1e-3},
                description="1-D ResNet-34 (basic blocks [3,4,6,3]).")
def build_resnet1d34(input_shape, num_classes: int, *, activation: str = "sigmoid", width: int = 64,
                     kernel_size: int = 7, stem_kernel_size: int = 15, dropout: float = 0.0) -> keras.Model:
    """Builds a 1-D ResNet-34; arguments as in :func:`build_resnet1d`."""
    return build_resnet1d(input_shape, num_classes, blocks=BLOCKS["resnet1d34"], activation=activation, width=width,
                          kernel_size=kernel_size, stem_kernel_size=stem_kernel_size, dropout=dropout,
                          name="resnet1d34")
