"""CNNs on ECG printout images (the ``image`` input kind): ResNet50/101 transfer and a small MobileNetV3.

Input: ``(batch, H, W, 3)`` printouts scaled to [0, 1] by the run's ``prepare`` block
(:class:`ecgtf.inputs.layers.ImageToInput`). Every model is flat and functional (Grad-CAM reaches
the backbone's layers with ``model.get_layer``) and ends in a ``predictions`` Dense layer.

* ``image_resnet50`` / ``image_resnet101``: ``keras.applications`` ResNet on the image (ImageNet
  ``caffe`` preprocessing inside the model), head GlobalAveragePooling2D-Dropout-Dense. With
  ImageNet weights, phase 1 trains the head only; ``--unfreeze-after E`` opens the last stage
  (``conv5_*``) for phase 2 (:func:`unfreeze_top`). ``--weights none`` trains from scratch.
* ``mobilenetv3_small_custom``: a MobileNetV3-small-style network of about 150k parameters
  (inverted residual blocks with squeeze-and-excitation and hard-swish), trained from scratch.

References:
    He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
    Howard et al., "Searching for MobileNetV3", ICCV 2019.
"""

from __future__ import annotations

import keras

from ecgtf.models.backbones import build_backbone, check_image_shape, freeze_all_but, resolve_weights, unfreeze_from
from ecgtf.models.registry import register_model

RESNET_MIN_SIZE = 32
RESNET_HEAD = ("head_pool", "head_dropout", "predictions")
#: BGR channel means of the ImageNet ``caffe`` preprocessing of keras.applications' ResNets (0-255).
CAFFE_MEANS_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="ecgtf")
class CaffeInput(keras.layers.Layer):
    """[0, 1] RGB -> what keras.applications' ResNets were trained on: 0-255 BGR minus the
    ImageNet channel means (``keras.applications.resnet.preprocess_input``)."""

    def call(self, inputs):
        x = keras.ops.flip(keras.ops.cast(inputs, "float32") * 255.0, axis=-1)
        return x - keras.ops.convert_to_tensor(CAFFE_MEANS_BGR, "float32")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def _resnet(application, name: str, input_shape, num_classes: int, *, activation: str, weights, dropout: float,
            frozen: bool | None, image_size, bn_momentum: float | None) -> keras.Model:
    check_image_shape(input_shape, RESNET_MIN_SIZE, image_size, what=name)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    backbone = build_backbone(application, CaffeInput(name="caffe_input")(inputs), weights)
    x = keras.layers.GlobalAveragePooling2D(name="head_pool")(backbone.output)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, name="predictions")(x)
    model = keras.Model(inputs, outputs, name=name)
    pretrained = resolve_weights(weights) is not None
    if bn_momentum is None and not pretrained:
        bn_momentum = 0.9  # few CPU steps from scratch: keep the inference statistics close (see inception_spectrogram)
    if bn_momentum is not None:
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = float(bn_momentum)
    if frozen is None:
        frozen = pretrained
    return freeze_all_but(model, RESNET_HEAD) if frozen else model


def unfreeze_top(model: keras.Model, stage: str = "conv5_") -> keras.Model:
    """Phase 2 of a ResNet: the last stage (layers named ``conv5_*``) and the head train;
    BatchNormalization stays in inference mode. Recompile afterwards.

    Raises:
        ValueError: no layer of ``model`` starts with ``stage``.
    """
    names = [layer.name for layer in model.layers]
    first = next((i for i, n in enumerate(names) if n.startswith(stage)), None)
    if first is None:
        raise ValueError(f"{model.name} has no layer named {stage}*: not a keras.applications ResNet")
    return unfreeze_from(model, first)


_RESNET_DEFAULTS = {
    "batch_size": 16,
    "lr": 1e-3,
    "epochs": 10,
    "unfreeze_after": 5,
    "duration_s": 10.0,   # a standard printout shows 10 s
    "eval_hop_s": None,
    "model_options": {"image_size": (192, 384)},
}


@register_model("image_resnet50", input_kind="image", defaults=_RESNET_DEFAULTS,
                description="ResNet50 (ImageNet transfer, two phases) on printout images; head GAP-Dense",
                unfreeze=lambda model: unfreeze_top(model))
def build_resnet50(input_shape, num_classes: int, *, activation: str = "softmax", weights="imagenet",
                   dropout: float = 0.2, frozen: bool | None = None, image_size=None,
                   bn_momentum: float | None = None) -> keras.Model:
    """Builds ResNet50 on printout images.

    Args:
        input_shape: ``(H, W, 3)``, H and W >= 32.
        num_classes: outputs of the ``predictions`` layer.
        activation: output activation.
        weights: ``"imagenet"``, None/``"none"`` or a path (see
            :func:`ecgtf.models.backbones.resolve_weights`).
        dropout: rate before ``predictions``.
        frozen: phase 1 with the backbone frozen; None freezes pretrained backbones only.
        image_size: the trainer's option; must agree with ``input_shape``.
        bn_momentum: BatchNorm momentum; None keeps 0.99 when pretrained and uses 0.9 from scratch.

    Returns:
        ``(batch, H, W, 3)`` in [0, 1] -> ``(batch, num_classes)``.
    """
    return _resnet(keras.applications.ResNet50, "image_resnet50", input_shape, num_classes, activation=activation,
                   weights=weights, dropout=dropout, frozen=frozen, image_size=image_size, bn_momentum=bn_momentum)


@register_model("image_resnet101", input_kind="image", defaults=_RESNET_DEFAULTS,
                description="ResNet101 (ImageNet transfer, two phases) on printout images; head GAP-Dense",
                unfreeze=lambda model: unfreeze_top(model))
def build_resnet101(input_shape, num_classes: int, *, activation: str = "softmax", weights="imagenet",
                    dropout: float = 0.2, frozen: bool | None = None, image_size=None,
                    bn_momentum: float | None = None) -> keras.Model:
    """Builds ResNet101 on printout images; arguments as :func:`build_resnet50`."""
    return _resnet(keras.applications.ResNet101, "image_resnet101", input_shape, num_classes, activation=activation,
                   weights=weights, dropout=dropout, frozen=frozen, image_size=image_size, bn_momentum=bn_momentum)


#: MobileNetV3-small-style blocks: (expansion channels, output channels, kernel, stride,
#: squeeze-and-excitation, activation). The published small network's pattern, narrower and
#: three blocks shorter (stride 32 overall), so the whole model has about 158k parameters.
MOBILENET_BLOCKS = (
    (16, 16, 3, 2, True, "relu"),
    (48, 24, 3, 2, False, "relu"),
    (64, 24, 3, 1, False, "relu"),
    (96, 40, 5, 2, True, "hard_swish"),
    (120, 40, 5, 1, True, "hard_swish"),
    (120, 48, 5, 1, True, "hard_swish"),
    (144, 48, 5, 1, True, "hard_swish"),
    (192, 64, 5, 2, True, "hard_swish"),
)


def _make_divisible(value: float, divisor: int = 8) -> int:
    return max(divisor, int(value + divisor / 2) // divisor * divisor)


def _block(x, index: int, expansion: int, out: int, kernel: int, stride: int, se: bool, act: str):
    name = f"block{index}"
    shortcut = x
    in_channels = x.shape[-1]
    if expansion != in_channels:
        x = keras.layers.Conv2D(expansion, 1, use_bias=False, name=f"{name}_expand")(x)
        x = keras.layers.BatchNormalization(name=f"{name}_expand_bn")(x)
        x = keras.layers.Activation(act, name=f"{name}_expand_act")(x)
    x = keras.layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_dw_bn")(x)
    x = keras.layers.Activation(act, name=f"{name}_dw_act")(x)
    if se:
        squeeze = _make_divisible(expansion / 4)
        s = keras.layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_pool")(x)
        s = keras.layers.Conv2D(squeeze, 1, activation="relu", name=f"{name}_se_reduce")(s)
        s = keras.layers.Conv2D(expansion, 1, activation="hard_sigmoid", name=f"{name}_se_expand")(s)
        x = keras.layers.Multiply(name=f"{name}_se")([x, s])
    x = keras.layers.Conv2D(out, 1, use_bias=False, name=f"{name}_project")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_project_bn")(x)
    if stride == 1 and in_channels == out:
        x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return x


@register_model("mobilenetv3_small_custom", input_kind="image",
                defaults={"batch_size": 32, "lr": 2e-3, "epochs": 20, "lr_schedule": "cosine", "duration_s": 10.0,
                          "eval_hop_s": None, "model_options": {"image_size": (192, 384)}},
                description="MobileNetV3-small-style CNN (~150k parameters, from scratch) on printout images")
def build_mobilenet(input_shape, num_classes: int, *, activation: str = "softmax", width: float = 1.0,
                    stem_filters: int = 16, blocks=MOBILENET_BLOCKS, last_filters: int = 192,
                    dropout: float = 0.2, bn_momentum: float = 0.9, image_size=None) -> keras.Model:
    """Builds the ~150k-parameter MobileNetV3-small-style printout classifier.

    Args:
        input_shape: ``(H, W, 3)`` in [0, 1], H and W >= 32.
        num_classes: outputs of the ``predictions`` layer.
        activation: output activation.
        width: multiplier of every block's channels (rounded to multiples of 8).
        stem_filters: channels of the stride-2 3x3 stem convolution.
        blocks: rows ``(expansion, out, kernel, stride, se, activation)`` (see :data:`MOBILENET_BLOCKS`).
        last_filters: channels of the final 1x1 convolution before pooling.
        dropout: rate before ``predictions``.
        bn_momentum: BatchNorm moving-average momentum. 0.9, not Keras' 0.99: a few hundred CPU
            steps from scratch otherwise leave the inference statistics far behind the weights
            (measured on PTB-XL printouts: validation AUC stuck at 0.50, one class predicted).
        image_size: the trainer's option; must agree with ``input_shape``.

    Returns:
        ``(batch, H, W, 3) -> (batch, num_classes)``; about 150k parameters with the defaults.
    """
    check_image_shape(input_shape, 32, image_size, what="mobilenetv3_small_custom")
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = keras.layers.Conv2D(_make_divisible(stem_filters * width), 3, strides=2, padding="same", use_bias=False,
                            name="stem_conv")(inputs)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.Activation("hard_swish", name="stem_act")(x)
    for index, (expansion, out, kernel, stride, se, act) in enumerate(blocks, start=1):
        x = _block(x, index, _make_divisible(expansion * width), _make_divisible(out * width), int(kernel),
                   int(stride), bool(se), act)
    x = keras.layers.Conv2D(_make_divisible(last_filters * width), 1, use_bias=False, name="last_conv")(x)
    x = keras.layers.BatchNormalization(name="last_bn")(x)
    x = keras.layers.Activation("hard_swish", name="last_act")(x)
    x = keras.layers.GlobalAveragePooling2D(name="head_pool")(x)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation=activation, name="predictions")(x)
    model = keras.Model(inputs, outputs, name="mobilenetv3_small_custom")
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = float(bn_momentum)
    return model
