"""A small 2-D CNN on spectrogram images: the fast CPU baseline of the spectrogram path.

Same input as ``inception_spectrogram`` (``(batch, H, W, 3)`` images from
:class:`ecgtf.data.spectrogram.SpectrogramImage`), ~0.19 M parameters: a stride-2 stem,
three conv-BN-ReLU-max-pool stages, global average pooling, dropout and the output. An epoch
of CinC 2017 (5,457 records, 75x75) takes ~25 s on 2 CPU cores, against ~6 min for the
InceptionResNetV2 trained from scratch, so it is the tool for choosing spectrogram settings
(crop length, window, channels) before spending an hour on the big backbone.
"""

from __future__ import annotations

import keras

from ecgtf.models.backbones import check_image_shape
from ecgtf.models.registry import register_model

#: Smallest H and W: the stride-2 stem and three 2x poolings leave at least a 2x2 map.
MIN_IMAGE_SIZE = 16


def _conv_bn_relu(x, filters: int, strides: int, name: str):
    x = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


@register_model(
    "spectrogram_cnn",
    input_kind="spectrogram",
    defaults={
        "batch_size": 32,
        "optimizer": "adam",
        "lr": 3e-3,
        "epochs": 10,
        "duration_s": 18.0,
        "eval_hop_s": 9.0,
        "model_options": {"image_size": (75, 75), "channels": "multires"},
    },
    description="Small 2-D CNN on spectrogram images (~0.19 M params), fast CPU baseline.",
)
def build(input_shape, num_classes: int, *, activation: str = "softmax", filters=(64, 96, 128),
          stem_filters: int = 32, dropout: float = 0.3, image_size=None) -> keras.Model:
    """Builds the small spectrogram CNN.

    Args:
        input_shape: ``(H, W, channels)``; any size the pooling can halve three times
            after the stride-2 stem (at least 16x16).
        num_classes: outputs of the ``predictions`` layer.
        activation: output activation (softmax for exclusive classes).
        filters: filters of the three pooled stages.
        stem_filters: filters of the stride-2 stem.
        dropout: dropout rate before ``predictions`` (0: no layer).
        image_size: accepted for the trainer's convenience; the input shape wins, but a
            disagreeing value raises.

    Returns:
        A flat ``keras.Model`` ``(batch, H, W, C) -> (batch, num_classes)`` (Grad-CAM can
        reach every layer, e.g. ``stage3_relu``).
    """
    check_image_shape(input_shape, MIN_IMAGE_SIZE, image_size, what="spectrogram_cnn")
    inputs = keras.Input(shape=tuple(input_shape), name="spectrogram")
    x = _conv_bn_relu(inputs, stem_filters, 2, "stem")
    for i, f in enumerate(filters, start=1):
        x = _conv_bn_relu(x, f, 1, f"stage{i}")
        x = keras.layers.MaxPooling2D(name=f"stage{i}_pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name="spectrogram_cnn")
