"""ConvLSTM2D over the sequence of per-lead printout strips (the ``lead_images`` input kind).

Input: ``(batch, leads, H, W, 3)`` in [0, 1] (one image per lead, in the run's lead order, from
:class:`ecgtf.inputs.layers.ImageToInput`). A small convolutional stem, shared by every lead
(``TimeDistributed``), shrinks each strip 8x before the ConvLSTM2D reads the leads one after the
other; without it the recurrent convolutions run at full resolution (measured in issue 14:
about 0.11 s per step at batch 4 with a stem, 0.7 s without). The ConvLSTM's per-lead states
``(batch, leads, h, w, filters)`` are what per-lead Grad-CAM explains; they are averaged over
leads and space for the ``predictions`` layer.

References:
    Shi et al., "Convolutional LSTM Network: A Machine Learning Approach for Precipitation
    Nowcasting", NeurIPS 2015.
"""

from __future__ import annotations

import keras

from ecgtf.models.registry import register_model


@register_model("convlstm_leads", input_kind="lead_images",
                defaults={"batch_size": 16, "lr": 1e-3, "epochs": 20, "lr_schedule": "cosine", "duration_s": 10.0,
                          "eval_hop_s": None},
                description="TimeDistributed conv stem + ConvLSTM2D over the 12 per-lead printout strips")
def build(input_shape, num_classes: int, *, activation: str = "softmax", stem_filters=(16, 32),
          lstm_filters: int = 32, kernel_size: int = 3, dropout: float = 0.2, image_size=None) -> keras.Model:
    """Builds the per-lead ConvLSTM classifier.

    Args:
        input_shape: ``(leads, H, W, 3)``; each stem stage halves H and W twice, so H and W
            must be at least ``4 ** len(stem_filters)``.
        num_classes: outputs of the ``predictions`` layer.
        activation: output activation.
        stem_filters: channels of the per-lead stem stages (each: 3x3 convolution with stride 2,
            BatchNorm, ReLU, 2x2 max pooling).
        lstm_filters: channels of the ConvLSTM2D states.
        kernel_size: ConvLSTM2D kernel.
        dropout: rate before ``predictions``.
        image_size: the trainer's option; must agree with ``input_shape``.

    Returns:
        ``(batch, leads, H, W, 3) -> (batch, num_classes)``.
    """
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (leads, H, W, channels), got {tuple(input_shape)}")
    if image_size is not None and tuple(image_size) != tuple(input_shape[1:3]):
        raise ValueError(f"image_size {tuple(image_size)} disagrees with input_shape {tuple(input_shape)}")
    smallest = 4 ** len(stem_filters)
    if min(input_shape[1:3]) < smallest:
        raise ValueError(f"convlstm_leads needs lead images of at least {smallest}x{smallest} with "
                         f"{len(stem_filters)} stem stages, got {input_shape[1]}x{input_shape[2]}; raise image_size")
    inputs = keras.Input(shape=tuple(input_shape), name="lead_images")
    x = inputs
    for i, filters in enumerate(stem_filters, start=1):
        x = keras.layers.TimeDistributed(keras.layers.Conv2D(int(filters), 3, strides=2, padding="same",
                                                             use_bias=False), name=f"stem{i}_conv")(x)
        x = keras.layers.TimeDistributed(keras.layers.BatchNormalization(momentum=0.9), name=f"stem{i}_bn")(x)
        x = keras.layers.Activation("relu", name=f"stem{i}_relu")(x)
        x = keras.layers.TimeDistributed(keras.layers.MaxPooling2D(2, padding="same"), name=f"stem{i}_pool")(x)
    x = keras.layers.ConvLSTM2D(int(lstm_filters), int(kernel_size), padding="same", return_sequences=True,
                                name="convlstm")(x)
    x = keras.layers.GlobalAveragePooling3D(name="head_pool")(x)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name="convlstm_leads")
